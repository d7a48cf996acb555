import { analyze, fetchAbout } from './api.js';
import { clock, el, segmentAt } from './format.js';
import { createPlayer } from './player.js';
import { canRecord, startRecording } from './recorder.js';
import { renderNow, renderSegmentTable, renderSummary, renderTimeline } from './render.js';

const $ = (id) => document.getElementById(id);

const ui = {
  drop: $('drop'),
  pick: $('pick'),
  file: $('file'),
  record: $('record'),
  recordingStatus: $('recording-status'),
  progressBox: $('progress-box'),
  progress: $('progress'),
  progressLabel: $('progress-label'),
  error: $('error'),
  result: $('result'),
  fileName: $('file-name'),
  resultNote: $('result-note'),
  waveform: $('waveform'),
  waveformProblem: $('waveform-problem'),
  play: $('play'),
  seek: $('seek'),
  time: $('time'),
  now: $('now'),
  nowRange: $('now-range'),
  dominant: $('dominant'),
  distribution: $('distribution'),
  notes: $('notes'),
  timeline: $('timeline'),
  segments: $('segments').querySelector('tbody'),
  modelName: $('model-name'),
  download: $('download'),
  again: $('again'),
  estimateNote: $('estimate-note'),
};

const state = { about: null, report: null, busy: false, recording: null, shown: null, timeline: null };

const player = createPlayer(ui.waveform, {
  onTime: (t) => showTime(t),
  onState: (playing) => {
    ui.play.textContent = playing ? 'Pause' : 'Play';
  },
  onReady: (duration) => {
    ui.seek.max = String(Math.ceil(duration));
    ui.play.disabled = false;
    ui.seek.disabled = false;
    showTime(0);
  },
  onError: () => {
    ui.waveformProblem.hidden = false;
    ui.waveformProblem.textContent =
      'This browser cannot play this format, so there is no waveform; the results below are complete.';
  },
});

function showTime(t) {
  const report = state.report;
  if (!report) return;
  const duration = report.duration_s;
  ui.time.textContent = `${clock(t)} / ${clock(duration)}`;
  // While someone moves the paused playhead with the slider, the slider leads: a time update still on its
  // way from an earlier position would otherwise pull it back under their fingers.
  if (document.activeElement !== ui.seek || player.playing) ui.seek.value = String(Math.floor(t));
  ui.seek.setAttribute('aria-valuetext', `${clock(t)} of ${clock(duration)}`);
  state.timeline?.moveTo(t);
  const segment = segmentAt(report.segments, t);
  // Only when the segment changes: the live region is read aloud on every change.
  if (segment !== state.shown) {
    state.shown = segment;
    renderNow(ui.now, ui.nowRange, segment);
  }
}

function showError(body) {
  const { code, message } = body.error ?? { code: 'unknown', message: 'Something went wrong.' };
  ui.error.replaceChildren(el('p', {}, message, ' ', el('code', {}, `(${code})`)));
  ui.error.hidden = false;
}

function setBusy(busy) {
  state.busy = busy;
  ui.pick.disabled = busy;
  ui.record.disabled = busy && !state.recording;
}

async function submit(blob, name) {
  if (state.busy) return;
  ui.error.hidden = true;
  const max = state.about?.max_input_bytes;
  if (max && blob.size > max) {
    // Said before uploading a byte, in the server's words for the same refusal.
    showError({ error: { code: 'audio.too_large', message: state.about.messages['audio.too_large'] } });
    return;
  }
  setBusy(true);
  ui.progressBox.hidden = false;
  ui.progress.value = 0;
  ui.progressLabel.textContent = `Uploading ${name}…`;
  const answer = await analyze(blob, name, (fraction, stage) => {
    ui.progress.value = Math.round(fraction * 100);
    if (stage === 'analysing') ui.progressLabel.textContent = `Listening to ${name}…`;
  });
  ui.progressBox.hidden = true;
  setBusy(false);
  if (!answer.ok) {
    showError(answer.body);
    ui.pick.focus();
    return;
  }
  await showReport(answer.body, blob);
}

async function showReport(report, blob) {
  state.report = report;
  state.shown = null;
  ui.fileName.textContent = report.file;
  ui.modelName.textContent = `${report.model.name} ${report.model.version}`;
  ui.resultNote.textContent = state.about?.estimate_note ?? '';
  ui.play.disabled = true;
  ui.seek.disabled = true;
  ui.waveformProblem.hidden = true;
  ui.result.hidden = false;
  renderSummary(report, ui);
  state.timeline = renderTimeline(ui.timeline, report);
  renderSegmentTable(ui.segments, report, (start) => {
    player.seek(start);
    void player.play();
  });
  showTime(0);
  await player.load(blob, report.segments);
  ui.result.setAttribute('data-ready', 'true');
  $('result-title').focus();
}

ui.pick.addEventListener('click', () => ui.file.click());
ui.file.addEventListener('change', () => {
  const file = ui.file.files?.[0];
  ui.file.value = '';
  if (file) void submit(file, file.name);
});

for (const type of ['dragenter', 'dragover']) {
  ui.drop.addEventListener(type, (event) => {
    event.preventDefault();
    ui.drop.classList.add('over');
  });
}
for (const type of ['dragleave', 'drop']) {
  ui.drop.addEventListener(type, () => ui.drop.classList.remove('over'));
}
ui.drop.addEventListener('drop', (event) => {
  event.preventDefault();
  const file = event.dataTransfer?.files?.[0];
  if (file) void submit(file, file.name);
});

ui.record.addEventListener('click', async () => {
  if (state.recording) {
    const recording = state.recording;
    state.recording = null;
    ui.record.setAttribute('aria-pressed', 'false');
    ui.record.textContent = 'Record from the microphone';
    ui.recordingStatus.textContent = 'Recording stopped.';
    const { blob, name } = await recording.stop();
    setBusy(false);
    await submit(blob, name);
    return;
  }
  ui.error.hidden = true;
  try {
    state.recording = await startRecording();
  } catch {
    showError({
      error: {
        code: 'microphone',
        message: 'The microphone could not be used: allow it in the browser and try again.',
      },
    });
    return;
  }
  setBusy(true);
  ui.record.disabled = false;
  ui.record.setAttribute('aria-pressed', 'true');
  ui.record.textContent = 'Stop recording and analyse';
  ui.recordingStatus.textContent = 'Recording… press the button again to stop.';
});

ui.play.addEventListener('click', () => void player.playPause());
ui.seek.addEventListener('input', () => player.seek(Number(ui.seek.value)));

ui.download.addEventListener('click', () => {
  if (!state.report) return;
  const blob = new Blob([`${JSON.stringify(state.report, null, 2)}\n`], { type: 'application/json' });
  const link = el('a', {
    href: URL.createObjectURL(blob),
    download: `${state.report.file.replace(/\.[^.]*$/, '')}.emotions.json`,
  });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
});

ui.again.addEventListener('click', () => {
  player.pause();
  ui.result.hidden = true;
  ui.pick.focus();
});

if (!canRecord()) {
  ui.record.disabled = true;
  ui.recordingStatus.textContent = 'This browser cannot record audio.';
}
$('result-title').setAttribute('tabindex', '-1');

fetchAbout().then(
  (about) => {
    state.about = about;
    ui.estimateNote.textContent = about.estimate_note;
    document.body.setAttribute('data-ready', 'true');
  },
  () => {
    document.body.setAttribute('data-ready', 'true');
  },
);
