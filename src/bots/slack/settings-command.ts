import type { webApi } from '@slack/bolt';
import type { AnalyzerDeps } from '../../core/analyze.ts';
import type { AnalysisStore, Clock, DigestStore, SettingsStore } from '../../core/ports.ts';
import { DEFAULT_RETENTION_DAYS } from '../../digest/scheduler.ts';
import type { DigestSettingsInput } from '../../digest/settings.ts';
import { digestLines, digestTitle, emptyLine, isEmpty } from '../../digest/text.ts';
import type { Logger } from '../../log.ts';
import { changeChannelDigest, channelDigestPreview } from '../shared/digest-commands.ts';
import { settingsFacts } from '../shared/settings-summary.ts';
import { parseChannel } from './files.ts';
import { redactTokens } from './log.ts';
import { PLATFORM } from './platform.ts';

/** `/emotion settings …` (admins only) and `/emotion digest now`: the text each answers with. */
export function settingsCommands(deps: {
  readonly client: webApi.WebClient;
  readonly analyzer: AnalyzerDeps & { readonly store: AnalysisStore };
  readonly settings: SettingsStore;
  readonly digest: { readonly store: DigestStore; readonly clock: Clock } | undefined;
  readonly log: Logger;
}) {
  const { client, analyzer, settings, log } = deps;

  async function digestPreview(teamId: string, channelId: string): Promise<string> {
    const d = deps.digest;
    if (!d) return 'The mood digest is not available in this app.';
    const digest = await channelDigestPreview(
      {
        platform: PLATFORM,
        store: analyzer.store,
        settings,
        digest: d,
        labels: analyzer.classifier.info.trainedLabels,
      },
      teamId,
      channelId,
    );
    const body = isEmpty(digest)
      ? [emptyLine(digest)]
      : [`*${digestTitle(digest)}*`, ...digestLines(digest, (t) => `*${t}*`)];
    return [
      '_Preview of this channel’s mood digest (only you see it; the posted one has a chart):_',
      ...body,
    ].join('\n');
  }

  /**
   * `/emotion settings digest …` for the channel the command was typed in: a change (answered with the
   * settings), a usage or refusal line (answered alone), or undefined when the verb is not one of these.
   */
  async function digestSettings(
    teamId: string,
    channelId: string,
    args: string[],
  ): Promise<DigestAnswer | undefined> {
    const d = deps.digest;
    const [verb = '', ...rest] = args;
    const value = rest.join(' ').trim();
    let input: DigestSettingsInput | undefined;
    switch (verb.toLowerCase()) {
      case 'on':
        input = { enabled: true };
        break;
      case 'off':
        input = { enabled: false };
        break;
      case 'to': {
        const target = parseChannel(value);
        if (!target) return usage('Use `/emotion settings digest to #channel`.');
        input = { targetChannelId: target };
        break;
      }
      case 'schedule':
        input = { schedule: value };
        break;
      case 'timezone':
      case 'tz':
        input = { timeZone: value };
        break;
      case 'empty':
        if (value !== 'line' && value !== 'nothing')
          return usage(
            'Use `/emotion settings digest empty line` or `/emotion settings digest empty nothing`.',
          );
        input = { emptyLine: value === 'line' };
        break;
      default:
        return undefined;
    }
    if (!d) return usage('The mood digest is not available in this app.');
    if (verb.toLowerCase() === 'off' && !(await d.store.config(PLATFORM, teamId, channelId)))
      return changed('This channel has no mood digest.');
    const change = await changeChannelDigest(
      { platform: PLATFORM, settings, digest: d },
      { workspaceId: teamId, channelId },
      input,
    );
    return change.ok ? changed(change.text) : usage(change.text);
  }

  async function isAdmin(user: string): Promise<boolean> {
    const info = await client.users.info({ user });
    const u = info.user;
    return Boolean(u?.is_admin || u?.is_owner || u?.is_primary_owner);
  }

  async function settingsCommand(
    teamId: string,
    user: string,
    channelId: string,
    args: string[],
  ): Promise<string> {
    let admin = false;
    try {
      admin = await isAdmin(user);
    } catch (error) {
      log.warn({ err: redactTokens(String(error)) }, 'users.info failed');
    }
    if (!admin) return 'Only workspace admins and owners can change Annamalai’s settings.';
    const [what = '', value, target] = args.map((a) => a.trim());
    const show = async (prefix: string) => {
      const digests = deps.digest ? await deps.digest.store.workspaceConfigs(PLATFORM, teamId) : [];
      const facts = settingsFacts(await settings.workspace(PLATFORM, teamId), digests);
      return [
        prefix,
        `*Auto-analysis channels:* ${facts.autoChannels ?? 'none'}`,
        `*Digest channel:* ${facts.digestChannel}`,
        ...(facts.digests.length ? [`*Mood digests:*\n${facts.digests.join('\n')}`] : []),
        `*Retention:* ${facts.retention}`,
        '_Change with `/emotion settings auto on|off [#channel]`, `digest on|off`, `digest schedule daily 09:00|weekly mon 09:00|<cron>`, `digest timezone Europe/Berlin`, `digest to #channel`, `digest empty line|nothing`, `digest #channel`, `retention <days>|off`._',
      ]
        .filter(Boolean)
        .join('\n');
    };
    switch (what.toLowerCase()) {
      case '':
        return show('');
      case 'auto': {
        const channel = parseChannel(target) ?? channelId;
        if (value === 'on') {
          await settings.updateWorkspace(PLATFORM, teamId, { addAutoAnalysisChannel: channel });
          return show(`Auto-analysis is now *on* in <#${channel}> (invite me there if I'm not in it yet).`);
        }
        if (value === 'off') {
          await settings.updateWorkspace(PLATFORM, teamId, { removeAutoAnalysisChannel: channel });
          return show(`Auto-analysis is now *off* in <#${channel}>.`);
        }
        return 'Use `/emotion settings auto on [#channel]` or `/emotion settings auto off [#channel]`.';
      }
      case 'digest': {
        const answer = await digestSettings(teamId, channelId, args.slice(1));
        if (answer) return answer.kind === 'settled' ? show(answer.text) : answer.text;
        const channel = parseChannel(value);
        if (!channel)
          return 'Use `/emotion settings digest on|off`, `digest schedule …`, `digest timezone …`, `digest to #channel`, `digest empty line|nothing` or `digest #channel`.';
        await settings.updateWorkspace(PLATFORM, teamId, { digestChannelId: channel });
        const d = deps.digest;
        if (d && (await d.store.config(PLATFORM, teamId, channelId)))
          await d.store.updateConfig(
            { platform: PLATFORM, workspaceId: teamId, channelId },
            { targetChannelId: channel },
            { targetChannelId: channel, enabled: false, schedule: '', timeZone: '', emptyLine: false },
            d.clock.now(),
          );
        return show(`Digests go to <#${channel}>.`);
      }
      case 'retention': {
        if (value === 'off') {
          await settings.updateWorkspace(PLATFORM, teamId, { retentionDays: null });
          return show(
            `Retention is back to the default: results older than ${DEFAULT_RETENTION_DAYS} days are deleted.`,
          );
        }
        const days = Number(value);
        if (!Number.isInteger(days) || days < 1 || days > 3650)
          return 'Use `/emotion settings retention <days>` (1–3650) or `/emotion settings retention off`.';
        await settings.updateWorkspace(PLATFORM, teamId, { retentionDays: days });
        return show(`Results older than ${days} days will be deleted.`);
      }
      default:
        return show(`I don't know the setting \`${what.slice(0, 30)}\`.`);
    }
  }

  return { digestPreview, settingsCommand };
}

/** A digest-settings answer: `settled` is shown with the settings that follow from it, `usage` alone. */
type DigestAnswer = { readonly kind: 'settled' | 'usage'; readonly text: string };
const changed = (text: string): DigestAnswer => ({ kind: 'settled', text });
const usage = (text: string): DigestAnswer => ({ kind: 'usage', text });
