import type { App } from '@slack/bolt';
import { HISTORY_SHOWN } from '../shared/history.ts';
import { baselineStatus, resetBaseline } from '../shared/voice-baseline.ts';
import type { SlackContext } from './context.ts';
import { homeView } from './home-view.ts';
import { redactTokens } from './log.ts';
import { PLATFORM } from './platform.ts';

/** The App Home tab and the privacy buttons (forget confirmation, opt out/in, forget from Home). */
export function registerHome(app: App, ctx: SlackContext): void {
  const { settings } = ctx.deps;
  const { store } = ctx.deps.analyzer;
  app.action('forget_confirm', async ({ ack, body, respond }) => {
    await ack();
    const n = await store.deleteUser(PLATFORM, body.user.id);
    await respond({
      replace_original: true,
      text: n
        ? `Deleted ${n} stored result${n === 1 ? '' : 's'} of your voice.`
        : 'No results of your voice were stored.',
    }).catch((e: unknown) => ctx.log.warn({ err: redactTokens(String(e)) }, 'could not confirm forget'));
  });
  app.action('forget_cancel', async ({ ack, respond }) => {
    await ack();
    await respond({ replace_original: true, text: 'Nothing was deleted.' }).catch(() => undefined);
  });
  app.action('home_optout', async ({ ack, body }) => {
    await ack();
    await settings.setOptedOut(PLATFORM, body.user.id, true);
    await publishHome(ctx, body.user.id, 'You have opted out.', teamOf(body));
  });
  app.action('home_optin', async ({ ack, body }) => {
    await ack();
    await settings.setOptedOut(PLATFORM, body.user.id, false);
    await publishHome(ctx, body.user.id, 'You have opted in again.', teamOf(body));
  });
  app.action('home_forget', async ({ ack, body }) => {
    await ack();
    const n = await store.deleteUser(PLATFORM, body.user.id);
    await publishHome(ctx, body.user.id, `Deleted ${n} stored result${n === 1 ? '' : 's'}.`, teamOf(body));
  });
  app.action('home_baseline_reset', async ({ ack, body }) => {
    await ack();
    const deleted = await resetBaseline(ctx.deps, {
      platform: PLATFORM,
      workspaceId: teamOf(body),
      userId: body.user.id,
    });
    await publishHome(
      ctx,
      body.user.id,
      deleted ? 'Your voice baseline is deleted; it starts again.' : 'There was no voice baseline to delete.',
      teamOf(body),
    );
  });
  app.event('app_home_opened', async ({ event, context }) => {
    if (event.tab !== 'home') return;
    await publishHome(ctx, event.user, undefined, context.teamId ?? null);
  });
}

/** The workspace an action came from (a Home tab is one workspace's). */
function teamOf(body: { team?: { id?: string } | null; user: { team_id?: string } }): string | null {
  return body.team?.id ?? body.user.team_id ?? null;
}

async function publishHome(
  ctx: SlackContext,
  user: string,
  status?: string,
  teamId: string | null = null,
): Promise<void> {
  const [optedOut, history, baseline] = await Promise.all([
    ctx.deps.settings.isOptedOut(PLATFORM, user),
    ctx.deps.analyzer.store.userHistory(PLATFORM, user, HISTORY_SHOWN),
    baselineStatus(ctx.deps, { platform: PLATFORM, workspaceId: teamId, userId: user }),
  ]);
  try {
    await ctx.client.views.publish({
      user_id: user,
      view: homeView({ optedOut, history, baseline, status }),
    });
  } catch (error) {
    ctx.log.warn({ err: redactTokens(String(error)) }, 'views.publish failed');
  }
}
