from __future__ import annotations

import json
from pathlib import Path

from annamalai_train.smoke import run


def test_smoke_pipeline(tmp_path: Path) -> None:
    """Tiny random Whisper-shaped encoder: train one epoch, export ONNX, quantise, parity."""
    res = run(tmp_path)
    assert res["meta_ort_vs_torch"] < 1e-4
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["format"] == "annamalai-model/1"
    assert [b["name"] for b in man["base_models"]] == ["whisper", "melstats"]
    par = json.loads((tmp_path / "parity.json").read_text())
    assert par["input"]["shape"] == [2, 80000]
    assert (tmp_path / "parity-input.f32").stat().st_size == 2 * 80000 * 4
    assert len(par["expected"]["meta_logits"]) == 2 and len(par["expected"]["meta_logits"][0]) == 9
