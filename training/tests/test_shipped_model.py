from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from .conftest import REPO

MODEL = REPO / "models" / "default"


def test_shipped_model_manifest_and_parity() -> None:
    if not (MODEL / "manifest.json").exists():
        pytest.skip("no models/default/manifest.json")
    import onnxruntime as ort

    man = json.loads((MODEL / "manifest.json").read_text())
    assert man["labels"][6] == "question" and "question" not in man["trained_labels"]
    total = 0
    for f, meta in man["files"].items():
        data = (MODEL / f).read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], f
        total += len(data)
    assert total <= 30 * 1024 * 1024
    par = json.loads((MODEL / "parity.json").read_text())
    x = np.fromfile(MODEL / par["input"]["file"], dtype="<f4").reshape(par["input"]["shape"])
    logits = []
    for b in man["base_models"]:
        s = ort.InferenceSession(str(MODEL / b["file"]), providers=["CPUExecutionProvider"])
        out = s.run([b["logits_output"], b["embedding_output"]], {b["input"]: x})
        tol = par["tolerance"]["quantized" if b["quantized"] else "fp32"]
        assert np.abs(out[0] - np.array(par["expected"]["base_logits"][b["name"]])).max() < tol
        logits.append(out[0])
    if "meta_model" not in man:  # one base model; the runtime takes the softmax of its logits
        assert len(logits) == 1 and "meta_logits" not in par["expected"]
        return
    m = man["meta_model"]
    s = ort.InferenceSession(str(MODEL / m["file"]), providers=["CPUExecutionProvider"])
    mo = s.run([m["output"]], {m["input"]: np.concatenate(logits, axis=1).astype(np.float32)})[0]
    assert np.abs(mo - np.array(par["expected"]["meta_logits"])).max() < par["tolerance"]["quantized"]
