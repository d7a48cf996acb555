import type { AnalysisResult, AnalyzeOptions } from './analyze.ts';
import type { AudioInput } from './ports.ts';
import type { AnalysisContext } from './records.ts';

/* Analysis jobs: where the model runs (issue 20). A port of its own file, apart from ports.ts, because it
 * speaks in the analyze use case's types, which themselves use ports.ts. */

/** One recording to analyse, as a gateway hands it to whatever runs the model. */
export interface AnalysisJob {
  readonly input: AudioInput;
  readonly context: AnalysisContext;
}

export interface QueueOptions extends AnalyzeOptions {
  /**
   * Called once the job is in a durable queue, with the time until which a worker may still finish it: the
   * caller records it, so a restarted gateway waits for the result instead of telling the user the work
   * was lost. Never called by the embedded queue (its work dies with the process).
   */
  readonly onQueued?: (until: Date) => Promise<void>;
}

/**
 * Port: "analyse this recording" as a job that is handed over and whose result is awaited. The embedded
 * implementation runs it in this process on the loaded model (src/queue/in-process.ts); the scale-out one
 * hands it to `annamalai worker` processes through pg-boss on Postgres (src/queue/pg-boss/). Like
 * analyzeRecording it never throws for a failed analysis: that is a result with a coded error.
 */
export interface AnalysisQueue {
  /** Where the work runs: 'in-process' (this process's model) or 'workers' (other processes). */
  readonly kind: 'in-process' | 'workers';
  analyse(job: AnalysisJob, options: QueueOptions): Promise<AnalysisResult>;
  close(): Promise<void>;
}
