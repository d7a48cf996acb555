import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { openServices } from '../compose.ts';
import { loadConfig } from '../config.ts';
import {
  type AnalysisResult,
  type AnalyzeOptions,
  analyzeRecording,
  type Progress,
} from '../core/analyze.ts';
import { AnnamalaiError, isAnnamalaiError } from '../core/errors.ts';
import type { AudioInput } from '../core/ports.ts';
import { createLogger } from '../log.ts';
import { printDiagnostics } from './diagnostics.ts';
import { toJsonLine } from './json.ts';
import { formatTable } from './table.ts';

const USAGE = `Usage:
  annamalai analyze FILE... [--format table|json] [--db PATH] [--model DIR] [--device auto|cpu|cuda]
  annamalai diagnostics [--model DIR] [--device auto|cpu|cuda]

analyze   prints each file's emotions per 5-second segment; --format json prints one JSON object per file
          per line; --db PATH also stores the results in SQLite. Exits 1 if any file failed.
Environment: see README (MODEL_DIR, INFERENCE_DEVICE, MAX_INPUT_MB, MAX_DURATION_S, LOG_LEVEL, ...).`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'table' },
      db: { type: 'string' },
      model: { type: 'string' },
      device: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...files] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const config = loadConfig({
    // The CLI is quiet unless asked: its results go to stdout, its logs to stderr.
    LOG_LEVEL: 'warn',
    ...process.env,
    ...(values.model ? { MODEL_DIR: values.model } : {}),
    ...(values.device ? { INFERENCE_DEVICE: values.device } : {}),
  });
  const logger = createLogger(config.LOG_LEVEL);

  if (command === 'diagnostics') return printDiagnostics(config, logger);
  if (command !== 'analyze') {
    console.error(`Unknown command "${command}".\n${USAGE}`);
    return 2;
  }
  if (values.format !== 'table' && values.format !== 'json') {
    console.error(`--format must be "table" or "json", not "${values.format}".`);
    return 2;
  }
  if (files.length === 0) {
    console.error(`Give at least one audio file.\n${USAGE}`);
    return 2;
  }

  const services = await openServices(config, logger, values.db ? { databasePath: values.db } : {});
  const json = values.format === 'json';
  const { info } = services.analyzer.classifier;
  if (!json) {
    console.error(`model: ${info.name} ${info.version} on ${info.device.kind} (${info.device.reason})`);
    if (info.fixture) console.error('warning: this is a test fixture model, not a real emotion model');
  }
  let failures = 0;
  try {
    for (const file of files) {
      const input = await readInput(file);
      const result: AnalysisResult = isAnnamalaiError(input)
        ? { status: 'failed', durationS: 0, error: input }
        : await analyzeRecording(
            services.analyzer,
            input,
            { platform: 'cli', sourceName: file },
            progressOptions(file),
          );
      if (result.status === 'failed') {
        failures++;
        logger.warn({ file, code: result.error.code, err: result.error }, 'analysis failed');
      }
      process.stdout.write(
        json
          ? `${toJsonLine(file, result, info)}\n`
          : formatTable(file, result, info, process.stdout.isTTY === true),
      );
    }
  } finally {
    await services.close();
  }
  return failures > 0 ? 1 : 0;
}

/** A missing or unreadable file is reported like any bad input, so the run goes on with the next file. */
async function readInput(file: string): Promise<AudioInput | AnnamalaiError> {
  try {
    return { bytes: await readFile(file), name: basename(file) };
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    return new AnnamalaiError(missing ? 'input.not_found' : 'input.unreadable', { cause });
  }
}

/** A progress line on stderr, only when a person is watching it. */
function progressOptions(file: string): AnalyzeOptions {
  if (!process.stderr.isTTY) return {};
  return {
    onProgress: (p: Progress) => {
      const text = p.stage === 'decoding' ? 'decoding' : `classifying ${p.done}/${p.total} segments`;
      process.stderr.write(`\r\x1b[K${file}: ${text}`);
      if (p.stage === 'classifying' && p.done === p.total) process.stderr.write('\r\x1b[K');
    },
  };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(isAnnamalaiError(error) ? `error (${error.code}): ${error.userMessage}` : String(error));
    process.exitCode = 1;
  },
);
