"""Write models/README.md from a run's report.json (the measured table, data, licences, verification)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .baseline_report import card_lines
from .report import _f, choice_lines, headline_table

GRAPH_TEXT = {
    "whisper": "Loudness normalisation (the loudest 20 % of 25-ms frames of the window to -20 dBFS, gain at most "
               "+50 dB), then OpenAI Whisper base encoder cut after block {depth} (of 6), 5-s window = 250 positions "
               "(the first 250 positional embeddings), mean+std pooling of each block's output, learned softmax "
               "weighting of the blocks, {head}; the logits are divided by a temperature that grows with how "
               "unfamiliar the recording is (distance of the embedding to the training data), so the runtime's "
               "softmax is the calibrated confidence. Its `embedding` output is the pooled, weighted 1024-d vector "
               "(for a per-user voice baseline).",
    "melstats": "Whisper's log-mel front end, per-band mean/std/delta-std statistics, MLP head (trained from "
                "scratch). `embedding` = the 242 statistics.",
    "yamnet": "YAMNet (AudioSet MobileNetV1, Apache-2.0) on 0.96-s patches, mean+std of its 1024-d patch embeddings, "
              "MLP head. `embedding` = the 2048-d pooled vector.",
}


def card(res: dict[str, Any]) -> str:
    v = res.get("weights_verification", {})
    enc = v.get("encoder_5s_vs_ctranslate2", {})
    q = res.get("quantization", {})
    sc = res["shipped_column"]
    chosen = res["combination_selection"]["chosen"]
    depth = res["selection"]["results"][res["selection"]["chosen"]]["recipe"]["depth"]
    files = [f for f in res["model_bytes"] if f != "total"]
    stacked = "meta.onnx" in files
    L = ["# Models", "",
         f"`default/` is the shipped emotion model (format `annamalai-model/1`, see `default/manifest.json`): "
         f"**{chosen}**. Every graph takes raw 16 kHz PCM `[batch, 80000]` (5-s segments; feature extraction inside "
         "the graph). Labels in output order: anger, bored, disgust, fear, happy, neutral, question, sad, surprise. "
         "**question is untrained** (no data): never offer it. **bored exists only in German** (EmoDB), so it is "
         "rarely predicted for other languages.", ""]
    for f in files:
        k = f.removesuffix(".onnx")
        if k in GRAPH_TEXT:
            hidden = res["selection"]["results"][res["selection"]["chosen"]]["recipe"]["hidden"]
            head = "linear probe" if hidden == 0 else f"MLP head ({hidden} hidden units)"
            L.append(f"- `{f}`: " + GRAPH_TEXT[k].format(depth=depth, head=head))
    if stacked:
        L.append("- `meta.onnx`: the report's meta learner, 18 -> 128 -> 128 -> 128 -> 9, ReLU, dropout 0.3, trained "
                 "on out-of-fold base logits (5 speaker-disjoint folds). Input `logits`, output `meta_logits`.")
    else:
        L.append("- No `meta.onnx`: on speaker-independent validation the report's stacked ensembles scored below the "
                 "Whisper head alone (table below), so the manifest has no `meta_model` and the runtime takes the "
                 "softmax of `whisper.onnx`'s logits. The training pipeline still builds and scores the ensembles in "
                 "every run and ships one as soon as it wins on validation.")
    L += ["", "## How it was chosen (leave-one-corpus-out first, speaker CV second)", ""] + choice_lines(res) + [""]
    L += ["## Weights: where from, how verified", "",
          f"- Source: {v.get('source')}; joined `model.bin` SHA-256 `{v.get('model_bin_sha256')}` "
          f"({v.get('model_bin_bytes')} bytes) matches the published faster-whisper-base conversion.",
          f"- Our PyTorch re-implementation, 5-s input (500 mel frames), vs CTranslate2's own encoder on two "
          f"espeak-ng sentences: max abs diff {enc.get('max_abs_diff', float('nan')):.2e}, cosine "
          f"{enc.get('cosine', float('nan')):.6f}; mel filters vs openai-whisper's mel_filters.npz: max abs diff "
          f"{v.get('mel_filters_max_abs_diff_vs_openai_whisper')}; our conv-DFT log-mel vs torch.stft: "
          f"{v.get('logmel_max_abs_diff_vs_torch_stft')}.",
          f"- int8 dynamic quantisation changed validation weighted F1 by {-q.get('weighted_f1_drop', 0) * 100:+.1f} "
          "points (rule: lose at most 1). `whisper.onnx` is "
          + ("int8." if q.get("shipped_int8") else
             "fp32 compute with its float16-born Whisper weights stored as float16 + Cast (bit-identical outputs). "
             + q.get("note", "")),
          ""]
    L += ["## Measured (run " + res["run_id"] + ")", "",
          f"Held-out speakers: {res['data']['test_speakers']} speakers never used in training or model choice, "
          f"{res['data']['test_clips']} clips from 8 corpora (TESS kept in training). Weighted F1 of every candidate "
          f"(shipped: `{sc}`):", ""]
    L += headline_table(res) + [""]
    so = res.get("shipped_onnx_test", {})
    if so:
        L += ["The shipped ONNX files themselves, end to end on the held-out speakers: " + ", ".join(
            f"{n.removeprefix('test_')} {_f(t['shipped']['weighted_f1'])}" for n, t in so.items()) + " weighted F1.", ""]
    tc = res["test"]["test_clean"]
    L += ["| corpus (clean, held-out speakers) | n | shipped |", "|---|---|---|"]
    L += [f"| {g[3:]} | {s[sc]['n']} | {_f(s[sc]['weighted_f1'])} |" for g, s in tc.items() if g.startswith("by:")]
    L += ["", "BAVED (Arabic) has only neutral clips: its score is neutral recall and cannot show whether the model "
          "learned 'Arabic means neutral'.", ""]
    if res.get("held_out_groups"):
        L += ["Whole corpus or language held out (trained on everything else; weighted F1 of the shipped "
              "combination): " + "; ".join(f"{g} {_f(t['shipped']['weighted_f1'])}"
                                           for g, t in res["held_out_groups"].items())
              + ". Unseen corpora score far lower than unseen speakers of seen corpora: expect less on recordings "
              "unlike any training corpus.", ""]
    if "random_70_15_15" in res:
        L += [f"The report's random stratified 70/15/15 protocol (speakers shared between train and test): "
              f"{_f(res['random_70_15_15'][sc]['weighted_f1'])} weighted F1 for the shipped model. It is higher "
              "because the test clips' voices and sentences were heard in training.", ""]
    if "timing_ms_per_segment" in res:
        tm = res["timing_ms_per_segment"]
        L += [f"Speed: {tm['total']:.1f} ms per 5-s segment (onnxruntime, batch 1, 2 threads, this shared 2-core CPU); "
              f"{res['flops_per_segment']['total'] / 1e9:.2f} GFLOPs per segment. Size: " + ", ".join(
                  f"{k} {b / 1e6:.2f} MB" for k, b in res["model_bytes"].items()) + ".", ""]
    if "voice_baseline" in res:
        L += card_lines(res["voice_baseline"])
    L += ["Full report: `training/reports/" + res["run_id"] + "/report.md`. Rebuild: `make -C training all`.", "",
          "## Data and licences", "",
          "Trained on 11 acted corpora (RAVDESS, TESS, EmoDB, EMOVO, Indian EmoSpeech, BAVED, emotiontts, ASED, "
          "TurEV-DB, AESDD, SAVEE; 9 languages); no corpus audio is in this repository. Whisper weights: MIT "
          "(OpenAI). RAVDESS CC BY-NC-SA 4.0, TESS CC BY-NC-ND 4.0, EmoDB and SAVEE research use, Indian EmoSpeech "
          "and emotiontts CC BY-NC-SA 4.0, TurEV-DB CC BY-NC-ND 4.0, EMOVO/BAVED/ASED/AESDD no licence stated. "
          "**The trained model is for non-commercial use only.** All corpora are acted speech: expect lower scores "
          "on natural speech.", ""]
    return "\n".join(L)


if __name__ == "__main__":
    rep = Path(sys.argv[1])
    out = Path(sys.argv[2])
    out.write_text(card(json.loads(rep.read_text())))
