import {
  ADMITTED,
  type Check,
  declaredSize,
  notOptedOut,
  notStopping,
  queueRoom,
  refused,
  storageAvailable,
  withinRate,
} from '../shared/admission.ts';
import { DownloadError } from '../shared/download.ts';
import { runJob } from '../shared/job.ts';
import { reply } from '../shared/replies.ts';
import { slackFileHosts } from './config.ts';
import type { ClipRequest, SlackContext } from './context.ts';
import { downloadSlackFile } from './download.ts';
import { fileName, type SlackFile } from './files.ts';
import { redactTokens } from './log.ts';
import { PLATFORM } from './platform.ts';
import { clipSurface } from './surface.ts';

/** Clips being analysed now: the same clip asked for twice is analysed once. */
const inFlight = new WeakMap<SlackContext, Set<string>>();

/** One clip through the shared job (shared/job.ts); resolves when its reply is final. */
export async function analyzeClip(ctx: SlackContext, req: ClipRequest): Promise<void> {
  const { file, message, channelId, teamId } = req;
  const key = `${teamId}:${channelId}:${message.ts}:${file.id}`;
  const running = inFlight.get(ctx) ?? new Set<string>();
  inFlight.set(ctx, running);
  if (running.has(key) && !ctx.closing()) {
    if (req.explicit)
      await req.notify('I am already analysing that clip: the result will appear in its thread.');
    return;
  }
  running.add(key);
  try {
    await runClip(ctx, req);
  } finally {
    running.delete(key);
  }
}

async function runClip(ctx: SlackContext, req: ClipRequest): Promise<void> {
  const { deps, pipeline } = ctx;
  const { replies } = pipeline;
  const { message, channelId, teamId } = req;
  const speakerId = req.file.user ?? message.user ?? req.requesterId;
  const threadTs = message.thread_ts ?? message.ts;
  let file = req.file;
  const name = () => fileName(file);
  // Slack may send a stub: its details (size, url) are read before the size can be checked.
  const resolve: Check = async () => {
    try {
      file = await resolveFile(ctx, file);
      return ADMITTED;
    } catch (error) {
      ctx.log.warn({ err: redactTokens(String(error)) }, 'files.info failed');
      return refused(reply('file.unreadable', replies));
    }
  };
  const checks: Check[] = [
    notStopping(ctx.closing, replies),
    storageAvailable(deps.storageHealth, replies),
    notOptedOut(
      deps.settings,
      { platform: PLATFORM, speakerId, requesterId: req.requesterId, subject: `<@${speakerId}>` },
      replies,
    ),
    resolve,
    declaredSize(() => file.size, replies),
    withinRate(
      ctx.limiter,
      {
        user: { scope: 'slack-user', key: req.requesterId },
        workspace: { scope: 'slack-workspace', key: teamId },
      },
      replies,
    ),
    queueRoom(pipeline.queue, replies),
  ];
  // The surface is made once the file's name is known (after `resolve`): a getter keeps it late-bound.
  const surface = clipSurface(ctx, req, {
    get name() {
      return name();
    },
    speakerId,
    threadTs,
  });
  await runJob(
    pipeline,
    {
      checks,
      journal: { platform: PLATFORM, userId: speakerId, reply: { channel: channelId, threadTs } },
      get audio() {
        return { name: name(), contentType: file.mimetype };
      },
      download: (signal) => {
        const url = file.url_private_download ?? file.url_private;
        if (!url) throw new DownloadError('http', 'the file has no url_private');
        return downloadSlackFile({
          url,
          declaredSize: file.size,
          maxBytes: deps.analyzer.limits.maxBytes,
          botToken: deps.config.SLACK_BOT_TOKEN,
          fileHosts: slackFileHosts(deps.config),
          timeoutMs: deps.config.bot.downloadTimeoutMs,
          signal,
        });
      },
      get context() {
        return {
          platform: PLATFORM,
          workspaceId: teamId,
          channelId,
          userId: speakerId,
          sourceId: file.id,
          sourceName: name(),
        };
      },
    },
    surface,
  );
}

async function resolveFile(ctx: SlackContext, file: SlackFile): Promise<SlackFile> {
  if (file.url_private && file.file_access !== 'check_file_info') return file;
  const info = await ctx.client.files.info({ file: file.id });
  return { ...file, ...(info.file as SlackFile | undefined) };
}
