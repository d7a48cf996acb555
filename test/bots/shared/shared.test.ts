import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBED_LIMITS, embedLength, resultEmbed } from '../../../src/bots/discord/render.ts';
import { renderTimelineChart } from '../../../src/bots/shared/chart.ts';
import { boundedDownload, type DownloadError, isAllowedUrl } from '../../../src/bots/shared/download.ts';
import { RateLimiter } from '../../../src/bots/shared/rate-limit.ts';
import type { OkResult } from '../../../src/bots/shared/text.ts';
import { QueueFullError, ShuttingDownError, WorkQueue } from '../../../src/bots/shared/work-queue.ts';
import type { SegmentResult } from '../../../src/core/records.ts';
import { summarize } from '../../../src/core/summary.ts';
import { LABELS, TWIN_MODEL } from '../../support/twins.ts';

function longResult(segments: number): OkResult {
  const segs: SegmentResult[] = Array.from({ length: segments }, (_, i) =>
    i % 7 === 3
      ? { index: i, startS: i * 5, endS: i * 5 + 5, kind: 'silence' }
      : {
          index: i,
          startS: i * 5,
          endS: i * 5 + 5,
          kind: 'speech',
          band: 'orange',
          probabilities: Object.fromEntries(LABELS.map((l, j) => [l, j === i % 8 ? 0.7 : 0.3 / 8])),
          top: [
            { label: LABELS[i % 8] as string, confidence: 0.7 },
            { label: 'neutral', confidence: 0.1 },
            { label: 'sad', confidence: 0.05 },
          ],
        },
  );
  const summary = summarize({ durationS: segments * 5, segments: segs, droppedTailS: 0, model: TWIN_MODEL });
  return { status: 'ok', durationS: segments * 5, segments: segs, summary };
}

describe('embeds fit Discord limits for any length', () => {
  for (const n of [1, 12, 120, 720]) {
    it(`${n} segments (${(n * 5) / 60} min) → one embed within every limit`, () => {
      const embed = resultEmbed(longResult(n), TWIN_MODEL, 'Voice message', true);
      expect(embed.description?.length ?? 0).toBeLessThanOrEqual(EMBED_LIMITS.description);
      expect(embedLength(embed)).toBeLessThanOrEqual(EMBED_LIMITS.total);
      for (const f of embed.fields ?? []) expect(f.value.length).toBeLessThanOrEqual(EMBED_LIMITS.fieldValue);
      if (n === 12) expect(embed.description?.split('\n')).toHaveLength(12); // short: one line per segment
      if (n === 720) expect(embed.description).toMatch(/more stretches: see the chart/);
    });
  }
  it('marks silence and colours segment lines by confidence band', () => {
    const embed = resultEmbed(longResult(5), TWIN_MODEL, 't', false);
    expect(embed.description).toMatch(/⚪ 0:15–0:20 silence/);
    expect(embed.description).toMatch(/🟠 0:00–0:05 anger 70% · neutral 10% · sad 5%/);
    expect(embed.image).toBeUndefined();
  });
});

describe('timeline chart', () => {
  it('renders a PNG for a long recording', async () => {
    const png = await renderTimelineChart(longResult(120).segments, { labels: TWIN_MODEL.trainedLabels });
    expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(png.length).toBeGreaterThan(5000);
  });
});

describe('work queue', () => {
  it('runs at most `concurrency` jobs, refuses beyond `maxQueued`, abandons waiting jobs at shutdown', async () => {
    const q = new WorkQueue({ concurrency: 1, maxQueued: 1 });
    let release = () => {};
    const first = q.push(() => new Promise<string>((r) => (release = () => r('done'))));
    const second = q.push(async () => 'never');
    await expect(q.push(async () => 'x')).rejects.toBeInstanceOf(QueueFullError);
    expect([q.running, q.waiting]).toEqual([1, 1]);
    const stopping = q.shutdown(1000);
    await expect(second).rejects.toBeInstanceOf(ShuttingDownError);
    release();
    expect(await first).toBe('done');
    expect(await stopping).toEqual({ abandoned: 1, aborted: 0 });
    await expect(q.push(async () => 'late')).rejects.toBeInstanceOf(ShuttingDownError);
  });
});

describe('rate limiter', () => {
  it('counts per user and per guild and says when to retry', () => {
    let now = 0;
    const limiter = new RateLimiter(
      { user: { limit: 2, windowMs: 60_000 }, guild: { limit: 3, windowMs: 60_000 } },
      () => now,
    );
    const keys = (u: string) => [
      { scope: 'user', key: u },
      { scope: 'guild', key: 'g' },
    ];
    expect(limiter.take(keys('a')).ok).toBe(true);
    now = 10_000;
    expect(limiter.take(keys('a')).ok).toBe(true);
    expect(limiter.take(keys('a'))).toEqual({ ok: false, scope: 'user', retryAfterMs: 50_000 });
    expect(limiter.take(keys('b')).ok).toBe(true);
    expect(limiter.take(keys('c'))).toMatchObject({ ok: false, scope: 'guild' });
    now = 61_000;
    expect(limiter.take(keys('a')).ok).toBe(true);
  });
});

describe('bounded download', () => {
  let origin = '';
  const server = createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200); // no content-length: only counting catches it
      res.write(Buffer.alloc(600));
      res.end(Buffer.alloc(600));
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: 'https://evil.example.com/x' });
      res.end();
    } else if (req.url === '/slow') {
      res.writeHead(200);
      res.write('a');
    } else {
      res.writeHead(200);
      res.end('hello');
    }
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  const opts = (path: string, extra = {}) => ({
    url: `http://${origin}${path}`,
    maxBytes: 1000,
    allowedHosts: [origin],
    timeoutMs: 2000,
    ...extra,
  });

  it('allows only https on listed hosts (plain http only on loopback test servers)', () => {
    const hosts = ['cdn.discordapp.com', 'media.discordapp.net'];
    expect(isAllowedUrl('https://cdn.discordapp.com/attachments/1/2/a.ogg', hosts)).toBe(true);
    expect(isAllowedUrl('http://cdn.discordapp.com/a.ogg', hosts)).toBe(false);
    expect(isAllowedUrl('https://cdn.discordapp.com.evil.com/a.ogg', hosts)).toBe(false);
    expect(isAllowedUrl('https://user:pw@cdn.discordapp.com/a.ogg', hosts)).toBe(false);
    expect(isAllowedUrl('https://cdn.discordapp.com:8443/a.ogg', hosts)).toBe(false);
    expect(isAllowedUrl('file:///etc/passwd', hosts)).toBe(false);
  });
  it('downloads within limits', async () => {
    expect(new TextDecoder().decode(await boundedDownload(opts('/ok')))).toBe('hello');
  });
  it('refuses other hosts, declared-too-large, body-too-large, redirects off the list and slow servers', async () => {
    const kind = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: DownloadError) => e.kind,
      );
    expect(await kind(boundedDownload(opts('/ok', { allowedHosts: ['cdn.discordapp.com'] })))).toBe(
      'host_not_allowed',
    );
    expect(await kind(boundedDownload(opts('/ok', { declaredSize: 5000 })))).toBe('too_large');
    expect(await kind(boundedDownload(opts('/big')))).toBe('too_large');
    expect(await kind(boundedDownload(opts('/redirect')))).toBe('host_not_allowed');
    expect(await kind(boundedDownload(opts('/slow', { timeoutMs: 200 })))).toBe('timeout');
  });
});
