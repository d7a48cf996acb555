/** Words and numbers as the page shows them: the band is always written, never colour alone. */

export const BAND_WORDS = {
  green: 'high confidence',
  orange: 'medium confidence',
  red: 'low confidence',
};

export function percent(confidence) {
  return `${Math.round(confidence * 100)} %`;
}

export function clock(seconds) {
  const s = Math.max(0, seconds);
  const m = Math.floor(s / 60);
  const rest = Math.floor(s - m * 60);
  return `${m}:${String(rest).padStart(2, '0')}`;
}

export function range(segment) {
  return `${clock(segment.start_s)}–${clock(segment.end_s)}`;
}

/** The segment the playhead is in (the last one owns its end). */
export function segmentAt(segments, time) {
  return segments.find((s) => time >= s.start_s && time < s.end_s) ?? segments.at(-1);
}

/** Creates an element with text and attributes; never parses HTML, so file names stay text. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}
