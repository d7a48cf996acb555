/** Talks to this server's HTTP API; nothing here reaches any other host. */

/** What the page needs besides a result: the model, the limits and the reminder (from the server's core). */
export async function fetchAbout() {
  const response = await fetch('/api/v1/about', { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`about: HTTP ${response.status}`);
  return response.json();
}

/**
 * Uploads one recording as a multipart form; reports upload progress (0..1) and resolves with
 * `{ ok, status, body }` where body is the API's JSON (the result or `{error:{code,message}}`).
 */
export function analyze(file, name, onProgress, timeoutMs = 600_000) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/analyze');
    xhr.responseType = 'text';
    xhr.timeout = timeoutMs;
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total, 'upload');
    });
    xhr.upload.addEventListener('load', () => onProgress(1, 'analysing'));
    xhr.addEventListener('load', () => {
      let body;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = { error: { code: 'request.failed', message: `The server answered HTTP ${xhr.status}.` } };
      }
      resolve({ ok: xhr.status === 200, status: xhr.status, body });
    });
    const failed = (message) =>
      resolve({ ok: false, status: 0, body: { error: { code: 'network', message } } });
    xhr.addEventListener('error', () =>
      failed('The upload failed: is the server still running? Please try again.'),
    );
    xhr.addEventListener('timeout', () => failed('The server took too long to answer; please try again.'));
    const form = new FormData();
    form.append('file', file, name);
    xhr.send(form);
  });
}
