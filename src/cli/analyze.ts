import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { openServices } from '../compose.ts';
import type { Config } from '../config.ts';
import {
  type AnalysisResult,
  type AnalyzeOptions,
  analyzeRecording,
  type Progress,
} from '../core/analyze.ts';
import { AnnamalaiError, isAnnamalaiError } from '../core/errors.ts';
import type { AudioInput } from '../core/ports.ts';
import { toJsonLine } from '../core/report-json.ts';
import type { Logger } from '../log.ts';
import { databaseOption } from '../storage/target.ts';
import type { OutputFormat } from './args.ts';
import { formatTable } from './table.ts';

export interface AnalyzeRun {
  readonly files: readonly string[];
  readonly format: OutputFormat;
  readonly db?: string;
  readonly speaker?: string;
}

/** `annamalai analyze`: every file gets its table or JSON line, in order; 1 when any failed. */
export async function runAnalyze(run: AnalyzeRun, config: Config, logger: Logger): Promise<number> {
  const services = await openServices(config, logger, databaseOption(run.db));
  // From here on every way out, thrown or returned, passes close(): its worker threads would
  // otherwise keep the process alive after the last line.
  try {
    const json = run.format === 'json';
    const { info } = services.analyzer.classifier;
    if (!json) {
      // Which device runs, not why: the CUDA advice belongs to `annamalai diagnostics`.
      console.error(`model: ${info.name} ${info.version} on ${info.device.kind}`);
      if (info.fixture) console.error('warning: this is a test fixture model, not a real emotion model');
    }
    if (run.speaker && !services.analyzer.classifier.voiceBaseline)
      console.error('note: this model has no voice-baseline head, so --speaker changes nothing');
    let failures = 0;
    for (const file of run.files) {
      const input = await readInput(file);
      const result: AnalysisResult = isAnnamalaiError(input)
        ? { status: 'failed', durationS: 0, error: input }
        : await analyzeRecording(
            services.analyzer,
            input,
            { platform: 'cli', sourceName: file, ...(run.speaker && { userId: run.speaker }) },
            progressOptions(file),
          );
      if (result.status === 'failed') {
        failures++;
        // The output already carries the coded error; the stack only when LOG_LEVEL asks for it.
        logger.info({ file, code: result.error.code, err: result.error }, 'analysis failed');
      }
      process.stdout.write(
        json
          ? `${toJsonLine(file, result, info)}\n`
          : formatTable(file, result, info, process.stdout.isTTY === true),
      );
    }
    return failures > 0 ? 1 : 0;
  } finally {
    await services.close();
  }
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
