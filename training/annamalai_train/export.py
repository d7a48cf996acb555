"""ONNX export, int8 dynamic quantisation, parity files, timing, manifest."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from .labels import LABELS, TRAINED_LABELS

OPSET = 17
# ONNX values are single-assignment: the meta graph cannot name both its input and output "logits".
META_OUTPUT = "meta_logits"


def export_base(graph: nn.Module, path: Path, emb_dim: int) -> None:
    graph.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        graph, (torch.zeros(2, 80000),), str(path), input_names=["audio"], output_names=["logits", "embedding"],
        dynamic_axes={"audio": {0: "batch"}, "logits": {0: "batch"}, "embedding": {0: "batch"}},
        opset_version=OPSET, dynamo=False,
    )
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    dims = m.graph.output[1].type.tensor_type.shape.dim
    assert dims[1].dim_value in (0, emb_dim), f"embedding dim {dims[1]} != {emb_dim}"


def export_meta(meta: nn.Module, path: Path, n_in: int) -> None:
    meta.eval()
    torch.onnx.export(
        meta, (torch.zeros(2, n_in),), str(path), input_names=["logits"], output_names=[META_OUTPUT],
        dynamic_axes={"logits": {0: "batch"}, META_OUTPUT: {0: "batch"}}, opset_version=OPSET, dynamo=False,
    )
    onnx.checker.check_model(onnx.load(str(path)))


def quantize(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
        extra_options={"MatMulConstBOnly": True},
    )


def session(path: Path, threads: int = 2) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def run_onnx(path: Path, x: np.ndarray, batch: int = 4) -> list[np.ndarray]:
    """All outputs of a graph, run in batches."""
    s = session(path)
    outs = [s.run(None, {s.get_inputs()[0].name: x[i : i + batch]}) for i in range(0, len(x), batch)]
    return [np.concatenate([o[j] for o in outs]) for j in range(len(outs[0]))]


def time_ms(paths: list[Path], n_base: int, reps: int = 30) -> dict[str, float]:
    """Median ms per 5-s segment (batch 1, 2 threads) for each graph and for all of them ("total")."""
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal((1, 80000))).astype(np.float32)
    res: dict[str, float] = {}
    total = 0.0
    for p in paths:
        s = session(p)
        name = s.get_inputs()[0].name
        inp = x if name == "audio" else rng.standard_normal((1, 9 * n_base)).astype(np.float32)
        for _ in range(3):
            s.run(None, {name: inp})
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            s.run(None, {name: inp})
            ts.append((time.perf_counter() - t) * 1000)
        res[p.name] = float(np.median(ts))
        total += res[p.name]
    res["total"] = total
    return res


def flops_per_segment(graph: nn.Module, n_in: int = 80000) -> int:
    """Floating-point operations (2 per multiply-add, as torch counts them) of one forward pass on one input row:
    a 5-s segment for an audio graph, n_in logits for the meta learner. Matrix products and convolutions only."""
    from torch.utils.flop_counter import FlopCounterMode

    graph.eval()
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        graph(torch.zeros(1, n_in))
    return int(fc.get_total_flops())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(model_dir: Path, bases: list[dict[str, Any]], stacked: bool, extra: dict[str, Any]) -> dict[str, Any]:
    """Without a meta model (stacked=False) the runtime takes the softmax of the single base model's logits."""
    files = [b["file"] for b in bases] + (["meta.onnx"] if stacked else [])
    man: dict[str, Any] = {
        "format": "annamalai-model/1",
        "id": extra.get("id", "annamalai-whisper-ensemble"),
        "version": extra.get("version", "1.0.0"),
        "name": extra.get("name", "Whisper-base encoder + log-mel statistics, stacked ensemble"),
        "fixture": extra.get("fixture", False),
        "sample_rate": 16000,
        "segment_samples": 80000,
        "labels": LABELS,
        "trained_labels": TRAINED_LABELS,
        "base_models": bases,
        **({"meta_model": {"file": "meta.onnx", "input": "logits", "output": META_OUTPUT}} if stacked else {}),
        "files": {f: {"sha256": sha256(model_dir / f), "bytes": (model_dir / f).stat().st_size} for f in files},
        "metrics": extra.get("metrics", {}),
        "provenance": extra.get("provenance", {}),
        "licence": extra.get("licence", {}),
    }
    (model_dir / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
    return man


def write_parity(model_dir: Path, audio: np.ndarray, base_logits: dict[str, np.ndarray],
                 meta_logits: np.ndarray | None, reference: dict[str, str]) -> None:
    (model_dir / "parity-input.f32").write_bytes(np.ascontiguousarray(audio, dtype="<f4").tobytes())
    par = {
        "input": {"file": "parity-input.f32", "shape": list(audio.shape)},
        "expected": {
            "base_logits": {k: v.astype(float).tolist() for k, v in base_logits.items()},
            **({"meta_logits": meta_logits.astype(float).tolist()} if meta_logits is not None else {}),
        },
        "reference": reference,
        "tolerance": {"fp32": 1e-4, "quantized": 1e-3},
    }
    (model_dir / "parity.json").write_text(json.dumps(par, indent=1) + "\n")


def store_fp16(src: Path, dst: Path, min_elems: int = 4096) -> int:
    """Store large float32 initializers that are exactly representable in float16 (the Whisper weights come
    from a float16 checkpoint) as float16 plus a Cast to float32: the same fp32 computation, half the file.
    Returns the number of initializers converted."""
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(str(src))
    g = m.graph
    casts = []
    keep = []
    n = 0
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT and int(np.prod(init.dims)) >= min_elems:
            a = numpy_helper.to_array(init)
            h = a.astype(np.float16)
            if np.array_equal(h.astype(np.float32), a):
                name = init.name
                keep.append(numpy_helper.from_array(h, name + "__fp16"))
                casts.append(helper.make_node("Cast", [name + "__fp16"], [name], to=TensorProto.FLOAT,
                                              name=name + "__cast"))
                n += 1
                continue
        keep.append(init)
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))
    return n


def dft_basis_in_graph(src: Path, dst: Path, name: str = "logmel.basis", n_fft: int = 400) -> bool:
    """Replace the stored [2*(n_fft//2+1), 1, n_fft] windowed DFT basis (643 KB) by a few nodes that compute it
    (angles from the exact integer product k*n mod n_fft, so float32 cos/sin stay accurate)."""
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(str(src))
    g = m.graph
    if not any(i.name == name for i in g.initializer):
        return False
    keep = [i for i in g.initializer if i.name != name]
    del g.initializer[:]
    g.initializer.extend(keep)
    p = name + "__"
    c = {
        p + "n": np.arange(n_fft, dtype=np.float32)[None, :],
        p + "k": np.arange(n_fft // 2 + 1, dtype=np.float32)[:, None],
        p + "N": np.array(float(n_fft), dtype=np.float32),
        p + "w": np.array(2 * np.pi / n_fft, dtype=np.float32),
        p + "half": np.array(0.5, dtype=np.float32),
        p + "neg": np.array(-1.0, dtype=np.float32),
        p + "axes": np.array([1], dtype=np.int64),
    }
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in c.items())
    nodes = [
        helper.make_node("Mul", [p + "k", p + "n"], [p + "kn"]),  # exact integers < 2^24
        helper.make_node("Mod", [p + "kn", p + "N"], [p + "knm"], fmod=1),
        helper.make_node("Mul", [p + "knm", p + "w"], [p + "ang"]),
        helper.make_node("Mul", [p + "n", p + "w"], [p + "wn"]),
        helper.make_node("Cos", [p + "wn"], [p + "cwn"]),
        helper.make_node("Mul", [p + "cwn", p + "half"], [p + "hc"]),
        helper.make_node("Sub", [p + "half", p + "hc"], [p + "win"]),  # periodic Hann
        helper.make_node("Cos", [p + "ang"], [p + "cos"]),
        helper.make_node("Sin", [p + "ang"], [p + "sin"]),
        helper.make_node("Mul", [p + "cos", p + "win"], [p + "re"]),
        helper.make_node("Mul", [p + "sin", p + "win"], [p + "imp"]),
        helper.make_node("Mul", [p + "imp", p + "neg"], [p + "im"]),
        helper.make_node("Concat", [p + "re", p + "im"], [p + "cat"], axis=0),
        helper.make_node("Unsqueeze", [p + "cat", p + "axes"], [name]),
    ]
    old = list(g.node)
    del g.node[:]
    g.node.extend(nodes + old)
    _ = TensorProto
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))
    return True
