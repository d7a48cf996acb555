"""The named conditions a clip's features are cached under: clean, the test conditions, the augmentation chains
and the quiet-speech gains."""

from __future__ import annotations

import numpy as np

from .audio import add_noise, augment, opus_roundtrip, quantize16
from .frontend import SEGMENT_SAMPLES
from .rooms import room_augment
from .synth import fit_segment


def degrade(x: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """Evaluation conditions on a clip -> one 5-s segment."""
    n_active = min(len(x), SEGMENT_SAMPLES)
    seg = fit_segment(x)
    if condition == "clean":
        return seg
    if condition == "opus32":
        return opus_roundtrip(seg, 32)
    if condition == "noise10":
        return add_noise(seg, 10.0, rng, "pink", n_active)
    if condition == "aug":
        return augment(x, rng)
    if condition == "aug_room":
        return room_augment(x, rng)
    if condition.startswith("gain"):  # "gain-30": the same clip 30 dB quieter, 16-bit, no added noise
        return quantize16(seg * np.float32(10 ** (float(condition[4:]) / 20)))
    raise ValueError(condition)
