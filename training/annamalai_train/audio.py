"""Audio loading and the degradations users' audio goes through (Opus, noise, gain, cuts)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

from .frontend import SAMPLE_RATE, SEGMENT_SAMPLES
from .synth import fit_segment, resample


def load_audio(path: Path) -> np.ndarray:
    """Mono float32 at 16 kHz (soundfile reads FLAC and, with libsndfile >= 1.1, Ogg Opus)."""
    try:
        x, sr = sf.read(path, dtype="float32", always_2d=True)
        x = x.mean(axis=1)
    except (RuntimeError, sf.LibsndfileError):
        x = ffmpeg_decode(path.read_bytes())
        sr = SAMPLE_RATE
    return resample(x, sr)


def ffmpeg_decode(data: bytes) -> np.ndarray:
    p = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "f32le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"],
        input=data, capture_output=True, check=True,
    )
    return np.frombuffer(p.stdout, dtype=np.float32).copy()


def opus_roundtrip(x: np.ndarray, kbps: int) -> np.ndarray:
    """Encode to Ogg Opus at kbps (as Discord/Slack do) and decode back to 16 kHz."""
    enc = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0",
         "-c:a", "libopus", "-b:a", f"{kbps}k", "-f", "ogg", "pipe:1"],
        input=np.ascontiguousarray(x, dtype=np.float32).tobytes(), capture_output=True, check=True,
    )
    y = ffmpeg_decode(enc.stdout)
    return fit_segment(y, len(x))


def colored_noise(n: int, rng: np.random.Generator, kind: str) -> np.ndarray:
    """white, pink (1/f) or brown (1/f^2) noise, unit RMS."""
    w = rng.standard_normal(n)
    if kind != "white":
        spec = np.fft.rfft(w)
        f = np.fft.rfftfreq(n)
        f[0] = f[1]
        spec /= np.sqrt(f) if kind == "pink" else f
        w = np.fft.irfft(spec, n)
    return (w / (np.sqrt(np.mean(w**2)) + 1e-12)).astype(np.float32)


def add_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator, kind: str = "pink", n_active: int | None = None) -> np.ndarray:
    """Add noise at snr_db relative to the power of the clip's first n_active samples."""
    n_active = n_active or len(x)
    p_sig = float(np.mean(x[:n_active] ** 2)) + 1e-12
    noise = colored_noise(len(x), rng, kind) * np.sqrt(p_sig / 10 ** (snr_db / 10))
    return (x + noise).astype(np.float32)


def speed_perturb(x: np.ndarray, factor: float) -> np.ndarray:
    """Play faster/slower by factor (tempo and pitch together)."""
    from scipy.signal import resample_poly

    up = 100
    down = int(round(100 * factor))
    return resample_poly(x, up, down).astype(np.float32)


GAIN_DB = (-40.0, 6.0)  # the augmentation's gain range: a phone far from the mouth .. a loud close voice


def quantize16(x: np.ndarray) -> np.ndarray:
    """16-bit PCM rounding (what a recorder or decoder hands over), with clipping at full scale."""
    return (np.round(np.clip(x, -1.0, 32767 / 32768) * 32768) / 32768).astype(np.float32)


def gain_chain(seg: np.ndarray, gain_db: float, rng: np.random.Generator, floor_prob: float = 0.5) -> np.ndarray:
    """The level a user's device gives: gain, sometimes a device noise floor at -80..-60 dBFS that does not
    follow the voice (so quiet speech has a poorer SNR), 16-bit rounding and clipping."""
    seg = seg * np.float32(10 ** (gain_db / 20))
    if rng.random() < floor_prob:
        lvl = 10 ** (rng.uniform(-80, -60) / 20)
        seg = seg + colored_noise(len(seg), rng, str(rng.choice(["white", "pink"]))) * np.float32(lvl)
    return quantize16(seg)


def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random chain: mid-word cuts, speed/pitch, background noise, Opus 24-32 kbit/s, gain -40..+6 dB with a
    device noise floor and 16-bit rounding."""
    if rng.random() < 0.5 and len(x) > SAMPLE_RATE:  # start and/or end mid-word
        a = int(rng.uniform(0, 0.2) * len(x))
        b = len(x) - int(rng.uniform(0, 0.2) * len(x))
        x = x[a:b]
    if rng.random() < 0.6:
        x = speed_perturb(x, float(rng.uniform(0.9, 1.1)))
    n_active = min(len(x), SEGMENT_SAMPLES)
    seg = fit_segment(x)
    if rng.random() < 0.6:
        seg = add_noise(seg, float(rng.uniform(5, 25)), rng, str(rng.choice(["white", "pink", "brown"])), n_active)
    if rng.random() < 0.6:
        seg = opus_roundtrip(seg, int(rng.choice([24, 32])))
    return gain_chain(seg, float(rng.uniform(*GAIN_DB)), rng)
