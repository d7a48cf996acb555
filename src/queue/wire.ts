import type { AnalysisJob } from '../core/analysis-queue.ts';
import type { AnalysisResult, SaveOutcome } from '../core/analyze.ts';
import { AnnamalaiError, type ErrorCode, isErrorCode } from '../core/errors.ts';
import type { AnalysisContext, StoredAnalysis } from '../core/records.ts';

/**
 * An analysis job and its result as JSON, for a queue between processes: audio bytes as base64, coded
 * errors as { code, message, detail } (rebuilt into AnnamalaiErrors on the other side), dates as ms.
 */
export interface JobData {
  readonly audio: string;
  readonly name?: string;
  readonly contentType?: string;
  readonly context: AnalysisContext;
}

interface WireError {
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
}

type WireSaved =
  | {
      readonly ok: true;
      readonly analysis: Omit<StoredAnalysis, 'createdAt'> & { readonly createdAt: number };
    }
  | { readonly ok: false; readonly error: WireError };

export type ResultData =
  | (Omit<Extract<AnalysisResult, { status: 'ok' }>, 'saved'> & { readonly saved?: WireSaved })
  | { readonly status: 'failed'; readonly durationS: number; readonly error: WireError };

export function toJobData(job: AnalysisJob): JobData {
  const { bytes, name, contentType } = job.input;
  return {
    audio: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    ...(name !== undefined && { name }),
    ...(contentType !== undefined && { contentType }),
    context: job.context,
  };
}

export function fromJobData(data: JobData): AnalysisJob {
  return {
    input: {
      bytes: new Uint8Array(Buffer.from(data.audio, 'base64')),
      ...(data.name !== undefined && { name: data.name }),
      ...(data.contentType !== undefined && { contentType: data.contentType }),
    },
    context: data.context,
  };
}

export function toResultData(result: AnalysisResult): ResultData {
  if (result.status === 'failed') return { ...result, error: toWireError(result.error) };
  const { saved, ...rest } = result;
  if (!saved) return rest;
  return {
    ...rest,
    saved: saved.ok
      ? { ok: true, analysis: { ...saved.analysis, createdAt: saved.analysis.createdAt.getTime() } }
      : { ok: false, error: toWireError(saved.error) },
  };
}

export function fromResultData(data: ResultData): AnalysisResult {
  if (data.status === 'failed') return { ...data, error: fromWireError(data.error) };
  const { saved, ...rest } = data;
  if (!saved) return rest;
  const outcome: SaveOutcome = saved.ok
    ? { ok: true, analysis: { ...saved.analysis, createdAt: new Date(saved.analysis.createdAt) } }
    : { ok: false, error: fromWireError(saved.error) };
  return { ...rest, saved: outcome };
}

function toWireError(error: AnnamalaiError): WireError {
  return { code: error.code, message: error.userMessage, ...(error.detail && { detail: error.detail }) };
}

/** A code this version does not know (a newer worker) still reaches the user as a failed analysis. */
export function fromWireError(error: WireError): AnnamalaiError {
  const code: ErrorCode = isErrorCode(error.code) ? error.code : 'inference.failed';
  return new AnnamalaiError(code, {
    userMessage: error.message,
    ...(error.detail !== undefined && { detail: error.detail }),
  });
}

/** Float32 rows (segments to classify, or the model's probabilities) as base64 of their bytes. */
export interface RowsData {
  readonly rows: readonly string[];
}

export function toRows(rows: readonly Float32Array[]): string[] {
  return rows.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength).toString('base64'));
}

export function fromRows(rows: readonly string[]): Float32Array[] {
  return rows.map((text) => {
    const bytes = Buffer.from(text, 'base64');
    // Copied into a fresh, aligned buffer: a Buffer's offset in its pool need not be a multiple of 4.
    return new Float32Array(new Uint8Array(bytes).buffer);
  });
}
