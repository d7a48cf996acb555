import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baselineStatus } from '../../src/bots/shared/voice-baseline.ts';
import { modelRunElsewhere } from '../../src/queue/remote-model.ts';
import { MemoryBaselineStore, MemorySettingsStore } from '../support/twins.ts';

/** A gateway's model folder: the manifest alone (no graphs, no baseline statistics). */
function manifestOnly(model: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'annamalai-remote-model-'));
  copyFileSync(`test/fixtures/models/${model}/manifest.json`, join(dir, 'manifest.json'));
  dirs.push(dir);
  return dir;
}
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the model as a gateway of workers has it', () => {
  it("knows a voice-baseline head's rule from the manifest alone, and that the head runs in the workers", async () => {
    const model = await modelRunElsewhere(manifestOnly('tiny-single'));
    expect(model.voiceBaseline).toEqual({ runs: 'elsewhere', spec: { dims: 3, minRecordings: 2 } });
    expect((await modelRunElsewhere(manifestOnly('tiny'))).voiceBaseline).toBeUndefined();
  });

  it('/emotion baseline on a gateway tells where the baseline the workers keep stands', async () => {
    const classifier = await modelRunElsewhere(manifestOnly('tiny-single'));
    const baselines = new MemoryBaselineStore();
    const settings = new MemorySettingsStore();
    const deps = { analyzer: { classifier, baselines }, settings };
    const who = { platform: 'discord', workspaceId: 'g1', userId: 'u1' };
    const key = {
      platform: 'discord',
      workspaceId: 'g1',
      userId: 'u1',
      modelId: classifier.info.id,
      modelVersion: classifier.info.version,
    };
    expect(await baselineStatus(deps, who)).toEqual({ kind: 'learning', recordings: 0, needed: 2 });
    // As a worker stores them: two recordings of three dimensions.
    for (const e of [
      [1, 2, 3],
      [2, 3, 4],
    ])
      await baselines.add(key, e);
    expect(await baselineStatus(deps, who)).toEqual({ kind: 'in_use', recordings: 2 });
    await settings.setOptedOut('discord', 'u1', true);
    expect(await baselineStatus(deps, who)).toEqual({ kind: 'opted_out' });
    const none = await modelRunElsewhere(manifestOnly('tiny'));
    expect(await baselineStatus({ ...deps, analyzer: { classifier: none, baselines } }, who)).toEqual({
      kind: 'unavailable',
    });
  });
});
