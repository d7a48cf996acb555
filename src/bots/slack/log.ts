import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../../log.ts';

/** Any Slack token (bot, user, app-level, config) or a Bearer header value inside a log string. */
const TOKEN_PATTERN = /\b(xox[abposre]|xapp)-[A-Za-z0-9-]+|Bearer\s+[A-Za-z0-9._-]+/g;

/** Replaces anything that looks like a Slack token: for log lines and error texts that leave the process. */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_PATTERN, '[redacted]');
}

function line(parts: readonly unknown[]): string {
  return redactTokens(
    parts
      .map((p) => (typeof p === 'string' ? p : p instanceof Error ? `${p.name}: ${p.message}` : safeJson(p)))
      .join(' '),
  );
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Bolt's and the Socket Mode client's logs go into our pino logger (JSON on stderr), with every token
 * pattern redacted from the text, whatever the library put in it.
 */
export function boltLogger(logger: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const child = logger.child({ component: 'slack-bolt' });
  return {
    debug: (...msg: unknown[]) => child.debug(line(msg)),
    info: (...msg: unknown[]) => child.info(line(msg)),
    warn: (...msg: unknown[]) => child.warn(line(msg)),
    error: (...msg: unknown[]) => child.error(line(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
