// The Discord half of `npm run bench:load`: N users each send the bot a voice message in a DM at once,
// through the fake Discord and the real discord.js bot, started by the tests' own harness.
import type { ModelInfo } from '../../src/core/ports.ts';
import type { RecordedRequest } from '../../test/bots/discord/fake-discord/server.ts';
import { openWorld, type Running, startBot } from '../../test/bots/discord/harness.ts';
import { type Answer, isInterim, refusalKind, type UserOutcome } from './answers.ts';
import { rssSampler, settle, waitUntil } from './measure.ts';

export interface PhaseOptions {
  readonly n: number;
  /** The voice note every user sends, and its length. */
  readonly note: Uint8Array;
  readonly seconds: number;
  /** Environment of the bot: model, inference threads, queue size, rate limits. */
  readonly env: Record<string, string>;
  /** How long every user may wait for a final answer. */
  readonly waitMs: number;
}

export interface PhaseResult {
  readonly outcomes: readonly UserOutcome[];
  /** From the first note sent to the last first answer (or the end of the wait). */
  readonly wallSeconds: number;
  readonly peakRssBytes: number;
  readonly model: ModelInfo;
}

/** A final answer in a DM: the result's embed, or a text that is not "Listening…"/"Analysing…". */
function answerOf(r: RecordedRequest): Answer[] {
  const embeds = Array.isArray(r.body?.embeds) ? r.body.embeds.length : 0;
  if (embeds > 0) return [{ kind: 'result', at: r.at, text: 'embed' }];
  const content = typeof r.body?.content === 'string' ? r.body.content : '';
  if (content === '' || isInterim(content)) return [];
  return [{ kind: refusalKind(content), at: r.at, text: content }];
}

function sendNote(run: Running, name: string, note: Uint8Array, seconds: number) {
  const { fake } = run;
  const user = fake.user(name);
  const dm = fake.dmChannel(user);
  const attachment = fake.attachment({
    name: 'voice-message.ogg',
    bytes: note,
    contentType: 'audio/ogg',
    durationSecs: seconds,
  });
  const sentAt = Date.now();
  fake.sendMessage(
    fake.message({ author: user, guild: false, channelId: dm, voice: true, attachments: [attachment] }),
  );
  return { sentAt, answers: () => fake.channelRequests(dm).flatMap(answerOf) };
}

export async function discordLoad(o: PhaseOptions): Promise<PhaseResult> {
  const world = await openWorld({ LOG_LEVEL: 'warn', ...o.env });
  let run: Running | undefined;
  try {
    run = await startBot(world, o.env);
    // One note first, so that the flood meets warm sessions, as a running bot's users would.
    const warm = sendNote(run, 'warm-up', o.note, o.seconds);
    if (!(await waitUntil(() => warm.answers().length > 0, o.waitMs)))
      throw new Error('the warm-up voice note got no answer');
    await settle(run.bot.idle(), 10_000);

    const rss = rssSampler();
    const sent = Array.from({ length: o.n }, (_, i) =>
      sendNote(run as Running, `load-${i}`, o.note, o.seconds),
    );
    await waitUntil(() => sent.every((s) => s.answers().length > 0), o.waitMs);
    const last = Math.max(...sent.map((s) => s.answers()[0]?.at ?? Date.now()));
    // Late duplicates: let every handler finish, then give stray edits a moment to land.
    await settle(run.bot.idle(), 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    const peakRssBytes = rss.stop();
    const first = Math.min(...sent.map((s) => s.sentAt));
    return {
      outcomes: sent.map((s) => ({ sentAt: s.sentAt, answers: s.answers() })),
      wallSeconds: (last - first) / 1000,
      peakRssBytes,
      model: world.services.analyzer.classifier.info,
    };
  } finally {
    await run?.stop();
    await world.close();
  }
}
