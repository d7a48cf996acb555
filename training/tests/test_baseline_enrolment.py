from __future__ import annotations

from typing import Any

import numpy as np

from annamalai_train import baseline_enrolment as E
from annamalai_train.labels import LABELS, N_LABELS
from annamalai_train.train import scores


def test_enrolments_are_drawn_as_asked_or_refused_when_the_speaker_cannot_supply_them() -> None:
    rng = np.random.default_rng(1)
    neutral, anger, sad = LABELS.index("neutral"), LABELS.index("anger"), LABELS.index("sad")
    labels = np.array([anger] * 12 + [sad] * 6 + [neutral] * 4)
    pool = np.arange(100, 100 + len(labels))
    lab = dict(zip(pool.tolist(), labels.tolist(), strict=True))
    varied = E.draw_enrolment(rng, pool, labels, 10, "varied")
    assert varied is not None and len(set(varied.tolist())) == 10 and set(varied.tolist()) <= set(pool.tolist())
    for _ in range(20):
        e80 = E.draw_enrolment(rng, pool, labels, 10, "80% one emotion")
        assert e80 is not None and len(set(e80.tolist())) == 10
        counts = np.bincount([lab[int(c)] for c in e80], minlength=N_LABELS)
        assert counts.max() == 8 and (counts > 0).sum() >= 2
    e100 = E.draw_enrolment(rng, pool, labels, 10, "100% one emotion")
    assert e100 is not None and {lab[int(c)] for c in e100} == {anger}  # only anger has 10 clips
    only_n = E.draw_enrolment(rng, pool, labels, 4, "neutral only")
    assert only_n is not None and {lab[int(c)] for c in only_n} == {neutral}
    assert E.draw_enrolment(rng, pool, labels, 5, "neutral only") is None
    assert E.draw_enrolment(rng, pool, labels, 13, "100% one emotion") is None
    assert E.draw_enrolment(rng, pool, labels, 23, "varied") is None


def test_fast_weighted_f1_is_the_pipelines_weighted_f1() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 7, 200):
        y = rng.choice([0, 2, 5, 7], n)
        logits = rng.normal(size=(n, N_LABELS)).astype(np.float32)
        logits[rng.random(n) < 0.5, 5] += 3  # some labels over-predicted, some never
        assert abs(E.weighted_f1(y, logits) - scores(y, logits)["weighted_f1"]) < 1e-12


def cell(delta: float) -> dict[str, Any]:
    return {"all": {"n": 100, "speakers": 10, "main": 0.7, "baseline": 0.7 + delta, "delta": delta}}


def table_of(varied: dict[int, float], skewed: dict[int, float]) -> dict[str, Any]:
    return {"varied": {str(k): cell(v) for k, v in varied.items()},
            **{m: {str(k): cell(v) for k, v in skewed.items()} for m in E.SKEWED}}


def test_choice_takes_the_largest_varied_gain_among_rules_safe_for_skewed_users_and_states_the_minimum() -> None:
    ks = E.EVAL_KS
    table = {
        # the biggest varied gain, but skewed users lose 3 points at every k: never chosen
        "mean, k=0": table_of({k: 0.08 for k in ks}, {k: -0.03 for k in ks}),
        # safe from 5 recordings on (at 3 the skewed users lose 2 points)
        "mean, k=5": table_of({k: 0.05 for k in ks}, {1: -0.05, 3: -0.02, 5: -0.005, 10: 0.0, 20: 0.01}),
        # safe from 1 but a smaller gain
        "mean, k=50": table_of({k: 0.02 for k in ks}, {k: 0.0 for k in ks}),
    }
    # the best of all, but the runtime cannot apply it: measured, never chosen
    table["voice, k=5"] = table_of({k: 0.10 for k in ks}, {k: 0.0 for k in ks})
    ch = E.choose(table)
    assert ch["chosen"] == "mean, k=5" and ch["min_recordings"] == 5 and "voice, k=5" not in ch["per_rule"]
    assert ch["per_rule"]["mean, k=0"]["min_recordings"] is None and ch["per_rule"]["mean, k=50"]["min_recordings"] == 1
    assert E.choose({"mean, k=0": table["mean, k=0"]})["chosen"] is None
