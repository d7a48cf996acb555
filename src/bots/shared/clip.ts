/**
 * Text cut to a platform's length limit without breaking a character a person sees: the cut falls between
 * grapheme clusters (an emoji with its skin tone or ZWJ family, a letter with its combining marks), never
 * inside one, so no half surrogate pair or orphaned modifier reaches Discord or Slack. Limits are counted in
 * UTF-16 code units (String#length), the strictest of the platforms' ways of counting, so the result always
 * fits.
 */
const ELLIPSIS = '…';
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = max - ELLIPSIS.length;
  let end = 0;
  for (const { segment, index } of graphemes.segment(text)) {
    if (index + segment.length > room) break;
    end = index + segment.length;
  }
  return `${text.slice(0, end)}${ELLIPSIS}`;
}
