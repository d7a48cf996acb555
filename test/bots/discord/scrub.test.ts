import { describe, expect, it } from 'vitest';
import { Scrubber } from '../../../src/bots/discord/scrub.ts';

describe('Scrubber', () => {
  it('removes the bot token and interaction/webhook tokens from error texts and REST URLs', () => {
    const token = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.abcdef.secret-part_xyz';
    const scrub = new Scrubber(token);
    const error = Object.assign(new Error(`401 for Bot ${token}`), {
      url: 'https://discord.com/api/v10/webhooks/123456/aW50ZXJhY3Rpb24tdG9rZW4/messages/@original',
      status: 401,
    });
    const out = JSON.stringify(scrub.error(error));
    expect(out).not.toContain(token);
    expect(out).not.toContain('aW50ZXJhY3Rpb24tdG9rZW4');
    expect(out).toContain('/webhooks/123456/[redacted]/messages/@original');
    expect(scrub.text('/interactions/99/tok-en/callback')).toBe('/interactions/99/[redacted]/callback');
  });
});
