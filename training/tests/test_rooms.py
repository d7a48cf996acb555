"""The rooms-and-phones augmentation: each step does to the signal what its name says."""

from __future__ import annotations

import numpy as np

from annamalai_train.frontend import SAMPLE_RATE, SEGMENT_SAMPLES
from annamalai_train.rooms import clip_hot, codec_roundtrip, reverberate, room_augment, room_impulse


def tone(seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2).astype(np.float32)


def test_room_impulse_decays_60_db_over_its_rt60_with_the_asked_direct_to_reverberant_ratio() -> None:
    h = room_impulse(np.random.default_rng(0), rt60=0.5, drr_db=6.0)
    assert len(h) == SAMPLE_RATE // 2 and h[0] == 1.0
    tail = h[1:].astype(np.float64)
    assert abs(10 * np.log10(np.sum(tail**2)) - -6.0) < 0.01
    first, last = tail[400:1200], tail[-800:]  # 50 ms windows near the start and the end of the tail
    drop = 10 * np.log10(np.mean(first**2) / np.mean(last**2))
    assert 45 < drop < 62


def test_reverberation_smears_a_click_in_time_and_keeps_the_level() -> None:
    x = np.zeros(SAMPLE_RATE, np.float32)
    x[1000] = 0.5
    y = reverberate(x, np.random.default_rng(1))
    assert np.abs(y[1500:]).max() > 1e-3  # energy long after the click
    assert abs(np.mean(y**2) / np.mean(x**2) - 1) < 1e-3


def test_codecs_round_trip_to_the_same_length_and_stay_close_to_the_signal() -> None:
    x = tone()
    for codec in ("mp3", "aac"):
        y = codec_roundtrip(x, codec, 48)
        assert y.shape == x.shape
        # the encoders' priming delays the signal by up to ~2,100 samples: the best lag is compared
        a = x[4000:12000]
        best = max(np.corrcoef(a, y[4000 + lag : 12000 + lag])[0, 1] for lag in range(0, 2400, 8))
        assert best > 0.9


def test_a_hot_microphone_flattens_the_peaks_and_keeps_the_peak_level() -> None:
    x = tone()
    y = clip_hot(x, np.random.default_rng(2))
    assert np.isclose(np.abs(y).max(), np.abs(x).max(), rtol=1e-5)
    near_peak = np.abs(y) > 0.99 * np.abs(y).max()
    assert near_peak.mean() > 3 * (np.abs(x) > 0.99 * np.abs(x).max()).mean()


def test_room_augment_gives_a_16_bit_5_second_segment() -> None:
    y = room_augment(tone(3.0), np.random.default_rng(3))
    assert y.shape == (SEGMENT_SAMPLES,) and y.dtype == np.float32
    assert np.allclose(y * 32768, np.round(y * 32768))
