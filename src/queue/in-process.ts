import type { AnalysisQueue } from '../core/analysis-queue.ts';
import { type AnalyzerDeps, analyzeRecording } from '../core/analyze.ts';

/**
 * The embedded analysis queue: the job runs at once, in this process, on the model it loaded. How many run
 * at a time is bounded before it by the process's one work queue (src/bots/shared/work-queue.ts), so this
 * adds nothing but the port: the default (one process) behaves exactly as it did before the port existed.
 */
export function inProcessAnalysis(analyzer: AnalyzerDeps): AnalysisQueue {
  return {
    kind: 'in-process',
    analyse: (job, options) => analyzeRecording(analyzer, job.input, job.context, options),
    close: async () => undefined,
  };
}
