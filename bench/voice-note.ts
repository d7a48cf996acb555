// A user's voice message to the bot in their DM, as the Discord benchmarks send it through the fake Discord.
import { performance } from 'node:perf_hooks';
import type { FakeDiscord } from '../test/bots/discord/fake-discord/server.ts';

/**
 * A new user `name`, their DM with the bot, and a voice message in it carrying `bytes` (an Ogg/Opus note of
 * `seconds`). The caller sends it with `fake.sendMessage`, so that it reads the clock right before.
 */
export function voiceNote(fake: FakeDiscord, name: string, bytes: Uint8Array, seconds: number) {
  const user = fake.user(name);
  const dm = fake.dmChannel(user);
  const attachment = fake.attachment({
    name: 'voice-message.ogg',
    bytes,
    contentType: 'audio/ogg',
    durationSecs: seconds,
  });
  return {
    dm,
    message: fake.message({
      author: user,
      guild: false,
      channelId: dm,
      voice: true,
      attachments: [attachment],
    }),
  };
}

/**
 * Sends a new user's voice note and waits for its result: seconds from sending until the bot edits the
 * waiting reply into one with embeds (the analysis), at most `timeoutMs`.
 */
export async function secondsToResult(
  fake: FakeDiscord,
  name: string,
  bytes: Uint8Array,
  seconds: number,
  timeoutMs: number,
): Promise<number> {
  const { dm, message } = voiceNote(fake, name, bytes, seconds);
  const start = performance.now();
  fake.sendMessage(message);
  await fake.waitFor(
    () =>
      fake
        .channelRequests(dm)
        .find((r) => r.method === 'PATCH' && Array.isArray(r.body?.embeds) && r.body.embeds.length > 0),
    timeoutMs,
    'the reply',
  );
  return (performance.now() - start) / 1000;
}
