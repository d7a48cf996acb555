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

/**
 * Header bounds, checked before anything is allocated or resampled. 1 kHz is below every real recorder
 * (telephony is 8 kHz); 384 kHz is the highest rate studio gear writes (DXD is 352.8 kHz), and it keeps the
 * resampler's kernel under ~860 taps. A rate outside this range is either hostile or nothing a person sent as a
 * voice note: a header claiming 4 GHz once made the resampler build a 23 GB filter bank.
 */
export const WAV_MIN_RATE = 1_000;
export const WAV_MAX_RATE = 384_000;
/** 22.2 surround is 24 channels; 32 leaves room for odd recorders without allowing 65 535. */
export const WAV_MAX_CHANNELS = 32;
/** Real files hold a handful of chunks (fmt, data, LIST, bext, …); thousands mean junk or a walk-the-file trick. */
const MAX_CHUNKS = 1_024;

function corrupt(detail: string): AnnamalaiError {
  return new AnnamalaiError('audio.corrupt', { detail: `WAV: ${detail}` });
}

function unsupported(detail: string, userMessage: string): AnnamalaiError {
  return new AnnamalaiError('audio.unsupported', { userMessage, detail: `WAV: ${detail}` });
}

type WavFormat = Omit<WavInfo, 'dataOffset' | 'dataLength' | 'frames'>;

/** Reads and bounds the fmt chunk whose body starts at `body` and holds `size` bytes (all inside the file). */
function parseFmt(view: DataView, body: number, size: number): WavFormat {
  if (size < 16) throw corrupt(`fmt chunk of ${size} bytes (at least 16 needed)`);
  let formatTag = view.getUint16(body, true);
  const channels = view.getUint16(body + 2, true);
  const sampleRate = view.getUint32(body + 4, true);
  const blockAlign = view.getUint16(body + 12, true);
  const bitsPerSample = view.getUint16(body + 14, true);
  if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) throw corrupt(`extensible fmt chunk of ${size} bytes (40 needed)`);
    formatTag = view.getUint16(body + 24, true); // first two bytes of the SubFormat GUID
  }
  if (channels === 0 || sampleRate === 0 || blockAlign === 0)
    throw corrupt(
      `zero channels, rate or block size (${channels} ch, ${sampleRate} Hz, block ${blockAlign})`,
    );
  if (sampleRate < WAV_MIN_RATE || sampleRate > WAV_MAX_RATE) {
    throw unsupported(
      `sample rate ${sampleRate} Hz outside ${WAV_MIN_RATE}…${WAV_MAX_RATE} Hz`,
      `That WAV file says its sample rate is ${sampleRate} Hz; I read ${WAV_MIN_RATE / 1000}–${WAV_MAX_RATE / 1000} kHz.`,
    );
  }
  if (channels > WAV_MAX_CHANNELS) {
    throw unsupported(
      `${channels} channels (at most ${WAV_MAX_CHANNELS})`,
      `That WAV file has ${channels} channels; I read at most ${WAV_MAX_CHANNELS}.`,
    );
  }
  let encoding: WavInfo['encoding'] = 'other';
  if (formatTag === WAVE_FORMAT_PCM || formatTag === WAVE_FORMAT_IEEE_FLOAT) {
    encoding = formatTag === WAVE_FORMAT_PCM ? 'pcm' : 'float';
    checkLinearLayout(encoding, channels, bitsPerSample, blockAlign);
  }
  return { encoding, formatTag, channels, sampleRate, bitsPerSample, blockAlign };
}

/** Integer PCM: 8/16/24/32-bit containers; float: 32/64-bit. The block must be exactly one sample per channel. */
function checkLinearLayout(
  encoding: 'pcm' | 'float',
  channels: number,
  bits: number,
  blockAlign: number,
): void {
  if (bits === 0) throw corrupt('0 bits per sample');
  const widths = encoding === 'pcm' ? [8, 16, 24, 32] : [32, 64];
  if (!widths.includes(bits)) {
    const kind = encoding === 'pcm' ? 'integer' : 'float';
    throw unsupported(
      `${bits}-bit ${kind} samples`,
      `That WAV file uses ${bits}-bit ${kind} samples; I read ${widths.join('/')}-bit ${kind} WAV.`,
    );
  }
  if (blockAlign !== channels * (bits / 8)) {
    throw corrupt(`block align ${blockAlign} ≠ ${channels} channels × ${bits / 8} bytes`);
  }
}

/** Parses the chunk list of a RIFF/WAVE file. Returns undefined for RF64/BW64 (left to ffmpeg). */
export function parseWav(bytes: Uint8Array): WavInfo | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint32(0) !== 0x52494646) return undefined; // 'RIFF'
  if (bytes.length < 12) throw corrupt(`RIFF header cut off at ${bytes.length} bytes`);
  let offset = 12;
  let fmt: WavFormat | undefined;
  for (let chunks = 0; offset + 8 <= bytes.length; chunks++) {
    if (chunks >= MAX_CHUNKS) throw corrupt(`more than ${MAX_CHUNKS} chunks before the data chunk`);
    const id = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    const available = bytes.length - body;
    if (id === 'fmt ') {
      if (size > available) throw corrupt(`fmt chunk claims ${size} bytes, the file holds ${available} more`);
      fmt = parseFmt(view, body, size);
    } else if (id === 'data') {
      if (!fmt) throw corrupt('data chunk before fmt chunk');
      // Streaming writers leave 0 or 0xFFFFFFFF; a cut file declares more than it has: only what is there is read.
      const declared = size === 0 || size === 0xffffffff ? available : size;
      const dataLength = Math.min(declared, available);
      const frames = Math.floor(dataLength / fmt.blockAlign);
      return { ...fmt, dataOffset: body, dataLength: frames * fmt.blockAlign, frames };
    }
    offset = body + size + (size & 1);
  }
  if (!fmt) throw corrupt(offset > bytes.length ? 'a chunk runs past the end of the file' : 'no fmt chunk');
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
