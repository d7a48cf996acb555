"""The reliability diagram renders every corpus of both sets, including a corpus one set lacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annamalai_train.calibrate import by_group
from annamalai_train.reliability_plot import reliability_png


def test_reliability_png_draws_both_sets_per_corpus(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 8, 300)
    logits = rng.normal(0, 2, (300, 9)).astype(np.float32)
    corpus = np.array(["a", "b", "c"])[rng.integers(0, 3, 300)]
    m = "familiarity temperature"
    cal = {"loco": {m: by_group(y, logits, corpus)}, "held_out_speakers": {m: by_group(y[:100], logits[:100],
                                                                                       np.full(100, "a"))}}
    out = tmp_path / "reliability.png"
    reliability_png(cal, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
