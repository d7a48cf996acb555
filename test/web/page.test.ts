import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.ts';
import { makeWav } from '../audio/helpers.ts';
import { NO_BROWSER_REASON, openBrowser, SCREENSHOTS } from './browser.ts';
import { FIXTURES, openWebWorld, type WebWorld } from './harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON as the page received it
type Report = Record<string, any>;

// The DOM as the callbacks run in the page see it (this project's TypeScript has no DOM library).
declare const document: {
  readonly activeElement: { readonly id: string } | null;
  getElementById(id: string): { readonly textContent: string | null } | null;
  readonly documentElement: { readonly scrollWidth: number };
};
declare function getComputedStyle(element: unknown): {
  readonly fill: string;
  readonly backgroundColor: string;
};
interface BrowserDataTransfer {
  readonly items: { add(file: File): unknown };
}
interface RangeInput {
  value: string;
  dispatchEvent(event: Event): boolean;
}

const SAMPLE = 'samples/hello.ogg';
const BAND_COLOURS: Record<string, string> = {
  green: 'rgb(27, 127, 58)',
  orange: 'rgb(184, 92, 0)',
  red: 'rgb(198, 40, 40)',
};

/** 16-bit mono WAV of `samples` (16 kHz). */
function wav16(samples: Float32Array, sampleRate = 16_000): Uint8Array {
  const data = new Uint8Array(samples.length * 2);
  const view = new DataView(data.buffer);
  samples.forEach((s, i) => {
    view.setInt16(i * 2, Math.round(Math.max(-1, Math.min(1, s)) * 32_767), true);
  });
  return makeWav({ formatTag: 1, channels: 1, sampleRate, bitsPerSample: 16, data });
}

describe.skipIf(NO_BROWSER_REASON !== undefined)('the web page in headless Chromium', () => {
  let world: WebWorld;
  let url: string;
  let smallUrl: string;
  let lockedUrl: string;
  const token = 'page-test-token-0123456789';
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let context: BrowserContext;
  let withSilence: string;

  beforeAll(async () => {
    world = await openWebWorld();
    url = (await world.start()).url;
    smallUrl = (await world.start({ limits: { maxBytes: 20_000 } })).url;
    lockedUrl = (await world.start({ settings: { token } })).url;
    // speech 0–5 s, digital silence 5–10 s, speech 10–15 s: three segments, the middle one silent.
    const { samples } = await world.services.analyzer.decoder.decode(
      { bytes: new Uint8Array(readFileSync(SAMPLE)), name: 'hello.ogg' },
      { limits: world.services.analyzer.limits },
    );
    const mixed = new Float32Array(15 * 16_000);
    mixed.set(samples.subarray(0, 5 * 16_000), 0);
    mixed.set(samples.subarray(5 * 16_000, 10 * 16_000), 10 * 16_000);
    withSilence = join(tmpdir(), `annamalai-speech-silence-speech-${process.pid}.wav`);
    writeFileSync(withSilence, wav16(mixed));
    const microphone = join(tmpdir(), `annamalai-microphone-${process.pid}.wav`);
    writeFileSync(microphone, wav16(samples.subarray(0, 8 * 16_000)));
    browser = await openBrowser(microphone, { username: 'someone', password: token });
    context = browser.context;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  async function openPage(base = url, viewport = { width: 1100, height: 900 }): Promise<Page> {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    // Nothing but our own server: the page must work offline.
    await page.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => {
      problems.push(`request outside the server: ${route.request().url()}`);
      return route.abort();
    });
    // The active tab: a file chooser opened from the keyboard needs it.
    await page.bringToFront();
    await page.setViewportSize(viewport);
    await page.goto(base);
    await page.waitForSelector('body[data-ready="true"]');
    (page as Page & { problems: string[] }).problems = problems;
    return page;
  }

  async function upload(page: Page, file: string): Promise<Report> {
    const answer = page.waitForResponse('**/api/v1/analyze');
    await page.setInputFiles('#file', file);
    const report = (await (await answer).json()) as Report;
    return report;
  }

  it('uploads a recording and shows each segment coloured by its band, silence marked, with the summary', async () => {
    const page = await openPage();
    const report = await upload(page, withSilence);
    await page.waitForSelector('#result[data-ready="true"]');
    expect(report.segments.map((s: Report) => s.silence)).toEqual([false, true, false]);

    // Timeline bars: each speech bar in its band's colour, the silent one hatched and labelled.
    const bars = await page.$$eval('#timeline rect.seg', (rects) =>
      rects.map((r) => ({ cls: r.getAttribute('class'), fill: getComputedStyle(r).fill })),
    );
    expect(bars).toHaveLength(3);
    report.segments.forEach((s: Report, i: number) => {
      if (s.silence) expect(bars[i]?.fill).toMatch(/url\(.*#hatch/);
      else expect(bars[i]?.fill).toBe(BAND_COLOURS[s.band]);
    });
    // Waveform regions: one per segment, translucent band colours, silence grey, each labelled in words.
    const regions = await page.$$eval('#waveform > div', (hosts) => {
      const root = hosts[0]?.shadowRoot;
      return [...(root?.querySelectorAll('[part~="region"]') ?? [])].map((r) => ({
        colour: getComputedStyle(r).backgroundColor,
        text: r.textContent,
      }));
    });
    expect(regions).toHaveLength(3);
    report.segments.forEach((s: Report, i: number) => {
      const rgb = s.silence
        ? 'rgba(120, 120, 120'
        : BAND_COLOURS[s.band]?.replace('rgb', 'rgba').replace(')', '');
      expect(regions[i]?.colour.startsWith(String(rgb))).toBe(true);
      expect(regions[i]?.text).toBe(
        s.silence ? 'silence' : `${s.top[0].label} ${Math.round(s.top[0].confidence * 100)} %`,
      );
    });
    await expect(page.textContent('#dominant')).resolves.toContain(report.summary.dominant.label);
    await expect(page.textContent('#model-name')).resolves.toContain(report.model.name);
    await expect(page.textContent('#result-note')).resolves.toContain('not facts about a person');
    await expect(page.textContent('#segments tbody')).resolves.toContain('silence');
    await page.screenshot({ path: `${SCREENSHOTS}/result.png`, fullPage: true });
    expect((page as Page & { problems: string[] }).problems).toEqual([]);
    await page.close();
  });

  it('shows upload progress while a slow upload is on its way', async () => {
    const page = await openPage();
    // Chromium's own network throttling: about 40 KB/s up, so the 54-KB sample takes over a second.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 40_000,
    });
    await page.setInputFiles('#file', SAMPLE);
    await page.waitForFunction(() => {
      const bar = document.getElementById('progress') as unknown as { value: number } | null;
      return bar !== null && bar.value > 0 && bar.value < 100;
    });
    await expect(page.textContent('#progress-label')).resolves.toBe('Uploading hello.ogg…');
    await expect(page.isDisabled('#pick')).resolves.toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/uploading.png` });
    await page.waitForSelector('#result[data-ready="true"]');
    await expect(page.isVisible('#progress-box')).resolves.toBe(false);
    await page.close();
  });

  it('plays, and the live top three follows the playhead into the next segment, with the band in words', async () => {
    const page = await openPage();
    const report = await upload(page, SAMPLE);
    await page.waitForSelector('#play:not([disabled])');
    const first = report.segments[0];
    await expect(page.textContent('#now-range')).resolves.toBe('0:00–0:05');
    await expect(page.textContent('#now')).resolves.toContain(
      `${first.top[0].label} ${Math.round(first.top[0].confidence * 100)} %`,
    );
    // Just before the boundary, then play across it.
    await page.$eval('#seek', (element) => {
      const input = element as unknown as RangeInput;
      input.value = '4';
      input.dispatchEvent(new Event('input'));
    });
    await page.click('#play');
    await page.waitForFunction(
      () => document.getElementById('now-range')?.textContent === '0:05–0:10',
      null,
      {
        timeout: 8_000,
      },
    );
    const second = report.segments[1];
    const live = await page.$$eval('#now li', (items) => items.map((li) => li.textContent));
    expect(live).toHaveLength(3);
    second.top.forEach((t: Report, i: number) => {
      expect(live[i]).toContain(`${t.label} ${Math.round(t.confidence * 100)} %`);
    });
    const words = { green: 'high confidence', orange: 'medium confidence', red: 'low confidence' } as const;
    expect(live[0]).toContain(words[second.band as keyof typeof words]);
    await expect(page.getAttribute('#now', 'aria-live')).resolves.toBe('polite');
    await expect(page.textContent('#play')).resolves.toBe('Pause');
    await page.screenshot({ path: `${SCREENSHOTS}/playing.png`, fullPage: true });
    await page.click('#play');
    await page.close();
  });

  it('shows an unsupported file and a too-large file in plain words and stays usable', async () => {
    const page = await openPage();
    await upload(page, `${FIXTURES}/image.png`);
    await page.waitForSelector('#error:not([hidden])');
    const unsupported = await page.textContent('#error');
    expect(unsupported).toContain('(audio.unsupported)');
    expect(unsupported).toMatch(/not audio/);
    await page.screenshot({ path: `${SCREENSHOTS}/error-unsupported.png` });
    // Still usable: the next file is analysed.
    await upload(page, `${FIXTURES}/speech.webm`);
    await page.waitForSelector('#result[data-ready="true"]');
    await expect(page.isVisible('#error')).resolves.toBe(false);
    await page.close();

    const small = await openPage(smallUrl);
    await small.setInputFiles('#file', SAMPLE);
    await small.waitForSelector('#error:not([hidden])');
    await expect(small.textContent('#error')).resolves.toBe(
      `${ERROR_CODES['audio.too_large']} (audio.too_large)`,
    );
    await small.screenshot({ path: `${SCREENSHOTS}/error-too-large.png` });
    await upload(small, `${FIXTURES}/speech.webm`);
    await small.waitForSelector('#result[data-ready="true"]');
    await small.close();
  });

  it('records from the (fake) microphone and analyses the recording', async () => {
    const page = await openPage();
    await page.click('#record');
    await page.waitForSelector('#record[aria-pressed="true"]');
    await page.waitForTimeout(2500);
    const answer = page.waitForResponse('**/api/v1/analyze');
    await page.click('#record');
    const report = (await (await answer).json()) as Report;
    expect(report.file).toMatch(/^recording\.(ogg|webm)$/);
    expect(report.duration_s).toBeGreaterThan(1);
    expect(report.segments[0].silence).toBe(false);
    await page.waitForSelector('#result[data-ready="true"]');
    await page.screenshot({ path: `${SCREENSHOTS}/microphone.png`, fullPage: true });
    await page.close();
  });

  // Retried once: in two of six full-suite runs on a loaded 2-core machine the keyboard seek step timed out,
  // never when run alone; the step-by-step checks below show where it stood, for whoever finds the cause.
  it('can be used by keyboard alone (choose a file, play, seek, download the JSON), every control named for screen readers', {
    retry: 1,
  }, async () => {
    const page = await openPage();
    // Listening first: Playwright turns on file-chooser interception when the first listener is added.
    const chooser = page.waitForEvent('filechooser');
    await page.keyboard.press('Tab'); // skip link
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('pick');
    await page.keyboard.press('Enter');
    const answer = page.waitForResponse('**/api/v1/analyze');
    await (await chooser).setFiles(SAMPLE);
    const report = (await (await answer).json()) as Report;
    await page.waitForSelector('#result[data-ready="true"]');
    await page.waitForSelector('#play:not([disabled])');
    // Focus moved to the result's heading; Tab reaches Play, and Space plays.
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('result-title');
    let guard = 0;
    while ((await page.evaluate(() => document.activeElement?.id)) !== 'play' && guard++ < 10)
      await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await page.waitForFunction(() => document.getElementById('play')?.textContent === 'Pause');
    await page.keyboard.press('Space');
    await page.waitForFunction(() => document.getElementById('play')?.textContent === 'Play');
    // The position slider seeks by keyboard: five steps of 1 s reach the second segment.
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('seek');
    // Each step is checked as it is taken, so a failure (seen once in a loaded full run) says which one.
    const seekValue = () =>
      page.evaluate(() => (document.getElementById('seek') as unknown as RangeInput | null)?.value);
    await page.keyboard.press('Home');
    await expect.poll(seekValue).toBe('0');
    for (let i = 1; i <= 5; i++) {
      await page.keyboard.press('ArrowRight');
      await expect.poll(seekValue).toBe(String(i));
    }
    // On failure the assertion shows where the playhead and the live region really were.
    const now = () =>
      page.evaluate(() => ({
        range: document.getElementById('now-range')?.textContent,
        time: document.getElementById('time')?.textContent,
      }));
    await expect.poll(now, { timeout: 10_000 }).toMatchObject({ range: '0:05–0:10' });
    // Every control has a name a screen reader can say.
    for (const name of ['Choose a file…', 'Record from the microphone', 'Play', 'Download the result (JSON)'])
      await expect(page.getByRole('button', { name, exact: true }).count()).resolves.toBe(1);
    await expect(page.getByRole('slider', { name: 'Position in the recording' }).count()).resolves.toBe(1);
    while ((await page.evaluate(() => document.activeElement?.id)) !== 'download' && guard++ < 40)
      await page.keyboard.press('Tab');
    const download = page.waitForEvent('download');
    await page.keyboard.press('Enter');
    const saved = await (await download).path();
    expect(JSON.parse(readFileSync(saved, 'utf8'))).toEqual(report);
    await page.close();
  });

  it('takes a dropped file (M4A/AAC, drawn as a waveform too)', async () => {
    const page = await openPage();
    const bytes = [...readFileSync(`${FIXTURES}/speech.m4a`)];
    const dataTransfer = await page.evaluateHandle((data) => {
      const transfer = new (
        globalThis as unknown as { DataTransfer: new () => BrowserDataTransfer }
      ).DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], 'speech.m4a', { type: 'audio/mp4' }));
      return transfer;
    }, bytes);
    const answer = page.waitForResponse('**/api/v1/analyze');
    await page.dispatchEvent('#drop', 'drop', { dataTransfer });
    const report = (await (await answer).json()) as Report;
    expect(report.file).toBe('speech.m4a');
    await page.waitForSelector('#result[data-ready="true"]');
    await expect(page.locator('#segments tbody tr').count()).resolves.toBe(report.segments.length);
    await expect(page.isVisible('#waveform-problem')).resolves.toBe(false);
    await expect(page.textContent('#dominant')).resolves.toContain(report.summary.dominant.label);
    await page.close();
  });

  it('still shows every result, and says why, when the browser cannot decode the audio for the waveform', async () => {
    const page = await context.newPage();
    // A browser without this codec: its decoder refuses, as Chromium's does for formats it lacks.
    await page.addInitScript(() => {
      const audio = globalThis as unknown as { AudioContext: { prototype: { decodeAudioData: unknown } } };
      audio.AudioContext.prototype.decodeAudioData = () => Promise.reject(new Error('EncodingError'));
    });
    await page.bringToFront();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    const report = await upload(page, SAMPLE);
    await page.waitForSelector('#result[data-ready="true"]');
    await expect(page.textContent('#waveform-problem')).resolves.toMatch(/cannot play this format/);
    await expect(page.locator('#segments tbody tr').count()).resolves.toBe(report.segments.length);
    await expect(page.locator('#timeline rect.seg').count()).resolves.toBe(report.segments.length);
    await page.close();
  });

  it('behind WEB_TOKEN: the login prompt lets the page in, and its uploads carry the login', async () => {
    const page = await openPage(lockedUrl);
    const report = await upload(page, `${FIXTURES}/speech.webm`);
    expect(report.file).toBe('speech.webm');
    await page.waitForSelector('#result[data-ready="true"]');
    await page.close();
  });

  it('fits a 375-px-wide phone screen without sideways scrolling', async () => {
    const page = await openPage(url, { width: 375, height: 800 });
    await upload(page, withSilence);
    await page.waitForSelector('#result[data-ready="true"]');
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth).toBeLessThanOrEqual(375);
    await page.screenshot({ path: `${SCREENSHOTS}/phone.png`, fullPage: true });
    await page.close();
  });
});

const skipReason = NO_BROWSER_REASON;
if (skipReason) describe('the web page in headless Chromium', () => it.skip(skipReason, () => {}));
