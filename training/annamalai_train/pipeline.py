"""The whole pipeline, in resumable stages: verify -> features -> train -> export -> report."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import Clip, load_metadata, speaker_splits
from .encoder import EncoderConfig, load_ct2_encoder
from .features import Featurizer, OrtFeaturizer, extract, read_shards

HERE = Path(__file__).resolve().parent.parent


def load_config(path: Path) -> dict[str, Any]:
    cfg: dict[str, Any] = json.loads(path.read_text())
    for k, v in cfg["paths"].items():
        cfg["paths"][k] = str((path.parent / v).resolve())
    return cfg


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


def model_bin(cfg: dict[str, Any]) -> Path:
    return Path(cfg["paths"]["cache"]) / "whisper-base" / "model.bin"


def feature_plan(cfg: dict[str, Any], ds: Dataset) -> list[tuple[str, np.ndarray]]:
    """Which clips get features under which condition: every clip clean, held-out speakers under each
    test condition, a seeded share of dev clips augmented. Every featurizer uses this same plan."""
    plan: list[tuple[str, np.ndarray]] = [("clean", np.arange(len(ds.clips)))]
    test_idx = np.flatnonzero(ds.fold == -1)
    for cond in cfg["conditions_test"]:
        plan.append((cond, test_idx))
    if cfg["augment"]:
        dev = np.flatnonzero(ds.fold >= 0)
        rng = np.random.default_rng(cfg["seed"])
        frac = float(cfg.get("augment_fraction", 1.0))
        plan.append(("aug", np.sort(rng.choice(dev, int(round(frac * len(dev))), replace=False))))
    return plan


def build_dataset(cfg: dict[str, Any], with_features: bool = True) -> Dataset:
    clips = load_metadata(Path(cfg["paths"]["corpora"]))
    assign = speaker_splits(
        clips, cfg["splits"]["test_frac"], cfg["splits"]["n_folds"], cfg["seed"], tuple(cfg["splits"]["no_test"])
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
    torch.set_num_threads(2)
    cache = Path(cfg["paths"]["cache"])
    kind = cfg["encoder"].get("kind", "whisper")
    feat: Any
    if kind == "whisper":
        enc = load_ct2_encoder(model_bin(cfg), EncoderConfig(n_blocks=cfg["encoder"]["n_blocks"]))
        feat = OrtFeaturizer(Featurizer(enc), cache / f"featurizer-b{cfg['encoder']['n_blocks']}.onnx")
        fdir = cache / "features" / f"b{cfg['encoder']['n_blocks']}-s{cfg['seed']}"
    else:  # the seed recipe (wav2vec2 / WavLM), only with transformers and a local checkpoint
        from .ssl import SSLFeaturizer, load_ssl

        feat = SSLFeaturizer(load_ssl(kind, cfg["encoder"].get("local_dir")), cfg["encoder"]["layers"])
        fdir = cache / "features" / f"{kind}-s{cfg['seed']}"
    root = Path(cfg["paths"]["corpora"])
    for cond, idx in feature_plan(cfg, ds):
        a, b = extract(feat, [clips[i].file for i in idx], root, cond, fdir / cond, cfg["seed"])
        f = {"whisper": a, "melstats": b}
        for kind in cfg.get("extra_bases", []):  # cached by their own extractors, same plan and shard layout
            f[kind] = read_shards(cache / "features" / f"{kind}-s{cfg['seed']}" / cond, cond, len(idx), "y")
        ds.feats[cond] = (idx, f)
    return ds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["verify", "features", "all", "report"])
    ap.add_argument("--config", default=str(HERE / "config.json"))
    args = ap.parse_args()
    cfg = load_config(Path(args.config))
    if args.stage == "verify":
        from .verify import verify

        r = verify(Path(cfg["paths"]["cache"]), Path(cfg["paths"]["cache"]) / "verify.json")
        print(json.dumps(r, indent=2))
        return
    if args.stage == "features":
        build_dataset(cfg)
        return
    from .runall import run_all

    run_all(cfg, build_dataset(cfg))


if __name__ == "__main__":
    main()
