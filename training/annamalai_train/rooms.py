"""The rooms and phones users record in: synthetic reverberation, lossy codecs and a clipping microphone, added to
the augmentation chain as the 'aug_room' condition (measured on LOCO against 'aug' before it is kept)."""

from __future__ import annotations

import subprocess

import numpy as np

from .audio import GAIN_DB, add_noise, ffmpeg_decode, gain_chain, opus_roundtrip, speed_perturb
from .frontend import SAMPLE_RATE, SEGMENT_SAMPLES
from .synth import fit_segment


def room_impulse(rng: np.random.Generator, rt60: float, drr_db: float) -> np.ndarray:
    """A synthetic room impulse response: the direct path, then exponentially decaying noise (60 dB down after
    rt60 seconds) whose energy is drr_db below the direct path's; a 2.5 ms gap before the tail."""
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)  # ln(1000) = 6.9078: -60 dB at rt60
    tail[: int(0.0025 * SAMPLE_RATE)] = 0.0
    tail *= np.sqrt(10 ** (-drr_db / 10) / (np.sum(tail**2) + 1e-12))
    h = tail
    h[0] = 1.0
    return h.astype(np.float32)


def reverberate(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """x in a random room (RT60 0.15-0.9 s, direct-to-reverberant ratio -3..+12 dB), the level kept."""
    from scipy.signal import fftconvolve

    h = room_impulse(rng, float(rng.uniform(0.15, 0.9)), float(rng.uniform(-3, 12)))
    y = fftconvolve(x, h)[: len(x)]
    return (y * np.sqrt((np.mean(x**2) + 1e-12) / (np.mean(y**2) + 1e-12))).astype(np.float32)


def codec_roundtrip(x: np.ndarray, codec: str, kbps: int) -> np.ndarray:
    """Encode with ffmpeg ('mp3' or 'aac' at kbps) and decode back to 16 kHz, the segment's length kept."""
    fmt = {"mp3": ("libmp3lame", "mp3"), "aac": ("aac", "adts")}[codec]
    enc = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0",
         "-c:a", fmt[0], "-b:a", f"{kbps}k", "-f", fmt[1], "pipe:1"],
        input=np.ascontiguousarray(x, dtype=np.float32).tobytes(), capture_output=True, check=True,
    )
    return fit_segment(ffmpeg_decode(enc.stdout), len(x))


def clip_hot(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A microphone driven 3-15 dB past full scale: hard clipping, the result scaled back to the input's peak."""
    peak = float(np.max(np.abs(x))) + 1e-9
    over = 10 ** (rng.uniform(3, 15) / 20)
    return (np.clip(x / peak * over, -1.0, 1.0) * peak).astype(np.float32)


def room_augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random chain of what users' rooms and phones do: mid-word cuts, speed/pitch, reverberation, background
    noise at 0-20 dB SNR, a clipping microphone, a lossy codec (Opus 16-32, MP3 or AAC 32-64 kbit/s), then gain
    -40..+6 dB with a device noise floor and 16-bit rounding."""
    if rng.random() < 0.5 and len(x) > SAMPLE_RATE:
        a = int(rng.uniform(0, 0.2) * len(x))
        b = len(x) - int(rng.uniform(0, 0.2) * len(x))
        x = x[a:b]
    if rng.random() < 0.6:
        x = speed_perturb(x, float(rng.uniform(0.9, 1.1)))
    if rng.random() < 0.6:
        x = reverberate(x, rng)
    n_active = min(len(x), SEGMENT_SAMPLES)
    seg = fit_segment(x)
    if rng.random() < 0.6:
        seg = add_noise(seg, float(rng.uniform(0, 20)), rng, str(rng.choice(["white", "pink", "brown"])), n_active)
    if rng.random() < 0.2:
        seg = clip_hot(seg, rng)
    if rng.random() < 0.7:
        codec = str(rng.choice(["opus", "mp3", "aac"]))
        seg = (opus_roundtrip(seg, int(rng.choice([16, 24, 32]))) if codec == "opus"
               else codec_roundtrip(seg, codec, int(rng.choice([32, 48, 64]))))
    return gain_chain(seg, float(rng.uniform(*GAIN_DB)), rng)
