import { expect } from 'vitest';
import { answerUnfinishedJobs, type RecoveryAnswer } from '../../src/bots/shared/restart-recovery.ts';
import type { AnalysisStore } from '../../src/core/ports.ts';
import type { Logger } from '../../src/log.ts';
import { MemoryJobJournal } from './twins.ts';

/**
 * What a process killed between storing a result and replying leaves behind: a stored five-second analysis
 * of `sourceName` (one green speech segment) and a fresh journal holding one unfinished job that points at it.
 */
export async function journalWithStoredResult(
  store: AnalysisStore,
  job: { platform: string; userId: string; channelId: string; sourceName: string; reply: string },
): Promise<MemoryJobJournal> {
  const stored = await store.save({
    platform: job.platform,
    userId: job.userId,
    channelId: job.channelId,
    sourceName: job.sourceName,
    durationS: 5,
    model: { id: 'm', version: '1' },
    createdAt: new Date(),
    outcome: {
      status: 'ok',
      segments: [
        {
          index: 0,
          startS: 0,
          endS: 5,
          kind: 'speech',
          band: 'green',
          probabilities: { neutral: 0.9, sad: 0.1 },
          top: [
            { label: 'neutral', confidence: 0.9 },
            { label: 'sad', confidence: 0.1 },
          ],
        },
      ],
    },
  });
  const jobs = new MemoryJobJournal();
  const id = await jobs.open({
    platform: job.platform,
    userId: job.userId,
    reply: job.reply,
    createdAt: new Date(),
  });
  await jobs.setAnalysis(id, stored.id);
  return jobs;
}

/** Recovery answers the journal's one job, and a second pass (the next restart) finds nothing left to answer. */
export async function expectAnsweredOnce<H>(
  platform: string,
  deps: { jobs: MemoryJobJournal; store: AnalysisStore; log: Logger },
  recovery: RecoveryAnswer<H>,
): Promise<void> {
  expect(await answerUnfinishedJobs(await deps.jobs.unfinished(platform), deps, recovery)).toEqual({
    answered: 1,
    failed: 0,
  });
  expect(await answerUnfinishedJobs(await deps.jobs.unfinished(platform), deps, recovery)).toEqual({
    answered: 0,
    failed: 0,
  });
}
