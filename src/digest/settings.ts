import type { DigestConfig, DigestStore } from '../core/ports.ts';
import {
  assertNotTooFrequent,
  DEFAULT_SCHEDULE,
  DEFAULT_TIME_ZONE,
  parseSchedule,
  parseTimeZone,
  ScheduleError,
} from './schedule.ts';

/** What an admin asked to change about one channel's digest (both platforms' settings commands). */
export interface DigestSettingsInput {
  readonly enabled?: boolean;
  readonly schedule?: string;
  readonly timeZone?: string;
  readonly targetChannelId?: string;
  readonly emptyLine?: boolean;
}

export { ScheduleError as DigestSettingsError };

export function hasDigestInput(input: DigestSettingsInput): boolean {
  return Object.values(input).some((v) => v !== undefined);
}

/**
 * Validates and stores a channel's digest settings; throws ScheduleError (a message for the admin: bad
 * cron, unknown time zone, too frequent) without changing anything.
 */
export async function updateDigestSettings(
  digests: DigestStore,
  key: { platform: string; workspaceId: string; channelId: string },
  input: DigestSettingsInput,
  now: Date,
  defaultTarget: string = key.channelId,
): Promise<DigestConfig> {
  const current = await digests.config(key.platform, key.workspaceId, key.channelId);
  const schedule = input.schedule !== undefined ? parseSchedule(input.schedule) : undefined;
  const timeZone = input.timeZone !== undefined ? parseTimeZone(input.timeZone) : undefined;
  const effective = parseSchedule(schedule?.text ?? current?.schedule ?? DEFAULT_SCHEDULE);
  assertNotTooFrequent(effective, timeZone ?? current?.timeZone ?? DEFAULT_TIME_ZONE, now);
  return digests.updateConfig(
    key,
    {
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(schedule ? { schedule: schedule.text } : {}),
      ...(timeZone ? { timeZone } : {}),
      ...(input.targetChannelId !== undefined ? { targetChannelId: input.targetChannelId } : {}),
      ...(input.emptyLine !== undefined ? { emptyLine: input.emptyLine } : {}),
    },
    {
      targetChannelId: defaultTarget,
      // Saying anything about a channel's digest without "off" turns it on.
      enabled: input.enabled ?? true,
      schedule: DEFAULT_SCHEDULE,
      timeZone: DEFAULT_TIME_ZONE,
      emptyLine: false,
    },
    now,
  );
}

/** One line per channel digest, for the settings answer. */
export function describeDigest(c: DigestConfig): string {
  return `<#${c.channelId}>: ${c.enabled ? 'on' : 'off'}, ${c.schedule} (${c.timeZone}), posted in <#${c.targetChannelId}>, empty periods: ${c.emptyLine ? 'one short line' : 'nothing'}`;
}
