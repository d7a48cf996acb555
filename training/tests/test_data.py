from __future__ import annotations

import numpy as np
import pytest

from annamalai_train.audio import add_noise, augment, opus_roundtrip
from annamalai_train.data import Clip, corpus_weights, load_metadata, random_stratified_split, speaker_splits
from annamalai_train.labels import LABELS, TRAINED_LABELS

from .conftest import SHARED


def fake_clips() -> list[Clip]:
    out = []
    for c, n_spk in (("a", 10), ("b", 6), ("t", 2)):
        for s in range(n_spk):
            for k in range(5):
                out.append(Clip(f"{c}/{s}/{k}", c, f"{c}-{s}", "en", LABELS[k], k))
    return out


def test_label_contract() -> None:
    assert LABELS == ["anger", "bored", "disgust", "fear", "happy", "neutral", "question", "sad", "surprise"]
    assert "question" not in TRAINED_LABELS and len(TRAINED_LABELS) == 8


def test_speaker_splits_disjoint() -> None:
    clips = fake_clips()
    a = speaker_splits(clips, 0.2, 5, seed=1, no_test=("t",))
    assert a["t-0"] >= 0 and a["t-1"] >= 0
    assert sum(1 for s, f in a.items() if s.startswith("a-") and f == -1) == 2
    assert set(a.values()) <= {-1, 0, 1, 2, 3, 4}
    assert a == speaker_splits(clips, 0.2, 5, seed=1, no_test=("t",))


def test_random_split_fractions() -> None:
    y = np.repeat(np.arange(4), 100)
    r = random_stratified_split(y, 0)
    assert (r == 0).sum() == 280 and (r == 2).sum() == 60


def test_corpus_weights() -> None:
    c = np.array(["a"] * 90 + ["b"] * 10)
    for mode in ("none", "sqrt", "equal"):
        w = corpus_weights(c, mode)
        assert np.isclose(w.sum(), 100)
    w = corpus_weights(c, "equal")
    assert np.isclose(w[c == "a"].sum(), w[c == "b"].sum())


def test_noise_snr() -> None:
    rng = np.random.default_rng(0)
    x = np.sin(np.linspace(0, 1000, 80000)).astype(np.float32)
    y = add_noise(x, 10.0, rng)
    snr = 10 * np.log10(np.mean(x**2) / np.mean((y - x) ** 2))
    assert abs(snr - 10) < 0.1


def test_opus_and_augment() -> None:
    import shutil

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    t = np.arange(80000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    y = opus_roundtrip(x, 32)
    assert y.shape == x.shape and np.corrcoef(x[1000:-1000], y[1000:-1000])[0, 1] > 0.9
    z = augment(x[:48000], np.random.default_rng(3))
    assert z.shape == (80000,) and np.isfinite(z).all()


def test_shared_corpora_metadata() -> None:
    if not (SHARED / "corpora" / "metadata.csv").exists():
        pytest.skip(f"shared corpora not found at {SHARED / 'corpora'}")
    clips = load_metadata(SHARED / "corpora")
    assert len(clips) > 10000
    assert not any(c.label == "question" for c in clips)
    assert {c.corpus for c in clips if c.label == "bored"} == {"emodb"}
    a = speaker_splits(clips, 0.2, 5, 1234, ("tess",))
    assert all(a[c.speaker] >= 0 for c in clips if c.corpus == "tess")


def test_corpora_added_later_leave_the_earlier_corpora_speakers_where_they_were() -> None:
    before = speaker_splits(fake_clips(), 0.2, 5, seed=1, no_test=("t",))
    added = fake_clips() + [Clip(f"0new/{s}/{k}", "0new", f"0new-{s}", "el", LABELS[k], k)
                            for s in range(6) for k in range(5)]  # sorts first: would reshuffle everyone after it
    after = speaker_splits(added, 0.2, 5, seed=1, no_test=("t",), late=("0new",))
    assert {s: f for s, f in after.items() if not s.startswith("0new")} == before
    assert sum(f == -1 for s, f in after.items() if s.startswith("0new")) == 1
    reshuffled = speaker_splits(added, 0.2, 5, seed=1, no_test=("t",))
    assert {s: f for s, f in reshuffled.items() if not s.startswith("0new")} != before


def test_augmentation_spans_minus_40_to_plus_6_db_of_gain() -> None:
    from annamalai_train.audio import GAIN_DB, gain_chain, quantize16

    assert GAIN_DB[0] <= -40 and GAIN_DB[1] >= 6
    x = (0.1 * np.sin(np.arange(80000) / 10)).astype(np.float32)
    quiet = gain_chain(x, -40.0, np.random.default_rng(0), floor_prob=0.0)
    assert np.array_equal(quiet, quantize16(x * np.float32(0.01)))
    loud = gain_chain(4 * x, 6.0, np.random.default_rng(0), floor_prob=0.0)
    assert np.abs(loud).max() <= 1.0  # clipped at full scale like a real recorder
