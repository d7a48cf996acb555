// A user's voice message to the bot in their DM, as the Discord benchmarks send it through the fake Discord.
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
