import type { AnalyzerDeps } from '../../core/analyze.ts';
import { isReliable } from '../../core/baseline.ts';
import type { SettingsStore } from '../../core/ports.ts';

/**
 * `/emotion baseline` on every platform (issue 21): where a person's voice baseline stands, and its reset.
 * The adapters only render the status (Discord: render.ts, Slack: blocks.ts).
 */
export type BaselineStatus =
  /** The model has no baseline head (or there is no database): no baseline is built. */
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'opted_out' }
  /** Kept but not used yet: fewer than `needed` recordings. */
  | { readonly kind: 'learning'; readonly recordings: number; readonly needed: number }
  | { readonly kind: 'in_use'; readonly recordings: number };

export interface BaselineDeps {
  readonly analyzer: Pick<AnalyzerDeps, 'classifier' | 'baselines'>;
  readonly settings: Pick<SettingsStore, 'isOptedOut'>;
}

/** Whose baseline: a user in one workspace ('' for a direct message), as analyses key it (core/analyze.ts). */
export interface BaselineOwner {
  readonly platform: string;
  readonly workspaceId: string | null;
  readonly userId: string;
}

export async function baselineStatus(deps: BaselineDeps, who: BaselineOwner): Promise<BaselineStatus> {
  const { classifier, baselines } = deps.analyzer;
  const model = classifier.voiceBaseline;
  if (!model || !baselines) return { kind: 'unavailable' };
  if (await deps.settings.isOptedOut(who.platform, who.userId)) return { kind: 'opted_out' };
  const stats = await baselines.stats({
    platform: who.platform,
    workspaceId: who.workspaceId ?? '',
    userId: who.userId,
    modelId: classifier.info.id,
    modelVersion: classifier.info.version,
  });
  const recordings = stats?.count ?? 0;
  return isReliable(model.spec, stats)
    ? { kind: 'in_use', recordings }
    : { kind: 'learning', recordings, needed: model.spec.minRecordings };
}

/** Deletes the person's baseline in this workspace (every model's); true when there was one. */
export async function resetBaseline(deps: BaselineDeps, who: BaselineOwner): Promise<boolean> {
  const { baselines } = deps.analyzer;
  if (!baselines) return false;
  return baselines.reset(who.platform, who.workspaceId ?? '', who.userId);
}
