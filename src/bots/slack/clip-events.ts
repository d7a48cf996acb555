import type { App } from '@slack/bolt';
import type { SlackContext } from './context.ts';
import { audioFiles, type SlackMessage } from './files.ts';
import { redactTokens } from './log.ts';
import { PLATFORM } from './platform.ts';

export const SHORTCUT_CALLBACK_ID = 'analyze_emotions';
/** How far back `/emotion` looks for the most recent audio in a channel. */
const HISTORY_SCAN = 50;

/** Clips posted in a DM or an auto-analysis channel, and the "Analyze emotions" message shortcut. */
export function registerClipEvents(app: App, ctx: SlackContext): void {
  app.event('message', async ({ event, body }) => {
    const message = event as unknown as SlackMessage;
    if (
      message.subtype !== undefined &&
      message.subtype !== 'file_share' &&
      message.subtype !== 'thread_broadcast'
    )
      return;
    if (message.bot_id || !message.user || !message.channel) return;
    const files = audioFiles(message);
    if (files.length === 0) return;
    const teamId = (body as { team_id?: string }).team_id ?? '';
    const channelId = message.channel;
    const dm = message.channel_type === 'im';
    if (!dm && !(await ctx.deps.settings.isAutoAnalysisChannel(PLATFORM, teamId, channelId))) return;
    const user = message.user;
    for (const file of files.slice(0, 3))
      void ctx.startClip({
        teamId,
        channelId,
        message,
        file,
        requesterId: user,
        explicit: false,
        notify: (text) => postEphemeral(ctx, channelId, user, text, message.thread_ts ?? message.ts),
      });
  });

  app.shortcut(SHORTCUT_CALLBACK_ID, async ({ shortcut, ack, respond }) => {
    await ack();
    const s = shortcut as unknown as {
      team?: { id: string };
      user: { id: string };
      channel?: { id: string };
      message?: SlackMessage;
    };
    const notify = async (text: string) => {
      await respond({ response_type: 'ephemeral', replace_original: false, text }).catch((e: unknown) =>
        ctx.log.warn({ err: redactTokens(String(e)) }, 'could not respond to the shortcut'),
      );
    };
    const message = s.message;
    const channelId = s.channel?.id;
    if (!message || !channelId) return notify('I could not see that message.');
    const file = audioFiles(message)[0];
    if (!file) return notify('That message has no audio file or clip for me to analyse.');
    void ctx.startClip({
      teamId: s.team?.id ?? '',
      channelId,
      message,
      file,
      requesterId: s.user.id,
      explicit: true,
      notify,
    });
  });
}

/** `/emotion` with no subcommand: the most recent audio in this channel. */
export async function analyzeLatestInChannel(
  ctx: SlackContext,
  where: { readonly teamId: string; readonly channelId: string; readonly user: string },
  notify: (text: string) => Promise<void>,
): Promise<void> {
  const { teamId, channelId, user } = where;
  let messages: SlackMessage[];
  try {
    const history = await ctx.client.conversations.history({ channel: channelId, limit: HISTORY_SCAN });
    messages = (history.messages ?? []) as unknown as SlackMessage[];
  } catch (error) {
    ctx.log.info({ err: redactTokens(String(error)) }, 'conversations.history failed');
    return notify(
      'I cannot read this conversation. Invite me to the channel (`/invite @Annamalai`) and try again.',
    );
  }
  const message = messages.find((m) => !m.bot_id && audioFiles(m).length > 0);
  const file = message ? audioFiles(message)[0] : undefined;
  if (!message || !file)
    return notify(`I found no audio in the last ${HISTORY_SCAN} messages of this channel.`);
  void ctx.startClip({ teamId, channelId, message, file, requesterId: user, explicit: true, notify });
}

async function postEphemeral(
  ctx: SlackContext,
  channel: string,
  user: string,
  text: string,
  threadTs?: string,
): Promise<void> {
  try {
    await ctx.client.chat.postEphemeral({
      channel,
      user,
      text,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
  } catch (error) {
    ctx.log.warn({ err: redactTokens(String(error)), channel }, 'could not send an ephemeral reply');
  }
}
