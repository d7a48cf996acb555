// The Slack half of `npm run bench:load`: N users each post a clip in their DM with the app at once,
// through the fake Slack and the real Bolt app over Socket Mode, started by the tests' own harness.
import type { EmotionClassifier } from '../../src/core/ports.ts';
import type { ApiCall } from '../../test/bots/slack/fake-slack.ts';
import { fileMessage, type Harness, slackFile, startHarness } from '../../test/bots/slack/harness.ts';
import { type Answer, isInterim, refusalKind } from './answers.ts';
import type { PhaseOptions, PhaseResult } from './discord.ts';
import { flood, type Sent } from './measure.ts';

const CLIP = 'load-clip.m4a';

/**
 * A final answer in a DM: an ephemeral refusal, or a thread message (new or edited) that is not
 * "Analyzing…"; a result is the one whose blocks say "Emotions heard". Only calls Slack accepted count.
 */
function answerOf(call: ApiCall): Answer[] {
  if (call.reply?.ok !== true) return [];
  if (!['chat.postEphemeral', 'chat.postMessage', 'chat.update'].includes(call.method)) return [];
  const text = String(call.args.text ?? '');
  if (isInterim(text)) return [];
  if (/Emotions heard/.test(JSON.stringify(call.args.blocks ?? [])))
    return [{ kind: 'result', at: call.at, text }];
  return [{ kind: refusalKind(text), at: call.at, text }];
}

function sendClip(h: Harness, i: number, bytes: number): Sent {
  const user = `U0LOAD${i}`;
  const channel = `D0LOAD${i}`;
  const file = slackFile(h.fake, CLIP, { user, size: bytes, mimetype: 'audio/mp4', subtype: 'slack_audio' });
  const event = fileMessage(h.fake, channel, [file], { user });
  const sentAt = Date.now();
  void h.fake.deliver('events_api', h.fake.eventPayload(event));
  return {
    sentAt,
    answers: () => h.fake.calls.filter((c) => c.args.channel === channel).flatMap(answerOf),
  };
}

export async function slackLoad(o: PhaseOptions, classifier: EmotionClassifier): Promise<PhaseResult> {
  let h: Harness | undefined;
  try {
    h = await startHarness({ env: o.env, classifier });
    h.fake.hostedFiles.set(CLIP, o.note);
    const harness = h;
    const measured = await flood({
      n: o.n,
      waitMs: o.waitMs,
      what: 'clip',
      warmUp: () => sendClip(harness, -1, o.note.byteLength),
      send: (i) => sendClip(harness, i, o.note.byteLength),
      idle: () => harness.bot.idle(),
    });
    return { ...measured, model: classifier.info };
  } finally {
    await h?.close();
  }
}
