from __future__ import annotations

from typing import Any

import numpy as np
import torch

from annamalai_train.calibrate import CalibratedHead, Familiarity, calibrated, fit_ab, reliability
from annamalai_train.labels import LABELS, N_LABELS
from annamalai_train.loco import choose, clip_weights, familiarity, heldout_score, loco_groups, loco_means
from annamalai_train.models import WhisperHead


def test_loco_groups_are_every_corpus_and_only_languages_that_span_several() -> None:
    corpus = np.array(["ravdess", "tess", "emospeech", "emospeech", "emodb"])
    language = np.array(["en", "en", "en", "hi", "de"])
    g = loco_groups(corpus, language)
    assert set(g) == {"corpus ravdess", "corpus tess", "corpus emospeech", "corpus emodb", "language en"}
    assert g["language en"].tolist() == [True, True, True, False, False]


def test_heldout_score_drops_labels_the_fold_never_trained_and_flags_one_label_corpora() -> None:
    bored, anger, neutral = LABELS.index("bored"), LABELS.index("anger"), LABELS.index("neutral")
    trained = np.ones(N_LABELS, bool)
    trained[bored] = False
    y = np.array([anger, anger, bored, neutral])
    logits = np.zeros((4, N_LABELS), np.float32)
    logits[[0, 1, 3], [anger, anger, neutral]] = 5
    s = heldout_score(y, logits, trained)
    assert s["n"] == 3 and s["n_dropped_untrained_label"] == 1 and s["weighted_f1"] == 1.0 and not s["degenerate"]
    only = heldout_score(np.array([neutral, neutral]), logits[[3, 3]], trained)
    assert only["degenerate"]
    means = loco_means({"corpus a": {**s, "weighted_f1": 0.5}, "corpus baved": only})
    assert means["loco_mean"] == 0.5 and means["loco_mean_all_folds"] == 0.75


def test_balanced_weights_give_every_corpus_and_every_speaker_within_it_the_same_total() -> None:
    corpus = np.array(["a"] * 10 + ["b"] * 2)
    speaker = np.array(["a1"] * 9 + ["a2"] + ["b1", "b2"])
    w = clip_weights(corpus, speaker, "balanced")
    assert np.isclose(w[:10].sum(), w[10:].sum()) and np.isclose(w[:9].sum(), w[9])


def test_choose_prefers_loco_but_not_at_the_cost_of_unseen_speakers() -> None:
    def r(loco: float, cv: float) -> dict[str, Any]:
        return {"loco_mean": loco, "speaker_cv": {"corpus_mean_weighted_f1": cv}}

    res = {"old": r(0.30, 0.78), "probe": r(0.40, 0.775), "overfit_to_new": r(0.50, 0.70)}
    assert choose(res, "old") == "probe"


def test_choose_never_takes_a_recipe_deeper_than_the_budgets_allow() -> None:
    def r(loco: float, depth: int) -> dict[str, Any]:
        return {"loco_mean": loco, "speaker_cv": {"corpus_mean_weighted_f1": 0.78}, "recipe": {"depth": depth}}

    res = {"old": r(0.30, 3), "four": r(0.40, 4), "six": r(0.45, 6)}
    assert choose(res, "old") == "six"
    assert choose(res, "old", max_depth=4) == "four"


def test_familiarity_temperature_is_fitted_hotter_for_unfamiliar_clips_and_the_graph_applies_it() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    fam = rng.uniform(0, 3, n)
    y = rng.integers(0, 5, n)
    # overconfident everywhere, and right less often the less familiar the clip is
    right = rng.random(n) < 0.95 - 0.25 * fam
    pred = np.where(right, y, (y + 1) % 5)
    logits = np.zeros((n, N_LABELS), np.float32)
    logits[np.arange(n), pred] = 8.0
    a, b = fit_ab(logits, fam, y)
    assert b > 0
    before, after = reliability(y, logits), reliability(y, calibrated(logits, fam, (a, b)))
    assert after["ece"] < 0.05 < before["ece"]
    one_t = calibrated(logits, fam, fit_ab(logits, fam, y, fixed_b=0.0))
    far = fam > 2.25  # where a single temperature stays overconfident
    fitted = calibrated(logits, fam, (a, b))
    assert reliability(y[far], fitted[far])["ece"] < 0.5 * reliability(y[far], one_t[far])["ece"]
    head = WhisperHead(2, 8, 0, 0.0)
    pooled = torch.randn(16, 2, 8)
    head.fit_norm(pooled)
    fam = Familiarity(8, k=3).fit(head.embed(pooled).detach())
    got, _ = CalibratedHead(head, fam, a, b)(pooled)
    with torch.no_grad():
        raw = head(pooled)[0].numpy()
    want = calibrated(raw, familiarity(head, fam, pooled), (a, b))
    assert np.abs(got.detach().numpy() - want).max() < 1e-4


def test_familiarity_is_higher_off_the_training_datas_principal_subspace() -> None:
    g = torch.Generator().manual_seed(0)
    basis = torch.randn(4, 32, generator=g)
    train = torch.randn(500, 4, generator=g) @ basis + 0.05 * torch.randn(500, 32, generator=g)
    like = torch.randn(100, 4, generator=g) @ basis + 0.05 * torch.randn(100, 32, generator=g)
    unlike = like + 0.5 * torch.randn(100, 32, generator=g)  # same scale, leaves the subspace
    fam = Familiarity(32, k=4).fit(train)
    with torch.no_grad():
        assert float(fam(unlike).min()) > float(fam(like).max())


def test_reliability_reports_green_band_precision() -> None:
    logits = np.zeros((4, N_LABELS), np.float32)
    logits[:, 0] = 10  # all green, answer anger
    r = reliability(np.array([0, 0, 0, 5]), logits)
    assert r["green_n"] == 4 and r["green_precision"] == 0.75 and r["red_n"] == 0


def test_a_partial_cache_gives_a_dataset_of_the_featured_clips_only(tmp_path: Any) -> None:
    from annamalai_train.data import Clip
    from annamalai_train.dataset import Dataset, cached_rows, restrict_to_featured

    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "clean_0001_256.npz").write_bytes(b"")
    have = cached_rows(tmp_path / "clean", "clean", 600)
    assert have.sum() == 256 and have[256:512].all()
    clips = [Clip(f"f{i}", "c", f"s{i}", "en", LABELS[0], 0) for i in range(5)]
    ds = Dataset(clips, np.zeros(5, int), np.array(["c"] * 5), np.array(["en"] * 5), np.array([c.speaker for c in clips]),
                 np.array([0, 1, -1, 2, 3]))
    ds.feats["clean"] = (np.array([3, 1]), {"whisper": np.array([[3.0], [1.0]])})
    ds.feats["aug"] = (np.array([4, 3]), {"whisper": np.array([[40.0], [30.0]])})
    out = restrict_to_featured(ds)
    assert [c.file for c in out.clips] == ["f1", "f3"] and out.fold.tolist() == [1, 2]
    assert out.feats["clean"][0].tolist() == [1, 0] and out.feats["clean"][1]["whisper"].ravel().tolist() == [3.0, 1.0]
    assert out.feats["aug"][0].tolist() == [1] and out.feats["aug"][1]["whisper"].ravel().tolist() == [30.0]
