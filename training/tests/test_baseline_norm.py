from __future__ import annotations

from typing import Any

import numpy as np

from annamalai_train import baseline_norm as N
from annamalai_train.labels import LABELS


def welford(xs: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """The runtime's running statistics, one recording at a time: n, mean, var = M2 / max(n - 1, 1)."""
    n, m, m2 = 0, np.zeros(xs.shape[1]), np.zeros(xs.shape[1])
    for x in xs:
        n += 1
        d = x - m
        m = m + d / n
        m2 = m2 + d * (x - m)
    return n, m, m2 / max(n - 1, 1)


def test_user_statistics_are_the_runtimes_welford_statistics_even_for_one_recording() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 2, 7):
        xs = rng.normal(size=(n, 5)).astype(np.float32)
        u = N.UserStats.of([xs])
        wn, wm, wv = welford(xs.astype(np.float64))
        assert u.n[0] == wn and np.allclose(u.mean[0], wm, atol=1e-6) and np.allclose(u.var[0], wv, atol=1e-5)


def test_normalise_follows_the_contract_formulas_with_shrinkage() -> None:
    g = N.GlobalStats(np.array([1.0, -1.0], np.float32), np.array([2.0, 0.5], np.float32))
    u = N.UserStats(np.array([3.0], np.float32), np.array([[3.0, 1.0]], np.float32), np.array([[4.0, 0.0]], np.float32))
    e = np.array([[5.0, 2.0]], np.float32)
    lam = 3 / (3 + 6)
    mu = lam * u.mean[0] + (1 - lam) * g.mean
    assert np.allclose(N.normalise(e, u, g, N.Rule("mean", 6.0)), (e - mu) / g.std)
    sig2 = lam * u.var[0] + (1 - lam) * g.std**2
    assert np.allclose(N.normalise(e, u, g, N.Rule("mean_and_scale", 6.0)), (e - mu) / np.sqrt(sig2 + 1e-6))
    # k = 0: the user's own mean, unshrunk (the reference the issue warns about)
    assert np.allclose(N.normalise(e, u, g, N.Rule("mean", 0.0)), (e - u.mean) / g.std)


def test_the_voice_rule_removes_the_users_offset_along_voice_directions_and_keeps_the_emotion_directions(
        monkeypatch: Any) -> None:
    monkeypatch.setattr(N, "VOICE_RANK", 2)
    rng = np.random.default_rng(2)
    emos = [LABELS.index(x) for x in ("anger", "sad", "neutral")]
    e, y, spk = [], [], []
    for s in range(40):  # voices differ along dims 0-1, emotions along dims 2-3
        voice = np.r_[4 * rng.normal(size=2), 0, 0, 0, 0]
        for i, c in enumerate(emos):
            for _ in range(5):
                e.append(voice + np.r_[0, 0, 2.0 * (i - 1), 1.5 * (i == 1), 0, 0] + 0.1 * rng.normal(size=6))
                y.append(c)
                spk.append(f"s{s}")
    x = np.array(e, np.float32)
    g = N.GlobalStats.fit(x, np.array(y), np.array(spk))
    assert g.voice is not None and g.voice.shape == (6, 2)
    assert np.abs(g.voice[2:]).max() < 0.1  # the basis lies in the voice dims
    # an all-anger user: the mean rule subtracts their anger too, the voice rule only their voice
    anger = x[np.array(spk) == "s0"][:5]
    u = N.UserStats.of([anger])
    z_voice = N.normalise(anger[:1], u, g, N.Rule("voice", 0.0))
    z_mean = N.normalise(anger[:1], u, g, N.Rule("mean", 0.0))
    a = (anger[:1] - g.mean) / g.std
    assert np.abs(z_voice[0, :2]).max() < 0.2 and np.allclose(z_voice[0, 2:], a[0, 2:], atol=0.1)
    assert np.abs(z_mean[0, 2:4]).max() < 0.2 < np.abs(a[0, 2:4]).max()
