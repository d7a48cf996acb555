import { describe, expect, it } from 'vitest';
import { BACKENDS, title, useBackend } from './backends.ts';

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(title(backend, 'SettingsStore (migration 2)'), () => {
    const env = useBackend(backend);

    it('keeps auto-analysis channels, digest channel and retention per workspace, and opt-outs per platform', async () => {
      const s = (await env.open(await env.fresh())).settings;
      expect(await s.workspace('discord', 'g1')).toEqual({
        autoAnalysisChannels: [],
        digestChannelId: null,
        retentionDays: null,
      });
      await s.updateWorkspace('discord', 'g1', { addAutoAnalysisChannel: 'c1' });
      await s.updateWorkspace('discord', 'g1', { addAutoAnalysisChannel: 'c2', retentionDays: 7 });
      await s.updateWorkspace('discord', 'g1', { addAutoAnalysisChannel: 'c1', digestChannelId: 'd' });
      expect(await s.workspace('discord', 'g1')).toEqual({
        autoAnalysisChannels: ['c1', 'c2'],
        digestChannelId: 'd',
        retentionDays: 7,
      });
      await s.updateWorkspace('discord', 'g1', { removeAutoAnalysisChannel: 'c1', retentionDays: null });
      expect(await s.workspace('discord', 'g1')).toEqual({
        autoAnalysisChannels: ['c2'],
        digestChannelId: 'd',
        retentionDays: null,
      });
      expect(await s.isAutoAnalysisChannel('discord', 'g1', 'c2')).toBe(true);
      expect(await s.isAutoAnalysisChannel('slack', 'g1', 'c2')).toBe(false);
      expect(await s.setOptedOut('discord', 'u', true)).toBe(true);
      expect(await s.setOptedOut('discord', 'u', true)).toBe(false);
      expect(await s.isOptedOut('discord', 'u')).toBe(true);
      expect(await s.isOptedOut('slack', 'u')).toBe(false);
      expect(await s.setOptedOut('discord', 'u', false)).toBe(true);
      expect(await s.isOptedOut('discord', 'u')).toBe(false);
    });

    it('two processes patching different settings of one workspace at once both keep their change', async () => {
      const location = await env.fresh();
      const one = (await env.open(location)).settings;
      const two = (await env.open(location)).settings;
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 === 0
            ? one.updateWorkspace('slack', 'T1', { retentionDays: 30, addAutoAnalysisChannel: `a${i}` })
            : two.updateWorkspace('slack', 'T1', { digestChannelId: 'D', addAutoAnalysisChannel: `b${i}` }),
        ),
      );
      const settings = await one.workspace('slack', 'T1');
      expect(settings).toMatchObject({ retentionDays: 30, digestChannelId: 'D' });
      expect(settings.autoAnalysisChannels).toHaveLength(10);
    });
  });
}
