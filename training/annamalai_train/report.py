"""Markdown report and confusion-matrix PNG from report.json results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .config import load_config
from .dataset import Dataset, build_dataset
from .labels import LABELS, TRAINED_IDX
from .reliability_plot import reliability_png
from .train import predict_labels


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


def metric_table(t: dict[str, Any], models: list[str]) -> list[str]:
    out = ["| model | n | accuracy | weighted F1 | macro F1 |", "|---|---|---|---|---|"]
    for m in models:
        if m in t:
            s = t[m]
            out.append(f"| {m} | {s['n']} | {_f(s['accuracy'])} | {_f(s['weighted_f1'])} | {_f(s['macro_f1'])} |")
    return out


def group_table(t: dict[str, Any], prefix: str, models: list[str], label: str, key: str = "weighted_f1") -> list[str]:
    """Rows: groups under prefix (e.g. 'by:'); columns: models."""
    out = [f"| {label} | n | " + " | ".join(models) + " |", "|---|---|" + "---|" * len(models)]
    for g, v in t.items():
        if g.startswith(prefix):
            n = next(iter(v.values()))["n"]
            out.append(f"| {g[len(prefix):]} | {n} | " + " | ".join(_f(v[m][key]) for m in models if m in v) + " |")
    return out


CONDITIONS = (("test_clean", "clean"), ("test_opus32", "Opus 32 kbit/s round trip"),
              ("test_noise10", "pink noise, 10 dB SNR"))


def headline_table(res: dict[str, Any]) -> list[str]:
    """Held-out speakers, each condition: weighted F1 of every column, and the shipped one's accuracy, macro F1."""
    cols: list[str] = res["columns"]
    sc = res["shipped_column"]
    out = ["| condition (held-out speakers) | " + " | ".join(cols) + " | shipped acc | shipped macro F1 |",
           "|---|" + "---|" * (len(cols) + 2)]
    for name, label in CONDITIONS:
        if name in res["test"]:
            s = res["test"][name]
            out.append(f"| {label} | " + " | ".join(_f(s[m]["weighted_f1"]) for m in cols)
                       + f" | {_f(s[sc]['accuracy'])} | {_f(s[sc]['macro_f1'])} |")
    return out


def choice_lines(res: dict[str, Any]) -> list[str]:
    """The head recipe chosen on LOCO (speaker CV second), with every recipe's two criteria."""
    sel = res["selection"]
    L = [f"- Head recipe: **{sel['chosen']}** ({sel['criterion']}).", "",
         "| recipe | LOCO mean (primary) | LOCO mean, corpora only | LOCO mean incl. single-label folds | "
         "speaker CV corpus-mean wF1 | speaker CV wF1 |", "|---|---|---|---|---|---|"]
    for n, r in sel["results"].items():
        cv = r["speaker_cv"]
        L.append(f"| {n}{' (chosen)' if n == sel['chosen'] else ''} | {_f(r['loco_mean'])} | "
                 f"{_f(r['loco_mean_corpora'])} | {_f(r['loco_mean_all_folds'])} | "
                 f"{_f(cv['corpus_mean_weighted_f1'])} | {_f(cv['weighted_f1'])} |")
    c = res.get("combination_selection")
    if c:
        L += ["", f"- What ships: **{c['chosen']}** ({c['criterion']}):", "",
              "| candidate | dev CV weighted F1 | dev CV corpus-mean weighted F1 |", "|---|---|---|"]
        L += [f"| {n} | {_f(v['weighted_f1'])} | {_f(v['corpus_mean_weighted_f1'])} |" for n, v in c["dev_cv"].items()]
    return L


def loco_table(sel: dict[str, Any], previous: dict[str, float] | None = None) -> list[str]:
    """Rows: held-out groups; columns: recipes (and the previous model where known)."""
    names = list(sel["results"])
    first = sel["results"][names[0]]["loco"]
    head = "| held out | n scored | labels | " + " | ".join(names) + (" | previous model |" if previous else " |")
    L = [head, "|---|---|---|" + "---|" * (len(names) + (1 if previous else 0))]
    for g, s0 in first.items():
        row = f"| {g}{' (single label: not averaged)' if s0['degenerate'] else ''} | {s0['n']} | {s0['labels']} | "
        row += " | ".join(_f(sel["results"][n]["loco"][g]["weighted_f1"]) for n in names)
        if previous:
            row += f" | {_f(previous[g]) if g in previous else '-'}"
        L.append(row + " |")
    return L


def band_row(where: str, method: str, a: dict[str, Any]) -> str:
    return (f"| {where} | {method} | {a['n']} | {_f(a['accuracy'])} | {_f(a['ece'])} | {_f(a['green_share'])} | "
            f"{_f(a['green_precision'])} | {_f(a['orange_precision'])} | {_f(a['red_precision'])} |")


def calibration_lines(cal: dict[str, Any], previous: dict[str, Any] | None = None) -> list[str]:
    """Colour bands and ECE: LOCO (cross-fitted per corpus) and held-out speakers, per method (and the previous
    model on its held-out speakers and on the corpora it never heard); then per corpus."""
    L = [f"T(x) fitted on {cal['fitted_on']}; parameters " + json.dumps(cal["params"]) + ".", "",
         "| set | method | n | accuracy | ECE | green share | green precision | orange precision | red precision |",
         "|---|---|---|---|---|---|---|---|---|"]
    for where in ("loco", "held_out_speakers"):
        for m, t in cal[where].items():
            L.append(band_row(where.replace("_", " "), m, t["all"]))
    if previous:
        if "held_out_speakers" in previous:
            L.append(band_row("held out speakers (its 8 corpora)", "previous model", previous["held_out_speakers"]
                              ["calibration"]["all"]))
        if "unseen_corpora" in previous:
            for g, a in previous["unseen_corpora"]["calibration"].items():
                L.append(band_row(f"never heard by it: {g}", "previous model", a))
    for where in ("loco", "held_out_speakers"):
        t = cal[where]["familiarity temperature"]
        L += ["", f"Per corpus ({where.replace('_', ' ')}, familiarity temperature):", "",
              "| corpus | n | accuracy | ECE | green n | green precision | orange n | orange precision | red n |",
              "|---|---|---|---|---|---|---|---|---|"]
        for g, a in t.items():
            if g != "all":
                L.append(f"| {g} | {a['n']} | {_f(a['accuracy'])} | {_f(a['ece'])} | {a['green_n']} | "
                         f"{_f(a['green_precision'])} | {a['orange_n']} | {_f(a['orange_precision'])} | {a['red_n']} |")
        L += ["", "Reliability (all clips): " + "; ".join(
            f"{b['from']:.1f}-{b['to']:.1f}: n {b['n']}, conf {_f(b['confidence'])}, acc {_f(b['accuracy'])}"
            for b in t["all"]["bins"])]
    return L + [""]


def quiet_lines(curves: dict[str, dict[str, Any]]) -> list[str]:
    """The same held-out-speaker clips at 0..-40 dB (16-bit): weighted F1 and top emotion unchanged vs 0 dB."""
    gains = [g for g in next(iter(curves.values())) if g != "n"]
    L = ["| model | clips | " + " | ".join(f"{g} dB: wF1 / unchanged" for g in gains) + " |",
         "|---|---|" + "---|" * len(gains)]
    for name, c in curves.items():
        L.append(f"| {name} | {c['n']} | " + " | ".join(
            f"{_f(c[g]['weighted_f1'])} / {c[g]['top_emotion_unchanged'] * 100:.0f} %" for g in gains) + " |")
    return L + [""]


def write_report(res: dict[str, Any], rep_dir: Path, ds: Dataset, y_test: np.ndarray, shipped_logits: np.ndarray) -> None:
    sc = res["shipped_column"]
    cols: list[str] = res["columns"]
    kinds = [k for k in cols if not k.startswith("stacked")]
    confusion_png(y_test, shipped_logits, rep_dir / "confusion.png", f"{sc}, held-out speakers, clean")
    if "calibration" in res:
        reliability_png(res["calibration"], rep_dir / "reliability.png")
    d = res["data"]
    L: list[str] = [f"# Training report {res['run_id']}", ""]
    if res.get("config", {}).get("partial_features"):
        L += [f"**Partial run**: trained and scored on the {d['labelled_clips']} labelled clips whose features were "
              "cached when it ran (a seeded random sample of all clips; augmented copies and the Opus/noise test "
              "conditions only where cached). Its numbers estimate the full run's; it never ships.", ""]
    L += ["Every number here was measured in this run. Metrics are on 5-s windows (clip start, zero-padded), "
          "weighted F1 over the labels present in each set; predictions take the argmax over trained labels only. "
          "Columns: each base model alone, and the report's meta learner (18 -> 128 -> 128 -> 128 -> 9, dropout 0.3) "
          "over Whisper and one B model, with class-weighted CE (the report's) or plain CE.", ""]
    L += ["## Data and splits", "",
          f"- {d['labelled_clips']} labelled clips; dev {d['dev_clips']} clips / {d['dev_speakers']} speakers "
          f"(5 speaker-disjoint folds); held-out test {d['test_clips']} clips / {d['test_speakers']} speakers "
          "(about 20% of each corpus's speakers; TESS's two speakers stay in dev, since a one-speaker TESS test would "
          "dominate the pooled numbers and says little about unseen voices). No speaker is in two splits.",
          "- 'bored' exists only in German (EmoDB). 'question' has no data: untrained, never offered.",
          "- Augmentation (one augmented copy of a share of the dev clips): mid-word cuts, speed/pitch 0.9-1.1, "
          "white/pink/brown noise at 5-25 dB SNR, Opus 24/32 kbit/s round trip (each with probability 0.5-0.6), then "
          "gain -40..+6 dB with a device noise floor at -80..-60 dBFS (probability 0.5) and 16-bit rounding.",
          "- Loudness: every window is normalised inside the graph before the log-mel front end (loudest 20 % of "
          "25-ms frames to -20 dBFS, gain capped at +50 dB); the cached features went through the same.", ""]
    L += ["## Choices: leave-one-corpus-out first, speaker CV second (held-out speakers never used to choose)", ""]
    L += choice_lines(res) + [""]
    L += ["## Whole corpora and languages held out (LOCO)", "",
          "Trained on the dev speakers of every other corpus, scored on every clip of the held-out group, over the "
          "labels the fold trained (EmoDB's 'bored' exists nowhere else and is dropped when EmoDB is held out). "
          "BAVED has only neutral: its score is neutral F1, which rewards answering 'neutral' to Arabic; it is "
          "listed, not averaged. The previous model's column: its own report's hold-outs (trained on the other 8 "
          "of its 9 corpora, scored over the labels present) and, for AESDD and SAVEE, which it never heard, its "
          "shipped graph itself.", ""] + loco_table(res["selection"], res.get("previous_loco")) + [""]
    if "calibration" in res:
        L += ["## Confidence (colour bands: green >= 80 %, orange 60-80 %, red < 60 %)", ""]
        L += calibration_lines(res["calibration"], res.get("previous_model"))
        L += ["Reliability diagrams per corpus, LOCO and held-out speakers: reliability.png.", ""]
    if "quiet_curve" in res:
        curves = {"new": res["quiet_curve"]}
        if "previous_model" in res and "quiet_curve" in res["previous_model"]:
            curves["previous"] = res["previous_model"]["quiet_curve"]
        L += ["## Quiet speech (the same clip 0 to 40 dB quieter, 16-bit)", ""] + quiet_lines(curves)
    if "ship_gate" in res:
        L += ["## Ship gate", "", json.dumps(res["ship_gate"]), ""]
    L += ["## Held-out speakers (final test)", ""] + headline_table(res) + [""]
    if "shipped_onnx_test" in res:
        L += ["The shipped ONNX files end to end (audio degraded afresh with the same seeds), held-out speakers:", ""]
        L += ["| condition | n | accuracy | weighted F1 | macro F1 |", "|---|---|---|---|---|"]
        for name, label in CONDITIONS:
            if name in res["shipped_onnx_test"]:
                s = res["shipped_onnx_test"][name]["shipped"]
                L.append(f"| {label} | {s['n']} | {_f(s['accuracy'])} | {_f(s['weighted_f1'])} | {_f(s['macro_f1'])} |")
        L += [""]
    tc = res["test"]["test_clean"]
    L += ["Weighted F1 by corpus (clean):", ""] + group_table(tc, "by:", cols, "corpus") + [""]
    L += ["Weighted F1 by language (clean):", ""] + group_table(tc, "lang:by:", cols, "language") + [""]
    L += ["Mean over corpora of weighted F1 (clean): " + ", ".join(
        f"{k} {_f(v)}" for k, v in tc["corpus_mean_weighted_f1"].items()), ""]
    L += ["## Dev cross-validation (speaker-independent, out-of-fold)", ""] + metric_table(res["dev_cv"], cols) + [""]
    L += group_table(res["dev_cv"], "by:", cols, "corpus") + [""]
    if res.get("held_out_groups"):
        first = next(iter(res["held_out_groups"].values()))
        gcols = [k for k in kinds if k in first] + ["shipped"]
        L += ["## Whole corpora and languages held out", "",
              "Trained on the dev speakers of everything else, tested on every clip of the group; 'shipped' is the "
              "shipped combination retrained that way. Languages that are a single corpus are its corpus row.", "",
              "| held out | n | " + " | ".join(gcols) + " |", "|---|---|" + "---|" * len(gcols)]
        for g, t in res["held_out_groups"].items():
            L.append(f"| {g} | {t['shipped']['n']} | " + " | ".join(_f(t[m]["weighted_f1"]) for m in gcols) + " |")
        L += [""]
    if "random_70_15_15" in res:
        r = res["random_70_15_15"]
        L += ["## The report's protocol: random stratified 70/15/15 over clips", ""]
        L += metric_table(r, [k for k in r if "n" in r[k]]) + [""]
        L += ["Clips of the same speaker (and often the same sentence) land in train and test, so the model is scored "
              "partly on recognising voices and recordings it has heard; the speaker-independent numbers above are "
              "what a new user gets.", ""]
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
              f" (drop {q['weighted_f1_drop'] * 100:.2f} points); shipped int8: {q['shipped_int8']}. {q.get('note', '')}",
              ""]
    if "timing_ms_per_segment" in res:
        L += ["## Speed, size, compute", "", "Median ms per 5-s segment, onnxruntime (Python) CPU, batch 1, 2 threads, "
              "on this shared 2-core machine:", ""]
        L += [f"- {k}: {v:.1f} ms" for k, v in res["timing_ms_per_segment"].items()]
        L += ["- files: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in res["model_bytes"].items())]
        L += ["- FLOPs per 5-s segment (2 per multiply-add; matrix products and convolutions, counted by "
              "torch.utils.flop_counter on the exported modules): "
              + ", ".join(f"{k} {v / 1e9:.2f} G" for k, v in res["flops_per_segment"].items()), ""]
    if "layer_weights" in res:
        L += [f"Learned Whisper layer weights (blocks 1..n): {[round(x, 3) for x in res['layer_weights']]}", ""]
    if "total_time_s" in res:
        L += [f"Wall time of the last (resumed, partly cached) pass: {res['total_time_s'] / 60:.1f} min; feature "
              "extraction is cached separately and not included.", ""]
    L += [f"Confusion matrix: confusion.png ({sc}, held-out speakers, clean).", ""]
    (rep_dir / "report.md").write_text("\n".join(L))


if __name__ == "__main__":  # re-render report.md and confusion.png from report.json
    import sys

    rj = Path(sys.argv[1])
    res = json.loads(rj.read_text())
    ds = build_dataset(load_config(Path(sys.argv[2]) if len(sys.argv) > 2 else Path("config.json")), False)
    yt = ds.y[ds.fold == -1]
    write_report(res, rj.parent, ds, yt, np.array(res["test_logits_clean_shipped"], dtype=np.float32))
