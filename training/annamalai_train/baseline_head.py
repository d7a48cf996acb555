"""The voice baseline's second head: trained on training speakers' embeddings normalised by simulated enrolments of
other clips of theirs, calibrated by one temperature, exported as baseline-head.onnx with baseline-stats.f32 and the
manifest's "voice_baseline" entry (docs/voice-baseline.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from .baseline_enrolment import MODES, Main, draw_enrolment
from .baseline_norm import GlobalStats, Rule, UserStats, normalise
from .calibrate import T_MIN, fit_ab
from .export import OPSET, sha256
from .models import MLPHead
from .train import Feats, fit_classifier

# training enrolments: how many earlier clips, and how they are drawn (users' histories are not all varied)
TRAIN_NS = (1, 2, 3, 5, 8, 12, 20, 30)
TRAIN_MODE_P = (0.55, 0.2, 0.15, 0.1)


def simulated_stats(clean_emb: np.ndarray, row_clip: np.ndarray, y: np.ndarray, speaker: np.ndarray,
                    train_clips: np.ndarray, rng: np.random.Generator) -> UserStats:
    """For each training row (its clip row_clip[i]): statistics of a simulated enrolment of other clean clips of the
    same speaker (n from TRAIN_NS, drawn varied or skewed with TRAIN_MODE_P). clean_emb is indexed by clip."""
    by_spk = {s: train_clips[speaker[train_clips] == s] for s in np.unique(speaker[train_clips])}
    enrol = []
    for c in row_clip:
        pool = by_spk[speaker[c]]
        pool = pool[pool != c]
        k = min(int(rng.choice(TRAIN_NS)), len(pool))
        mode = MODES[rng.choice(len(MODES), p=TRAIN_MODE_P)]
        got = draw_enrolment(rng, pool, y[pool], k, mode)
        enrol.append(clean_emb[got if got is not None else rng.choice(pool, k, replace=False)])
    return UserStats.of(enrol)


class BaselineGraph(nn.Module):
    """The exported baseline head: normalised embedding z [B, D] -> logits [B, 9], divided by a fitted temperature
    (so the runtime's softmax is calibrated like the main graph's, which divides inside its graph too)."""

    def __init__(self, head: nn.Module, temperature: float) -> None:
        super().__init__()
        self.head = head
        self.register_buffer("t", torch.tensor(float(temperature)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(z) / self.t
        return out


def train_head(z: np.ndarray, y: np.ndarray, w: np.ndarray, hp: dict[str, Any], seed: int, draws: int) -> nn.Module:
    """An MLP head (the main head's hidden size and dropout) on normalised embeddings; `draws` simulated enrolments
    per clip, so epochs / draws keeps the number of updates of the main head."""
    hp = {**hp, "epochs": max(1, int(hp["epochs"]) // draws)}
    head = MLPHead(z.shape[1], int(hp["hidden"]), float(hp["dropout"]))
    return fit_classifier(head, torch.from_numpy(z), y, w, hp, seed)


def fit_rules(main: Main, bank: Feats, train_clips: np.ndarray, conds: tuple[str, ...], y: np.ndarray, w: np.ndarray,
              speaker: np.ndarray, rules: list[Rule], hp: dict[str, Any], seed: int, draws: int,
              ) -> tuple[GlobalStats, dict[Rule, nn.Module]]:
    """Global statistics of the training clips' clean embeddings and one head per rule, trained on the training rows
    (every condition in conds) normalised by simulated enrolments (the same enrolments for every rule)."""
    clean_rows = bank.lookup(train_clips, "clean")
    e_clean = main.embed(clean_rows)
    clean = np.zeros((len(y), e_clean.shape[1]), np.float32)
    clean[train_clips] = e_clean
    g = GlobalStats.fit(e_clean, y[train_clips], speaker[train_clips]) if any(
        r.normalise == "voice" for r in rules) else GlobalStats.fit(e_clean)
    rows = bank.rows(train_clips, conds)
    _, inv, cnt = np.unique(speaker[train_clips], return_inverse=True, return_counts=True)
    rows = rows[np.isin(bank.clip[rows], train_clips[cnt[inv] >= 2])]  # a speaker's only clip has no earlier one
    row_clip = np.tile(bank.clip[rows], draws)
    e = np.tile(main.embed(rows), (draws, 1))
    u = simulated_stats(clean, row_clip, y, speaker, train_clips, np.random.default_rng([seed, 7]))
    heads = {r: train_head(normalise(e, u, g, r), y[row_clip], w[row_clip], hp, seed + 500 + i, draws)
             for i, r in enumerate(rules)}
    return g, heads


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """One temperature (NLL of the masked softmax) on held-out baseline logits: T = softplus(a) + T_MIN."""
    a, _ = fit_ab(logits, np.zeros(len(y)), y, fixed_b=0.0)
    return float(np.logaddexp(0.0, a) + T_MIN)


BASELINE_FILES = ("baseline-head.onnx", "baseline-stats.f32")


def export_baseline(model_dir: Path, exp: dict[str, Any], evidence: str) -> dict[str, Any]:
    """baseline-head.onnx (input "embedding" = z [batch, D], output "logits" [batch, 9]) and baseline-stats.f32 into
    model_dir; returns the manifest's "voice_baseline" entry (baseline-interface.md)."""
    g: GlobalStats = exp["stats"]
    rule: Rule = exp["rule"]
    d = len(g.mean)
    path = model_dir / BASELINE_FILES[0]
    torch.onnx.export(exp["graph"].eval(), (torch.zeros(2, d),), str(path), input_names=["embedding"],
                      output_names=["logits"], dynamic_axes={"embedding": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=OPSET, dynamo=False)
    onnx.checker.check_model(onnx.load(str(path)))
    (model_dir / BASELINE_FILES[1]).write_bytes(g.to_bytes())
    return {"file": BASELINE_FILES[0], "input": "embedding", "logits_output": "logits", "stats_file": BASELINE_FILES[1],
            "dims": d, "normalise": rule.normalise, "shrinkage_k": rule.k, "min_recordings": int(exp["min_recordings"]),
            "evidence": evidence}


def set_manifest_entry(model_dir: Path, entry: dict[str, Any] | None) -> None:
    """The manifest's "voice_baseline" key and its files' sha256/bytes; None removes both (and stale files)."""
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    man.pop("voice_baseline", None)
    for f in BASELINE_FILES:
        man["files"].pop(f, None)
        if entry is None:
            (model_dir / f).unlink(missing_ok=True)
    if entry is not None:
        man["voice_baseline"] = entry
        for f in BASELINE_FILES:
            man["files"][f] = {"sha256": sha256(model_dir / f), "bytes": (model_dir / f).stat().st_size}
    path.write_text(json.dumps(man, indent=2) + "\n")
