// The Discord half of `npm run bench:load`: N users each send the bot a voice message in a DM at once,
// through the fake Discord and the real discord.js bot, started by the tests' own harness.
import type { ModelInfo } from '../../src/core/ports.ts';
import type { RecordedRequest } from '../../test/bots/discord/fake-discord/server.ts';
import { openWorld, type Running, startBot } from '../../test/bots/discord/harness.ts';
import { voiceNote } from '../voice-note.ts';
import { type Answer, isInterim, refusalKind } from './answers.ts';
import { type Flood, flood, type Sent } from './measure.ts';

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

export interface PhaseResult extends Flood {
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

function sendNote(run: Running, name: string, note: Uint8Array, seconds: number): Sent {
  const { fake } = run;
  const { dm, message } = voiceNote(fake, name, note, seconds);
  const sentAt = Date.now();
  fake.sendMessage(message);
  return { sentAt, answers: () => fake.channelRequests(dm).flatMap(answerOf) };
}

export async function discordLoad(o: PhaseOptions): Promise<PhaseResult> {
  const world = await openWorld({ LOG_LEVEL: 'warn', ...o.env });
  let run: Running | undefined;
  try {
    run = await startBot(world, o.env);
    const running = run;
    const measured = await flood({
      n: o.n,
      waitMs: o.waitMs,
      what: 'voice note',
      warmUp: () => sendNote(running, 'warm-up', o.note, o.seconds),
      send: (i) => sendNote(running, `load-${i}`, o.note, o.seconds),
      idle: () => running.bot.idle(),
    });
    return { ...measured, model: world.services.analyzer.classifier.info };
  } finally {
    await run?.stop();
    await world.close();
  }
}
