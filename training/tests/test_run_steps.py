from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from annamalai_train.config import HeadParams, load_config
from annamalai_train.data import Clip
from annamalai_train.dataset import Dataset
from annamalai_train.loco import Recipe, Split
from annamalai_train.runall import (
    SINGLE,
    Choice,
    RunPaths,
    carried_over,
    choose_combination,
    columns,
    data_summary,
    keep_blocks,
    score_tables,
    stacked_name,
    train_candidates,
)
from annamalai_train.train import bank_from

from .conftest import TRAINING

HP = HeadParams(hidden=8, dropout=0.0, epochs=2, lr=1e-2, weight_decay=0.0, batch=16)


def tiny_dataset(n: int = 60, seed: int = 0) -> Dataset:
    """3 corpora, 12 speakers (2 held out), 3 labels; Whisper-shaped [n, 3 layers, 4] and melstats-shaped [n, 5]
    features under the clean condition only, the label written into them so heads can learn."""
    rng = np.random.default_rng(seed)
    y = rng.choice([0, 3, 4], size=n)
    speaker = np.array([f"s{i % 12}" for i in range(n)])
    corpus = np.array([f"c{(i % 12) % 3}" for i in range(n)])
    fold = np.array([-1 if (i % 12) < 2 else (i % 12) % 5 for i in range(n)])
    clips = [Clip(f"f{i}.wav", str(corpus[i]), str(speaker[i]), "en", "x", int(y[i])) for i in range(n)]
    ds = Dataset(clips, y, corpus, np.full(n, "en"), speaker, fold)
    wh = rng.standard_normal((n, 3, 4)).astype(np.float32) + y[:, None, None].astype(np.float32)
    ms = rng.standard_normal((n, 5)).astype(np.float32) + y[:, None].astype(np.float32)
    ds.feats["clean"] = (np.arange(n), {"whisper": wh, "melstats": ms})
    return ds


def tiny_choice(ds: Dataset) -> Choice:
    cfg = replace(load_config(TRAINING / "config.json"), seed=0, conditions_test=(), head_whisper=HP, head_melstats=HP,
                  meta=HP, extra_bases=())
    recipe = Recipe("tiny", depth=2, hidden=8, weighting="none", augment=False, epochs=2, dropout=0.0)
    return Choice({}, Split(ds.y, ds.corpus, ds.language, ds.speaker, ds.fold), recipe, cfg, ("clean",),
                  np.ones(len(ds.y)))


def test_data_summary_counts_each_split_and_refuses_a_speaker_in_both() -> None:
    ds = tiny_dataset()
    d = data_summary(ds)
    assert (d["labelled_clips"], d["dev_clips"], d["test_clips"]) == (60, 50, 10)
    assert (d["dev_speakers"], d["test_speakers"]) == (10, 2)
    ds.fold[ds.speaker == "s5"] = np.where(np.arange(int((ds.speaker == "s5").sum())) == 0, -1, 0)
    with pytest.raises(AssertionError, match="speaker in two splits"):
        data_summary(ds)


def test_carried_over_keeps_only_the_standardisation_curve_of_an_earlier_pass(tmp_path: Path) -> None:
    assert carried_over(tmp_path) == {}
    (tmp_path / "report.json").write_text(json.dumps({"per_speaker_standardisation": {"n_eval": 3}, "test": {}}))
    assert carried_over(tmp_path) == {"per_speaker_standardisation": {"n_eval": 3}}


def test_keep_blocks_keeps_the_first_blocks_of_the_whisper_features_only() -> None:
    bank = bank_from(tiny_dataset().feats)
    before = bank.by_kind["whisper"].copy()
    keep_blocks(bank, 2)
    assert bank.by_kind["whisper"].shape == (60, 2, 4)
    np.testing.assert_array_equal(bank.by_kind["whisper"], before[:, :2])
    assert bank.by_kind["melstats"].shape == (60, 5)


def test_candidates_combination_and_score_tables_from_cached_features(tmp_path: Path) -> None:
    ds = tiny_dataset()
    bank = bank_from(ds.feats)
    keep_blocks(bank, 2)
    paths = RunPaths(tmp_path / "rep", tmp_path, tmp_path / "ex", tmp_path / "model")
    paths.ex.mkdir()
    trained = train_candidates(tiny_choice(ds), ds, bank, paths)
    assert trained.kinds == ("whisper", "melstats")
    assert set(trained.evals) == {"test_clean"}
    assert set(trained.cands) == {SINGLE, stacked_name("melstats", True), stacked_name("melstats", False)}
    assert (paths.ex / "main.pt").exists()  # checkpointed: a resumed run trains nothing again

    combo = choose_combination(trained.cands, ds)
    assert combo.chosen == SINGLE and not combo.stacked  # the stacked ones have no LOCO score: reported, not chosen
    assert columns(combo, trained) == {"columns": ["whisper", "melstats", *[n for n in trained.cands if n != SINGLE]],
                                       "shipped_column": "whisper"}
    t = score_tables(trained, combo, ds)
    assert t["dev_cv"]["whisper"]["n"] == 50 and t["test"]["test_clean"]["whisper"]["n"] == 10
    assert set(t["test"]["test_clean"]["corpus_mean_weighted_f1"]) == {"whisper", "melstats", *trained.cands} - {SINGLE}
    assert np.array(t["test_logits_clean_shipped"]).shape == (10, 9)

    again = train_candidates(tiny_choice(ds), ds, bank, paths)
    np.testing.assert_array_equal(again.main["oof"]["whisper"], trained.main["oof"]["whisper"])
