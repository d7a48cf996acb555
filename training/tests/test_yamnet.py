from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from annamalai_train import yamnet as Y

from .conftest import SHARED

TFLITE = SHARED / "pretrained" / "yamnet" / "yamnet.tflite"
needs_file = pytest.mark.skipif(not TFLITE.exists(), reason=f"YAMNet weights not present ({TFLITE}: /work/shared absent)")
needs_reader = pytest.mark.skipif(importlib.util.find_spec("tflite") is None, reason="pip install -r requirements-yamnet.txt")
needs_runtime = pytest.mark.skipif(importlib.util.find_spec("ai_edge_litert") is None, reason="ai-edge-litert not installed")


def sine(hz: float, n: int = Y.SEGMENT) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * hz * np.arange(n) / 16000)).astype(np.float32)


def test_same_padding_is_tensorflows() -> None:
    assert Y._same_pad(96, 3, 2) == (0, 1)
    assert Y._same_pad(95, 3, 2) == (1, 1)
    assert Y._same_pad(48, 3, 1) == (1, 1)


def test_frontend_puts_a_sine_in_its_mel_band() -> None:
    front = Y.YamnetFrontend()
    mel = torch.from_numpy(Y.mel_matrix())
    for hz in (300.0, 1000.0, 3000.0):
        with torch.no_grad():
            lm = front(torch.from_numpy(sine(hz))[None])[0]
        assert lm.shape == ((Y.SEGMENT - Y.WINDOW) // Y.HOP + 1, Y.N_MELS)
        k = int(round(hz / 8000 * 256))  # the DFT bin of hz
        assert abs(int(lm.mean(0).argmax()) - int(mel[k].argmax())) <= 1, hz  # bands are ~1 DFT bin wide at 300 Hz


def test_embedder_shapes_and_onnx_match_torch_with_random_weights(tmp_path: Path) -> None:
    torch.manual_seed(0)
    port = Y.YamnetPort().eval()
    emb = Y.YamnetEmbedder(port).eval()
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((3, Y.SEGMENT)).astype(np.float32) * 0.1)
    with torch.no_grad():
        e, s = port(x)
        ref = emb(x).numpy()
    assert e.shape == (3, 9, Y.EMB) and s.shape == (3, 9, Y.N_CLASSES) and ref.shape == (3, 2 * Y.EMB)
    # one weight made int8-born, to exercise the int8 + DequantizeLinear export too
    q = np.random.default_rng(1).integers(-127, 128, size=tuple(port.net.body[2].weight.shape)).astype(np.int8)
    with torch.no_grad():
        port.net.body[2].weight.copy_(torch.from_numpy(q.astype(np.float32) * np.float32(0.01)))
        ref = emb(x).numpy()
    ort = pytest.importorskip("onnxruntime")
    del ort
    for name, int8 in (("fp32", None), ("int8", {"body.2.weight": (q, 0.01)})):
        p = Y.export_embedder(emb, tmp_path / f"{name}.onnx", int8)
        y = Y.OrtEmbedder(p)(x.numpy())
        assert np.abs(y - ref).max() <= 1e-4 * (1 + np.abs(ref).max()), name


@needs_file
@needs_reader
def test_reader_maps_the_tflite_to_the_port() -> None:
    w = Y.load_weights(TFLITE)
    sd = Y.YamnetPort().state_dict()
    assert {("net." + k if k.startswith("body.") else k) for k in w.state} == set(sd)
    for k, v in w.state.items():
        assert tuple(v.shape) == tuple(sd["net." + k if k.startswith("body.") else k].shape), k
    assert "front.dft_re" in w.int8 and "body.1.weight" not in w.int8 and "body.26.weight" in w.int8  # dw 2 float
    np.testing.assert_allclose(w.state["front.mel_b"], 0.001, rtol=1e-6)
    # the file's int8 mel matrix is the 125-7500 Hz HTK mel (to its quantisation step)
    assert np.abs(w.state["front.mel_w"] - Y.mel_matrix()).max() < 0.01
    assert len(Y.class_names(TFLITE.parent / "yamnet_class_map.csv")) == Y.N_CLASSES


@needs_file
@needs_reader
def test_known_sounds_get_their_class() -> None:
    names = Y.class_names(TFLITE.parent / "yamnet_class_map.csv")
    port = Y.load_port(TFLITE)
    sounds = {"sine": (sine(1000.0), ("Sine wave", "Beep, bleep", "Tone")), "silence": (np.zeros(Y.SEGMENT, np.float32), ("Silence",))}
    for _, (x, ok) in sounds.items():
        with torch.no_grad():
            s = port(torch.from_numpy(x)[None])[1][0].mean(0).numpy()
        assert names[int(s.argmax())] in ok


@needs_file
@needs_reader
@needs_runtime
def test_port_with_int8_activations_matches_the_tflite_reference_kernels() -> None:
    port = Y.load_port(TFLITE, emulate_int8=True)
    x = sine(1000.0)[: Y.PATCH_SAMPLES]
    with torch.no_grad():
        e, s = port(torch.from_numpy(x)[None])
    tl, te, ts = Y._tflite_run(TFLITE, x[None], xnnpack=False)
    assert np.abs(e[0].numpy() - te).max() < 1e-3
    assert np.abs(s[0].numpy() - ts).max() < 1e-3
