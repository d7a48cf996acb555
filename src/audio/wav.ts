import { AnnamalaiError } from '../core/errors.ts';
import type { DecodeGuard } from './guard.ts';

/** What the RIFF/WAVE header says, enough to decide the path and check the duration cheaply. */
export interface WavInfo {
  /** 'pcm' (integer) and 'float' decode in-process; anything else (A-law, ADPCM, MP3-in-WAV…) goes to ffmpeg. */
  readonly encoding: 'pcm' | 'float' | 'other';
  readonly formatTag: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  readonly blockAlign: number;
  /** The sample data actually present (a declared size past the end of the file is clamped). */
  readonly dataOffset: number;
  readonly dataLength: number;
  readonly frames: number;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function corrupt(detail: string): AnnamalaiError {
  return new AnnamalaiError('audio.corrupt', { detail: `WAV: ${detail}` });
}

/** Parses the chunk list of a RIFF/WAVE file. Returns undefined for RF64/BW64 (left to ffmpeg). */
export function parseWav(bytes: Uint8Array): WavInfo | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || view.getUint32(0) !== 0x52494646) return undefined; // 'RIFF'
  let offset = 12;
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataLength' | 'frames'> | undefined;
  while (offset + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw corrupt('fmt chunk too short');
      let formatTag = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bitsPerSample = view.getUint16(body + 14, true);
      if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 40 > bytes.length) throw corrupt('extensible fmt chunk too short');
        formatTag = view.getUint16(body + 24, true); // first two bytes of the SubFormat GUID
      }
      if (channels === 0 || sampleRate === 0 || blockAlign === 0)
        throw corrupt('zero channels, rate or block size');
      const container = blockAlign / channels;
      let encoding: WavInfo['encoding'] = 'other';
      if (formatTag === WAVE_FORMAT_PCM && [1, 2, 3, 4].includes(container)) encoding = 'pcm';
      if (formatTag === WAVE_FORMAT_IEEE_FLOAT && (container === 4 || container === 8)) encoding = 'float';
      fmt = { encoding, formatTag, channels, sampleRate, bitsPerSample, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw corrupt('data chunk before fmt chunk');
      const available = bytes.length - body;
      // Streaming writers leave 0 or 0xFFFFFFFF; a cut file declares more than it has.
      const declared = size === 0 || size === 0xffffffff ? available : size;
      const dataLength = Math.min(declared, available);
      const frames = Math.floor(dataLength / fmt.blockAlign);
      return { ...fmt, dataOffset: body, dataLength: frames * fmt.blockAlign, frames };
    }
    offset = body + size + (size & 1);
  }
  if (!fmt) throw corrupt('no fmt chunk');
  throw corrupt('no data chunk');
}

/** Decodes integer or float PCM, averaging all channels to mono, at the file's own rate. */
export async function decodeWavMono(
  bytes: Uint8Array,
  info: WavInfo,
  guard?: DecodeGuard,
): Promise<Float32Array> {
  const { channels, blockAlign, frames, dataOffset } = info;
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, info.dataLength);
  const width = blockAlign / channels;
  const out = new Float32Array(frames);
  const read = sampleReader(view, info.encoding, width);
  const inv = 1 / channels;
  const step = 65_536;
  for (let start = 0; start < frames; start += step) {
    const end = Math.min(frames, start + step);
    for (let f = start; f < end; f++) {
      let sum = 0;
      const base = f * blockAlign;
      for (let c = 0; c < channels; c++) sum += read(base + c * width);
      out[f] = sum * inv;
    }
    if (guard) await guard.breathe();
  }
  return out;
}

function sampleReader(view: DataView, encoding: WavInfo['encoding'], width: number): (at: number) => number {
  if (encoding === 'float') {
    return width === 4 ? (at) => view.getFloat32(at, true) : (at) => view.getFloat64(at, true);
  }
  switch (width) {
    case 1:
      return (at) => (view.getUint8(at) - 128) / 128; // 8-bit WAV is unsigned
    case 2:
      return (at) => view.getInt16(at, true) / 32768;
    case 3:
      return (at) =>
        ((view.getInt8(at + 2) << 16) | (view.getUint8(at + 1) << 8) | view.getUint8(at)) / 8388608;
    case 4:
      return (at) => view.getInt32(at, true) / 2147483648;
    default:
      throw corrupt(`unsupported sample width ${width}`);
  }
}
