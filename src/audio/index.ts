/** The audio decoder adapter: any supported recording → mono float32 PCM at 16 kHz. */
export {
  type AudioDecoderOptions,
  createAudioDecoder,
  type DecodePath,
  Decoder,
  type DecoderLogger,
} from './decoder.ts';
export { type DecoderDiagnostics, decoderDiagnostics } from './diagnostics.ts';
export {
  FFMPEG_INSTALL_HINT,
  type FfmpegLocation,
  type FfmpegSource,
  ffmpegVersion,
  type LocateDependencies,
  locateFfmpeg,
} from './ffmpeg.ts';
export { type Sniffed, sniff } from './sniff.ts';
