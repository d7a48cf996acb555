import type { webApi } from '@slack/bolt';
import type { JobRecord, ModelInfo } from '../../core/ports.ts';
import type { StoredAnalysis } from '../../core/records.ts';
import type { Logger } from '../../log.ts';
import { RESTARTED_TEXT } from '../shared/refusals.ts';
import type { ReplyRetryPolicy } from '../shared/reply-retry.ts';
import type { RecoveryAnswer } from '../shared/restart-recovery.ts';
import { resultFromStored } from '../shared/stored-result.ts';
import { errorMessage, resultMessage } from './blocks.ts';
import { uploadChart } from './chart-upload.ts';
import { finishReply, type SlackReplyHandle } from './final-reply.ts';

function parse(reply: unknown): SlackReplyHandle | undefined {
  const r = reply as Partial<Record<string, unknown>> | undefined;
  if (typeof r?.channel !== 'string' || typeof r.threadTs !== 'string') return undefined;
  if (r.ts !== undefined && typeof r.ts !== 'string') return undefined;
  return r as unknown as SlackReplyHandle;
}

/**
 * After a restart: each unfinished Slack job's "Analyzing…" message is updated into its stored result or
 * the restart message; a job whose message was never posted gets one in the clip's thread.
 */
export function slackRecovery(
  client: webApi.WebClient,
  model: ModelInfo,
  log: Logger,
  retry?: ReplyRetryPolicy,
): RecoveryAnswer<SlackReplyHandle> {
  return {
    parse,
    async answer(job: JobRecord, handle, stored: StoredAnalysis | undefined) {
      if (!handle) throw new Error(`job ${job.id}: unreadable reply handle`);
      let message = errorMessage(RESTARTED_TEXT);
      if (stored) {
        const result = resultFromStored(stored, model);
        message = resultMessage({
          durationS: result.durationS,
          segments: result.segments,
          summary: result.summary,
          model,
          sourceName: stored.sourceName,
          speakerId: stored.userId,
        });
      }
      if ((await finishReply(client, log, handle, message, retry)) === 'lost')
        throw new Error('the answer could not be delivered');
      if (stored?.outcome.status === 'ok')
        await uploadChart(client, log, handle, {
          segments: stored.outcome.segments,
          labels: model.trainedLabels,
          name: stored.sourceName ?? 'this recording',
        });
    },
  };
}
