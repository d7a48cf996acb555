from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from annamalai_train.audio import quantize16
from annamalai_train.conditions import degrade
from annamalai_train.frontend import LN_FLOOR_DBFS, LN_TARGET_DBFS, SEGMENT_SAMPLES, LogMel, LoudNorm, loud_level_dbfs


def speech_like(seconds: float, level_dbfs: float, seed: int = 0) -> np.ndarray:
    """A voiced 'word' (harmonics, syllable envelope) of `seconds`, then digital silence, in a 5-s window."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    env = 0.5 * (1 - np.cos(2 * np.pi * 3 * t))
    x = env * sum(np.sin(2 * np.pi * 140 * h * t + rng.uniform(0, 6)) / h for h in range(1, 6))
    x = x / np.sqrt(np.mean(x**2)) * 10 ** (level_dbfs / 20)
    out = np.zeros(SEGMENT_SAMPLES, np.float32)
    out[: len(x)] = x
    return out


def test_loudnorm_makes_the_log_mel_the_same_at_any_gain_down_to_minus_40_db() -> None:
    x = speech_like(2.0, -26.0)
    batch = torch.from_numpy(np.stack([x * 10 ** (g / 20) for g in (6, 0, -20, -40)]).astype(np.float32))
    mel = LogMel()(LoudNorm()(batch))
    for i in range(1, 4):
        assert float((mel[i] - mel[1]).abs().max()) < 1e-3
    raw = LogMel()(batch)  # without it the model sees a different picture 40 dB down
    assert float((raw[3] - raw[1]).abs().max()) > 0.5


def test_loudnorm_measures_the_words_not_the_silence_around_them() -> None:
    short, long_ = speech_like(1.0, -30.0), speech_like(4.5, -30.0)
    out = LoudNorm()(torch.from_numpy(np.stack([short, long_])))
    assert abs(loud_level_dbfs(out[0].numpy()) - LN_TARGET_DBFS) < 0.5
    assert abs(loud_level_dbfs(out[1].numpy()) - LN_TARGET_DBFS) < 0.5


def test_loudnorm_leaves_silence_silent_and_caps_the_gain_on_faint_room_tone() -> None:
    rng = np.random.default_rng(1)
    tone = (rng.standard_normal(SEGMENT_SAMPLES) * 10 ** (-95 / 20)).astype(np.float32)  # far below the floor
    out = LoudNorm()(torch.from_numpy(np.stack([np.zeros(SEGMENT_SAMPLES, np.float32), tone])))
    assert float(out[0].abs().max()) == 0.0
    gain_db = loud_level_dbfs(out[1].numpy()) - loud_level_dbfs(tone)
    assert abs(gain_db - (LN_TARGET_DBFS - LN_FLOOR_DBFS)) < 0.5


def test_loudnorm_exports_to_onnx_and_matches_torch(tmp_path: Path) -> None:
    import onnxruntime as ort

    path = tmp_path / "ln.onnx"
    torch.onnx.export(LoudNorm(), (torch.zeros(2, SEGMENT_SAMPLES),), str(path), input_names=["audio"],
                      output_names=["out"], dynamic_axes={"audio": {0: "batch"}, "out": {0: "batch"}}, opset_version=17,
                      dynamo=False)
    x = np.stack([speech_like(2.0, -45.0), speech_like(3.0, -10.0, 2), np.zeros(SEGMENT_SAMPLES, np.float32)])
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"audio": x})[0]
    want = LoudNorm()(torch.from_numpy(x)).numpy()
    assert np.abs(got - want).max() < 1e-5


def test_gain_condition_is_the_clip_quieter_by_that_many_db_in_16_bit() -> None:
    x = speech_like(2.0, -20.0)
    got = degrade(x, "gain-30", np.random.default_rng(0))
    assert np.array_equal(got, quantize16(x * np.float32(10 ** (-30 / 20))))
    assert abs(loud_level_dbfs(got) - loud_level_dbfs(x) + 30) < 0.1
