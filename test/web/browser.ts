import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium): no browser is ever downloaded. */
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = '.test-results/screenshots';

export const NO_BROWSER_REASON = existsSync(CHROMIUM)
  ? undefined
  : `no ${CHROMIUM}: install Debian's chromium (scripts/test.sh does) to run the browser tests`;

/**
 * Headless Chromium with a fresh profile, no network besides what the page asks of our server, and a fake
 * microphone that plays `microphoneWav` (Chromium's fake audio capture).
 */
export async function openBrowser(
  microphoneWav: string,
  /** Answers a login prompt (HTTP Basic challenge) as a person would; sent only when challenged. */
  login?: { readonly username: string; readonly password: string },
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'annamalai-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${microphoneWav}`,
    ],
    permissions: ['microphone'],
    viewport: { width: 1100, height: 900 },
    acceptDownloads: true,
    ...(login && { httpCredentials: login }),
    timeout: 30_000,
  });
  context.setDefaultTimeout(10_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
