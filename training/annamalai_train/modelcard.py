"""Write models/README.md from a run's report.json (the measured table, data, licences, verification)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .report import MODELS, _f, headline_table


def card(res: dict[str, Any]) -> str:
    v = res.get("weights_verification", {})
    enc = v.get("encoder_5s_vs_ctranslate2", {})
    t = res["test"]["test_clean"]
    q = res.get("quantization", {})
    L = ["# Models", "",
         "`default/` is the shipped emotion model (format `annamalai-model/1`, see `default/manifest.json`): two base "
         "graphs that take raw 16 kHz PCM `[batch, 80000]` (5-s segments; log-mel front end inside the graph) and a "
         "meta learner over their concatenated logits. Labels in output order: anger, bored, disgust, fear, happy, "
         "neutral, question, sad, surprise. **question is untrained** (no data): never offer it. **bored exists only "
         "in German** (EmoDB), so it is rarely predicted for other languages.", "",
         "- `whisper.onnx`: OpenAI Whisper base encoder cut after block "
         f"{res['config']['encoder']['n_blocks']} (of 6), 5-s window = 250 positions (the first 250 positional "
         "embeddings), mean+std pooling of each block's output, learned softmax weighting of the blocks, MLP head. "
         "Its `embedding` output is the pooled, weighted 1024-d vector (for a per-user voice baseline).",
         "- `melstats.onnx`: Whisper's log-mel front end, per-band mean/std/delta-std statistics, MLP head "
         "(trained from scratch). `embedding` = the 242 statistics.",
         "- `meta.onnx`: the report's meta learner, 18 -> 128 -> 128 -> 128 -> 9, ReLU, dropout 0.3, trained on "
         "out-of-fold base logits (5 speaker-disjoint folds). Input `logits`, output `meta_logits` "
         "(ONNX cannot give an input and an output the same name).", "",
         "## Weights: where from, how verified", "",
         f"- Source: {v.get('source')}; joined `model.bin` SHA-256 `{v.get('model_bin_sha256')}` "
         f"({v.get('model_bin_bytes')} bytes) matches the published faster-whisper-base conversion.",
         f"- Our PyTorch re-implementation, 5-s input (500 mel frames), vs CTranslate2 4.6.1's own encoder on two "
         f"espeak-ng sentences: max abs diff {enc.get('max_abs_diff', float('nan')):.2e}, cosine "
         f"{enc.get('cosine', float('nan')):.6f}; mel filters vs openai-whisper's mel_filters.npz: max abs diff "
         f"{v.get('mel_filters_max_abs_diff_vs_openai_whisper')}; our conv-DFT log-mel vs torch.stft: "
         f"{v.get('logmel_max_abs_diff_vs_torch_stft')}.",
         f"- int8 dynamic quantisation cost {q.get('weighted_f1_drop', 0) * 100:.1f} points of validation weighted F1 "
         f"(> 1 point), so `whisper.onnx` is fp32 compute"
         + (" with its float16-born Whisper weights stored as float16 + Cast (bit-identical outputs)."
            if not q.get("shipped_int8") else " (int8 shipped)."), "",
         "## Measured (run " + res["run_id"] + ")", "",
         f"Held-out speakers: {res['data']['test_speakers']} speakers never used in training or model choice, "
         f"{res['data']['test_clips']} clips from 8 corpora (TESS kept in training). Weighted F1:", ""]
    L += headline_table(res) + [""]
    L += ["| corpus (clean) | n | " + " | ".join(MODELS) + " |", "|---|---|---|---|---|"]
    for g, s in t.items():
        if g.startswith("by:"):
            L.append(f"| {g[3:]} | {s['ensemble']['n']} | " + " | ".join(_f(s[m]["weighted_f1"]) for m in MODELS) + " |")
    dv = res["dev_cv"]
    L += ["", "Caveats, measured: the Whisper head alone beats the stacked ensemble (dev CV weighted F1 "
          f"{_f(dv['whisper']['weighted_f1'])} vs {_f(dv['ensemble']['weighted_f1'])}; held-out "
          f"{_f(t['whisper']['weighted_f1'])} vs {_f(t['ensemble']['weighted_f1'])}), so by validation a "
          "whisper-only model would be the better ship. BAVED (Arabic) has only neutral clips: its score is neutral "
          "recall and cannot show whether the model learned 'Arabic means neutral'. Unseen whole corpora score far "
          "lower than unseen speakers of seen corpora (below).", ""]
    if "random_70_15_15" in res:
        L += [f"The report's random stratified 70/15/15 protocol (speakers shared between train and test): ensemble "
              f"weighted F1 {_f(res['random_70_15_15']['ensemble']['weighted_f1'])}, whisper alone "
              f"{_f(res['random_70_15_15']['whisper']['weighted_f1'])}. It is higher because the test clips' voices "
              "and sentences were heard in training.", ""]
    if res.get("leave_one_corpus_out"):
        L += ["Whole corpus held out (weighted F1, whisper / ensemble): " + "; ".join(
            f"{c} {_f(x['whisper']['weighted_f1'])} / {_f(x['ensemble']['weighted_f1'])}"
            for c, x in res["leave_one_corpus_out"].items()) + ".", ""]
    if "timing_ms_per_segment" in res:
        tm = res["timing_ms_per_segment"]
        L += [f"Speed: {tm['ensemble_total']:.1f} ms per 5-s segment for the whole ensemble (onnxruntime, batch 1, "
              "2 threads, this shared 2-core CPU). Size: " + ", ".join(
                  f"{k} {b / 1e6:.2f} MB" for k, b in res["model_bytes"].items()) + ".", ""]
    L += ["Full report: `training/reports/" + res["run_id"] + "/report.md`. Rebuild: `make -C training all`.", "",
          "## Data and licences", "",
          "Trained on 9 acted corpora (RAVDESS, TESS, EmoDB, EMOVO, Indian EmoSpeech, BAVED, emotiontts, ASED, "
          "TurEV-DB; 8 languages); no corpus audio is in this repository. Whisper weights: MIT (OpenAI). "
          "RAVDESS CC BY-NC-SA 4.0, TESS CC BY-NC-ND 4.0, EmoDB research use, Indian EmoSpeech and emotiontts "
          "CC BY-NC-SA 4.0, TurEV-DB CC BY-NC-ND 4.0, EMOVO/BAVED/ASED no licence stated. **The trained model is "
          "for non-commercial use only.** All corpora are acted speech: expect lower scores on natural speech.", ""]
    return "\n".join(L)


if __name__ == "__main__":
    rep = Path(sys.argv[1])
    out = Path(sys.argv[2])
    out.write_text(card(json.loads(rep.read_text())))
