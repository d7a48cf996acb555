"""The shared ground of every stage: the config file, the clips with their speaker splits, the feature plan and the
cached features. Entry points and stages import it; it imports none of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .audio import load_audio
from .conditions import degrade
from .config import Config
from .data import Clip, load_metadata, speaker_splits
from .encoder import EncoderConfig, load_ct2_encoder
from .features import Featurizer, OrtFeaturizer, clip_rng, extract, read_shards
from .ssl import SSLFeaturizer, load_ssl

HERE = Path(__file__).resolve().parent.parent


@dataclass
class Dataset:
    clips: list[Clip]
    y: np.ndarray
    corpus: np.ndarray
    language: np.ndarray
    speaker: np.ndarray
    fold: np.ndarray  # -1 test, 0..k-1 dev folds
    feats: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = field(default_factory=dict)
    # condition -> (clip indices, {base kind: features})


def model_bin(cfg: Config) -> Path:
    return Path(cfg.paths.cache) / "whisper-base" / "model.bin"


def feature_plan(cfg: Config, ds: Dataset) -> list[tuple[str, np.ndarray]]:
    """Which clips get features under which condition: every clip clean, held-out speakers under each
    test condition, a seeded share of dev clips augmented. Every featurizer uses this same plan."""
    # shuffled (seeded) when cfg.shuffled_plan: any set of finished shards is then a random sample of the
    # clips, so a partly extracted cache already supports measurements (build_dataset(partial=True))
    shuffled = bool(cfg.shuffled_plan)
    order = np.random.default_rng([cfg.seed, 1]).permutation(len(ds.clips)) if shuffled else np.arange(len(ds.clips))
    plan: list[tuple[str, np.ndarray]] = [("clean", order)]
    test_idx = np.flatnonzero(ds.fold == -1)
    if cfg.augment:  # before the test conditions: training and model choice need clean + aug only
        dev = np.flatnonzero(ds.fold >= 0)
        rng = np.random.default_rng(cfg.seed)
        frac = float(1.0 if cfg.augment_fraction is None else cfg.augment_fraction)
        pick = rng.choice(dev, int(round(frac * len(dev))), replace=False)
        plan.append(("aug", pick if shuffled else np.sort(pick)))
        if cfg.augment_room:  # the same clips through the rooms-and-phones chain (rooms.py), a recipe's choice
            plan.append(("aug_room", pick if shuffled else np.sort(pick)))
    for cond in cfg.conditions_test:
        plan.append((cond, test_idx))
    return plan


def build_dataset(cfg: Config, with_features: bool = True, partial: bool = False,
                  conditions: tuple[str, ...] | None = None) -> Dataset:
    """The clips, their splits and (with_features) their cached features, extracting what is missing; partial: only
    the shards already on disk, extracting nothing (for measurements while an extraction runs); conditions: only
    these conditions of the feature plan."""
    clips = load_metadata(Path(cfg.paths.corpora))
    assign = speaker_splits(
        clips, cfg.splits.test_frac, cfg.splits.n_folds, cfg.seed, cfg.splits.no_test, cfg.splits.late or (),
    )
    ds = Dataset(
        clips=clips,
        y=np.array([c.y for c in clips]),
        corpus=np.array([c.corpus for c in clips]),
        language=np.array([c.language for c in clips]),
        speaker=np.array([c.speaker for c in clips]),
        fold=np.array([assign[c.speaker] for c in clips]),
    )
    if not with_features:
        return ds
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the featurizer's; the caller's setting comes back after (small heads train on 1)
    try:
        _load_features(cfg, ds, partial, conditions)
    finally:
        torch.set_num_threads(threads)
    return restrict_to_featured(ds) if partial else ds


def _load_features(cfg: Config, ds: Dataset, partial: bool, conditions: tuple[str, ...] | None) -> None:
    """ds.feats filled with the cached (or now extracted) features of the plan's conditions."""
    cache = Path(cfg.paths.cache)
    kind = cfg.encoder.kind or "whisper"
    feat: Any
    if kind == "whisper":
        nb = cfg.encoder.n_blocks
        enc = load_ct2_encoder(model_bin(cfg), EncoderConfig(n_blocks=nb))
        ln = bool(cfg.loudness_norm)
        tag = f"b{nb}" + ("-ln" if ln else "")  # features of a loudness-normalised front end are another cache
        feat = OrtFeaturizer(Featurizer(enc, ln), cache / f"featurizer-{tag}.onnx")
        fdir = cache / "features" / f"{tag}-s{cfg.seed}"
    else:  # the seed recipe (wav2vec2 / WavLM), only with transformers and a local checkpoint
        feat = SSLFeaturizer(load_ssl(kind, cfg.encoder.local_dir), list(cfg.encoder.layers or ()))
        fdir = cache / "features" / f"{kind}-s{cfg.seed}"
    root = Path(cfg.paths.corpora)
    for cond, idx in feature_plan(cfg, ds):
        if conditions is not None and cond not in conditions:
            continue
        if partial:
            have = cached_rows(fdir / cond, cond, len(idx))
            if not have.any():
                continue
            z = [np.load(p) for p in sorted((fdir / cond).glob(f"{cond}_[0-9][0-9][0-9][0-9]_*.npz"))]
            ds.feats[cond] = (idx[have], {"whisper": np.concatenate([p["a"] for p in z]),
                                          "melstats": np.concatenate([p["b"] for p in z])})
            continue
        a, b = extract(feat, [ds.clips[i].file for i in idx], root, cond, fdir / cond, cfg.seed)
        f = {"whisper": a, "melstats": b}
        for kind in cfg.extra_bases or ():  # cached by their own extractors, same plan and shard layout
            f[kind] = read_shards(cache / "features" / f"{kind}-s{cfg.seed}" / cond, cond, len(idx), "y")
        ds.feats[cond] = (idx, f)


def restrict_to_featured(ds: Dataset) -> Dataset:
    """The clips that have clean features (and only their rows under every condition), re-indexed."""
    if "clean" not in ds.feats:
        raise FileNotFoundError("no clean feature shard cached yet")
    keep = np.sort(ds.feats["clean"][0])
    new = np.full(len(ds.clips), -1)
    new[keep] = np.arange(len(keep))
    out = Dataset([ds.clips[i] for i in keep], ds.y[keep], ds.corpus[keep], ds.language[keep], ds.speaker[keep],
                  ds.fold[keep])
    for cond, (idx, f) in ds.feats.items():
        m = new[idx] >= 0
        out.feats[cond] = (new[idx[m]], {k: v[m] for k, v in f.items()})
    return out


def cached_rows(out_dir: Path, condition: str, n: int, shard: int = 256) -> np.ndarray:
    """bool [n]: which rows of a condition's plan have a finished shard on disk (in shard-index order)."""
    have = np.zeros(n, bool)
    for p in out_dir.glob(f"{condition}_[0-9][0-9][0-9][0-9]_*.npz"):
        i = int(p.name[len(condition) + 1 : len(condition) + 5])
        have[i * shard : i * shard + shard] = True
    return have


def segments_for(ds: Dataset, idx: np.ndarray, root: Path, cond: str, seed: int) -> np.ndarray:
    """The clips' 5-s segments under a condition, degraded afresh with the seeds their cached features used."""
    return np.stack([degrade(load_audio(root / ds.clips[i].file), cond, clip_rng(seed, cond, ds.clips[i].file))
                     for i in idx])
