/**
 * ffmpeg reads its input from a pipe, which cannot seek. MP4/M4A files whose index ('moov') comes after
 * the media data ('mdat'), as ffmpeg, phones and many recorders write them, then fail to decode.
 * This does in memory what `-movflags +faststart` does: put 'moov' first and shift the chunk offsets.
 */

interface Box {
  readonly type: string;
  readonly start: number;
  readonly size: number;
}

/**
 * Bounds of the walk: real files have a few top-level boxes (a fragmented one, a moof+mdat pair per fragment)
 * and moov/trak/mdia/minf/stbl nest five deep. Beyond these the file is left as it is, for ffmpeg to judge.
 */
const MAX_BOXES = 10_000;
const MAX_DEPTH = 8;

function readBoxes(view: DataView, start: number, end: number): Box[] | undefined {
  const boxes: Box[] = [];
  let offset = start;
  while (offset + 8 <= end) {
    if (boxes.length >= MAX_BOXES) return undefined;
    let size = view.getUint32(offset);
    const type = String.fromCharCode(
      view.getUint8(offset + 4),
      view.getUint8(offset + 5),
      view.getUint8(offset + 6),
      view.getUint8(offset + 7),
    );
    if (size === 1) {
      if (offset + 16 > end) return undefined;
      size = Number(view.getBigUint64(offset + 8));
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < 8 || offset + size > end) return undefined; // truncated or not a box list
    boxes.push({ type, start: offset, size });
    offset += size;
  }
  return boxes;
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);

/** Offsets in [from, to) move by `shift`: the media data between the first 'mdat' and the old 'moov'. */
interface Shift {
  readonly from: number;
  readonly to: number;
  readonly by: number;
}

/** Shifts the stco/co64 entries inside `moov` (a copy) in place; false if an offset would overflow. */
function shiftChunkOffsets(view: DataView, start: number, end: number, shift: Shift, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  const boxes = readBoxes(view, start, end);
  if (!boxes) return false;
  for (const box of boxes) {
    const body = box.start + 8;
    if (CONTAINERS.has(box.type)) {
      if (!shiftChunkOffsets(view, body, box.start + box.size, shift, depth + 1)) return false;
    } else if (box.type === 'stco' || box.type === 'co64') {
      if (box.size < 16) return false; // version/flags and entry count must fit
      const count = view.getUint32(body + 4);
      const width = box.type === 'stco' ? 4 : 8;
      if (body + 8 + count * width > box.start + box.size) return false;
      for (let i = 0; i < count; i++) {
        const at = body + 8 + i * width;
        const value = width === 4 ? view.getUint32(at) : Number(view.getBigUint64(at));
        if (value < shift.from || value >= shift.to) continue;
        if (width === 4) {
          if (value + shift.by > 0xffffffff) return false;
          view.setUint32(at, value + shift.by);
        } else {
          view.setBigUint64(at, BigInt(value + shift.by));
        }
      }
    }
  }
  return true;
}

/** Returns the file with 'moov' before 'mdat', or the input unchanged when it already is (or can't be fixed). */
export function moovFirst(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxes = readBoxes(view, 0, bytes.length);
  if (!boxes) return bytes;
  const moovIndex = boxes.findIndex((b) => b.type === 'moov');
  const mdatIndex = boxes.findIndex((b) => b.type === 'mdat');
  if (moovIndex < 0 || mdatIndex < 0 || moovIndex < mdatIndex) return bytes;
  const moov = boxes[moovIndex];
  const mdat = boxes[mdatIndex];
  if (!moov || !mdat) return bytes;
  // A real copy: on a Node Buffer, slice() is a view into the caller's file and would be edited in place.
  const moovCopy = new Uint8Array(bytes.subarray(moov.start, moov.start + moov.size));
  const moovView = new DataView(moovCopy.buffer, moovCopy.byteOffset, moovCopy.byteLength);
  if (!shiftChunkOffsets(moovView, 8, moovCopy.length, { from: mdat.start, to: moov.start, by: moov.size }))
    return bytes;
  const out = new Uint8Array(bytes.length);
  let offset = 0;
  for (const [i, box] of boxes.entries()) {
    if (i === moovIndex) continue;
    if (i === mdatIndex) {
      out.set(moovCopy, offset);
      offset += moovCopy.length;
    }
    out.set(bytes.subarray(box.start, box.start + box.size), offset);
    offset += box.size;
  }
  return out;
}
