"""The chosen model as files, and the checks on those files: export, the int8 check, the size budget, the files end
to end on held-out speakers, parity, cost and the manifest. Steps of runall.run_all."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .config import Config
from .dataset import Dataset, model_bin, segments_for
from .encoder import EncoderConfig, load_ct2_encoder
from .export import (
    dft_basis_in_graph,
    export_base,
    flops_per_segment,
    quantize,
    run_onnx,
    store_fp16,
    write_manifest,
    write_parity,
)
from .features import Featurizer, OrtFeaturizer
from .loco import Recipe
from .models import MelStats, VectorGraph, WhisperGraph
from .synth import synthetic_segments
from .train import Feats, logits_of, scores, table, train_base
from .yamnet import YamnetEmbedder, load_port, store_int8_born

MAX_MODEL_BYTES = 30 * 1024 * 1024
EMB_DIM = {"whisper": 1024, "melstats": 242, "yamnet": 2048}


def git_commit(repo: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except subprocess.CalledProcessError:
        return "uncommitted"


def base_graph(kind: str, head: nn.Module, depth: int, cfg: Config) -> nn.Module:
    """The exported graph of one base kind: raw audio [B, 80000] -> (logits, embedding)."""
    ln = bool(cfg.loudness_norm)
    if kind == "whisper":
        return WhisperGraph(load_ct2_encoder(model_bin(cfg), EncoderConfig(n_blocks=depth)), head, ln).eval()
    if kind == "melstats":
        return VectorGraph(MelStats(ln), head).eval()  # type: ignore[arg-type]
    if kind == "yamnet":
        return VectorGraph(YamnetEmbedder(load_port()), head).eval()  # type: ignore[arg-type]
    raise ValueError(kind)


def export_graph(kind: str, graph: nn.Module, ex: Path, model_dir: Path) -> dict[str, Any]:
    """fp32 export, then lossless storage shrinking: float16-born weights as float16, the DFT basis computed."""
    fp32 = ex / f"{kind}-fp32.onnx"
    export_base(graph, fp32, EMB_DIM[kind])
    half = ex / f"{kind}-fp16.onnx"
    n16 = store_fp16(fp32, half)
    if kind == "yamnet":  # int8-born weights as int8 + DequantizeLinear
        store_int8_born(half, half)
    dft_basis_in_graph(half, model_dir / f"{kind}.onnx") or (model_dir / f"{kind}.onnx").write_bytes(half.read_bytes())
    return {"fp16_initializers": n16}


def shipped_logits(model_dir: Path, kinds: tuple[str, ...], stacked: bool, segs: np.ndarray) -> dict[str, np.ndarray]:
    lg = {k: run_onnx(model_dir / f"{k}.onnx", segs)[0] for k in kinds}
    lg["shipped"] = (run_onnx(model_dir / "meta.onnx", np.concatenate([lg[k] for k in kinds], axis=1))[0]
                     if stacked else lg["whisper"])
    return lg


def model_files(kinds: tuple[str, ...], stacked: bool) -> list[str]:
    return [f"{k}.onnx" for k in kinds] + (["meta.onnx"] if stacked else [])


def clear_model_dir(model_dir: Path) -> None:
    """Only the chosen combination's files may stay: stale files of an earlier choice are removed."""
    model_dir.mkdir(parents=True, exist_ok=True)
    for old in [*model_dir.glob("*.onnx"), model_dir / "parity.json", model_dir / "parity-input.f32"]:
        old.unlink(missing_ok=True)


def quantization_check(cfg: Config, ds: Dataset, bank: Feats, dev: np.ndarray, w: np.ndarray,
                       conds: tuple[str, ...], enc: nn.Module, depth: int) -> dict[str, Any]:
    """int8 check on validation speakers (fold 0): head trained on the other folds, fp32 vs int8 encoder features."""
    cache, root, y = Path(cfg.paths.cache), Path(cfg.paths.corpora), ds.y
    ln = bool(cfg.loudness_norm)
    ftag = f"b{depth}" + ("-ln" if ln else "")
    featq = cache / f"featurizer-{ftag}-int8.onnx"
    OrtFeaturizer(Featurizer(enc, ln), cache / f"featurizer-{ftag}.onnx")  # exports the fp32 featurizer once
    quantize(cache / f"featurizer-{ftag}.onnx", featq)
    qa = OrtFeaturizer(Featurizer(enc, ln), featq)
    v0 = dev[ds.fold[dev] == 0]
    m0 = train_base("whisper", bank, dev[ds.fold[dev] != 0], y, w, cfg, cfg.seed, conds)
    segs = segments_for(ds, v0, root, "clean", cfg.seed)
    fq = np.concatenate([qa(torch.from_numpy(segs[i : i + 4]))[0].numpy() for i in range(0, len(segs), 4)])
    s32 = scores(y[v0], logits_of(m0, bank.x("whisper", bank.lookup(v0, "clean"))))
    s8 = scores(y[v0], logits_of(m0, torch.from_numpy(fq)))
    drop = s32["weighted_f1"] - s8["weighted_f1"]
    # int8 also needs config consent: dynamic int8 outputs drift between onnxruntime releases (see config)
    use_q = drop <= cfg.quantize_max_f1_drop and cfg.int8.ship
    return {"validation": "dev fold 0 speakers, whisper head trained on the other folds",
            "fp32": s32, "int8": s8, "weighted_f1_drop": drop, "shipped_int8": bool(use_q), "note": cfg.int8.why}


def model_bytes(model_dir: Path, files: list[str]) -> dict[str, int]:
    """Each file's size and the total; over the budget is an error."""
    out = {f: (model_dir / f).stat().st_size for f in files}
    out["total"] = sum(out.values())
    if out["total"] > MAX_MODEL_BYTES:
        raise RuntimeError(f"model files total {out['total']} bytes, over the 30 MB budget")
    return out


def shipped_onnx_test(model_dir: Path, kinds: tuple[str, ...], stacked: bool, evals: dict[str, tuple[np.ndarray, str]],
                      ds: Dataset, test: np.ndarray, cfg: Config, log: Callable[[str], None]) -> dict[str, Any]:
    """The shipped files end to end on held-out speakers, every condition (audio degraded afresh, same seeds)."""
    out: dict[str, Any] = {}
    root = Path(cfg.paths.corpora)
    for name, (clips, cond) in evals.items():
        lg = shipped_logits(model_dir, kinds, stacked, segments_for(ds, clips, root, cond, cfg.seed))
        out[name] = table(ds.y[test], lg, ds.corpus[test])
        log(f"shipped onnx {name}: {out[name]['shipped']}")
    return out


def parity_check(model_dir: Path, graphs: dict[str, nn.Module], ship: dict[str, Any], use_q: bool,
                 files: list[str]) -> dict[str, float]:
    """Parity files for the runtimes' tests (PyTorch reference; onnxruntime's own output for an int8 graph), the
    ONNX-vs-reference differences, and a dynamic-batch run of every base graph."""
    kinds: tuple[str, ...] = ship["kinds"]
    stacked = ship["meta"] is not None
    audio = synthetic_segments()
    with torch.no_grad():
        ref = {k: g(torch.from_numpy(audio))[0].numpy() for k, g in graphs.items()}
    ort_out = {k: run_onnx(model_dir / f"{k}.onnx", audio)[0] for k in kinds}
    if use_q:
        ref["whisper"] = ort_out["whisper"]
    out = {f"{k}_ort_vs_reference": float(np.abs(ort_out[k] - ref[k]).max()) for k in kinds}
    meta_ref = None
    if stacked:
        mi = np.concatenate([ref[k] for k in kinds], axis=1).astype(np.float32)
        with torch.no_grad():
            meta_ref = ship["meta"](torch.from_numpy(mi)).numpy()
        out["meta_ort_vs_reference"] = float(np.abs(run_onnx(model_dir / "meta.onnx", mi)[0] - meta_ref).max())
    write_parity(model_dir, audio, ref, meta_ref,
                 {f: "onnxruntime-python (int8 graph)" if (f == "whisper.onnx" and use_q) else "pytorch-fp32" for f in files})
    for k in kinds:
        for bsz in (1, 3, 16):  # dynamic batch
            run_onnx(model_dir / f"{k}.onnx", np.zeros((bsz, 80000), np.float32), batch=bsz)
    return out


def flops(graphs: dict[str, nn.Module], ship: dict[str, Any]) -> dict[str, int]:
    out = {f"{k}.onnx": flops_per_segment(g) for k, g in graphs.items()}
    if ship["meta"] is not None:
        out["meta.onnx"] = flops_per_segment(ship["meta"], 9 * len(ship["kinds"]))
    out["total"] = sum(out.values())
    return out


def headline_metrics(res: dict[str, Any], chosen: str, n_test: int, dev_weighted_f1: float) -> dict[str, Any]:
    sc = res["shipped_column"]
    return {
        "split": (f"held-out speakers ({res['data']['test_speakers']} speakers, {n_test} clips, 8 corpora; "
                  "TESS not in test), clean 5-s windows"),
        "combination": chosen,
        "weighted_f1": res["test"]["test_clean"][sc]["weighted_f1"],
        "accuracy": res["test"]["test_clean"][sc]["accuracy"],
        "macro_f1": res["test"]["test_clean"][sc]["macro_f1"],
        **({"weighted_f1_opus32": res["test"]["test_opus32"][sc]["weighted_f1"]} if "test_opus32" in res["test"] else {}),
        **({"weighted_f1_noise10db": res["test"]["test_noise10"][sc]["weighted_f1"]}
           if "test_noise10" in res["test"] else {}),
        "shipped_onnx_weighted_f1": {n: t["shipped"]["weighted_f1"] for n, t in res["shipped_onnx_test"].items()},
        "dev_cv_weighted_f1": dev_weighted_f1,
        "ms_per_segment_onnxruntime_2_threads": res["timing_ms_per_segment"]["total"],
        "flops_per_segment": res["flops_per_segment"]["total"],
        "report": f"training/reports/{res['run_id']}/report.md",
    }


def write_model_manifest(model_dir: Path, cfg: Config, res: dict[str, Any], ship: dict[str, Any], use_q: bool,
                         recipe: Recipe, metrics: dict[str, Any], verify: dict[str, Any]) -> None:
    kinds: tuple[str, ...] = ship["kinds"]
    stacked = ship["meta"] is not None
    depth = recipe.depth
    base_entries = [{"name": k, "file": f"{k}.onnx", "input": "audio", "logits_output": "logits",
                     "embedding_output": "embedding", "quantized": bool(use_q and k == "whisper")}
                    for k in kinds]
    repo = Path(cfg.paths.model_dir).parent.parent
    write_manifest(model_dir, base_entries, stacked, {
        "id": "annamalai-whisper" + ("-ensemble" if stacked else ""),
        "version": "2.0.0" if cfg.model_version is None else str(cfg.model_version),
        "name": f"Whisper base ({depth} blocks)" + (f" + {kinds[1]}, stacked" if stacked else " + emotion head"),
        "metrics": metrics,
        "provenance": {
            "weights": {"source": verify.get("source"), "sha256": verify.get("model_bin_sha256"),
                        "verification": {k: verify.get(k) for k in ("mel_filters_max_abs_diff_vs_openai_whisper",
                                                                   "logmel_max_abs_diff_vs_torch_stft",
                                                                   "encoder_5s_vs_ctranslate2")},
                        "encoder_blocks_kept": depth, "positions": 250},
            "data": "11 acted corpora in ../shared/corpora (RAVDESS, TESS, EmoDB, EMOVO, Indian EmoSpeech, BAVED, "
                    "emotiontts, ASED, TurEV-DB, AESDD, SAVEE); no corpus audio ships",
            "recipe": str(res["selection"]["chosen"]),
            "loudness_normalisation": "in the graph, before the log-mel front end (loudest 20 % of 25-ms frames "
                                      "to -20 dBFS, gain at most +50 dB)" if cfg.loudness_norm else "none",
            "confidence": "logits divided by softplus(a + b * familiarity) inside the graph (familiarity: log mean "
                          "squared residual of the standardised embedding off the top 64 principal directions of the "
                          "training embeddings), fitted on LOCO and speaker-CV held-out predictions: "
                          + json.dumps(res["calibration"]["params"]["familiarity temperature"]),
            "bored": "only EmoDB (German) has 'bored'",
            "untrained": {"question": "no clips in any corpus"},
            "training_run": res["run_id"], "git_commit": git_commit(repo),
            "corpus_weighting": recipe.weighting, "augmentation": recipe.augment,
        },
        "licence": {
            "weights": "MIT (OpenAI Whisper)" + ("; YAMNet Apache-2.0" if "yamnet" in kinds else ""),
            "data": "RAVDESS CC BY-NC-SA 4.0; TESS CC BY-NC-ND 4.0; EmoDB research use; Indian EmoSpeech and "
                    "emotiontts CC BY-NC-SA 4.0; TurEV-DB CC BY-NC-ND 4.0 (README); SAVEE research use; EMOVO, "
                    "BAVED, ASED, AESDD no licence stated (research use only)",
            "use": "non-commercial only: the models are trained on non-commercial corpora",
        },
    })


def add_late_metrics(model_dir: Path, res: dict[str, Any]) -> None:
    """The numbers measured after the export (random protocol, LOCO, quiet speech) into the written manifest."""
    man = json.loads((model_dir / "manifest.json").read_text())
    if "random_70_15_15" in res:
        man["metrics"]["random_70_15_15_weighted_f1"] = res["random_70_15_15"][res["shipped_column"]]["weighted_f1"]
    chosen_sel = res["selection"]["results"][res["selection"]["chosen"]]
    man["metrics"]["loco_mean_weighted_f1"] = chosen_sel["loco_mean"]
    man["metrics"]["loco_weighted_f1"] = {g: t["weighted_f1"] for g, t in chosen_sel["loco"].items()}
    man["metrics"]["quiet_top_emotion_unchanged"] = {g: v["top_emotion_unchanged"] for g, v in res["quiet_curve"].items()
                                                     if g != "n"}
    (model_dir / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
