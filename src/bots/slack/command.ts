import type { App } from '@slack/bolt';
import { HISTORY_SHOWN } from '../shared/history.ts';
import { baselineStatus, resetBaseline } from '../shared/voice-baseline.ts';
import { baselineText, forgetConfirmMessage, HELP_TEXT, historyMessage } from './blocks.ts';
import { analyzeLatestInChannel } from './clip-events.ts';
import type { SlackContext } from './context.ts';
import { redactTokens } from './log.ts';
import { PLATFORM } from './platform.ts';
import { settingsCommands } from './settings-command.ts';

export const COMMAND = '/emotion';

/** `/emotion [help|history|optout|optin|forget|baseline [reset]|settings …|digest now]`: one case per subcommand. */
export function registerCommand(app: App, ctx: SlackContext): void {
  const { settings, analyzer } = ctx.deps;
  const { digestPreview, settingsCommand } = settingsCommands({
    client: ctx.client,
    analyzer,
    settings,
    digest: ctx.deps.digest,
    log: ctx.log,
  });
  app.command(COMMAND, async ({ command, ack, respond }) => {
    const [sub = '', ...args] = command.text.trim().split(/\s+/).filter(Boolean);
    const user = command.user_id;
    const teamId = command.team_id;
    const ephemeral = (text: string) => ack({ response_type: 'ephemeral', text });
    const later = (what: string) => (text: string) =>
      respond({ response_type: 'ephemeral', text }).then(
        () => undefined,
        (e: unknown) => ctx.log.warn({ err: redactTokens(String(e)) }, `could not respond to ${what}`),
      );
    switch (sub.toLowerCase()) {
      case 'help':
        return ephemeral(HELP_TEXT);
      case 'history': {
        const view = historyMessage(await analyzer.store.userHistory(PLATFORM, user, HISTORY_SHOWN));
        return ack({ response_type: 'ephemeral', text: view.text, blocks: view.blocks });
      }
      case 'optout': {
        const changed = await settings.setOptedOut(PLATFORM, user, true);
        return ephemeral(
          changed
            ? 'Done: I will not analyse recordings of your voice, and your voice baseline is deleted. Results already stored are kept until you use `/emotion forget`.'
            : 'You had already opted out.',
        );
      }
      case 'optin': {
        const changed = await settings.setOptedOut(PLATFORM, user, false);
        return ephemeral(changed ? 'Done: your clips can be analysed again.' : 'You had not opted out.');
      }
      case 'forget': {
        const view = forgetConfirmMessage();
        return ack({ response_type: 'ephemeral', text: view.text, blocks: view.blocks });
      }
      case 'baseline': {
        const who = { platform: PLATFORM, workspaceId: teamId, userId: user };
        const action = (args[0] ?? 'status').toLowerCase();
        if (action === 'reset')
          return ephemeral(
            (await resetBaseline(ctx.deps, who))
              ? 'Done: your voice baseline in this workspace is deleted; it starts again from your next clip.'
              : 'There was no voice baseline of yours in this workspace.',
          );
        if (action !== 'status')
          return ephemeral(
            'Use `/emotion baseline` to see your voice baseline, `/emotion baseline reset` to delete it.',
          );
        return ephemeral(baselineText(await baselineStatus(ctx.deps, who)));
      }
      case 'settings':
        await ack();
        return later('/emotion settings')(await settingsCommand(teamId, user, command.channel_id, args));
      case 'digest':
        await ack();
        return later('/emotion digest')(
          (args[0] ?? '').toLowerCase() === 'now'
            ? await digestPreview(teamId, command.channel_id)
            : 'Use `/emotion digest now` for a preview of this channel’s mood digest (only you see it).',
        );
      case '':
        await ack();
        return analyzeLatestInChannel(
          ctx,
          { teamId, channelId: command.channel_id, user },
          later('/emotion'),
        );
      default:
        return ephemeral(`I don't know \`${COMMAND} ${sub.slice(0, 30)}\`.\n\n${HELP_TEXT}`);
    }
  });
}
