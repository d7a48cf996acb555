"""How the voice baseline is evaluated: enrolments of k earlier clips drawn as users would give them (varied and
skewed), the table of the baseline head against the main head on the very same clips, and the stated rule (choose())
that picks the normalisation and the minimum number of recordings from that table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .baseline_norm import NORMALISE, GlobalStats, Rule, UserStats, normalise, rule_named
from .labels import LABELS
from .train import Feats, logits_of, predict_labels

MODES = ("varied", "80% one emotion", "100% one emotion", "neutral only")
SKEWED = MODES[1:]
EVAL_KS = (1, 3, 5, 10, 20)
MAX_SKEWED_DROP = 0.01  # the target: skewed enrolment at most 1 point of weighted F1 below the main head
TARGET_K = 10  # the headline: 10 varied earlier clips
NEUTRAL = LABELS.index("neutral")


def draw_enrolment(rng: np.random.Generator, pool: np.ndarray, labels: np.ndarray, k: int, mode: str) -> np.ndarray | None:
    """k clips of one speaker's pool (labels aligned with pool) drawn as `mode`; None if the pool cannot supply them."""
    if len(pool) < k:
        return None
    if mode == "varied":
        return rng.choice(pool, k, replace=False)
    if mode == "neutral only":
        cand = pool[labels == NEUTRAL]
        return rng.choice(cand, k, replace=False) if len(cand) >= k else None
    share = 0.8 if mode == "80% one emotion" else 1.0 if mode == "100% one emotion" else None
    if share is None:
        raise ValueError(f"unknown enrolment mode {mode!r}")
    n1 = int(round(share * k))
    ok = [c for c in np.unique(labels) if (labels == c).sum() >= n1 and (labels != c).sum() >= k - n1]
    if not ok:
        return None
    c = ok[rng.integers(len(ok))]
    main = rng.choice(pool[labels == c], n1, replace=False)
    rest = rng.choice(pool[labels != c], k - n1, replace=False) if k > n1 else pool[:0]
    return np.concatenate([main, rest])


@dataclass(frozen=True)
class Main:
    """The main model as the baseline needs it: embed(rows) = the shipped graph's "embedding" output for those bank
    rows, logits(rows) = the main head's logits (the no-baseline model)."""

    embed: Callable[[np.ndarray], np.ndarray]
    logits: Callable[[np.ndarray], np.ndarray]


TrainMain = Callable[[np.ndarray], Main]  # training clips -> the main model trained on them


def weighted_f1(y: np.ndarray, logits: np.ndarray) -> float:
    """train.scores' weighted F1 (labels present in y, zero_division 0) without sklearn's per-call overhead: the
    tables score thousands of cells."""
    p = predict_labels(logits)
    total = 0.0
    for c in np.unique(y):
        tp, n_pred, n_true = float(((p == c) & (y == c)).sum()), float((p == c).sum()), float((y == c).sum())
        if tp > 0:
            total += n_true * 2 * tp / (n_pred + n_true)
    return total / len(y) if len(y) else float("nan")


@dataclass
class Study:
    """Per (rule, mode, k, corpus or "all"): concatenated labels, main-head and baseline-head logits."""

    cells: dict[tuple[str, int], dict[str, Any]]

    def add(self, mode: str, k: int, y: np.ndarray, corpus: np.ndarray, speaker: np.ndarray, main: np.ndarray,
            base: dict[str, np.ndarray]) -> None:
        c = self.cells.setdefault((mode, k), {"y": [], "corpus": [], "speaker": [], "main": [], "base": {}})
        c["y"].append(y)
        c["corpus"].append(corpus)
        c["speaker"].append(speaker)
        c["main"].append(main)
        for r, lg in base.items():
            c["base"].setdefault(r, []).append(lg)

    def table(self) -> dict[str, Any]:
        """{rule: {mode: {k: {group: {n, speakers, main, baseline, delta}}}}} (weighted F1)."""
        out: dict[str, Any] = {}
        for (mode, k), c in self.cells.items():
            y, corpus, spk, main = (np.concatenate(c[x]) for x in ("y", "corpus", "speaker", "main"))
            for r, parts in c["base"].items():
                base = np.concatenate(parts)
                groups = {"all": np.ones(len(y), bool), **{f"corpus {x}": corpus == x for x in np.unique(corpus)}}
                for gname, m in groups.items():
                    a, b = weighted_f1(y[m], main[m]), weighted_f1(y[m], base[m])
                    out.setdefault(r, {}).setdefault(mode, {}).setdefault(str(k), {})[gname] = {
                        "n": int(m.sum()), "speakers": int(len(np.unique(spk[m]))), "main": a, "baseline": b,
                        "delta": b - a}
        return out


def score_enrolments(study: Study, main: Main, heads: dict[Rule, nn.Module], g: GlobalStats, clips: np.ndarray,
                     bank: Feats, y: np.ndarray, speaker: np.ndarray, corpus: np.ndarray, seed: int, draws: int) -> None:
    """Held-out speakers (clips): for every mode and k, `draws` enrolments per speaker; the speaker's other clips are
    scored by the main head and by each rule's head with the enrolment's statistics. Same draws for every rule."""
    rows = bank.lookup(clips, "clean")
    emb = main.embed(rows)
    lg_main = main.logits(rows)
    pos = {int(c): i for i, c in enumerate(clips)}
    spks = np.unique(speaker[clips])
    for mi, mode in enumerate(MODES):
        for k in EVAL_KS:
            rng = np.random.default_rng([seed, mi, k])
            scored: list[np.ndarray] = []
            enrol: list[np.ndarray] = []
            for s in spks:
                pool = clips[speaker[clips] == s]
                for _ in range(draws):
                    got = draw_enrolment(rng, pool, y[pool], k, mode) if len(pool) > k else None
                    if got is None:
                        continue
                    rest = np.setdiff1d(pool, got)
                    scored.append(rest)
                    enrol.extend([emb[[pos[int(c)] for c in got]]] * len(rest))
            if not scored:
                continue
            sc = np.concatenate(scored)
            idx = np.array([pos[int(c)] for c in sc])
            u = UserStats.of(enrol)
            base = {r.name: logits_of(h, torch.from_numpy(normalise(emb[idx], u, g, r))) for r, h in heads.items()}
            study.add(mode, k, y[sc], corpus[sc], speaker[sc], lg_main[idx], base)


def choose(table: dict[str, Any]) -> dict[str, Any]:
    """The stated rule. For each rule, min_recordings = the smallest k of the table from which on (every larger k too)
    varied enrolment beats the main head and every skewed enrolment (80 %, 100 % one emotion, neutral only) is at most
    MAX_SKEWED_DROP below it, on all speakers of the table. Among rules with min_recordings <= TARGET_K, the one with
    the largest varied gain at TARGET_K (ties: smaller min_recordings, then the earlier candidate); if none, the same
    at the largest k; if no rule qualifies, no baseline."""
    per: dict[str, Any] = {}
    for r, t in table.items():
        if rule_named(r).normalise not in NORMALISE:  # measured, but the runtime cannot apply it
            continue
        ok = [all(t["varied"][str(k)]["all"]["delta"] > 0 and all(
            t[m][str(k)]["all"]["delta"] >= -MAX_SKEWED_DROP for m in SKEWED if str(k) in t.get(m, {}))
            for k in EVAL_KS if k >= k0) for k0 in EVAL_KS]
        n_min = next((k for k, good in zip(EVAL_KS, ok, strict=True) if good), None)
        per[r] = {"min_recordings": n_min,
                  "varied_gain_at_target": t["varied"][str(TARGET_K)]["all"]["delta"],
                  "varied_gain_at_max_k": t["varied"][str(EVAL_KS[-1])]["all"]["delta"],
                  "worst_skewed_delta_from_min": min(
                      t[m][str(k)]["all"]["delta"] for m in SKEWED for k in EVAL_KS if k >= n_min and str(k) in t.get(m, {}))
                      if n_min is not None and any(str(k) in t.get(m, {}) for m in SKEWED for k in EVAL_KS if k >= n_min)
                      else None}
    order = list(per)
    for limit, key in ((TARGET_K, "varied_gain_at_target"), (EVAL_KS[-1], "varied_gain_at_max_k")):
        ok_rules = [r for r in order if per[r]["min_recordings"] is not None and per[r]["min_recordings"] <= limit]
        if ok_rules:
            best = max(ok_rules, key=lambda r: (round(per[r][key], 4), -per[r]["min_recordings"], -order.index(r)))
            return {"chosen": best, "min_recordings": per[best]["min_recordings"], "per_rule": per,
                    "rule": choose.__doc__}
    return {"chosen": None, "min_recordings": None, "per_rule": per, "rule": choose.__doc__}
