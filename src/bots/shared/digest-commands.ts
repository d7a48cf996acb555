import type { AnalysisStore, Clock, DigestStore, SettingsStore } from '../../core/ports.ts';
import type { Digest } from '../../digest/content.ts';
import { previewDigest } from '../../digest/scheduler.ts';
import {
  DigestSettingsError,
  type DigestSettingsInput,
  describeDigest,
  updateDigestSettings,
} from '../../digest/settings.ts';

/** What the digest commands of every platform read and write. */
export interface DigestCommandDeps {
  readonly platform: string;
  readonly store: AnalysisStore;
  readonly settings: SettingsStore;
  readonly digest: { readonly store: DigestStore; readonly clock: Clock };
  readonly labels: readonly string[];
}

/** `/emotion digest now`: the channel's digest for its latest complete period (nothing recorded). */
export async function channelDigestPreview(
  deps: DigestCommandDeps,
  workspaceId: string,
  channelId: string,
): Promise<Digest> {
  const { digest } = await previewDigest(
    {
      platform: deps.platform,
      store: deps.store,
      settings: deps.settings,
      digests: deps.digest.store,
      labels: deps.labels,
    },
    workspaceId,
    channelId,
    deps.digest.clock.now(),
  );
  return digest;
}

/** A change of a channel's digest, answered in one sentence: what it is now, or why nothing changed. */
export type DigestChange =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly text: string };

export async function changeChannelDigest(
  deps: Pick<DigestCommandDeps, 'platform' | 'settings' | 'digest'>,
  where: { readonly workspaceId: string; readonly channelId: string },
  input: DigestSettingsInput,
): Promise<DigestChange> {
  const workspace = await deps.settings.workspace(deps.platform, where.workspaceId);
  try {
    const config = await updateDigestSettings(
      deps.digest.store,
      { platform: deps.platform, ...where },
      input,
      deps.digest.clock.now(),
      workspace.digestChannelId ?? where.channelId,
    );
    return { ok: true, text: `Mood digest of ${describeDigest(config)}.` };
  } catch (error) {
    if (error instanceof DigestSettingsError)
      return { ok: false, text: `Nothing was changed: ${error.message}` };
    throw error;
  }
}
