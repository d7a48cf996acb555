import { decoderDiagnostics } from '../audio/index.ts';
import { ffmpegEnv, openClassifier } from '../compose.ts';
import type { Config } from '../config.ts';
import { runtimeDiagnostics, verifyModelFolder } from '../inference/index.ts';
import type { Logger } from '../log.ts';
import { describeFailure } from './failure.ts';

/** `annamalai diagnostics`: what this machine can decode and run, and which model is loaded. Exit 1 if unusable. */
export async function printDiagnostics(config: Config, logger: Logger): Promise<number> {
  const out: string[] = [`node ${process.versions.node} (${process.platform}/${process.arch})`];
  let healthy = true;

  const runtime = await runtimeDiagnostics();
  const backends = runtime.backends.map((b) => `${b.name}${b.bundled ? '' : ' (needs extra binaries)'}`);
  out.push(`onnxruntime-node ${runtime.onnxruntimeVersion}; execution providers: ${backends.join(', ')}`);
  out.push(
    `CUDA provider library: ${runtime.cudaProvider.installed ? runtime.cudaProvider.path : 'not installed'}`,
  );

  const decoders = await decoderDiagnostics({ env: ffmpegEnv(config) });
  out.push(`Opus in-process: ${decoders.inProcess.opus.available ? decoders.inProcess.opus.library : 'no'}`);
  out.push(
    decoders.ffmpeg.available
      ? `ffmpeg: ${decoders.ffmpeg.path} (${decoders.ffmpeg.source}) ${decoders.ffmpeg.version ?? ''}`.trimEnd()
      : `ffmpeg: not found — ${decoders.ffmpeg.hint}`,
  );
  out.push(`formats: ${decoders.formats.join(', ')}`);

  try {
    const { identity, files, parity } = await verifyModelFolder(config.MODEL_DIR);
    out.push(
      `model: ${identity.name} (${identity.id} ${identity.version})${identity.fixture ? ' [TEST FIXTURE]' : ''}`,
    );
    out.push(`  folder: ${config.MODEL_DIR}; ${files.length} files, sha256 verified`);
    const bases = identity.baseModels.map((b) => `${b.name}${b.quantized ? ' (int8)' : ''}`).join(', ');
    out.push(
      identity.combination === 'stacked'
        ? `  base models: ${bases}; stacked by a meta model`
        : `  base model: ${bases} alone (no meta model)`,
    );
    out.push(`  trained labels: ${identity.trainedLabels.join(', ')}`);
    const vb = identity.voiceBaseline;
    out.push(
      vb
        ? `  voice baseline: ${vb.file} over ${vb.dims} dims (${vb.normalise}, k ${vb.shrinkage_k}), used from ${vb.min_recordings} recordings`
        : '  voice baseline: none (each recording is judged on its own)',
    );
    out.push(`  licence: ${JSON.stringify(identity.licence)}`);
    if (parity) {
      out.push(`  parity with export: ${parity.passed ? 'ok' : 'MISMATCH'}`);
      healthy &&= parity.passed;
    }
    const classifier = await openClassifier(config, logger, { tuned: false });
    out.push(`  runs on: ${classifier.info.device.kind} (${classifier.info.device.reason})`);
    await classifier.close();
  } catch (error) {
    healthy = false;
    out.push(`model: ${config.MODEL_DIR} unusable — ${describeFailure(error)}`);
  }
  console.log(out.join('\n'));
  return healthy ? 0 : 1;
}
