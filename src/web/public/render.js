import { BAND_WORDS, clock, el, percent, range } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** The current segment's top three, with percentages and the band in words (an aria-live region). */
export function renderNow(container, rangeLabel, segment) {
  rangeLabel.textContent = segment ? range(segment) : '';
  if (!segment) {
    container.replaceChildren();
    return;
  }
  if (segment.silence) {
    container.replaceChildren(
      el(
        'p',
        { class: 'silence-line' },
        'Silence: no emotion estimated',
        el('span', { class: 'chip band-silence' }, 'silence'),
      ),
    );
    return;
  }
  const list = el('ol');
  for (const [i, top] of segment.top.entries()) {
    const item = el('li', {}, `${top.label} ${percent(top.confidence)}`);
    if (i === 0) {
      item.append(el('span', { class: `chip band-${segment.band}` }, BAND_WORDS[segment.band]));
    }
    list.append(item);
  }
  container.replaceChildren(list);
}

/** The dominant emotion, the distribution as bars, and the notes. */
export function renderSummary(report, parts) {
  const { summary } = report;
  parts.dominant.textContent = summary.dominant
    ? `Heard most often: ${summary.dominant.label} (mean ${percent(summary.dominant.confidence)}), in ` +
      `${summary.speech_segments} segment${summary.speech_segments === 1 ? '' : 's'} of speech` +
      (summary.silent_segments ? ` and ${summary.silent_segments} silent.` : '.')
    : 'No speech was heard.';
  parts.distribution.replaceChildren(
    ...summary.distribution.map((d) => {
      const bar = el('span', { class: 'bar', 'aria-hidden': 'true' });
      bar.style.width = `${Math.round(d.share * 100)}%`;
      return el(
        'li',
        {},
        el('span', {}, d.label),
        el('span', {}, bar),
        el('span', { class: 'value' }, `${percent(d.share)}`),
      );
    }),
  );
  parts.notes.replaceChildren(...summary.notes.map((n) => el('li', {}, n)));
}

/**
 * The timeline: one bar per 5-s segment, its height the top confidence, its colour the band, its label
 * the top emotion; silence hatched. Drawn here as SVG; a table below says the same in words.
 */
export function renderTimeline(container, report) {
  // One unit per CSS pixel, so text stays readable on a phone as on a desktop.
  const width = Math.max(300, Math.round(container.clientWidth || 1000));
  const left = 46;
  const height = 150;
  const plot = 110;
  const duration = report.duration_s || 1;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  const said = report.segments.map(
    (s) => `${range(s)} ${s.silence ? 'silence' : `${s.top[0].label} ${percent(s.top[0].confidence)}`}`,
  );
  chart.setAttribute('aria-label', `Timeline of ${report.segments.length} segments: ${said.join('; ')}`);
  const hatch = svg('pattern', {
    id: 'hatch',
    width: 6,
    height: 6,
    patternUnits: 'userSpaceOnUse',
    patternTransform: 'rotate(45)',
  });
  hatch.append(
    svg('rect', { width: 6, height: 6, fill: '#ddd' }),
    svg('rect', { width: 3, height: 6, fill: '#8a8a8a' }),
  );
  const defs = svg('defs');
  defs.append(hatch);
  chart.append(defs);
  // Dashed lines at the band edges, 60 % and 80 %, labelled on the left.
  for (const edge of [0.6, 0.8, 1]) {
    const y = plot - edge * plot + 10;
    chart.append(
      svg('line', { x1: left, x2: width, y1: y, y2: y, stroke: '#bbb', 'stroke-dasharray': '4 4' }),
    );
    const tick = svg('text', { x: left - 4, y: y + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#555' });
    tick.textContent = `${Math.round(edge * 100)} %`;
    chart.append(tick);
  }
  const span = width - left;
  for (const s of report.segments) {
    const x = left + (s.start_s / duration) * span;
    const w = Math.max(1, ((s.end_s - s.start_s) / duration) * span - 2);
    const top = s.top[0];
    const h = s.silence ? 12 : Math.max(4, top.confidence * plot);
    const rect = svg('rect', {
      x: x + 1,
      y: plot - h + 10,
      width: w,
      height: h,
      rx: 2,
      class: s.silence ? 'seg silence' : `seg band-${s.band}`,
      fill: s.silence ? 'url(#hatch)' : `var(--${s.band})`,
    });
    const title = svg('title');
    title.textContent = s.silence
      ? `${range(s)} silence`
      : `${range(s)} ${top.label} ${percent(top.confidence)}`;
    rect.append(title);
    chart.append(rect);
    if (w > 36) {
      const text = svg('text', {
        x: x + w / 2 + 1,
        y: height - 12,
        'text-anchor': 'middle',
        'font-size': 12,
        fill: '#333',
      });
      text.textContent = s.silence ? 'silence' : top.label;
      chart.append(text);
    }
  }
  const head = svg('line', {
    id: 'playhead',
    x1: left,
    x2: left,
    y1: 0,
    y2: plot + 12,
    stroke: '#1a56db',
    'stroke-width': 3,
  });
  chart.append(head);
  container.replaceChildren(chart);
  return {
    moveTo(time) {
      const x = left + Math.min(span, (time / duration) * span);
      head.setAttribute('x1', String(x));
      head.setAttribute('x2', String(x));
    },
  };
}

/** The same segments in words, each with a button that plays from its start. */
export function renderSegmentTable(tbody, report, onPlayFrom) {
  tbody.replaceChildren(
    ...report.segments.map((s) => {
      const button = el('button', { type: 'button', 'aria-label': `Play from ${clock(s.start_s)}` }, 'Play');
      button.addEventListener('click', () => onPlayFrom(s.start_s));
      const tops = s.silence ? 'silence' : s.top.map((t) => `${t.label} ${percent(t.confidence)}`).join(', ');
      const band = s.silence ? '—' : BAND_WORDS[s.band];
      return el(
        'tr',
        { class: s.silence ? 'silence' : `band-row-${s.band}` },
        el('td', {}, range(s)),
        el('td', {}, tops),
        el('td', {}, band),
        el('td', {}, button),
      );
    }),
  );
}
