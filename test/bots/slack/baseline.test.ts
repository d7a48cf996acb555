import { afterAll, describe, expect, it } from 'vitest';
import type { BaselineKey, EmotionClassifier } from '../../../src/core/ports.ts';
import { createOnnxClassifier } from '../../../src/inference/classifier.ts';
import { TEAM } from './fake-slack.ts';
import { blocksText, fileMessage, harnessPerTest, slackFile, slashCommand, waitForReply } from './harness.ts';

const startHarness = harnessPerTest();

/** tiny-single carries a baseline head (min_recordings 2). */
let withHead: Promise<EmotionClassifier> | undefined;
function headClassifier(): Promise<EmotionClassifier> {
  withHead ??= createOnnxClassifier({
    modelDir: 'test/fixtures/models/tiny-single',
    device: 'cpu',
    workers: 1,
    threadsPerWorker: 1,
  });
  return withHead;
}
afterAll(async () => {
  if (withHead) await (await withHead).close();
});

/** A button click on the App Home tab, as Slack delivers it. */
function homeButton(actionId: string, user: string): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: { id: user, team_id: TEAM },
    team: { id: TEAM, domain: 'fake' },
    api_app_id: 'A0APP',
    trigger_id: 'trig-1',
    container: { type: 'view', view_id: 'V1' },
    view: { id: 'V1', type: 'home' },
    actions: [
      {
        action_id: actionId,
        block_id: 'b1',
        type: 'button',
        action_ts: '1.0',
        text: { type: 'plain_text', text: 'x' },
      },
    ],
  };
}

const key: BaselineKey = {
  platform: 'slack',
  workspaceId: TEAM,
  userId: 'U0ALICE',
  modelId: 'annamalai-test-fixture-tiny-single',
  modelVersion: '1.0.0',
};

describe('/emotion baseline on Slack and the App Home', () => {
  it('counts clips, is used once 2 are kept (the reply says so), shows on Home, and resets', async () => {
    const h = await startHarness({ classifier: await headClassifier(), baselines: true });
    const ask = async (text: string) =>
      String(
        (
          await h.fake.deliver(
            'slash_commands',
            slashCommand(h.fake, text, { user: 'U0ALICE', channel: 'C0RANDOM' }).payload,
            true,
          )
        ).payload?.text,
      );
    expect(await ask('baseline')).toMatch(/0 of the 2 clips needed/);
    const clip = async (n: number) => {
      await h.fake.deliver(
        'events_api',
        h.fake.eventPayload(fileMessage(h.fake, 'D0ALICE', [slackFile(h.fake, 'speech.m4a')])),
      );
      return blocksText((await waitForReply(h, n)).update.args);
    };
    expect(await clip(1)).not.toMatch(/usual voice/);
    expect(await clip(2)).not.toMatch(/usual voice/);
    expect(await ask('baseline')).toMatch(/in use, from 2 clips/);
    expect(await clip(3)).toMatch(/Compared with your usual voice, 2 recordings\./);

    await h.fake.deliver(
      'events_api',
      h.fake.eventPayload({ type: 'app_home_opened', user: 'U0ALICE', channel: 'D0ALICE', tab: 'home' }),
    );
    const home = await h.fake.waitFor(() => h.fake.callsOf('views.publish')[0]);
    const view = JSON.stringify(home.args.view);
    expect(view).toMatch(/in use, from 3 clips/);
    expect(view).toMatch(/home_baseline_reset/);

    // The Home tab's reset button.
    await h.fake.deliver('interactive', homeButton('home_baseline_reset', 'U0ALICE'));
    const after = await h.fake.waitFor(() => h.fake.callsOf('views.publish')[1]);
    expect(JSON.stringify(after.args.view)).toMatch(/Your voice baseline is deleted; it starts again/);
    expect(JSON.stringify(after.args.view)).toMatch(/0 of the 2 clips needed/);
    expect(await h.baselines?.stats(key)).toBeUndefined();

    expect(await clip(4)).not.toMatch(/usual voice/);
    expect(await ask('baseline reset')).toMatch(/voice baseline in this workspace is deleted/);
    expect(await h.baselines?.stats(key)).toBeUndefined();
    expect(await ask('baseline reset')).toMatch(/There was no voice baseline/);
    expect(await ask('baseline')).toMatch(/0 of the 2 clips needed/);
  });

  it('help says what is kept, why, and how to see and delete it', async () => {
    const h = await startHarness({ classifier: await headClassifier(), baselines: true });
    const help = await h.fake.deliver(
      'slash_commands',
      slashCommand(h.fake, 'help', { user: 'U0ALICE', channel: 'C0RANDOM' }).payload,
      true,
    );
    const text = String(help.payload?.text);
    expect(text).toMatch(/Voice baseline: .*numbers per person.*never audio/);
    expect(text).toMatch(/`\/emotion baseline reset` and `\/emotion forget` delete it/);
  });

  it('the model without a head (tiny): none is kept, and the command says so', async () => {
    const h = await startHarness({ baselines: true });
    const status = await h.fake.deliver(
      'slash_commands',
      slashCommand(h.fake, 'baseline', { user: 'U0ALICE', channel: 'C0RANDOM' }).payload,
      true,
    );
    expect(String(status.payload?.text)).toMatch(/has no voice baseline/);
  });
});
