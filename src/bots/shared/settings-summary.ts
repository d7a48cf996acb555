import type { DigestConfig, WorkspaceSettings } from '../../core/ports.ts';
import { DEFAULT_RETENTION_DAYS } from '../../digest/scheduler.ts';
import { describeDigest } from '../../digest/settings.ts';

/**
 * A server's or workspace's settings as the facts both platforms show (`/emotion settings`): which
 * channels are auto-analysed, where digests go, how long results are kept, each channel's digest.
 * Platforms only choose the labels and how a channel is mentioned.
 */
export interface SettingsFacts {
  /** "<#C1>, <#C2>", or undefined for none. */
  readonly autoChannels: string | undefined;
  /** "<#C1>" or "none". */
  readonly digestChannel: string;
  /** "30 days" or "90 days (the default)". */
  readonly retention: string;
  /** One line per channel digest ("<#C1>: on, weekly …"). */
  readonly digests: readonly string[];
}

export function settingsFacts(settings: WorkspaceSettings, digests: readonly DigestConfig[]): SettingsFacts {
  return {
    autoChannels: settings.autoAnalysisChannels.map((c) => `<#${c}>`).join(', ') || undefined,
    digestChannel: settings.digestChannelId ? `<#${settings.digestChannelId}>` : 'none',
    retention: settings.retentionDays
      ? `${settings.retentionDays} days`
      : `${DEFAULT_RETENTION_DAYS} days (the default)`,
    digests: digests.map((c) => `• ${describeDigest(c)}`),
  };
}
