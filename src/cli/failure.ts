import { ConfigError } from '../config.ts';
import { type ErrorCode, isAnnamalaiError } from '../core/errors.ts';
import { UsageError } from './args.ts';

/**
 * The person running the CLI is also whoever runs the process, so some codes get wording for them
 * rather than the bots' wording for a chat user (the storage one speaks of "server admins").
 */
const CLI_MESSAGES: Partial<Record<ErrorCode, string>> = {
  'storage.unavailable': 'The database could not be opened.',
};

/** Exit status of a run that stopped before analysing: 2 for how it was invoked, 1 for the rest. */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError || error instanceof ConfigError ? 2 : 1;
}

/** One line for stderr: the code, what it means and, when known, the reason (path, provider, ...). */
export function describeFailure(error: unknown): string {
  if (error instanceof UsageError) return `error: ${error.message}\nRun "annamalai --help" for the usage.`;
  if (isAnnamalaiError(error)) {
    const message = CLI_MESSAGES[error.code] ?? error.userMessage;
    const reason = error.detail ? `: ${oneLine(error.detail)}` : '';
    return `error (${error.code}): ${reason ? message.replace(/\.$/, '') : message}${reason}`;
  }
  if (error instanceof Error) return `error: ${oneLine(error.message)}`;
  return `error: ${oneLine(String(error))}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
