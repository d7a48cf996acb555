import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAudioDecoder } from '../../src/audio/index.ts';
import { AnnamalaiError } from '../../src/core/errors.ts';
import type { AudioDecoder, DecodeLimits } from '../../src/core/ports.ts';
import { LIMITS, makeWav, sineFrames } from './helpers.ts';

/**
 * The in-process decoders run in worker threads. These tests run them behind a worker entry with injected faults
 * (fault-worker.ts: real decoding unless the bytes ask for a fault) to prove that a decode which blocks, crashes or
 * runs out of memory fails only its own file while the event loop and the other decodes go on.
 */
const decoder = createAudioDecoder({
  ffmpeg: null,
  workers: { url: new URL('./fault-worker.ts', import.meta.url), maxOldGenerationSizeMb: 32 },
});
const dir = mkdtempSync(path.join(tmpdir(), 'annamalai-isolation-'));
afterAll(async () => {
  await decoder.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A 1-s 16-kHz WAV whose first samples spell `FAULT:<kind>` (the fault worker looks for it; it is just noise). */
function wavWith(fault?: string): Uint8Array {
  const data = sineFrames(16_000, 1, 16_000, 440, 2, (v, at, x) =>
    v.setInt16(at, Math.round(x * 32767), true),
  );
  if (fault) data.set(new TextEncoder().encode(`FAULT:${fault};`), 0);
  return makeWav({ formatTag: 1, channels: 1, sampleRate: 16_000, bitsPerSample: 16, data });
}

/** A decoder of its own with a single fault-worker slot, closed after `use`. */
async function withOneWorker(use: (decoder: AudioDecoder) => Promise<void>): Promise<void> {
  const single = createAudioDecoder({
    ffmpeg: null,
    workers: { url: new URL('./fault-worker.ts', import.meta.url), maxWorkers: 1 },
  });
  try {
    await use(single);
  } finally {
    await single.close();
  }
}

async function decodeError(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}, signal?: AbortSignal) {
  const error = await decoder
    .decode({ bytes }, { limits: { ...LIMITS, ...limits }, ...(signal ? { signal } : {}) })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(AnnamalaiError);
  return error as AnnamalaiError;
}

describe('the event loop keeps running while a decode is busy', () => {
  it('interval ticks keep firing while the decode worker is stuck in synchronous work, then the decode finishes', async () => {
    // The worker spins without yielding until the gate file exists; the file is written only after the main
    // thread's interval has fired 5 times. Were decoding on the main thread, no tick could fire: the test would hang.
    const gate = path.join(dir, 'gate');
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
      if (ticks === 5) writeFileSync(gate, '');
    }, 10);
    const audio = await decoder
      .decode({ bytes: wavWith(`gate:${gate}`) }, { limits: LIMITS })
      .finally(() => clearInterval(timer));
    // The decode could only finish after the fifth tick opened the gate.
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(audio.samples.length).toBe(16_000);
  });
});

describe('a crashing decode fails only its own file', () => {
  it('running out of heap becomes audio.corrupt for that file; a decode started alongside it and the next one succeed', async () => {
    const [bomb, neighbour] = await Promise.allSettled([
      decoder.decode({ bytes: wavWith('oom') }, { limits: LIMITS }),
      decoder.decode({ bytes: wavWith() }, { limits: LIMITS }),
    ]);
    expect(bomb.status).toBe('rejected');
    const error = (bomb as PromiseRejectedResult).reason as AnnamalaiError;
    expect(error).toBeInstanceOf(AnnamalaiError);
    expect(error.code).toBe('audio.corrupt');
    expect(error.message).toMatch(/out of memory/);
    expect(neighbour.status).toBe('fulfilled');
    const next = await decoder.decode({ bytes: wavWith() }, { limits: LIMITS });
    expect(next.samples.length).toBe(16_000);
  });

  it('a worker that exits mid-decode becomes audio.corrupt naming the exit code', async () => {
    const error = await decodeError(wavWith('exit'));
    expect(error.code).toBe('audio.corrupt');
    expect(error.message).toMatch(/exited with code 7/);
  });

  it('an uncaught exception in the worker becomes audio.corrupt', async () => {
    const error = await decodeError(wavWith('throw'));
    expect(error.code).toBe('audio.corrupt');
    expect(error.message).toMatch(/crashed: injected uncaught error/);
  });

  it('a worker stuck in synchronous work is stopped at the decode timeout with decoder.timeout, and the next file decodes', async () => {
    const error = await decodeError(wavWith('hang'), { timeoutMs: 300 });
    expect(error.code).toBe('decoder.timeout');
    const next = await decoder.decode({ bytes: wavWith() }, { limits: LIMITS });
    expect(next.samples.length).toBe(16_000);
  });

  it('aborting while the worker is stuck stops it with aborted', async () => {
    const controller = new AbortController();
    const pending = decodeError(wavWith('hang'), {}, controller.signal);
    setTimeout(() => controller.abort(new Error('user left')), 50);
    expect((await pending).code).toBe('aborted');
  });

  it('with every worker slot taken, a decode waits its turn and runs once the stuck one is stopped', async () => {
    await withOneWorker(async (single) => {
      const stuck = single.decode({ bytes: wavWith('hang') }, { limits: { ...LIMITS, timeoutMs: 300 } });
      const waiting = single.decode({ bytes: wavWith() }, { limits: LIMITS });
      await expect(stuck).rejects.toMatchObject({ code: 'decoder.timeout' });
      expect((await waiting).samples.length).toBe(16_000);
    });
  });

  it('a decode still waiting for a slot when its time runs out fails with decoder.timeout', async () => {
    await withOneWorker(async (single) => {
      const stuck = single.decode({ bytes: wavWith('hang') }, { limits: { ...LIMITS, timeoutMs: 2_000 } });
      const waiting = single.decode({ bytes: wavWith() }, { limits: { ...LIMITS, timeoutMs: 100 } });
      await expect(waiting).rejects.toMatchObject({ code: 'decoder.timeout' });
      await expect(stuck).rejects.toMatchObject({ code: 'decoder.timeout' });
    });
  });
});
