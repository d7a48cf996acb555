"""Training: base heads on cached features, out-of-fold stacking, meta learner, evaluation runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from torch import nn

from .config import Config
from .labels import LABELS, N_LABELS, TRAINED_IDX
from .models import MetaMLP, VectorHead, WhisperHead


def set_seed(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def predict_labels(logits: np.ndarray) -> np.ndarray:
    """argmax over trained labels only (untrained ones are never offered)."""
    return np.asarray(TRAINED_IDX)[np.argmax(logits[:, TRAINED_IDX], axis=1)]


def scores(y: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    p = predict_labels(logits)
    present = sorted(set(y.tolist()))
    return {
        "n": int(len(y)),
        "accuracy": float(accuracy_score(y, p)),
        "weighted_f1": float(f1_score(y, p, labels=present, average="weighted", zero_division=0)),
        "macro_f1": float(f1_score(y, p, labels=present, average="macro", zero_division=0)),
    }


def make_head(kind: str, cfg: Config, shape: tuple[int, ...]) -> WhisperHead | VectorHead:
    """A head for one base-model kind; shape is that kind's feature array shape (rows first)."""
    h = cfg.head(kind)
    if kind == "whisper":
        return WhisperHead(shape[1], shape[2], h.hidden, h.dropout)
    return VectorHead(shape[1], h.hidden, h.dropout)


def fit_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: np.ndarray,
    w: np.ndarray,
    hp: dict[str, Any],
    seed: int,
    class_weight: np.ndarray | None = None,
) -> nn.Module:
    """Fixed-epoch AdamW training with per-sample weights (no early stopping on any held-out set).
    hp["mixup"] > 0: each batch's inputs and targets mixed with a shuffled copy, weight ~ Beta(a, a)."""
    set_seed(seed)
    if hasattr(model, "fit_norm"):
        model.fit_norm(x)
    opt = torch.optim.AdamW(model.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
    yt = torch.from_numpy(y).long()
    wt = torch.from_numpy(w).float()
    cw = torch.from_numpy(class_weight).float() if class_weight is not None else None
    mix = float(hp.get("mixup") or 0.0)
    smooth = float(hp.get("label_smoothing") or 0.0)
    n = len(y)
    steps = hp["epochs"] * max(1, (n + hp["batch"] - 1) // hp["batch"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=hp["lr"], total_steps=steps)
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(hp["epochs"]):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, hp["batch"]):
            b = perm[i : i + hp["batch"]]
            xb, lam, other = x[b], 1.0, b
            if mix > 0:
                lam = float(np.random.beta(mix, mix))
                other = b[torch.randperm(len(b), generator=g)]
                xb = lam * xb + (1 - lam) * x[other]
            out = model(xb)
            logits = out[0] if isinstance(out, tuple) else out
            loss = lam * nn.functional.cross_entropy(logits, yt[b], weight=cw, reduction="none", label_smoothing=smooth)
            if mix > 0:
                loss = loss + (1 - lam) * nn.functional.cross_entropy(logits, yt[other], weight=cw, reduction="none",
                                                                      label_smoothing=smooth)
            loss = (loss * wt[b]).sum() / wt[b].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    return model


@torch.no_grad()
def logits_of(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    model.eval()
    out = model(x)
    return (out[0] if isinstance(out, tuple) else out).numpy()


def class_weights(y: np.ndarray) -> np.ndarray:
    cnt = np.bincount(y, minlength=N_LABELS).astype(np.float64)
    w = np.zeros(N_LABELS)
    m = cnt > 0
    w[m] = cnt[m].sum() / (m.sum() * cnt[m])
    return w


@dataclass
class Feats:
    """Feature bank: per base-model kind an array with one row per (clip, condition)."""

    by_kind: dict[str, np.ndarray]
    clip: np.ndarray
    cond: np.ndarray

    def rows(self, clips: np.ndarray, conds: tuple[str, ...]) -> np.ndarray:
        m = np.isin(self.clip, clips) & np.isin(self.cond, conds)
        return np.flatnonzero(m)

    def x(self, kind: str, rows: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self.by_kind[kind][rows]).float()

    def lookup(self, clips: np.ndarray, cond: str) -> np.ndarray:
        """rows for clips (in that order) under cond."""
        m = np.flatnonzero(self.cond == cond)
        pos = {int(c): int(r) for c, r in zip(self.clip[m], m, strict=True)}
        return np.array([pos[int(c)] for c in clips], dtype=np.int64)


def bank_from(ds_feats: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]) -> Feats:
    """condition -> (clip indices, {kind: features}) -> one bank; every condition must hold every kind."""
    kinds = sorted({k for _, f in ds_feats.values() for k in f})
    by_kind = {k: np.concatenate([f[k] for _, f in ds_feats.values()]) for k in kinds}
    clip = np.concatenate([idx for idx, _ in ds_feats.values()])
    cond = np.concatenate([np.full(len(idx), c) for c, (idx, _) in ds_feats.items()])
    return Feats(by_kind, clip, cond)


def train_base(
    kind: str, bank: Feats, train_clips: np.ndarray, y_all: np.ndarray, w_all: np.ndarray,
    cfg: Config, seed: int, train_conds: tuple[str, ...],
) -> nn.Module:
    rows = bank.rows(train_clips, train_conds)
    hp = cfg.head(kind).as_dict()
    model = make_head(kind, cfg, bank.by_kind[kind].shape)
    clip = bank.clip[rows]
    return fit_classifier(model, bank.x(kind, rows), y_all[clip], w_all[clip], hp, seed)


def out_of_fold(
    kinds: tuple[str, ...], bank: Feats, y_all: np.ndarray, w_all: np.ndarray, train_clips: np.ndarray,
    folds: np.ndarray, cfg: Config, seed: int, train_conds: tuple[str, ...],
) -> dict[str, np.ndarray]:
    """Logits of each base kind on the clean rows of train_clips, each from a model trained without its fold.
    Folds outer, kinds inner: heads are initialised from the global RNG, so the order is part of the result."""
    oof = {k: np.zeros((len(train_clips), N_LABELS), np.float32) for k in kinds}
    for f in np.unique(folds):
        tr, va = train_clips[folds != f], train_clips[folds == f]
        for k in kinds:
            m = train_base(k, bank, tr, y_all, w_all, cfg, seed + int(f), train_conds)
            oof[k][folds == f] = logits_of(m, bank.x(k, bank.lookup(va, "clean")))
    return oof


def bases(
    bank: Feats,
    y_all: np.ndarray,
    w_all: np.ndarray,
    train_clips: np.ndarray,
    folds: np.ndarray,
    evals: dict[str, tuple[np.ndarray, str]],
    cfg: Config,
    seed: int,
    train_conds: tuple[str, ...],
    kinds: tuple[str, ...],
) -> dict[str, Any]:
    """Out-of-fold logits of each base kind on train_clips (folds aligned with train_clips), final models on all
    train_clips, and their logits on each eval set: {oof: {kind}, models: {kind}, eval: {name: {kind}}}."""
    oof = out_of_fold(kinds, bank, y_all, w_all, train_clips, folds, cfg, seed, train_conds)
    final = {k: train_base(k, bank, train_clips, y_all, w_all, cfg, seed + 100, train_conds) for k in kinds}
    ev = {name: {k: logits_of(final[k], bank.x(k, bank.lookup(clips, cond))) for k in kinds}
          for name, (clips, cond) in evals.items()}
    return {"oof": oof, "models": final, "eval": ev}


def fit_meta(base: dict[str, Any], y_tr: np.ndarray, folds: np.ndarray, cfg: Config, seed: int,
             kinds: tuple[str, ...], class_weighted: bool) -> dict[str, Any]:
    """The meta learner on the bases' out-of-fold logits: its own out-of-fold logits (same speaker folds), the
    final meta on all rows, and its logits on each eval set: {oof, meta, eval: {name: logits}}."""
    xm = torch.from_numpy(np.concatenate([base["oof"][k] for k in kinds], axis=1))
    cw = class_weights(y_tr) if class_weighted else None
    hp = cfg.meta.as_dict()

    def fit(rows: np.ndarray, s: int) -> nn.Module:
        return fit_classifier(MetaMLP(xm.shape[1], hp["hidden"], hp["dropout"]), xm[rows], y_tr[rows],
                              np.ones(len(rows)), hp, s, cw)

    oof = np.zeros((len(y_tr), N_LABELS), np.float32)
    for f in np.unique(folds):
        oof[folds == f] = logits_of(fit(np.flatnonzero(folds != f), seed + 200 + int(f)), xm[folds == f])
    meta = fit(np.arange(len(y_tr)), seed + 300)
    ev = {name: logits_of(meta, torch.from_numpy(np.concatenate([d[k] for k in kinds], axis=1)))
          for name, d in base["eval"].items()}
    return {"oof": oof, "meta": meta, "eval": ev}


def table(y: np.ndarray, logits: dict[str, np.ndarray], groups: np.ndarray | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {k: scores(y, v) for k, v in logits.items()}
    if groups is not None:
        for g in sorted(set(groups.tolist())):
            m = groups == g
            out[f"by:{g}"] = {k: scores(y[m], v[m]) for k, v in logits.items()}
    return out


def label_names(idx: list[int]) -> list[str]:
    return [LABELS[i] for i in idx]
