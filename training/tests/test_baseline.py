from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from annamalai_train import baseline as B
from annamalai_train import baseline_enrolment as E
from annamalai_train import baseline_norm as N
from annamalai_train import baseline_report as R
from annamalai_train.labels import LABELS, N_LABELS
from annamalai_train.models import MLPHead
from annamalai_train.train import Feats, fit_classifier, logits_of

torch.set_num_threads(1)  # the heads are small; more threads only contend on a shared machine
HP = {"hidden": 32, "dropout": 0.1, "epochs": 8, "lr": 0.003, "weight_decay": 0.0, "batch": 64}


def voices(seed: int) -> tuple[B.StudyData, Feats]:
    """Synthetic speakers whose voice offsets are larger than the emotion differences: the per-speaker baseline
    must win here; 2 corpora, 3 folds of dev speakers and a held-out fold."""
    rng = np.random.default_rng(seed)
    d, emos = 12, [LABELS.index(x) for x in ("anger", "happy", "neutral", "sad")]
    emo_dir = rng.normal(size=(N_LABELS, d))
    y, spk, corpus, fold, x = [], [], [], [], []
    for s in range(30):
        voice = 3.0 * rng.normal(size=d)
        for e in emos:
            for _ in range(10):
                y.append(e)
                spk.append(f"s{s}")
                corpus.append("a" if s % 2 else "b")
                fold.append(-1 if s >= 24 else s % 3)
                x.append(voice + emo_dir[e] + 0.5 * rng.normal(size=d))
    n = len(y)
    study = B.StudyData(np.array(y), np.array(spk), np.array(corpus), np.array(fold), np.ones(n), ("clean",))
    return study, Feats({"v": np.array(x, np.float32)}, np.arange(n), np.full(n, "clean"))


def test_the_study_finds_the_gain_on_voices_that_dominate_and_exports_a_rule(tmp_path: Path) -> None:
    d, bank = voices(0)

    def train_main(clips: np.ndarray) -> E.Main:  # the embedding is the feature itself; the main head an MLP on it
        head = fit_classifier(MLPHead(12, 32, 0.1), torch.from_numpy(bank.by_kind["v"][clips]), d.y[clips],
                              np.ones(len(clips)), HP, 0)
        return E.Main(lambda rows: bank.by_kind["v"][rows], lambda rows: logits_of(head, torch.from_numpy(bank.by_kind["v"][rows])))

    dev = np.flatnonzero(d.fold >= 0)
    out = B.run_study(d, bank, train_main, train_main(dev), HP, 0, draws=1, train_draws=1, log=lambda _: None)
    ch = out["choice"]
    assert ch["chosen"] is not None and ch["min_recordings"] is not None
    held = out["held_out"][ch["chosen"]]["varied"]["10"]["all"]
    assert held["delta"] > 0.1 and held["speakers"] == 6
    assert set(out["dev_cv"]) == {N.Rule(n, k).name for n, k in N.CANDIDATES}
    assert out["export"]["min_recordings"] == ch["min_recordings"] and out["export"]["temperature"] > 0
    summary = R.write_study(out, tmp_path)  # the report files and the model card's section say the same
    md = (tmp_path / "baseline.md").read_text()
    assert f"Chosen: **{ch['chosen']}**, min_recordings **{ch['min_recordings']}**" in md and "| varied | 10 |" in md
    assert json.loads((tmp_path / "baseline.json").read_text())["export"]["min_recordings"] == ch["min_recordings"]
    row = next(line for line in R.card_lines(summary) if line.startswith("| varied |"))
    assert f"({100 * held['delta']:+.1f})" in row
