"""The normalisation rules and the per-user statistics of the voice baseline: the contract with the runtime
(docs/voice-baseline.md). The runtime keeps Welford statistics per user (UserStats) and the model ships the global
ones (GlobalStats.to_bytes); normalise() is the runtime's formulas, shrunk towards the global statistics with
lambda = n / (n + k)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

NORMALISE = ("mean", "mean_and_scale")  # what the runtime contract implements
VOICE_RANK = 32
# mean with k=0 is the unshrunk per-speaker mean (the trap the issue describes), kept as the reference;
# mean_and_scale needs k > 0: with one recording the runtime's variance is 0 and sigma would be 1e-3
CANDIDATES: tuple[tuple[str, float], ...] = (("mean", 0.0), ("mean", 5.0), ("mean", 20.0), ("mean", 50.0),
                                             ("mean_and_scale", 5.0), ("mean_and_scale", 20.0))
EPS = 1e-6


@dataclass(frozen=True)
class Rule:
    normalise: str  # "mean" | "mean_and_scale"
    k: float  # shrinkage: lambda = n / (n + k)

    @property
    def name(self) -> str:
        return f"{self.normalise}, k={self.k:g}"


def rule_named(name: str) -> Rule:
    n, k = name.split(", k=")
    return Rule(n, float(k))


@dataclass(frozen=True)
class GlobalStats:
    mean: np.ndarray  # [D] float32
    std: np.ndarray  # [D] float32
    voice: np.ndarray | None = None  # [D, VOICE_RANK] orthonormal, in standardised space (the "voice" rule only)

    @staticmethod
    def fit(e: np.ndarray, y: np.ndarray | None = None, speaker: np.ndarray | None = None) -> GlobalStats:
        g = GlobalStats(e.mean(0).astype(np.float32), np.maximum(e.std(0), 1e-4).astype(np.float32))
        if y is None or speaker is None:
            return g
        return GlobalStats(g.mean, g.std, voice_basis((e - g.mean) / g.std, y, speaker))

    def to_bytes(self) -> bytes:
        """baseline-stats.f32: little-endian float32 global_mean[D] then global_std[D]."""
        return np.concatenate([self.mean, self.std]).astype("<f4").tobytes()


@dataclass(frozen=True)
class UserStats:
    """What the runtime keeps per user (Welford): count, mean, var = M2 / max(n - 1, 1); one row per scored clip."""

    n: np.ndarray  # [B]
    mean: np.ndarray  # [B, D]
    var: np.ndarray  # [B, D]

    @staticmethod
    def of(enrolments: list[np.ndarray]) -> UserStats:
        """Each entry: the embeddings [n_i, D] of the recordings before the scored one."""
        n = np.array([len(x) for x in enrolments], np.float32)
        m = np.stack([x.mean(0) for x in enrolments]).astype(np.float32)
        v = np.stack([((x - x.mean(0)) ** 2).sum(0) / max(len(x) - 1, 1) for x in enrolments]).astype(np.float32)
        return UserStats(n, m, v)


def voice_basis(a: np.ndarray, y: np.ndarray, speaker: np.ndarray, reg: float = 0.1) -> np.ndarray:
    """[D, VOICE_RANK]: the directions along which speakers differ most relative to how emotions differ within a
    speaker (generalised eigenvectors of the between-speaker scatter of emotion-balanced speaker means against the
    within-speaker scatter of emotion means), orthonormalised. a: standardised embeddings."""
    cells: dict[tuple[str, int], list[int]] = {}
    for i, (s, c) in enumerate(zip(speaker.tolist(), y.tolist(), strict=True)):
        cells.setdefault((s, c), []).append(i)
    spk_means, emo_dev = [], []
    for s in np.unique(speaker):
        ms = np.stack([a[idx].mean(0) for (s2, _), idx in cells.items() if s2 == s])
        spk_means.append(ms.mean(0))  # every emotion the speaker has, equally
        emo_dev.append(ms - ms.mean(0))
    v = np.stack(spk_means) - np.mean(spk_means, 0)
    d = np.concatenate(emo_dev)
    s_spk, s_emo = v.T @ v / len(v), d.T @ d / max(len(d), 1)
    s_emo += reg * np.trace(s_emo) / len(s_emo) * np.eye(len(s_emo))
    _, vecs = scipy.linalg.eigh(s_spk, s_emo)
    q, _ = np.linalg.qr(vecs[:, ::-1][:, :VOICE_RANK])
    return q.astype(np.float32)


def normalise(e: np.ndarray, u: UserStats, g: GlobalStats, rule: Rule) -> np.ndarray:
    """The runtime's formulas (baseline-interface.md), each row of e with its own user's statistics; "voice" (not in
    the contract yet) removes only the user's offset along the voice directions."""
    lam = (u.n / (u.n + rule.k))[:, None] if rule.k > 0 else np.ones((len(e), 1), np.float32)
    mu = lam * u.mean + (1 - lam) * g.mean
    if rule.normalise == "mean":
        return ((e - mu) / g.std).astype(np.float32)
    if rule.normalise == "voice":
        assert g.voice is not None, "voice rule without a voice basis"
        off = (mu - g.mean) / g.std
        return ((e - g.mean) / g.std - (off @ g.voice) @ g.voice.T).astype(np.float32)
    if rule.normalise != "mean_and_scale":
        raise ValueError(f"unknown normalisation {rule.normalise!r}")
    sig2 = lam * u.var + (1 - lam) * g.std**2
    return ((e - mu) / np.sqrt(sig2 + EPS)).astype(np.float32)
