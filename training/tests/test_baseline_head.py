from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from annamalai_train import baseline_head as H
from annamalai_train import baseline_norm as N
from annamalai_train.labels import N_LABELS
from annamalai_train.models import MLPHead


def test_exported_head_matches_torch_and_the_manifest_entry_is_the_contracts(tmp_path: Path) -> None:
    d = 16
    head = MLPHead(d, 8, 0.0)
    head.norm.mean.copy_(torch.linspace(-1, 1, d))
    graph = H.BaselineGraph(head, 1.7).eval()
    g = N.GlobalStats(np.linspace(0, 1, d).astype(np.float32), np.linspace(1, 2, d).astype(np.float32))
    (tmp_path / "manifest.json").write_text(json.dumps({"files": {"whisper.onnx": {"sha256": "x", "bytes": 1}}}))
    entry = H.export_baseline(tmp_path, {"graph": graph, "stats": g, "rule": N.Rule("mean", 20.0), "min_recordings": 5},
                              "training/reports/r/baseline.md")
    H.set_manifest_entry(tmp_path, entry)
    man = json.loads((tmp_path / "manifest.json").read_text())
    vb = man["voice_baseline"]
    assert vb == {"file": "baseline-head.onnx", "input": "embedding", "logits_output": "logits",
                  "stats_file": "baseline-stats.f32", "dims": d, "normalise": "mean", "shrinkage_k": 20.0,
                  "min_recordings": 5, "evidence": "training/reports/r/baseline.md"}
    assert set(man["files"]) == {"whisper.onnx", "baseline-head.onnx", "baseline-stats.f32"}
    assert man["files"]["baseline-stats.f32"]["bytes"] == 2 * d * 4
    raw = np.frombuffer((tmp_path / "baseline-stats.f32").read_bytes(), "<f4")
    assert np.array_equal(raw[:d], g.mean) and np.array_equal(raw[d:], g.std)
    z = np.random.default_rng(0).normal(size=(3, d)).astype(np.float32)  # batch 3: the batch axis is dynamic
    s = ort.InferenceSession(str(tmp_path / "baseline-head.onnx"), providers=["CPUExecutionProvider"])
    got = s.run(["logits"], {"embedding": z})[0]
    with torch.no_grad():
        want = head(torch.from_numpy(z)).numpy() / 1.7
    assert got.shape == (3, N_LABELS) and np.abs(got - want).max() < 1e-5
    H.set_manifest_entry(tmp_path, None)  # a later run without a baseline leaves nothing stale behind
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert "voice_baseline" not in man and set(man["files"]) == {"whisper.onnx"}
    assert not (tmp_path / "baseline-head.onnx").exists() and not (tmp_path / "baseline-stats.f32").exists()
