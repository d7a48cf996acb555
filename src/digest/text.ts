import type { Digest, DigestStats } from './content.ts';
import type { Period } from './schedule.ts';

/** The digest's words, shared by Discord and Slack (they differ only in how bold is written). */

export const DIGEST_NOTE =
  'Estimates from how voices sound — not facts about anyone. No one is named; people who opted out are not included.';

const pct = (p: number) => `${Math.round(p * 100)}%`;

function fmt(timeZone: string, options: Intl.DateTimeFormatOptions): { format(d: Date): string } {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone, ...options });
  return { format: (d) => f.format(d).replace(/,/g, '') };
}

/** "Tue 10 Mar 2026", "Mon 2 – Sun 8 Mar 2026", "10 Mar 09:00 – 11 Mar 09:00". */
export function periodText(period: Period, timeZone: string, kind: Digest['scheduleKind']): string {
  if (kind === 'cron') {
    const f = fmt(timeZone, {
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    return `${f.format(period.start)} – ${f.format(period.end)}`;
  }
  const last = new Date(period.end.getTime() - 1);
  const day = fmt(timeZone, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  if (kind === 'daily') return day.format(period.start);
  return `${fmt(timeZone, { weekday: 'short', day: 'numeric', month: 'short' }).format(period.start)} – ${day.format(last)}`;
}

function signed(n: number, one: string, many: string): string {
  if (Math.abs(n) < 0.5) return `no change in ${many}`;
  const size = Math.abs(Math.round(n));
  return `${n > 0 ? '▲' : '▼'} ${size} ${size === 1 ? one : many}`;
}

function previousName(kind: Digest['scheduleKind']): string {
  return kind === 'daily' ? 'the day before' : kind === 'weekly' ? 'the week before' : 'the previous period';
}

export function isEmpty(digest: Digest): boolean {
  return digest.current.recordings === 0;
}

/** The one short line for a period without recordings (when the channel asked for it). */
export function emptyLine(digest: Digest): string {
  return `Mood digest for <#${digest.channelId}>: no recordings were analysed ${digest.scheduleKind === 'daily' ? 'on' : 'in'} ${periodText(digest.period, digest.timeZone, digest.scheduleKind)}.`;
}

export function digestTitle(digest: Digest): string {
  return `Mood digest · ${periodText(digest.period, digest.timeZone, digest.scheduleKind)} (${digest.timeZone})`;
}

function shareChange(label: string, now: DigestStats, before: DigestStats): string {
  if (before.speechSegments === 0) return '';
  const was = before.distribution.find((d) => d.label === label)?.share ?? 0;
  const is = now.distribution.find((d) => d.label === label)?.share ?? 0;
  const pts = Math.round((is - was) * 100);
  return pts === 0 ? ' (=)' : ` (${pts > 0 ? '▲' : '▼'}${Math.abs(pts)} pts)`;
}

/** Body lines; `bold` writes bold text the platform's way. */
export function digestLines(digest: Digest, bold: (s: string) => string): string[] {
  const { current: now, previous: before } = digest;
  const minutes = Math.round(now.speakingMinutes * 10) / 10;
  const lines = [
    `${bold('Channel:')} <#${digest.channelId}>`,
    `${bold('Analysed:')} ${now.recordings} recording${now.recordings === 1 ? '' : 's'}, ${minutes} min of speech`,
    `${bold(`Compared with ${previousName(digest.scheduleKind)}:`)} ${signed(now.recordings - before.recordings, 'recording', 'recordings')}, ${signed(now.speakingMinutes - before.speakingMinutes, 'min of speech', 'min of speech')}`,
  ];
  const dist = now.distribution
    .slice(0, 6)
    .map((d) => `${d.label} ${pct(d.share)}${shareChange(d.label, now, before)}`)
    .join(' · ');
  lines.push(`${bold('Dominant emotions')} (share of 5-s speech segments): ${dist || 'none'}`);
  const moments = now.moments.map((m) => `${m.label} ${m.count}`).join(' · ');
  const total = now.moments.reduce((n, m) => n + m.count, 0);
  lines.push(`${bold('High-confidence moments')} (≥ 80%): ${total} — ${moments}`);
  lines.push(`_${DIGEST_NOTE}_`);
  return lines;
}
