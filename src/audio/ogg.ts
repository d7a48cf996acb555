/**
 * A strict walk over Ogg pages (RFC 3533): every page complete, CRC right, no junk between pages.
 * Gives the Opus header and the last granule position, which fixes the exact decoded length.
 */

export interface OpusHead {
  readonly channels: number;
  /** Samples at 48 kHz to drop at the start. */
  readonly preSkip: number;
  readonly inputSampleRate: number;
  /** Q7.8 dB gain to apply to the output. */
  readonly outputGainDb: number;
  readonly mappingFamily: number;
}

export interface OggOpusInfo {
  readonly head: OpusHead;
  /** Total 48 kHz samples after pre-skip, from the last page's granule position. */
  readonly samples48k: number;
}

export type OggProblem =
  | 'truncated'
  | 'bad-capture'
  | 'bad-crc'
  | 'no-opus-head'
  | 'bad-opus-head'
  | 'bad-granule';

export class OggStructureError extends Error {
  readonly problem: OggProblem;
  constructor(problem: OggProblem, detail: string) {
    super(`${problem}: ${detail}`);
    this.name = 'OggStructureError';
    this.problem = problem;
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** CRC-32 of the Ogg page in [start, end), its own CRC field counted as zero. */
export function pageCrc(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    // Bytes 22..25 of the page (the CRC field itself) count as zero.
    const b = i - start >= 22 && i - start < 26 ? 0 : (bytes[i] ?? 0);
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ b) & 0xff] ?? 0)) >>> 0;
  }
  return crc;
}

/** The longest Opus packet lasts 120 ms: 5 760 samples at 48 kHz (RFC 6716 §3.2.5). */
const MAX_PACKET_SAMPLES48K = 5_760;

/** Reads the OpusHead and refuses what RFC 7845 §5.1 forbids, before any decoder is set up. */
function parseOpusHead(packet: Uint8Array): OpusHead {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  if (packet.length < 19) throw new OggStructureError('no-opus-head', 'OpusHead shorter than 19 bytes');
  const version = view.getUint8(8);
  const head = {
    channels: view.getUint8(9),
    preSkip: view.getUint16(10, true),
    inputSampleRate: view.getUint32(12, true),
    outputGainDb: view.getInt16(16, true) / 256,
    mappingFamily: view.getUint8(18),
  };
  // Versions 0–15 are compatible; a higher major version is a format this reader does not know.
  if (version > 15) throw new OggStructureError('bad-opus-head', `OpusHead version ${version}`);
  if (head.channels === 0) throw new OggStructureError('bad-opus-head', '0 channels');
  if (head.mappingFamily === 0 && head.channels > 2) {
    throw new OggStructureError(
      'bad-opus-head',
      `${head.channels} channels with mapping family 0 (at most 2)`,
    );
  }
  if (head.mappingFamily === 1 && head.channels > 8) {
    throw new OggStructureError(
      'bad-opus-head',
      `${head.channels} channels with mapping family 1 (at most 8)`,
    );
  }
  return head;
}

/** Validates the whole file and reads what the Opus path needs. Throws OggStructureError. */
export function inspectOggOpus(bytes: Uint8Array): OggOpusInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  let head: OpusHead | undefined;
  let serial: number | undefined;
  let lastGranule = -1;
  /** Packets of the Opus stream so far (a lacing value under 255 ends one): bounds what a granule may claim. */
  let packets = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 27)
      throw new OggStructureError('truncated', `page header at ${offset} cut off`);
    if (view.getUint32(offset) !== 0x4f676753) {
      throw new OggStructureError('bad-capture', `no OggS capture pattern at ${offset}`);
    }
    const segments = view.getUint8(offset + 26);
    if (bytes.length - offset < 27 + segments) {
      throw new OggStructureError('truncated', `segment table at ${offset} cut off`);
    }
    let bodyLength = 0;
    for (let i = 0; i < segments; i++) bodyLength += view.getUint8(offset + 27 + i);
    const end = offset + 27 + segments + bodyLength;
    if (end > bytes.length) throw new OggStructureError('truncated', `page body at ${offset} cut off`);
    if (pageCrc(bytes, offset, end) !== view.getUint32(offset + 22, true)) {
      throw new OggStructureError('bad-crc', `page at ${offset} fails its CRC`);
    }
    const pageSerial = view.getUint32(offset + 14, true);
    if (head === undefined) {
      const body = bytes.subarray(offset + 27 + segments, end);
      if (String.fromCharCode(...body.subarray(0, 8)) === 'OpusHead') {
        head = parseOpusHead(body);
        serial = pageSerial;
      }
    }
    if (pageSerial === serial) {
      for (let i = 0; i < segments; i++) if (view.getUint8(offset + 27 + i) < 255) packets++;
      const granule = Number(view.getBigInt64(offset + 6, true));
      // Two header packets, then at most 120 ms per audio packet: more is a made-up length, not audio.
      const most = Math.max(0, packets - 2) * MAX_PACKET_SAMPLES48K;
      if (granule > most) {
        throw new OggStructureError(
          'bad-granule',
          `granule position ${granule} at ${offset}, ${packets} packets hold ${most}`,
        );
      }
      if (granule >= 0) lastGranule = granule;
    }
    offset = end;
  }
  if (head === undefined) throw new OggStructureError('no-opus-head', 'no OpusHead packet');
  return { head, samples48k: Math.max(0, lastGranule - head.preSkip) };
}
