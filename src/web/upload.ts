import type { IncomingMessage } from 'node:http';
import type { AudioInput } from '../core/ports.ts';
import { WebError } from './errors.ts';

/** Room for a multipart form's boundaries and part headers around the one file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
const DEFAULT_NAME = 'upload';

export interface UploadLimits {
  /** Largest recording accepted (MAX_INPUT_MB). */
  readonly maxBytes: number;
  /** The whole upload must arrive within this (WEB_UPLOAD_TIMEOUT_S). */
  readonly timeoutMs: number;
}

/**
 * Reads the recording of a POST into memory, never to disk: the raw body (name from `?name=`) or the one
 * file of a multipart form. A declared Content-Length over the limit is refused before any byte is read;
 * an undeclared one is counted while it streams and refused as soon as it passes the limit. An upload
 * slower than the timeout, or one the caller aborts, stops there.
 */
export async function readUpload(
  request: IncomingMessage,
  url: URL,
  limits: UploadLimits,
  signal: AbortSignal,
): Promise<AudioInput & { readonly name: string }> {
  const contentType = request.headers['content-type'] ?? '';
  const multipart = /^multipart\/form-data\b/i.test(contentType);
  const maxBody = limits.maxBytes + (multipart ? MULTIPART_OVERHEAD_BYTES : 0);
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBody) throw new WebError('audio.too_large');

  const body = await readBounded(
    request,
    maxBody,
    AbortSignal.any([signal, AbortSignal.timeout(limits.timeoutMs)]),
  );
  if (!multipart) {
    const name = url.searchParams.get('name')?.trim() || DEFAULT_NAME;
    return { bytes: body, name, ...(contentType && { contentType }) };
  }
  return fileOfForm(body, contentType, limits.maxBytes);
}

async function fileOfForm(
  body: Uint8Array,
  contentType: string,
  maxBytes: number,
): Promise<AudioInput & { readonly name: string }> {
  let form: FormData;
  try {
    // The platform's own multipart parser (undici), entirely in memory.
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch (cause) {
    throw new WebError('request.invalid', { cause });
  }
  const file = [...form.values()].find((v): v is File => typeof v !== 'string');
  if (!file) throw new WebError('request.invalid');
  if (file.size > maxBytes) throw new WebError('audio.too_large');
  return {
    bytes: new Uint8Array(await file.arrayBuffer()),
    name: file.name || DEFAULT_NAME,
    ...(file.type && { contentType: file.type }),
  };
}

/** The body's bytes, counted as they arrive; rejects with a WebError at the limit, timeout or abort. */
function readBounded(request: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error?: WebError) => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      if (error) {
        // Stop reading: the rest of the body is never buffered (the response closes the connection).
        request.pause();
        reject(error);
      } else resolve(Buffer.concat(chunks, received));
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) return finish(new WebError('audio.too_large'));
      chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onError = (cause: unknown) => finish(new WebError('request.invalid', { cause }));
    const onAbort = () => {
      const timedOut = signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError';
      finish(new WebError(timedOut ? 'request.timeout' : 'aborted', { cause: signal.reason }));
    };
    if (signal.aborted) return onAbort();
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
