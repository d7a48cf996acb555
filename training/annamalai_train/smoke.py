"""CI smoke run: tiny random Whisper-shaped encoder, generated audio, one epoch, export, parity.

Needs no checkpoint and no corpus. Usage: python -m annamalai_train.smoke [out_dir]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from .encoder import EncoderConfig, random_encoder
from .export import export_base, export_meta, quantize, run_onnx, write_manifest, write_parity
from .features import Featurizer
from .frontend import SAMPLE_RATE, SEGMENT_SAMPLES
from .labels import N_LABELS
from .models import MelStats, MetaMLP, VectorGraph, VectorHead, WhisperGraph, WhisperHead
from .train import class_weights, fit_classifier, logits_of

TINY = EncoderConfig(d_model=64, n_heads=2, n_blocks=2)
HP = {"epochs": 1, "lr": 1e-3, "weight_decay": 0.0, "batch": 8}


def generated_audio(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n segments of 5 s: harmonic tones whose pitch and loudness depend on a class label."""
    rng = np.random.default_rng(seed)
    t = np.arange(SEGMENT_SAMPLES) / SAMPLE_RATE
    labels = rng.choice([0, 3, 4, 5, 7], size=n)
    out = np.zeros((n, SEGMENT_SAMPLES), np.float32)
    for i, lab in enumerate(labels):
        f0 = 100 + 25 * lab + rng.uniform(-5, 5)
        dur = rng.uniform(1.0, 3.0)
        env = (t < dur).astype(np.float32) * (0.1 + 0.05 * lab)
        x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 4))
        out[i] = (env * x + 0.003 * rng.standard_normal(len(t))).astype(np.float32)
    return out, labels


def run(out_dir: Path, n: int = 24, seed: int = 0) -> dict[str, float]:
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    audio, y = generated_audio(n, seed)
    enc = random_encoder(TINY, seed)
    feat = Featurizer(enc)
    a, b, _ = feat(torch.from_numpy(audio))
    w = np.ones(n)
    ha = fit_classifier(WhisperHead(TINY.n_blocks, 2 * TINY.d_model, 16, 0.1), a, y, w, HP, seed)
    hb = fit_classifier(VectorHead(b.shape[1], 16, 0.1), b, y, w, HP, seed)
    assert isinstance(ha, WhisperHead) and isinstance(hb, VectorHead)
    xm = torch.from_numpy(np.concatenate([logits_of(ha, a), logits_of(hb, b)], axis=1))
    meta = fit_classifier(MetaMLP(2 * N_LABELS), xm, y, w, HP, seed, class_weights(y))
    ga, gb = WhisperGraph(enc, ha).eval(), VectorGraph(MelStats(), hb).eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "whisper-fp32.onnx"
    export_base(ga, fp32, 2 * TINY.d_model)
    quantize(fp32, out_dir / "whisper.onnx")
    fp32.unlink()
    export_base(gb, out_dir / "melstats.onnx", 242)
    export_meta(meta, out_dir / "meta.onnx", 2 * N_LABELS)
    x = audio[:2]
    with torch.no_grad():
        la_t, ea_t = (v.numpy() for v in ga(torch.from_numpy(x)))
        lb_t = gb(torch.from_numpy(x))[0].numpy()
    la_q = run_onnx(out_dir / "whisper.onnx", x)[0]
    lb_o = run_onnx(out_dir / "melstats.onnx", x)[0]
    mi = np.concatenate([la_q, lb_t], axis=1).astype(np.float32)
    with torch.no_grad():
        lm_t = meta(torch.from_numpy(mi)).numpy()
    lm_o = run_onnx(out_dir / "meta.onnx", mi)[0]
    for bsz in (1, 5, 16):
        outs = run_onnx(out_dir / "whisper.onnx", np.zeros((bsz, SEGMENT_SAMPLES), np.float32), batch=bsz)
        assert outs[0].shape == (bsz, N_LABELS) and outs[1].shape == (bsz, 2 * TINY.d_model)
    write_parity(out_dir, x, {"whisper": la_q, "melstats": lb_t}, lm_t,
                 {"whisper": "onnxruntime-python", "melstats": "pytorch-fp32", "meta": "pytorch-fp32"})
    bases = [
        {"name": "whisper", "file": "whisper.onnx", "input": "audio", "logits_output": "logits",
         "embedding_output": "embedding", "quantized": True},
        {"name": "melstats", "file": "melstats.onnx", "input": "audio", "logits_output": "logits",
         "embedding_output": "embedding", "quantized": False},
    ]
    write_manifest(out_dir, bases, True, {"id": "annamalai-smoke", "name": "CI smoke model (random encoder)",
                                    "fixture": True, "metrics": {}, "provenance": {"weights": "random"}})
    res = {
        "melstats_ort_vs_torch": float(np.abs(lb_o - lb_t).max()),
        "meta_ort_vs_torch": float(np.abs(lm_o - lm_t).max()),
        "whisper_int8_vs_fp32": float(np.abs(la_q - la_t).max()),
        "embedding_dim": float(ea_t.shape[1]),
    }
    assert res["melstats_ort_vs_torch"] < 1e-4, res
    assert res["meta_ort_vs_torch"] < 1e-4, res
    return res


if __name__ == "__main__":
    d = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="annamalai-smoke-"))
    print(json.dumps(run(d), indent=2))
    print(f"smoke model in {d}")
