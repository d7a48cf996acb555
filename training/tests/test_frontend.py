from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from annamalai_train.frontend import LogMel, dft_basis, mel_filters, reference_log_mel


def test_mel_filters_shape_and_norm() -> None:
    f = mel_filters()
    assert f.shape == (80, 201)
    assert (f >= 0).all()
    assert (f.sum(axis=1) > 0).all()


def test_mel_filters_match_openai_whisper() -> None:
    spec = importlib.util.find_spec("whisper")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("openai-whisper not installed (make verify-deps installs it with --no-deps)")
    asset = Path(list(spec.submodule_search_locations)[0]) / "assets" / "mel_filters.npz"
    ref = np.load(asset)["mel_80"]
    assert np.abs(ref - mel_filters()).max() < 1e-6


def test_dft_basis_matches_rfft() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(400).astype(np.float32)
    b = dft_basis()[:, 0, :]
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)
    ref = np.fft.rfft(x * win)
    got = b @ x
    assert np.allclose(got[:201], ref.real, atol=1e-3)
    assert np.allclose(got[201:], ref.imag, atol=1e-3)


def test_logmel_matches_whisper_algorithm() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(80000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 220 * t) * (t < 3) + 0.01 * rng.standard_normal(80000)).astype(np.float32)
    ours = LogMel()(torch.from_numpy(x[None]))[0].numpy()
    ref = reference_log_mel(x)
    assert ours.shape == (80, 500)
    assert np.abs(ours - ref).max() < 1e-3
