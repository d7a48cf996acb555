import { webApi } from '@slack/bolt';
import type { Logger } from '../../log.ts';
import { redactTokens } from './log.ts';

/** Slack's default Web API base, named in the error when SLACK_API_URL is not set. */
const SLACK_API = 'https://slack.com/api/';
/** Waits between attempts: quick at first, then every 10 s at most. */
const BACKOFF_MS = [500, 1_000, 2_000, 5_000, 10_000] as const;
const ATTEMPT_TIMEOUT_MS = 10_000;

/** Startup could not reach Slack or Slack refused the token: one line for the operator, then exit 1. */
export class SlackConnectError extends Error {
  override readonly name = 'SlackConnectError';
}

/**
 * Connects within `timeoutMs` or fails with one clear line. Without this, an unreachable Slack (no network,
 * a wrong SLACK_API_URL) left the app logging "http request failed" for half an hour (the Web API client's
 * own retries) while never saying what was wrong. First `auth.test` is tried with backoff on a client that
 * does not retry by itself (so each failure is seen and logged once, as one line saying it will retry);
 * a refused token fails at once; then the app itself is started in the time that is left.
 */
export async function connectToSlack(options: {
  readonly token: string;
  readonly apiUrl: string | undefined;
  readonly timeoutMs: number;
  readonly log: Logger;
  readonly start: () => Promise<void>;
}): Promise<void> {
  const { log, timeoutMs } = options;
  const where = options.apiUrl ?? SLACK_API;
  const deadline = Date.now() + timeoutMs;
  const probe = new webApi.WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    retryConfig: { retries: 0 },
    timeout: ATTEMPT_TIMEOUT_MS,
    logLevel: webApi.LogLevel.ERROR,
  });
  let lastError = 'no answer';
  for (let attempt = 0; ; attempt++) {
    try {
      await probe.auth.test();
      break;
    } catch (error) {
      const code = (error as { data?: { error?: unknown } }).data?.error;
      if (typeof code === 'string' && /invalid_auth|not_authed|account_inactive|token_revoked/.test(code))
        throw new SlackConnectError(
          `Slack refused the bot token (${code}): check SLACK_BOT_TOKEN (api.slack.com/apps → OAuth & Permissions).`,
        );
      lastError = redactTokens(error instanceof Error ? error.message : String(error));
      const wait = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] ?? 10_000;
      if (Date.now() + wait >= deadline)
        throw new SlackConnectError(
          `Could not connect to Slack at ${where} within ${Math.round(timeoutMs / 1000)} s: ${lastError}`,
        );
      log.warn(
        { attempt: attempt + 1, retryInMs: wait, err: lastError, api: where },
        'Slack is not reachable yet; retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SlackConnectError(
            `Could not connect to Slack at ${where} within ${Math.round(timeoutMs / 1000)} s: the app did not finish starting (Socket Mode connection or port).`,
          ),
        ),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    await Promise.race([options.start(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
