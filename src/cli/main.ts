import { loadConfig } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { runServe } from '../web/serve.ts';
import { runAnalyze } from './analyze.ts';
import { type FlagOverrides, parseCommandLine, USAGE } from './args.ts';
import { printDiagnostics } from './diagnostics.ts';
import { describeFailure, exitCodeOf } from './failure.ts';
import { runWorker } from './worker.ts';

let logger: Logger | undefined;

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommandLine(argv);
  if (command.kind === 'help') {
    console.log(USAGE);
    return command.asked ? 0 : 2;
  }
  const config = loadConfig({
    // The CLI is quiet unless asked: its results go to stdout, its logs to stderr.
    LOG_LEVEL: 'warn',
    ...process.env,
    ...environmentOf(command.overrides),
  });
  logger = createLogger(config.LOG_LEVEL);
  if (command.kind === 'diagnostics') return printDiagnostics(config, logger);
  if (command.kind === 'serve') return runServe(command, config, logger);
  if (command.kind === 'worker') return runWorker(config, logger);
  return runAnalyze(command, config, logger);
}

function environmentOf(overrides: FlagOverrides): Record<string, string> {
  return {
    ...(overrides.model !== undefined && { MODEL_DIR: overrides.model }),
    ...(overrides.device !== undefined && { INFERENCE_DEVICE: overrides.device }),
    ...(overrides.host !== undefined && { WEB_HOST: overrides.host }),
    ...(overrides.port !== undefined && { WEB_PORT: overrides.port }),
  };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One readable line for the person at the terminal; the structured record only when LOG_LEVEL asks.
    logger?.info({ err: error }, 'annamalai stopped');
    console.error(describeFailure(error));
    process.exitCode = exitCodeOf(error);
  },
);
