import { describe, expect, it } from 'vitest';
import { clip } from '../../../src/bots/shared/clip.ts';

/** A lone surrogate: half an emoji, which Discord and Slack show as � (or refuse). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const graphemes = (s: string) => [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s)];

describe('clip() cuts on grapheme clusters, never inside one', () => {
  it('leaves text within the limit unchanged', () => {
    expect(clip('hello 😀', 8)).toBe('hello 😀');
  });

  it('never leaves half a surrogate pair when the limit falls inside an emoji', () => {
    const text = `${'a'.repeat(8)}😀😀`;
    const out = clip(text, 10);
    expect(out).not.toMatch(LONE_SURROGATE);
    expect(out).toBe(`${'a'.repeat(8)}…`);
    expect(out.length).toBeLessThanOrEqual(10);
  });

  it('keeps a ZWJ family, a flag and a skin-toned emoji whole or drops them whole', () => {
    for (const emoji of ['👩‍👩‍👧', '🇫🇷', '👍🏽', '🏳️‍🌈']) {
      for (let max = 3; max < emoji.length + 4; max++) {
        const out = clip(`ab${emoji}${emoji}`, max);
        expect(out.length).toBeLessThanOrEqual(max);
        const body = out.endsWith('…') ? out.slice(0, -1) : out;
        // Whatever remains is made only of whole clusters of the original.
        expect(graphemes(body).every((g) => ['a', 'b', emoji].includes(g.segment))).toBe(true);
      }
    }
  });

  it('keeps a letter with its combining marks together', () => {
    const text = 'e\u0301\u0302'.repeat(5); // é̂ ×5: three code units each
    const out = clip(text, 8);
    expect(out).toBe('e\u0301\u0302e\u0301\u0302…');
    expect(clip(text, 6)).toBe('e\u0301\u0302…');
  });

  it('fits the limit for a long text cut at every length', () => {
    const text = 'Voice 👩‍👩‍👧 mémo 😀 e\u0301 🇫🇷 '.repeat(20);
    for (let max = 1; max < 80; max++) {
      const out = clip(text, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out).not.toMatch(LONE_SURROGATE);
    }
  });
});
