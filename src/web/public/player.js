import RegionsPlugin from '/vendor/regions.esm.js';
import WaveSurfer from '/vendor/wavesurfer.esm.js';

/** Region fills by band; silence grey. Translucent so the waveform stays visible. */
const REGION_COLOURS = {
  green: 'rgba(27, 127, 58, 0.28)',
  orange: 'rgba(184, 92, 0, 0.28)',
  red: 'rgba(198, 40, 40, 0.28)',
  silence: 'rgba(120, 120, 120, 0.22)',
};

/**
 * The waveform (wavesurfer.js, served by this server) with the 5-s segments as coloured regions.
 * Calls `onTime(seconds)` as the playhead moves and `onState(playing)` on play/pause.
 */
export function createPlayer(container, { onTime, onState, onReady, onError }) {
  const regions = RegionsPlugin.create();
  const wave = WaveSurfer.create({
    container,
    height: 110,
    waveColor: '#6b7280',
    progressColor: '#1f2937',
    cursorColor: '#1a56db',
    cursorWidth: 2,
    normalize: true,
    dragToSeek: true,
    plugins: [regions],
  });
  wave.on('timeupdate', onTime);
  wave.on('play', () => onState(true));
  wave.on('pause', () => onState(false));
  wave.on('finish', () => onState(false));
  wave.on('ready', (duration) => onReady(duration));
  wave.on('error', (error) => onError(error));

  return {
    async load(blob, segments) {
      regions.clearRegions();
      try {
        await wave.loadBlob(blob);
      } catch (error) {
        onError(error);
        return;
      }
      for (const s of segments) {
        const key = s.silence ? 'silence' : s.band;
        const label = document.createElement('span');
        label.className = 'region-label';
        label.textContent = s.silence
          ? 'silence'
          : `${s.top[0].label} ${Math.round(s.top[0].confidence * 100)} %`;
        label.style.cssText = 'font: 12px system-ui, sans-serif; padding: 2px 4px; color: #111;';
        regions.addRegion({
          id: `segment-${s.start_s}`,
          start: s.start_s,
          end: s.end_s,
          color: REGION_COLOURS[key],
          content: label,
          drag: false,
          resize: false,
        });
      }
    },
    playPause: () => wave.playPause(),
    seek: (seconds) => wave.setTime(seconds),
    play: () => wave.play(),
    pause: () => wave.pause(),
    get playing() {
      return wave.isPlaying();
    },
    duration: () => wave.getDuration(),
    regionCount: () => regions.getRegions().length,
    destroy: () => wave.destroy(),
  };
}
