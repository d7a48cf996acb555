from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

from annamalai_train import baseline as B
from annamalai_train.labels import LABELS, N_LABELS
from annamalai_train.models import MLPHead
from annamalai_train.train import Feats, fit_classifier, logits_of, scores

torch.set_num_threads(1)  # the heads are small; more threads only contend on a shared machine
HP = {"hidden": 32, "dropout": 0.1, "epochs": 8, "lr": 0.003, "weight_decay": 0.0, "batch": 64}


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
        u = B.UserStats.of([xs])
        wn, wm, wv = welford(xs.astype(np.float64))
        assert u.n[0] == wn and np.allclose(u.mean[0], wm, atol=1e-6) and np.allclose(u.var[0], wv, atol=1e-5)


def test_normalise_follows_the_contract_formulas_with_shrinkage() -> None:
    g = B.GlobalStats(np.array([1.0, -1.0], np.float32), np.array([2.0, 0.5], np.float32))
    u = B.UserStats(np.array([3.0], np.float32), np.array([[3.0, 1.0]], np.float32), np.array([[4.0, 0.0]], np.float32))
    e = np.array([[5.0, 2.0]], np.float32)
    lam = 3 / (3 + 6)
    mu = lam * u.mean[0] + (1 - lam) * g.mean
    assert np.allclose(B.normalise(e, u, g, B.Rule("mean", 6.0)), (e - mu) / g.std)
    sig2 = lam * u.var[0] + (1 - lam) * g.std**2
    assert np.allclose(B.normalise(e, u, g, B.Rule("mean_and_scale", 6.0)), (e - mu) / np.sqrt(sig2 + 1e-6))
    # k = 0: the user's own mean, unshrunk (the reference the issue warns about)
    assert np.allclose(B.normalise(e, u, g, B.Rule("mean", 0.0)), (e - u.mean) / g.std)


def test_enrolments_are_drawn_as_asked_or_refused_when_the_speaker_cannot_supply_them() -> None:
    rng = np.random.default_rng(1)
    neutral, anger, sad = LABELS.index("neutral"), LABELS.index("anger"), LABELS.index("sad")
    labels = np.array([anger] * 12 + [sad] * 6 + [neutral] * 4)
    pool = np.arange(100, 100 + len(labels))
    lab = dict(zip(pool.tolist(), labels.tolist(), strict=True))
    varied = B.draw_enrolment(rng, pool, labels, 10, "varied")
    assert varied is not None and len(set(varied.tolist())) == 10 and set(varied.tolist()) <= set(pool.tolist())
    for _ in range(20):
        e80 = B.draw_enrolment(rng, pool, labels, 10, "80% one emotion")
        assert e80 is not None and len(set(e80.tolist())) == 10
        counts = np.bincount([lab[int(c)] for c in e80], minlength=N_LABELS)
        assert counts.max() == 8 and (counts > 0).sum() >= 2
    e100 = B.draw_enrolment(rng, pool, labels, 10, "100% one emotion")
    assert e100 is not None and {lab[int(c)] for c in e100} == {anger}  # only anger has 10 clips
    only_n = B.draw_enrolment(rng, pool, labels, 4, "neutral only")
    assert only_n is not None and {lab[int(c)] for c in only_n} == {neutral}
    assert B.draw_enrolment(rng, pool, labels, 5, "neutral only") is None
    assert B.draw_enrolment(rng, pool, labels, 13, "100% one emotion") is None
    assert B.draw_enrolment(rng, pool, labels, 23, "varied") is None


def test_fast_weighted_f1_is_the_pipelines_weighted_f1() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 7, 200):
        y = rng.choice([0, 2, 5, 7], n)
        logits = rng.normal(size=(n, N_LABELS)).astype(np.float32)
        logits[rng.random(n) < 0.5, 5] += 3  # some labels over-predicted, some never
        assert abs(B.weighted_f1(y, logits) - scores(y, logits)["weighted_f1"]) < 1e-12


def cell(delta: float) -> dict[str, Any]:
    return {"all": {"n": 100, "speakers": 10, "main": 0.7, "baseline": 0.7 + delta, "delta": delta}}


def table_of(varied: dict[int, float], skewed: dict[int, float]) -> dict[str, Any]:
    return {"varied": {str(k): cell(v) for k, v in varied.items()},
            **{m: {str(k): cell(v) for k, v in skewed.items()} for m in B.SKEWED}}


def test_choice_takes_the_largest_varied_gain_among_rules_safe_for_skewed_users_and_states_the_minimum() -> None:
    ks = B.EVAL_KS
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
    ch = B.choose(table)
    assert ch["chosen"] == "mean, k=5" and ch["min_recordings"] == 5 and "voice, k=5" not in ch["per_rule"]
    assert ch["per_rule"]["mean, k=0"]["min_recordings"] is None and ch["per_rule"]["mean, k=50"]["min_recordings"] == 1
    assert B.choose({"mean, k=0": table["mean, k=0"]})["chosen"] is None


def test_exported_head_matches_torch_and_the_manifest_entry_is_the_contracts(tmp_path: Path) -> None:
    d = 16
    head = MLPHead(d, 8, 0.0)
    head.norm.mean.copy_(torch.linspace(-1, 1, d))
    graph = B.BaselineGraph(head, 1.7).eval()
    g = B.GlobalStats(np.linspace(0, 1, d).astype(np.float32), np.linspace(1, 2, d).astype(np.float32))
    (tmp_path / "manifest.json").write_text(json.dumps({"files": {"whisper.onnx": {"sha256": "x", "bytes": 1}}}))
    entry = B.export_baseline(tmp_path, {"graph": graph, "stats": g, "rule": B.Rule("mean", 20.0), "min_recordings": 5},
                              "training/reports/r/baseline.md")
    B.set_manifest_entry(tmp_path, entry)
    man = json.loads((tmp_path / "manifest.json").read_text())
    vb = man["voice_baseline"]
    assert vb == {"file": "baseline-head.onnx", "input": "embedding", "logits_output": "logits",
                  "stats_file": "baseline-stats.f32", "dims": d, "normalise": "mean", "shrinkage_k": 20.0,
                  "min_recordings": 5, "evidence": "training/reports/r/baseline.md"}
    assert set(man["files"]) == {"whisper.onnx", "baseline-head.onnx", "baseline-stats.f32"}
    assert man["files"]["baseline-stats.f32"]["bytes"] == 2 * d * 4
    raw = np.frombuffer((tmp_path / "baseline-stats.f32").read_bytes(), "<f4")
    assert np.array_equal(raw[:d], g.mean) and np.array_equal(raw[d:], g.std)
    z = np.random.default_rng(0).normal(size=(3, d)).astype(np.float32)  # batch 3: the batch axis is dynamic
    s = ort.InferenceSession(str(tmp_path / "baseline-head.onnx"), providers=["CPUExecutionProvider"])
    got = s.run(["logits"], {"embedding": z})[0]
    with torch.no_grad():
        want = head(torch.from_numpy(z)).numpy() / 1.7
    assert got.shape == (3, N_LABELS) and np.abs(got - want).max() < 1e-5
    B.set_manifest_entry(tmp_path, None)  # a later run without a baseline leaves nothing stale behind
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert "voice_baseline" not in man and set(man["files"]) == {"whisper.onnx"}
    assert not (tmp_path / "baseline-head.onnx").exists() and not (tmp_path / "baseline-stats.f32").exists()


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

    def train_main(clips: np.ndarray) -> B.Main:  # the embedding is the feature itself; the main head an MLP on it
        head = fit_classifier(MLPHead(12, 32, 0.1), torch.from_numpy(bank.by_kind["v"][clips]), d.y[clips],
                              np.ones(len(clips)), HP, 0)
        return B.Main(lambda rows: bank.by_kind["v"][rows], lambda rows: logits_of(head, torch.from_numpy(bank.by_kind["v"][rows])))

    dev = np.flatnonzero(d.fold >= 0)
    out = B.run_study(d, bank, train_main, train_main(dev), HP, 0, draws=1, train_draws=1, log=lambda _: None)
    ch = out["choice"]
    assert ch["chosen"] is not None and ch["min_recordings"] is not None
    held = out["held_out"][ch["chosen"]]["varied"]["10"]["all"]
    assert held["delta"] > 0.1 and held["speakers"] == 6
    assert set(out["dev_cv"]) == {B.Rule(n, k).name for n, k in B.CANDIDATES}
    assert out["export"]["min_recordings"] == ch["min_recordings"] and out["export"]["temperature"] > 0
    summary = B.write_study(out, tmp_path)  # the report files and the model card's section say the same
    md = (tmp_path / "baseline.md").read_text()
    assert f"Chosen: **{ch['chosen']}**, min_recordings **{ch['min_recordings']}**" in md and "| varied | 10 |" in md
    assert json.loads((tmp_path / "baseline.json").read_text())["export"]["min_recordings"] == ch["min_recordings"]
    row = next(line for line in B.card_lines(summary) if line.startswith("| varied |"))
    assert f"({100 * held['delta']:+.1f})" in row


def test_the_voice_rule_removes_the_users_offset_along_voice_directions_and_keeps_the_emotion_directions(
        monkeypatch: Any) -> None:
    monkeypatch.setattr(B, "VOICE_RANK", 2)
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
    g = B.GlobalStats.fit(x, np.array(y), np.array(spk))
    assert g.voice is not None and g.voice.shape == (6, 2)
    assert np.abs(g.voice[2:]).max() < 0.1  # the basis lies in the voice dims
    # an all-anger user: the mean rule subtracts their anger too, the voice rule only their voice
    anger = x[np.array(spk) == "s0"][:5]
    u = B.UserStats.of([anger])
    z_voice = B.normalise(anger[:1], u, g, B.Rule("voice", 0.0))
    z_mean = B.normalise(anger[:1], u, g, B.Rule("mean", 0.0))
    a = (anger[:1] - g.mean) / g.std
    assert np.abs(z_voice[0, :2]).max() < 0.2 and np.allclose(z_voice[0, 2:], a[0, 2:], atol=0.1)
    assert np.abs(z_mean[0, 2:4]).max() < 0.2 < np.abs(a[0, 2:4]).max()
