"""Extract and cache (on disk, in resumable shards) encoder and log-mel features per condition."""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from .audio import load_audio
from .conditions import degrade
from .encoder import WhisperEncoder
from .frontend import LogMel, LoudNorm
from .models import melstats, pooled_layers


class Featurizer(torch.nn.Module):
    def __init__(self, encoder: WhisperEncoder, loudnorm: bool = True) -> None:
        super().__init__()
        self.loudnorm = LoudNorm() if loudnorm else torch.nn.Identity()
        self.logmel = LogMel()
        self.encoder = encoder

    @torch.no_grad()
    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mel = self.logmel(self.loudnorm(audio))
        hs = self.encoder(mel)
        # the last block's hidden states too (stored float16): the blocks above can be run or fine-tuned later
        # from this cache without running the blocks below again
        return pooled_layers(hs), melstats(mel), hs[-1]


def clip_rng(seed: int, condition: str, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(condition.encode()), zlib.crc32(key.encode())])


class OrtFeaturizer:
    """The same featurizer exported to ONNX; onnxruntime is ~2x faster than eager torch here."""

    def __init__(self, featurizer: Featurizer, path: Path, threads: int = 2) -> None:
        import onnxruntime as ort

        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.onnx.export(
                featurizer, (torch.zeros(2, 80000),), str(path), input_names=["audio"], output_names=["a", "b", "h"],
                dynamic_axes={"audio": {0: "batch"}, "a": {0: "batch"}, "b": {0: "batch"}, "h": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        self.sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    def __call__(self, audio: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(torch.from_numpy(o) for o in self.sess.run(None, {"audio": audio.numpy()}))


def extract_shards(
    featurize: Callable[[np.ndarray], dict[str, np.ndarray]],
    files: list[str],
    root: Path,
    condition: str,
    out_dir: Path,
    seed: int,
    shard: int = 256,
    batch: int = 4,
    tag: str = "features",
    keys: tuple[str, ...] | None = None,
) -> dict[str, np.ndarray]:
    """featurize (segments [b, 80000] -> {key: [b, ...]}) on files under condition, cached on disk in resumable
    shards of `shard` clips; returns {key: [n, ...]} in files order (only `keys`, when given)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    starts = list(range(0, len(files), shard))
    if os.environ.get("ANNAMALAI_REVERSE_SHARDS") == "1":  # a second worker can fill shards from the end
        starts = starts[::-1]
    parts: dict[int, dict[str, np.ndarray]] = {}
    for s in starts:
        path = out_dir / f"{condition}_{s // shard:04d}_{len(files[s : s + shard])}.npz"
        if path.exists():
            z = np.load(path)
            parts[s] = {k: z[k] for k in z.files if keys is None or k in keys}
            continue
        segs = np.stack([degrade(load_audio(root / f), condition, clip_rng(seed, condition, f)) for f in files[s : s + shard]])
        outs = [featurize(segs[i : i + batch]) for i in range(0, len(segs), batch)]
        full = {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
        tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(tmp, **full)
        os.replace(tmp, path)  # atomic: a parallel worker never reads a half-written shard
        parts[s] = {k: v for k, v in full.items() if keys is None or k in keys}
        print(f"[{tag}] {condition}: {min(s + shard, len(files))}/{len(files)} clips, {time.time() - t0:.0f}s", flush=True)
    keys = parts[starts[0]].keys() if starts else ()
    return {k: np.concatenate([parts[s][k] for s in sorted(parts)]) for k in keys}


def extract(
    featurizer: Featurizer | OrtFeaturizer,
    files: list[str],
    root: Path,
    condition: str,
    out_dir: Path,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (A [n, L, 2d] float32, B [n, 242] float32) for files under condition; cached by shard (with H, the
    last block's hidden states [n, 250, d] float16, which is not loaded here)."""

    def featurize(segs: np.ndarray) -> dict[str, np.ndarray]:
        a, b, h = featurizer(torch.from_numpy(segs))
        return {"a": a.numpy(), "b": b.numpy(), "h": h.numpy().astype(np.float16)}

    out = extract_shards(featurize, files, root, condition, out_dir, seed, keys=("a", "b"))
    return out["a"], out["b"]


def read_shards(out_dir: Path, condition: str, n: int, key: str) -> np.ndarray:
    """Features another extractor cached in the same shard layout; fails with the command to run if incomplete."""
    paths = sorted(out_dir.glob(f"{condition}_[0-9][0-9][0-9][0-9]_*.npz"))
    parts = [np.load(p)[key] for p in paths]
    got = sum(len(x) for x in parts)
    if got != n:
        raise FileNotFoundError(f"{out_dir}: {got} of {n} {condition} rows cached; run its extraction first "
                                "(make -C training yamnet-features for yamnet)")
    return np.concatenate(parts)
