"""Corpus metadata and speaker-independent splits."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .labels import LABELS


@dataclass
class Clip:
    file: str
    corpus: str
    speaker: str
    language: str
    label: str
    y: int


def load_metadata(corpora: Path) -> list[Clip]:
    """Labelled clips only (rows whose mapped label is empty are dropped, as in the report)."""
    out: list[Clip] = []
    with open(corpora / "metadata.csv", newline="") as f:
        for r in csv.DictReader(f):
            if not r["label"]:
                continue
            out.append(Clip(r["file"], r["corpus"], r["speaker"], r["language"], r["label"], LABELS.index(r["label"])))
    return out


def speaker_splits(
    clips: list[Clip], test_frac: float, n_folds: int, seed: int, no_test: tuple[str, ...] = (),
    late: tuple[str, ...] = (),
) -> dict[str, int]:
    """speaker -> fold: -1 = held-out final test, 0..n_folds-1 = dev CV folds.

    Per corpus, a seeded shuffle of its speakers; round(test_frac * n) (at least 1 when the corpus
    has 2 or more speakers, and is not in no_test) go to test; the rest are dealt to folds so no speaker is in two splits.
    Corpora in `late` (added after earlier runs) are dealt after all others, so the earlier corpora keep exactly
    the speakers they had: an earlier model's held-out speakers stay unheard by it.
    """
    rng = np.random.default_rng(seed)
    by_corpus: dict[str, list[str]] = {}
    for c in clips:
        by_corpus.setdefault(c.corpus, [])
        if c.speaker not in by_corpus[c.corpus]:
            by_corpus[c.corpus].append(c.speaker)
    assign: dict[str, int] = {}
    offset = 0
    for corpus in sorted(by_corpus, key=lambda c: (c in late, c)):
        spk = sorted(by_corpus[corpus])
        rng.shuffle(spk)
        n_test = max(1, round(test_frac * len(spk))) if len(spk) >= 2 and corpus not in no_test else 0
        for s in spk[:n_test]:
            assign[s] = -1
        for i, s in enumerate(spk[n_test:]):
            assign[s] = (i + offset) % n_folds
        offset += len(spk) - n_test
    return assign


def random_stratified_split(y: np.ndarray, seed: int, fracs: tuple[float, float, float] = (0.7, 0.15, 0.15)) -> np.ndarray:
    """The report's protocol: random clip-level stratified 70/15/15 (0=train, 1=val, 2=test)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(len(y), dtype=np.int64)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        n_tr = int(round(fracs[0] * len(idx)))
        n_va = int(round(fracs[1] * len(idx)))
        out[idx[n_tr : n_tr + n_va]] = 1
        out[idx[n_tr + n_va :]] = 2
    return out


def corpus_weights(corpus: np.ndarray, mode: str) -> np.ndarray:
    """Per-clip weights: 'none' (1), 'sqrt' (each corpus total ∝ sqrt(size)), 'equal'."""
    w = np.ones(len(corpus), dtype=np.float64)
    if mode == "none":
        return w
    names, counts = np.unique(corpus, return_counts=True)
    for n, c in zip(names, counts, strict=True):
        w[corpus == n] = (np.sqrt(c) / c) if mode == "sqrt" else (1.0 / c)
    return w * len(w) / w.sum()
