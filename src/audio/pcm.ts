/** Small PCM helpers shared by the in-process decoders. */

/** Clamps to [-1, 1] in place and turns NaN into 0. */
export function clampInPlace(samples: Float32Array): Float32Array {
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i] ?? 0;
    samples[i] = v > 1 ? 1 : v < -1 ? -1 : Number.isNaN(v) ? 0 : v;
  }
  return samples;
}

/** Joins chunks into one array. */
export function concatFloat32(chunks: readonly Float32Array[], total?: number): Float32Array {
  const length = total ?? chunks.reduce((n, c) => n + c.length, 0);
  const out = new Float32Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.length > length - offset ? chunk.subarray(0, length - offset) : chunk;
    out.set(part, offset);
    offset += part.length;
    if (offset >= length) break;
  }
  return out;
}

/** Little-endian signed 16-bit PCM bytes to float in [-1, 1). */
export function int16ToFloat32(bytes: Uint8Array): Float32Array {
  const count = bytes.length >> 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true) / 32768;
  return out;
}

/** Little-endian float32 bytes (any alignment) to a Float32Array. */
export function f32leToFloat32(bytes: Uint8Array): Float32Array {
  const count = bytes.length >> 2;
  if (bytes.byteOffset % 4 === 0)
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count * 4));
  const copy = new Uint8Array(count * 4);
  copy.set(bytes.subarray(0, count * 4));
  return new Float32Array(copy.buffer);
}
