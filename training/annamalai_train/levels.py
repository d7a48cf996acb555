"""End-to-end checks of exported graphs on audio: the quiet-speech curve (the same clip at 0, -10, -20, -30, -40 dB,
16-bit), and the previous model's numbers on the same clips (held-out speakers, and the corpora it never heard)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .audio import load_audio
from .calibrate import by_group
from .conditions import degrade
from .config import load_config
from .dataset import build_dataset
from .export import run_onnx
from .features import clip_rng
from .train import predict_labels, scores

GAINS = (0, -10, -20, -30, -40)


def gain_segments(files: list[str], root: Path, seed: int, gains: tuple[int, ...] = GAINS) -> dict[int, np.ndarray]:
    segs: dict[int, list[np.ndarray]] = {g: [] for g in gains}
    for f in files:
        x = load_audio(root / f)
        for g in gains:
            segs[g].append(degrade(x, f"gain{g}", clip_rng(seed, f"gain{g}", f)))
    return {g: np.stack(v) for g, v in segs.items()}


def quiet_curve(model: Path, segs: dict[int, np.ndarray], y: np.ndarray) -> dict[str, Any]:
    """Per gain: weighted F1, and the share of clips whose top emotion is the one given at 0 dB."""
    logits = {g: run_onnx(model, s)[0] for g, s in segs.items()}
    ref = predict_labels(logits[0])
    return {str(g): {"weighted_f1": scores(y, lg)["weighted_f1"],
                     "top_emotion_unchanged": float((predict_labels(lg) == ref).mean())} for g, lg in logits.items()}


def sample(idx: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(idx, min(n, len(idx)), replace=False))


def clean_segments(files: list[str], idx: np.ndarray, root: Path, seed: int) -> np.ndarray:
    return np.stack([degrade(load_audio(root / files[i]), "clean", clip_rng(seed, "clean", files[i])) for i in idx])


def corpora_study(model: Path, files: list[str], y: np.ndarray, corpus: np.ndarray, idx: np.ndarray, root: Path,
                  seed: int) -> dict[str, Any]:
    """A graph on whole corpora: weighted F1 and confidence per corpus."""
    lg = run_onnx(model, clean_segments(files, idx, root, seed))[0]
    return {"scores": {str(c): scores(y[idx][corpus[idx] == c], lg[corpus[idx] == c]) for c in np.unique(corpus[idx])},
            "calibration": by_group(y[idx], lg, corpus[idx])}


def main() -> None:
    """python -m annamalai_train.levels MODEL.onnx OUT.json [--test-logits report.json] [--unseen c1,c2] [--n 200]:
    a graph's quiet-speech curve on held-out-speaker clips, its numbers on whole corpora, and (from a report's
    stored logits) its confidence on the held-out speakers."""
    import argparse
    import json

    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--config", default="config.json")
    ap.add_argument("--test-logits")
    ap.add_argument("--test-corpora", default="", help="the corpora the stored test logits cover (comma list)")
    ap.add_argument("--unseen", default="")
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    cfg = load_config(Path(a.config))
    ds = build_dataset(cfg, False)
    root, seed = Path(cfg.paths.corpora), cfg.seed
    files = [c.file for c in ds.clips]
    test = np.flatnonzero(ds.fold == -1)
    res: dict[str, Any] = {"model": a.model}
    if a.test_logits:
        lg = np.array(json.loads(Path(a.test_logits).read_text())["test_logits_clean_shipped"], np.float32)
        t = test[np.isin(ds.corpus[test], a.test_corpora.split(","))] if a.test_corpora else test
        res["held_out_speakers"] = {**scores(ds.y[t], lg), "calibration": by_group(ds.y[t], lg, ds.corpus[t])}
    if a.unseen:
        res["unseen_corpora"] = corpora_study(Path(a.model), files, ds.y, ds.corpus,
                                              np.flatnonzero(np.isin(ds.corpus, a.unseen.split(","))), root, seed)
    q = sample(test, a.n, seed)
    res["quiet_curve"] = {"n": int(len(q)), **quiet_curve(Path(a.model), gain_segments([files[i] for i in q], root, seed),
                                                             ds.y[q])}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
