"""Synthetic speech with espeak-ng (no corpus audio) for parity files and tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from .frontend import SAMPLE_RATE, SEGMENT_SAMPLES


def resample(x: np.ndarray, sr: int, target: int = SAMPLE_RATE) -> np.ndarray:
    if sr == target:
        return x.astype(np.float32)
    g = gcd(sr, target)
    return resample_poly(x, target // g, sr // g).astype(np.float32)


def fit_segment(x: np.ndarray, n: int = SEGMENT_SAMPLES) -> np.ndarray:
    out = np.zeros(n, dtype=np.float32)
    out[: min(n, len(x))] = x[:n]
    return out


def espeak(text: str, voice: str = "en", speed: int = 150, pitch: int = 50) -> np.ndarray | None:
    """16 kHz float32 speech from espeak-ng, or None if espeak-ng is missing."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run([exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text], check=True)
        x, sr = sf.read(wav, dtype="float32")
    if x.ndim > 1:
        x = x.mean(axis=1)
    return resample(x, sr)


def synthetic_segments(seed: int = 0) -> np.ndarray:
    """Two 5-s segments [2, 80000]: espeak-ng speech if available, else tonal bursts."""
    texts = [
        ("en", "I can't believe you did that again, this is absolutely unacceptable!"),
        ("de", "Das Wetter ist heute ruhig, und ich gehe langsam nach Hause."),
    ]
    out = []
    rng = np.random.default_rng(seed)
    for i, (voice, text) in enumerate(texts):
        x = espeak(text, voice=voice, speed=160 + 20 * i, pitch=40 + 20 * i)
        if x is None:
            t = np.arange(SEGMENT_SAMPLES) / SAMPLE_RATE
            f0 = 120 + 60 * i
            x = 0.3 * np.sin(2 * np.pi * f0 * t * (1 + 0.1 * np.sin(2 * np.pi * 3 * t)))
            x = (x * (np.sin(2 * np.pi * 2 * t) > 0) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
        out.append(fit_segment(0.5 * x / (np.abs(x).max() + 1e-9)))
    return np.stack(out).astype(np.float32)
