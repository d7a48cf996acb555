"""YAMNet (AudioSet, MobileNetV1) as base model B candidate: a .tflite reader, a PyTorch port of what the
file computes (its own STFT front end included), a 5-s pooled embedder that exports to ONNX, the
embedding cache (the training pipeline scores it as a B candidate: runall.py).

The tflite graph (read from the file, not assumed): input [1, 15600] raw 16 kHz audio -> 96 frames of 400
samples (hop 160) gathered from 80-sample chunks -> periodic Hann window -> zero pad 56+56 to 512 ->
two FULLY_CONNECTED with int8 cos/sin bases [257, 512] -> magnitude -> FULLY_CONNECTED int8 mel matrix
[64, 257] with bias 0.001 -> log -> one 96x64 patch -> MobileNetV1 (SAME padding, ReLU, folded batch norm;
pointwise and dense weights int8, depthwise of layers 4-14 int8 behind DEQUANTIZE, layer 1 and depthwise
2-3 float) -> mean -> 1024-d -> dense 521 -> sigmoid. Every quantisation is per tensor, zero point 0.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .audio import load_audio
from .config import Config, load_config
from .dataset import build_dataset, feature_plan
from .features import extract_shards
from .synth import fit_segment

HERE = Path(__file__).resolve().parent.parent
TFLITE = HERE.parent.parent / "shared" / "pretrained" / "yamnet" / "yamnet.tflite"
CLASS_MAP = TFLITE.parent / "yamnet_class_map.csv"

WINDOW = 400
HOP = 160
CHUNK = 80  # hop/2: the tflite frames audio by gathering 5 chunks of 80 samples every 2 chunks
N_DFT = 257
N_MELS = 64
PATCH = 96
PATCH_HOP = 48
PATCH_SAMPLES = 15600  # (96 - 1) * 160 + 400
EMB = 1024
N_CLASSES = 521
SEGMENT = 80000

# (stride, out channels) of the 14 YAMNet layers; layer 1 is a full 3x3 conv, the rest depthwise-separable
LAYERS: list[tuple[int, int]] = [(2, 32), (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)] + [(1, 512)] * 5 + [
    (2, 1024), (1, 1024)]

# ---------------------------------------------------------------------------------------------- reader

_NP_TYPES: dict[int, Any] = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 7: np.int16, 9: np.int8}


@dataclass
class TfTensor:
    name: str
    shape: tuple[int, ...]
    dtype: Any
    data: np.ndarray | None  # constant tensors only
    scale: np.ndarray | None
    zero_point: np.ndarray | None

    def dequantized(self) -> np.ndarray:
        assert self.data is not None, self.name
        if self.scale is None or self.data.dtype == np.float32:
            return self.data.astype(np.float32)
        s = self.scale.reshape((-1,) + (1,) * (self.data.ndim - 1)) if self.scale.size > 1 else self.scale
        assert self.zero_point is not None
        zp = self.zero_point.reshape(s.shape) if self.zero_point.size > 1 else self.zero_point
        return ((self.data.astype(np.float32) - zp.astype(np.float32)) * s.astype(np.float32)).astype(np.float32)


@dataclass
class TfOp:
    kind: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, int] = field(default_factory=dict)


@dataclass
class TfModel:
    tensors: list[TfTensor]
    ops: list[TfOp]
    inputs: list[int]
    outputs: list[int]

    def source(self, t: int) -> TfTensor:
        """The constant behind t, looking through a DEQUANTIZE op (weights stored int8)."""
        if self.tensors[t].data is None:
            for op in self.ops:
                if op.kind == "DEQUANTIZE" and op.outputs[0] == t:
                    return self.tensors[op.inputs[0]]
        return self.tensors[t]


def read_tflite(path: Path) -> TfModel:
    """Parse a .tflite with the generated TFLite schema (PyPI `tflite`) over `flatbuffers`."""
    import tflite

    buf = Path(path).read_bytes()
    m = tflite.Model.GetRootAsModel(buf, 0)
    sg = m.Subgraphs(0)
    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}
    tensors = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        shape = tuple(int(x) for x in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        dtype = _NP_TYPES[t.Type()]
        raw = m.Buffers(t.Buffer()).DataAsNumpy() if t.Buffer() > 0 else 0
        data = None
        if not isinstance(raw, int) and raw.size:
            data = np.frombuffer(raw.tobytes(), dtype=dtype).reshape(shape).copy()
        q = t.Quantization()
        scale = zp = None
        if q is not None and q.ScaleLength():
            scale = q.ScaleAsNumpy().astype(np.float32)
            zp = q.ZeroPointAsNumpy().astype(np.int64)
        tensors.append(TfTensor(t.Name().decode(), shape, dtype, data, scale, zp))
    ops = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        oc = m.OperatorCodes(op.OpcodeIndex())
        kind = names[max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())]
        opts: dict[str, int] = {}
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            o = tflite.Conv2DOptions() if kind == "CONV_2D" else tflite.DepthwiseConv2DOptions()
            bo = op.BuiltinOptions()
            o.Init(bo.Bytes, bo.Pos)
            opts = {"padding": o.Padding(), "stride_h": o.StrideH(), "stride_w": o.StrideW(),
                    "activation": o.FusedActivationFunction(), "dilation_h": o.DilationHFactor()}
        ops.append(TfOp(kind, [int(x) for x in op.InputsAsNumpy()], [int(x) for x in op.OutputsAsNumpy()], opts))
    return TfModel(tensors, ops, [int(x) for x in sg.InputsAsNumpy()], [int(x) for x in sg.OutputsAsNumpy()])


@dataclass
class YamnetWeights:
    """state-dict arrays for YamnetPort (float), plus the int8 form of every int8-born one: name -> (q, scale)."""

    state: dict[str, np.ndarray]
    int8: dict[str, tuple[np.ndarray, float]]


def yamnet_weights(model: TfModel) -> YamnetWeights:
    """Map the tflite constants to YamnetPort's state dict (torch layouts); checks the graph is the one we port."""
    state: dict[str, np.ndarray] = {}
    int8: dict[str, tuple[np.ndarray, float]] = {}

    def put(name: str, t: TfTensor, perm: tuple[int, ...] | None = None, take: Any = None) -> None:
        def lay(a: np.ndarray) -> np.ndarray:
            a = a[take] if take is not None else a
            return np.ascontiguousarray(a.transpose(perm) if perm is not None else a)

        state[name] = lay(t.dequantized())
        if t.data is not None and t.data.dtype == np.int8:
            assert t.scale is not None and t.scale.size == 1 and t.zero_point is not None and int(t.zero_point[0]) == 0
            int8[name] = (lay(t.data), float(t.scale[0]))

    kinds = [op.kind for op in model.ops]
    fcs = [op for op in model.ops if op.kind == "FULLY_CONNECTED"]
    assert len(fcs) == 4, kinds
    muls = [op for op in model.ops if op.kind == "MUL" and model.tensors[op.inputs[1]].data is not None]
    window = model.tensors[muls[0].inputs[1]].dequantized().reshape(-1)
    assert window.shape == (WINDOW,)
    pads = [op for op in model.ops if op.kind == "PAD"]
    pad = model.tensors[pads[0].inputs[1]].data
    assert pad is not None
    left = int(pad[1][0])
    assert left + WINDOW + int(pad[1][1]) == 512
    cols = (slice(None), slice(left, left + WINDOW))  # the zero-padded columns never see signal
    state["front.window"] = window
    put("front.dft_re", model.source(fcs[0].inputs[1]), (1, 0), cols)  # [400, 257]
    put("front.dft_im", model.source(fcs[1].inputs[1]), (1, 0), cols)
    put("front.mel_w", model.source(fcs[2].inputs[1]), (1, 0))  # [257, 64]
    put("front.mel_b", model.source(fcs[2].inputs[2]))
    convs = [op for op in model.ops if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert len(convs) == 1 + 2 * (len(LAYERS) - 1), len(convs)
    for i, op in enumerate(convs):
        assert op.options["padding"] == 0 and op.options["activation"] == 1, op.options  # SAME, RELU
        stride = LAYERS[(i + 1) // 2][0] if (i == 0 or i % 2 == 1) else 1
        assert op.options["stride_h"] == stride == op.options["stride_w"], (i, op.options)
        w, b = model.source(op.inputs[1]), model.source(op.inputs[2])
        perm = (0, 3, 1, 2) if op.kind == "CONV_2D" else (3, 0, 1, 2)  # OHWI -> OIHW; 1HWC -> C1HW
        put(f"body.{i}.weight", w, perm)
        put(f"body.{i}.bias", b)
    put("dense_w", model.source(fcs[3].inputs[1]), (1, 0))  # [1024, 521]
    put("dense_b", model.source(fcs[3].inputs[2]))
    return YamnetWeights(state, int8)


def load_weights(path: Path = TFLITE) -> YamnetWeights:
    return yamnet_weights(read_tflite(path))


def class_names(path: Path = CLASS_MAP) -> list[str]:
    import csv

    with open(path) as f:
        return [row["display_name"] for row in csv.DictReader(f)]


# ------------------------------------------------------------------------------------------------ port


def mel_matrix(n_mels: int = N_MELS, n_bins: int = N_DFT, sr: int = 16000, lo: float = 125.0, hi: float = 7500.0) -> np.ndarray:
    """[257, 64] HTK-mel triangles 125-7500 Hz (tf.signal.linear_to_mel_weight_matrix, as YAMNet's features.py)."""

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return np.asarray(1127.0 * np.log1p(np.asarray(f, np.float64) / 700.0))

    bins = hz_to_mel(np.linspace(0.0, sr / 2, n_bins)[1:])[:, None]
    edges = np.linspace(hz_to_mel(np.array(lo)), hz_to_mel(np.array(hi)), n_mels + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    w = np.maximum(0.0, np.minimum((bins - lower) / (center - lower), (upper - bins) / (upper - center)))
    return np.concatenate([np.zeros((1, n_mels)), w]).astype(np.float32)


def fake_int8(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """What a TFLite hybrid kernel does to its float input: symmetric int8 with one scale per slice over dims
    (per row for FULLY_CONNECTED, per batch item for CONV_2D), rounding half away from zero."""
    s = x.abs().amax(dim=dims, keepdim=True).clamp(min=1e-30) / 127.0
    q = torch.sign(x) * torch.floor(x.abs() / s + 0.5)
    return q.clamp(-127, 127) * s


def _same_pad(n: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow SAME padding (extra on the right/bottom)."""
    total = max(k - s, 0) if n % s == 0 else max(k - n % s, 0)
    return total // 2, total - total // 2


class YamnetFrontend(nn.Module):
    """audio [B, T] (T a multiple of 80) -> log magnitude-mel [B, frames, 64], as the tflite computes it."""

    def __init__(self) -> None:
        super().__init__()
        n = np.arange(WINDOW)
        self.register_buffer("window", torch.from_numpy((0.5 - 0.5 * np.cos(2 * np.pi * n / WINDOW)).astype(np.float32)))
        k = np.arange(N_DFT)[None, :]
        ang = 2 * np.pi * k * (n[:, None] + 56) / 512
        self.register_buffer("dft_re", torch.from_numpy(np.cos(ang).astype(np.float32)))  # [400, 257]
        self.register_buffer("dft_im", torch.from_numpy(np.sin(ang).astype(np.float32)))
        self.register_buffer("mel_w", torch.from_numpy(mel_matrix()))
        self.register_buffer("mel_b", torch.full((N_MELS,), 0.001))
        self.emulate_int8 = False  # verification only: mimic the tflite's hybrid int8 activations

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        t = int(audio.shape[1])
        n_frames = (t - WINDOW) // HOP + 1
        chunks = audio.reshape(-1, t // CHUNK, CHUNK)
        per = WINDOW // CHUNK
        step = HOP // CHUNK
        frames = torch.cat([chunks[:, m : m + step * (n_frames - 1) + 1 : step] for m in range(per)], dim=2)
        frames = frames * self.window
        if self.emulate_int8:
            frames = fake_int8(frames, (2,))
        re = torch.matmul(frames, self.dft_re)
        im = torch.matmul(frames, self.dft_im)
        mag = torch.sqrt(re * re + im * im)
        if self.emulate_int8:
            mag = fake_int8(mag, (2,))
        return torch.log(torch.matmul(mag, self.mel_w) + self.mel_b)


class YamnetBody(nn.Module):
    """patches [N, 1, 96, 64] -> embeddings [N, 1024] (MobileNetV1, SAME padding, ReLU)."""

    def __init__(self) -> None:
        super().__init__()
        convs: list[nn.Conv2d] = [nn.Conv2d(1, LAYERS[0][1], 3, stride=LAYERS[0][0])]
        self.strides = [LAYERS[0][0]]
        c = LAYERS[0][1]
        for s, o in LAYERS[1:]:
            convs.append(nn.Conv2d(c, c, 3, stride=s, groups=c))
            convs.append(nn.Conv2d(c, o, 1))
            self.strides += [s, 1]
            c = o
        self.body = nn.ModuleList(convs)
        self.emulate_int8 = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, s in zip(self.body, self.strides, strict=True):
            k = conv.kernel_size[0]
            if k > 1:
                ph, pw = _same_pad(int(x.shape[2]), k, s), _same_pad(int(x.shape[3]), k, s)
                x = nn.functional.pad(x, (pw[0], pw[1], ph[0], ph[1]))
            elif self.emulate_int8:
                x = fake_int8(x, (1, 2, 3))
            x = torch.relu(conv(x))
        return x.mean(dim=(2, 3))


class YamnetPort(nn.Module):
    """audio [B, T] -> (per-patch embeddings [B, P, 1024], per-patch class scores [B, P, 521])."""

    def __init__(self) -> None:
        super().__init__()
        self.front = YamnetFrontend()
        self.net = YamnetBody()
        self.dense_w = nn.Parameter(torch.randn(EMB, N_CLASSES) * 0.02)
        self.dense_b = nn.Parameter(torch.zeros(N_CLASSES))

    def load_arrays(self, state: dict[str, np.ndarray]) -> YamnetPort:
        sd = {("net." + k if k.startswith("body.") else k): torch.from_numpy(np.asarray(v, np.float32)) for k, v in state.items()}
        self.load_state_dict(sd, strict=True)
        return self

    def patches(self, audio: torch.Tensor) -> torch.Tensor:
        """[B, T] -> [B, P, 96, 64] log-mel patches (0.96 s, hop 0.48 s)."""
        lm = self.front(audio)
        n = (int(lm.shape[1]) - PATCH) // PATCH_HOP + 1
        return torch.stack([lm[:, i * PATCH_HOP : i * PATCH_HOP + PATCH] for i in range(n)], dim=1)

    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        p = self.patches(audio)
        n = int(p.shape[1])
        e = self.net(p.reshape(-1, 1, PATCH, N_MELS))
        return e.reshape(-1, n, EMB)

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = self.embed(audio)
        if self.front.emulate_int8:
            return e, torch.sigmoid(torch.matmul(fake_int8(e, (2,)), self.dense_w) + self.dense_b)
        return e, torch.sigmoid(torch.matmul(e, self.dense_w) + self.dense_b)


def load_port(path: Path = TFLITE, emulate_int8: bool = False) -> YamnetPort:
    port = YamnetPort().load_arrays(load_weights(path).state).eval()
    port.front.emulate_int8 = port.net.emulate_int8 = emulate_int8
    return port


class YamnetEmbedder(nn.Module):
    """audio [B, 80000] (5 s, 16 kHz) -> [B, 2048]: mean and std of the 9 patch embeddings."""

    def __init__(self, port: YamnetPort) -> None:
        super().__init__()
        self.port = port

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        e = self.port.embed(audio)
        mu = e.mean(dim=1)
        sd = torch.sqrt(torch.clamp(((e - mu.unsqueeze(1)) ** 2).mean(dim=1), min=1e-8))
        return torch.cat([mu, sd], dim=1)


# ---------------------------------------------------------------------------------------------- export


def export_embedder(embedder: nn.Module, path: Path, int8: dict[str, tuple[np.ndarray, float]] | None = None) -> Path:
    """ONNX (opset 17, dynamic batch) audio [B, 80000] -> y [B, 2048]. With int8 (YamnetWeights.int8), every
    int8-born weight is stored as an int8 initializer + DequantizeLinear (bit-exact to the tflite's weights)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.onnx")
    torch.onnx.export(
        embedder, (torch.zeros(2, SEGMENT),), str(tmp), input_names=["audio"], output_names=["y"],
        dynamic_axes={"audio": {0: "batch"}, "y": {0: "batch"}}, opset_version=17, dynamo=False,
    )
    if int8:
        n = store_int8_born(tmp, tmp, int8)
        print(f"[yamnet] int8 initializers: {n}/{len(int8)}", flush=True)
    os.replace(tmp, path)
    return path


def store_int8_born(src: Path, dst: Path, int8: dict[str, tuple[np.ndarray, float]] | None = None) -> int:
    """Rewrite an ONNX file so every initializer equal to one of YAMNet's int8-born weights (matched by shape and
    value, whatever its name; fp32 or fp16 storage) becomes int8 + scale + DequantizeLinear. Returns the count."""
    import onnx
    from onnx import helper, numpy_helper

    if int8 is None:
        int8 = load_weights().int8
    by_shape: dict[tuple[int, ...], list[tuple[np.ndarray, np.ndarray, float]]] = {}
    for q, scale in int8.values():
        by_shape.setdefault(tuple(q.shape), []).append((q, q.astype(np.float32) * np.float32(scale), scale))
    m = onnx.load(str(src))
    done = 0
    for init in list(m.graph.initializer):
        if init.data_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
            continue
        ref = numpy_helper.to_array(init)
        for q, deq, scale in by_shape.get(tuple(ref.shape), []):
            tol = 1e-7 if ref.dtype == np.float32 else 1e-3
            if np.abs(ref.astype(np.float32) - deq).max() > tol * (1 + float(np.abs(deq).max())):
                continue
            name = init.name
            m.graph.initializer.remove(init)
            m.graph.initializer.extend([
                numpy_helper.from_array(q.astype(np.int8), name + "_int8"),
                numpy_helper.from_array(np.array(scale, np.float32), name + "_scale"),
                numpy_helper.from_array(np.array(0, np.int8), name + "_zero"),
            ])
            out = name
            nodes = [helper.make_node("DequantizeLinear", [name + "_int8", name + "_scale", name + "_zero"], [out])]
            if ref.dtype == np.float16:  # consumers expect float16: keep the type the graph had
                nodes = [helper.make_node("DequantizeLinear", [name + "_int8", name + "_scale", name + "_zero"], [name + "_f32"]),
                         helper.make_node("Cast", [name + "_f32"], [out], to=onnx.TensorProto.FLOAT16)]
            for i, nd in enumerate(nodes):
                m.graph.node.insert(i, nd)
            done += 1
            break
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))
    return done


class OrtEmbedder:
    def __init__(self, path: Path, threads: int = 2) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.sess.run(None, {"audio": np.ascontiguousarray(audio, np.float32)})[0]
        return out


# ------------------------------------------------------------------------------------------ verification


def _tflite_run(path: Path, windows: np.ndarray, xnnpack: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The real .tflite (ai-edge-litert) on [N, 15600] windows -> (log-mel, embedding, scores). xnnpack=False runs
    TFLite's builtin reference hybrid kernels (symmetric per-row int8 activations) instead of the XNNPACK delegate."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    it = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True, num_threads=2,
                     experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    tm = read_tflite(path)
    emb_t = next(op.outputs[0] for op in tm.ops if op.kind == "MEAN")
    out = {d["name"]: d["index"] for d in it.get_output_details()}
    lm, em, sc = [], [], []
    for w in windows:
        it.set_tensor(it.get_input_details()[0]["index"], w[None].astype(np.float32))
        it.invoke()
        sc.append(it.get_tensor(out["Identity"])[0].copy())
        lm.append(it.get_tensor(out["Identity_1"]).copy())
        em.append(it.get_tensor(emb_t)[0].copy())
    return np.stack(lm), np.stack(em), np.stack(sc)


def test_sounds() -> dict[str, np.ndarray]:
    """5-s segments: espeak-ng speech, a 1 kHz sine, silence, white noise."""
    import subprocess
    import tempfile

    t = np.arange(SEGMENT) / 16000
    out = {"sine_1khz": (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), "silence": np.zeros(SEGMENT, np.float32),
           "white_noise": (0.1 * np.random.default_rng(0).standard_normal(SEGMENT)).astype(np.float32)}
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "The weather is lovely today, let us walk down to the river and "
                        "have a picnic."], check=True, capture_output=True)
        out["speech_espeak"] = fit_segment(load_audio(wav))
    return out


def _compare(e: np.ndarray, s: np.ndarray, lm: np.ndarray, te: np.ndarray, ts: np.ndarray, tl: np.ndarray) -> dict[str, float]:
    cos = (e * te).sum(1) / (np.linalg.norm(e, axis=1) * np.linalg.norm(te, axis=1) + 1e-12)
    return {
        "logmel_max_abs": float(np.abs(lm - tl).max()),
        "emb_max_abs": float(np.abs(e - te).max()),
        "emb_rel_l2_max": float((np.linalg.norm(e - te, axis=1) / (np.linalg.norm(te, axis=1) + 1e-12)).max()),
        "emb_cos_min": float(cos.min()),
        "emb_cos_mean": float(cos.mean()),
        "score_max_abs": float(np.abs(s - ts).max()),
    }


def verify(path: Path = TFLITE, out_json: Path = HERE / ".cache" / "yamnet-verify.json") -> dict[str, Any]:
    """Known sounds -> top classes; and, with ai-edge-litert, the real .tflite on the same 0.975-s windows vs
    (a) the float port (what the embedder computes) and (b) the port with the tflite's hybrid int8 activations
    emulated; the tflite runs both with its default XNNPACK delegate and with TFLite's builtin reference kernels."""
    torch.set_num_threads(2)
    names = class_names()
    ports = {"float": load_port(path), "int8_emulated": load_port(path, emulate_int8=True)}
    sounds = test_sounds()
    res: dict[str, Any] = {"tflite": str(path), "sounds": {}}
    try:
        import ai_edge_litert  # noqa: F401

        have_rt = True
    except ImportError:
        have_rt = False
        res["tflite_runtime"] = "ai-edge-litert not installed: no comparison with the real .tflite"
    worst: dict[str, dict[str, float]] = {}
    for name, x in sounds.items():
        r: dict[str, Any] = {}
        outs = {}
        for pk, port in ports.items():
            with torch.no_grad():
                e, s = port(torch.from_numpy(x)[None])
                lm = port.patches(torch.from_numpy(x)[None])[0].numpy()
            outs[pk] = (e[0].numpy(), s[0].numpy(), lm)
        mean_s = outs["float"][1].mean(0)
        r["top3"] = [(names[i], round(float(mean_s[i]), 3)) for i in np.argsort(-mean_s)[:3]]
        if have_rt:
            n = outs["float"][0].shape[0]
            wins = np.stack([x[i * PATCH_HOP * HOP : i * PATCH_HOP * HOP + PATCH_SAMPLES] for i in range(n)])
            for pk, xnnpack in (("float", True), ("float", False), ("int8_emulated", True), ("int8_emulated", False)):
                tl, te, ts = _tflite_run(path, wins, xnnpack)
                if pk == "float" and xnnpack:
                    r["tflite_top3"] = [(names[i], round(float(ts.mean(0)[i]), 3)) for i in np.argsort(-ts.mean(0))[:3]]
                e, s, lm = outs[pk]
                c = _compare(e, s, lm, te, ts, tl)
                key = f"port_{pk}_vs_tflite_{'xnnpack' if xnnpack else 'builtin_kernels'}"
                r[key] = c
                w = worst.setdefault(key, {})
                for k, v in c.items():
                    w[k] = min(w.get(k, 1.0), v) if k.startswith("emb_cos") else max(w.get(k, 0.0), v)
        res["sounds"][name] = r
    if have_rt:
        res["vs_tflite_worst"] = worst
    expect = {"speech_espeak": ("Speech",), "sine_1khz": ("Sine wave", "Tone", "Beep, bleep"), "silence": ("Silence",)}
    res["checks"] = {k: res["sounds"][k]["top3"][0][0] in v for k, v in expect.items()}
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(res, indent=2))
    return res


# ---------------------------------------------------------------------------------------- feature cache


def feature_dir(cfg: Config) -> Path:
    return Path(cfg.paths.cache) / "features" / f"yamnet-s{cfg.seed}"


def embedder_onnx(cfg: Config) -> Path:
    path = Path(cfg.paths.cache) / "yamnet-embedder.onnx"
    if not path.exists():
        export_embedder(YamnetEmbedder(load_port()).eval(), path)
    return path


def extract_all(cfg: Config, conditions: tuple[str, ...] | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    torch.set_num_threads(2)
    ds = build_dataset(cfg, with_features=False)
    emb = OrtEmbedder(embedder_onnx(cfg))
    root = Path(cfg.paths.corpora)
    out = {}
    for cond, idx in feature_plan(cfg, ds):
        if conditions is not None and cond not in conditions:
            continue
        out[cond] = (idx, extract_shards(lambda segs: {"y": emb(segs)}, [ds.clips[i].file for i in idx], root, cond,
                                         feature_dir(cfg) / cond, cfg.seed, batch=8, tag="yamnet")["y"])
    print("[yamnet] extraction complete", flush=True)
    return out


def size_and_speed(cfg: Config) -> dict[str, Any]:
    """ONNX bytes of the embedder (fp32 vs int8 initializers + DequantizeLinear) and ms per 5-s segment (2 threads)."""
    torch.set_num_threads(2)
    w = load_weights()
    emb = YamnetEmbedder(YamnetPort().load_arrays(w.state).eval()).eval()
    cache = Path(cfg.paths.cache)
    paths = {"fp32": embedder_onnx(cfg), "int8_dq": cache / "yamnet-embedder-int8.onnx"}
    if not paths["int8_dq"].exists():
        export_embedder(emb, paths["int8_dq"], w.int8)
    x = test_sounds()["speech_espeak"][None]
    with torch.no_grad():
        ref = emb(torch.from_numpy(x)).numpy()
    res: dict[str, Any] = {}
    for k, p in paths.items():
        e = OrtEmbedder(p)
        y = e(x)
        for _ in range(3):
            e(x)
        n = 20
        t0 = time.perf_counter()
        for _ in range(n):
            e(x)
        ms = (time.perf_counter() - t0) / n * 1000
        res[k] = {"bytes": p.stat().st_size, "ms_per_5s_segment_batch1": round(ms, 1),
                  "max_abs_vs_torch": float(np.abs(y - ref).max())}
    xb = np.repeat(x, 8, axis=0)
    e = OrtEmbedder(paths["fp32"])
    e(xb)
    t0 = time.perf_counter()
    for _ in range(5):
        e(xb)
    res["fp32"]["ms_per_5s_segment_batch8"] = round((time.perf_counter() - t0) / 5 / 8 * 1000, 1)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["verify", "extract", "size"])
    ap.add_argument("--config", default=str(HERE / "config.json"))
    ap.add_argument("--conditions", default="", help="extract: only these (comma-separated) conditions of the plan")
    args = ap.parse_args()
    cfg = load_config(Path(args.config))
    if args.stage == "verify":
        print(json.dumps(verify(), indent=2))
    elif args.stage == "extract":
        extract_all(cfg, tuple(args.conditions.split(",")) if args.conditions else None)
    else:
        r = size_and_speed(cfg)
        (Path(cfg.paths.cache) / "yamnet-size.json").write_text(json.dumps(r, indent=2))
        print(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
