import type { Surface } from '../shared/job.ts';
import { notSaved } from '../shared/not-saved.ts';
import { analyzingMessage, errorMessage, resultMessage } from './blocks.ts';
import { uploadChart } from './chart-upload.ts';
import type { ClipRequest, SlackContext } from './context.ts';
import { finishReply, type SlackReplyHandle } from './final-reply.ts';
import { redactTokens } from './log.ts';

/** Slack's rate limits want few edits: progress every 5 s at most, none in the first 5 s. */
const PROGRESS = { everyMs: 5_000, firstAfterMs: 5_000 } as const;

/**
 * A clip's surface for the shared job (shared/job.ts): refusals as a note only the requester sees, an
 * "Analyzing…" reply in the clip's thread edited with progress, then the result (and its chart) or the error.
 */
export function clipSurface(
  ctx: SlackContext,
  req: ClipRequest,
  clip: { readonly name: string; readonly speakerId: string; readonly threadTs: string },
): Surface {
  const { client, log, deps } = ctx;
  let where: SlackReplyHandle = { channel: req.channelId, threadTs: clip.threadTs };
  return {
    progressPolicy: PROGRESS,
    refuse: async (refusal) => {
      // Auto-analysis does not answer for people who opted out, nor while restarting.
      const quiet = refusal.code === 'opted_out.self' || refusal.code === 'opted_out.other';
      if (!req.explicit && (quiet || refusal.code === 'stopping')) {
        if (quiet) log.info({ channelId: req.channelId }, 'clip skipped: its author opted out');
        return;
      }
      await req.notify(refusal.text);
    },
    open: async (ticket) => {
      try {
        const analyzing = analyzingMessage(clip.name);
        const posted = await client.chat.postMessage({
          channel: req.channelId,
          thread_ts: clip.threadTs,
          text: analyzing.text,
          blocks: analyzing.blocks,
        });
        if (!posted.ts) throw new Error('chat.postMessage returned no ts');
        where = { ...where, ts: posted.ts };
      } catch (error) {
        log.warn(
          { err: redactTokens(String(error)), channelId: req.channelId },
          'could not post in the thread',
        );
        await req.notify(
          'I cannot post in this conversation. Invite me to the channel (`/invite @Annamalai`) and try again.',
        );
        return false;
      }
      await ticket.reply(where);
      return true;
    },
    progress: async (p) => {
      const { ts } = where;
      if (!ts) return;
      const message = analyzingMessage(clip.name, `${Math.round((100 * p.done) / p.total)} %`);
      await client.chat.update({ channel: where.channel, ts, text: message.text, blocks: message.blocks });
    },
    done: async (outcome) => {
      if (outcome.kind === 'error') {
        await finishReply(client, log, where, errorMessage(outcome.text), deps.replyRetry);
        return;
      }
      const { result } = outcome;
      const model = deps.analyzer.classifier.info;
      await finishReply(
        client,
        log,
        where,
        resultMessage({
          durationS: result.durationS,
          segments: result.segments,
          summary: result.summary,
          model,
          sourceName: clip.name,
          speakerId: clip.speakerId,
          notSaved: notSaved(result),
        }),
        deps.replyRetry,
      );
      if (deps.chart === false) return;
      await uploadChart(client, log, where, {
        segments: result.segments,
        labels: model.trainedLabels,
        name: clip.name,
      });
    },
  };
}
