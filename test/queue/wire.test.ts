import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../src/cli/args.ts';
import type { AnalysisResult } from '../../src/core/analyze.ts';
import { AnnamalaiError } from '../../src/core/errors.ts';
import { fromJobData, fromResultData, fromWireError, toJobData, toResultData } from '../../src/queue/wire.ts';

describe('the analysis job and its result as JSON between processes', () => {
  it('carries the audio bytes, name, content type and context unchanged', () => {
    const bytes = new Uint8Array([0, 1, 254, 255, 128]);
    const job = {
      input: { bytes: bytes.subarray(1, 4), name: 'a.ogg', contentType: 'audio/ogg' },
      context: { platform: 'discord', userId: 'u', channelId: 'c' },
    };
    const back = fromJobData(JSON.parse(JSON.stringify(toJobData(job))));
    expect([...back.input.bytes]).toEqual([1, 254, 255]);
    expect(back).toMatchObject({ input: { name: 'a.ogg', contentType: 'audio/ogg' }, context: job.context });
  });

  it('brings back a stored result with its Date and a failure as a coded AnnamalaiError', () => {
    const createdAt = new Date('2026-12-02T10:00:00Z');
    const ok: AnalysisResult = {
      status: 'ok',
      durationS: 2,
      segments: [{ index: 0, startS: 0, endS: 2, kind: 'silence' }],
      summary: {
        durationS: 2,
        speechSegments: 0,
        silentSegments: 1,
        dominant: null,
        distribution: [],
        meanProbabilities: {},
        notes: [],
      },
      saved: {
        ok: true,
        analysis: {
          id: '7',
          platform: 'test',
          durationS: 2,
          model: { id: 'm', version: '1' },
          createdAt,
          outcome: { status: 'ok', segments: [] },
        },
      },
    };
    const okBack = fromResultData(JSON.parse(JSON.stringify(toResultData(ok))));
    expect(okBack).toEqual(ok);
    const failed: AnalysisResult = {
      status: 'failed',
      durationS: 0,
      error: new AnnamalaiError('audio.corrupt', { detail: 'bad header' }),
    };
    const failedBack = fromResultData(JSON.parse(JSON.stringify(toResultData(failed))));
    expect(failedBack.status === 'failed' && failedBack.error).toBeInstanceOf(AnnamalaiError);
    expect(failedBack.status === 'failed' && [failedBack.error.code, failedBack.error.detail]).toEqual([
      'audio.corrupt',
      'bad header',
    ]);
  });

  it('turns a code this version does not know (from a newer worker) into inference.failed, keeping its words', () => {
    const error = fromWireError({ code: 'audio.newfangled', message: 'Something new.' });
    expect([error.code, error.userMessage]).toEqual(['inference.failed', 'Something new.']);
  });
});

describe('annamalai worker on the command line', () => {
  it('is a command of its own that takes no files and no --db', () => {
    expect(parseCommandLine(['worker', '--model', 'm'])).toEqual({
      kind: 'worker',
      overrides: { model: 'm' },
    });
    expect(() => parseCommandLine(['worker', 'a.ogg'])).toThrow(UsageError);
    expect(() => parseCommandLine(['worker', '--db', 'x.db'])).toThrow(/DATABASE_URL/);
  });
});
