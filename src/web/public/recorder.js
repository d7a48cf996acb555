/** Microphone recording with MediaRecorder, Ogg/Opus when the browser makes it, else WebM/Opus. */

const TYPES = [
  ['audio/ogg;codecs=opus', 'ogg'],
  ['audio/webm;codecs=opus', 'webm'],
];

export function canRecord() {
  return typeof MediaRecorder !== 'undefined' && Boolean(navigator.mediaDevices?.getUserMedia);
}

/** Starts recording; resolves with `stop()`, which resolves with `{ blob, name }`. */
export async function startRecording() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const [mimeType, extension] = TYPES.find(([type]) => MediaRecorder.isTypeSupported(type)) ?? ['', 'webm'];
  const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
  const chunks = [];
  recorder.addEventListener('dataavailable', (event) => {
    if (event.data.size > 0) chunks.push(event.data);
  });
  recorder.start(250);
  return {
    stop() {
      return new Promise((resolve) => {
        recorder.addEventListener(
          'stop',
          () => {
            for (const track of stream.getTracks()) track.stop();
            const type = recorder.mimeType || mimeType || 'audio/webm';
            resolve({ blob: new Blob(chunks, { type }), name: `recording.${extension}` });
          },
          { once: true },
        );
        recorder.stop();
      });
    },
  };
}
