import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMAND, SHORTCUT_CALLBACK_ID } from '../../../src/bots/slack/app.ts';
import { historyMessage, LIMITS, resultMessage } from '../../../src/bots/slack/blocks.ts';
import { loadSlackConfig, slackFileHosts } from '../../../src/bots/slack/config.ts';
import { downloadSlackFile } from '../../../src/bots/slack/download.ts';
import { isAudioFile, parseChannel } from '../../../src/bots/slack/files.ts';
import { homeView } from '../../../src/bots/slack/home-view.ts';
import { redactTokens } from '../../../src/bots/slack/log.ts';
import type { SegmentResult, StoredAnalysis } from '../../../src/core/records.ts';
import { summarize } from '../../../src/core/summary.ts';
import { LABELS, TWIN_MODEL } from '../../support/twins.ts';

const trained = TWIN_MODEL.trainedLabels;

/** `n` 5-s segments cycling through emotions (every 7th silent): the worst case for merging runs. */
function segments(n: number): SegmentResult[] {
  return Array.from({ length: n }, (_, i): SegmentResult => {
    const base = { index: i, startS: i * 5, endS: i * 5 + 5 };
    if (i % 7 === 6) return { ...base, kind: 'silence' };
    const label = trained[i % trained.length] as string;
    const probabilities = Object.fromEntries(
      LABELS.map((l) => [l, l === label ? 0.7 : 0.3 / (LABELS.length - 1)]),
    );
    return {
      ...base,
      kind: 'speech',
      probabilities,
      top: [
        { label, confidence: 0.7 },
        { label: 'neutral', confidence: 0.1 },
        { label: 'sad', confidence: 0.05 },
      ],
      band: 'orange',
    };
  });
}

function check(blocks: readonly Record<string, unknown>[], maxBlocks: number): void {
  expect(blocks.length).toBeLessThanOrEqual(maxBlocks);
  for (const b of blocks) {
    const text = (b.text as { text?: string } | undefined)?.text ?? '';
    if (b.type === 'section') expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    if (b.type === 'header') expect(text.length).toBeLessThanOrEqual(LIMITS.headerText);
    if (b.type === 'context') {
      const elements = b.elements as { text: string }[];
      expect(elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
      for (const e of elements) expect(e.text.length).toBeLessThanOrEqual(LIMITS.contextText);
    }
  }
}

describe('Slack Block Kit rendering', () => {
  it.each([1, 12, 120, 1440])('stays within Slack limits for %i segments (up to 2 hours)', (n) => {
    const segs = segments(n);
    const summary = summarize({ durationS: n * 5, segments: segs, droppedTailS: 0, model: TWIN_MODEL });
    const message = resultMessage({
      durationS: n * 5,
      segments: segs,
      summary,
      model: TWIN_MODEL,
      sourceName: `${'a very long file name '.repeat(20)}<script>.m4a`,
    });
    check(message.blocks as unknown as Record<string, unknown>[], LIMITS.messageBlocks);
    expect(message.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    const all = JSON.stringify(message.blocks);
    expect(all).toMatch(/not facts about a person/);
    expect(all).toMatch(/Model: in-memory twin 0/);
    if (n === 1440) expect(all).toMatch(/more stretches: see the chart/);
    if (n <= 120) expect(all).toMatch(/0:00–0:05/);
  });

  it('escapes mrkdwn control characters in user-supplied names', () => {
    const segs = segments(2);
    const summary = summarize({ durationS: 10, segments: segs, droppedTailS: 0, model: TWIN_MODEL });
    const stored: StoredAnalysis = {
      id: '1',
      platform: 'slack',
      userId: 'U1',
      sourceName: '<!channel> & friends.m4a',
      durationS: 10,
      model: { id: 'twin', version: '0' },
      createdAt: new Date(0),
      outcome: { status: 'ok', segments: segs },
    };
    expect(JSON.stringify(historyMessage([stored]).blocks)).toContain('&lt;!channel&gt; &amp; friends.m4a');
    expect(summary.dominant).not.toBeNull();
  });

  it('keeps the App Home within 100 blocks with many analyses', () => {
    const stored: StoredAnalysis[] = Array.from({ length: 200 }, (_, i) => ({
      id: String(i),
      platform: 'slack',
      userId: 'U1',
      sourceName: `clip-${i}.m4a`,
      durationS: 60,
      model: { id: 'twin', version: '0' },
      createdAt: new Date(i * 1000),
      outcome: { status: 'ok', segments: segments(12) },
    }));
    check(
      homeView({ optedOut: false, history: stored, baseline: { kind: 'in_use', recordings: 14 } })
        .blocks as unknown as Record<string, unknown>[],
      LIMITS.homeBlocks,
    );
  });
});

describe('Slack configuration', () => {
  it('refuses to start without the tokens the mode needs, naming them and never echoing values', () => {
    expect(() => loadSlackConfig({})).toThrow(/SLACK_BOT_TOKEN is missing[\s\S]*SLACK_APP_TOKEN is missing/);
    expect(() => loadSlackConfig({ SLACK_BOT_TOKEN: 'xoxb-1-secret', SLACK_MODE: 'http' })).toThrow(
      /SLACK_SIGNING_SECRET is missing/,
    );
    try {
      loadSlackConfig({ SLACK_BOT_TOKEN: 'xoxp-user-secret-value', SLACK_APP_TOKEN: 'xapp-1-x' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toMatch(/SLACK_BOT_TOKEN must be a bot token/);
      expect(String(error)).not.toContain('secret-value');
    }
    const ok = loadSlackConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_APP_TOKEN: 'xapp-1',
      SLACK_TEST_FILE_HOST: '127.0.0.1:9',
    });
    expect(ok.SLACK_MODE).toBe('socket');
    expect(slackFileHosts(ok)).toEqual(['files.slack.com', '127.0.0.1:9']);
  });
});

describe('Slack file handling', () => {
  it('accepts Slack clips (audio/mp4, audio/webm, video/* slack_audio), real videos and audio; not images', () => {
    expect(isAudioFile({ id: 'F', mimetype: 'audio/mp4' })).toBe(true);
    expect(isAudioFile({ id: 'F', mimetype: 'audio/webm' })).toBe(true);
    expect(isAudioFile({ id: 'F', mimetype: 'video/webm', subtype: 'slack_audio' })).toBe(true);
    expect(isAudioFile({ id: 'F', mimetype: 'video/mp4' })).toBe(true);
    expect(isAudioFile({ id: 'F', mimetype: 'application/octet-stream', filetype: 'm4a' })).toBe(true);
    expect(isAudioFile({ id: 'F', mimetype: 'image/png', filetype: 'png' })).toBe(false);
    expect(isAudioFile({ id: 'F', mimetype: 'audio/mp4', mode: 'tombstone' })).toBe(false);
  });

  it('parses channel mentions from slash command text', () => {
    expect(parseChannel('<#C0123ABC|general>')).toBe('C0123ABC');
    expect(parseChannel('<#C0123ABC>')).toBe('C0123ABC');
    expect(parseChannel('C0123ABC')).toBe('C0123ABC');
    expect(parseChannel('#general')).toBeUndefined();
  });

  it('the file download sends the token to Slack file hosts only and refuses a redirect elsewhere', async () => {
    const seen: { url: string; auth: string | null; redirect: string | undefined }[] = [];
    const fakeFetch = (async (url: string, init?: RequestInit) => {
      seen.push({ url, auth: new Headers(init?.headers).get('authorization'), redirect: init?.redirect });
      if (url.endsWith('/moved.m4a')) {
        return new Response(null, { status: 302, headers: { location: 'https://evil.example/a.m4a' } });
      }
      return new Response('abc');
    }) as typeof fetch;
    const options = {
      maxBytes: 100,
      botToken: 'xoxb-secret',
      fileHosts: ['files.slack.com'],
      timeoutMs: 1000,
      fetch: fakeFetch,
    };
    const ok = await downloadSlackFile({ ...options, url: 'https://files.slack.com/files-pri/T1-F1/a.m4a' });
    expect(new TextDecoder().decode(ok)).toBe('abc');
    await expect(downloadSlackFile({ ...options, url: 'https://evil.example/a.m4a' })).rejects.toThrow(
      /not allowed/,
    );
    await expect(downloadSlackFile({ ...options, url: 'http://files.slack.com/a.m4a' })).rejects.toThrow(
      /not allowed/,
    );
    await expect(
      downloadSlackFile({ ...options, url: 'https://files.slack.com/files-pri/T1-F1/moved.m4a' }),
    ).rejects.toThrow(/not allowed/);
    expect(seen).toEqual([
      {
        url: 'https://files.slack.com/files-pri/T1-F1/a.m4a',
        auth: 'Bearer xoxb-secret',
        redirect: 'manual',
      },
      {
        url: 'https://files.slack.com/files-pri/T1-F1/moved.m4a',
        auth: 'Bearer xoxb-secret',
        redirect: 'manual',
      },
    ]);
  });

  it('redacts anything that looks like a Slack token', () => {
    expect(redactTokens('token xoxb-123-abc and xapp-1-A-2-xyz, Bearer abc.def')).toBe(
      'token [redacted] and [redacted], [redacted]',
    );
  });
});

describe('Slack app manifest', () => {
  it('declares the command, shortcut, events and scopes the app uses, with Socket Mode on', () => {
    const manifest = readFileSync('slack/manifest.yaml', 'utf8');
    expect(manifest).toContain(`command: ${COMMAND}`);
    expect(manifest).toContain(`callback_id: ${SHORTCUT_CALLBACK_ID}`);
    for (const event of [
      'app_home_opened',
      'message.im',
      'message.channels',
      'message.groups',
      'message.mpim',
    ])
      expect(manifest).toMatch(new RegExp(`- ${event.replace('.', '\\.')}\\b`));
    for (const scope of [
      'chat:write',
      'commands',
      'files:read',
      'files:write',
      'im:history',
      'channels:history',
      'users:read',
    ])
      expect(manifest).toMatch(new RegExp(`- ${scope}\\b`));
    expect(manifest).toMatch(/socket_mode_enabled: true/);
    expect(manifest).toMatch(/home_tab_enabled: true/);
  });
});
