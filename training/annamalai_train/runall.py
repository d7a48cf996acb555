"""Full run: the head recipe chosen on LOCO first and speaker CV second; base models and candidate combinations on
dev CV (speaker folds); held-out speakers; calibration; export and the checks on the exported files (shipping.py);
the report's random protocol; the per-speaker standardisation curve; report. run_all is the sequence of these steps,
each a function with its inputs as arguments and its results as return values."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .calibrate import CalibratedHead, Familiarity
from .config import Config, Paths
from .data import random_stratified_split
from .dataset import Dataset
from .export import export_meta, quantize, time_ms
from .labels import LABELS, N_LABELS
from .levels import gain_segments, quiet_curve, sample
from .loco import (
    Recipe,
    Split,
    calibration_study,
    clip_weights,
    familiarity,
    fit_familiarity,
    recipe_from,
    run_selection,
    strip,
)
from .models import WhisperHead
from .report import write_report
from .shipping import (
    add_late_metrics,
    base_graph,
    clear_model_dir,
    export_graph,
    flops,
    headline_metrics,
    model_bytes,
    model_files,
    parity_check,
    quantization_check,
    shipped_onnx_test,
    write_model_manifest,
)
from .standardisation import per_speaker_curve
from .train import Feats, bank_from, bases, fit_meta, scores, table

SINGLE = "whisper alone"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def corpus_mean_wf1(y: np.ndarray, logits: np.ndarray, corpus: np.ndarray) -> float:
    return float(np.mean([scores(y[corpus == c], logits[corpus == c])["weighted_f1"] for c in np.unique(corpus)]))


def with_recipe(cfg: Config, r: Recipe) -> Config:
    """The config with the Whisper head's hyper-parameters taken from the chosen recipe."""
    head = replace(cfg.head_whisper, hidden=r.hidden, dropout=r.dropout, epochs=r.epochs, label_smoothing=r.label_smoothing,
                   mixup=r.mixup)
    return replace(cfg, head_whisper=head)


def ship_gate(res: dict[str, Any], cfg: Config) -> dict[str, Any]:
    """Ship only if the new model beats the shipped one on the corpora each never trained on (the LOCO groups both
    were scored on, single-label groups left out) and loses at most `max_speaker_drop` of the shipped model's
    held-out-speaker weighted F1. The chosen recipe may be the current one: the model is still new (its data,
    front end, augmentation and calibration), and the comparison is with the model users have."""
    sel = res["selection"]
    new, cur = sel["results"][sel["chosen"]], sel["results"][cfg.recipes[0].name]
    prev_loco: dict[str, float] = res.get("previous_loco", {})
    common = sorted(g for g, sc in new["loco"].items() if not sc["degenerate"] and g in prev_loco)
    loco_new = float(np.mean([new["loco"][g]["weighted_f1"] for g in common])) if common else float("nan")
    loco_prev = float(np.mean([prev_loco[g] for g in common])) if common else float("nan")
    prev = cfg.previous_model
    f1 = res["test"]["test_clean"][res["shipped_column"]]["weighted_f1"]
    ok_loco = bool(common) and loco_new > loco_prev
    ok_spk = f1 >= prev.held_out_speakers_weighted_f1 - prev.max_speaker_drop
    partial = bool(cfg.partial_features)  # trained on a sample of the clips: never ships
    return {"ship": bool(ok_loco and ok_spk and not partial), "partial_features": partial,
            "loco_groups_compared": common, "loco_mean_new": loco_new, "loco_mean_previous_model": loco_prev,
            "loco_mean_chosen_recipe": new["loco_mean"], "loco_mean_current_recipe": cur["loco_mean"],
            "held_out_speakers_new": f1, "held_out_speakers_previous": prev.held_out_speakers_weighted_f1,
            "rule": "LOCO mean (the groups both models were scored on) above the shipped model's, held-out speakers "
            f"at most {prev.max_speaker_drop} below the shipped model's"}


def previous_model_numbers(paths: Paths) -> dict[str, Any]:
    """The previous model's numbers to print beside the new ones: its report's whole-corpus hold-outs (its own
    protocol: 9 corpora) and, from `python -m annamalai_train.levels` on its graph, the corpora it never heard,
    its confidence and its quiet-speech curve."""
    out: dict[str, Any] = {}
    rep = Path(paths.previous_report or "/nonexistent")
    if rep.is_file():
        groups = json.loads(rep.read_text()).get("held_out_groups", {})
        out["previous_loco"] = {g: t["shipped"]["weighted_f1"] for g, t in groups.items() if "shipped" in t}
    study = Path(paths.previous_study or "/nonexistent")
    if study.is_file():
        out["previous_model"] = json.loads(study.read_text())
        for c, sc in out["previous_model"].get("unseen_corpora", {}).get("scores", {}).items():
            out.setdefault("previous_loco", {})[f"corpus {c}"] = sc["weighted_f1"]
    return out


def stacked_name(b: str, class_weighted: bool) -> str:
    return f"stacked whisper+{b}" + (" (class-weighted CE, the report's)" if class_weighted else " (plain CE)")


def add_candidates(main: dict[str, Any], y_dev: np.ndarray, folds: np.ndarray, cfg: Config,
                   kinds: tuple[str, ...]) -> None:
    """What could ship, into main["candidates"] (those not there yet): the Whisper head alone, or the report's
    meta learner over Whisper and one B model, with the report's class-weighted CE or plain CE.
    Each: kinds, out-of-fold dev logits, eval logits, meta."""
    out: dict[str, dict[str, Any]] = main.setdefault("candidates", {})
    out[SINGLE] = {"kinds": ("whisper",), "oof": main["oof"]["whisper"],
                   "eval": {n: d["whisper"] for n, d in main["eval"].items()}, "meta": None}
    for b in kinds[1:]:
        for cw in (True, False):
            if stacked_name(b, cw) not in out:
                m = fit_meta(main, y_dev, folds, cfg, cfg.seed, ("whisper", b), cw)
                out[stacked_name(b, cw)] = {"kinds": ("whisper", b), "oof": m["oof"], "eval": m["eval"],
                                            "meta": m["meta"], "class_weighted": cw}


def with_bases(path: Path, kinds: tuple[str, ...], compute: Any, key: str) -> dict[str, Any]:
    """Base-model results checkpointed per kind: a kind added to the config later is computed alone and merged
    (compute(missing kinds) -> bases() output); the file is rewritten after each addition. key names the settings
    the results depend on (encoder depth, weighting, augmentation): a checkpoint made under others is discarded."""
    main: dict[str, Any] = torch.load(path, weights_only=False) if path.exists() else {}
    if main.get("key") != key:
        main = {"key": key, "oof": {}, "models": {}, "eval": {}}
    missing = tuple(k for k in kinds if k not in main["models"])
    if missing:
        log(f"base models to train for {path.name}: {missing}")
        new = compute(missing)
        main["oof"].update(new["oof"])
        main["models"].update(new["models"])
        for name, d in new["eval"].items():
            main["eval"].setdefault(name, {}).update(d)
        torch.save(main, path)
    return main


def save(res: dict[str, Any], rep_dir: Path) -> None:
    (rep_dir / "report.json").write_text(json.dumps(res, indent=1))


@dataclass(frozen=True)
class RunPaths:
    """Where a run writes: its report folder, the cache, its export cache, and the model folder it ships to."""

    rep_dir: Path
    cache: Path
    ex: Path
    model_dir: Path


def run_paths(cfg: Config) -> RunPaths:
    """The run's folders, the report folder and the export cache created."""
    rid = cfg.run_id
    cache = Path(cfg.paths.cache)
    p = RunPaths(Path(cfg.paths.reports) / rid, cache, cache / "export" / rid, Path(cfg.paths.model_dir))
    p.rep_dir.mkdir(parents=True, exist_ok=True)
    p.ex.mkdir(parents=True, exist_ok=True)
    return p


def dev_test(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Clip indices of the dev speakers (folds 0..k-1) and of the held-out speakers (fold -1)."""
    return np.flatnonzero(ds.fold >= 0), np.flatnonzero(ds.fold == -1)


def data_summary(ds: Dataset) -> dict[str, Any]:
    """The clips and speakers of each split; a speaker in both splits is an error."""
    y = ds.y
    dev, test = dev_test(ds)
    out = {
        "labelled_clips": int(len(y)), "dev_clips": int(len(dev)), "test_clips": int(len(test)),
        "dev_speakers": int(len(np.unique(ds.speaker[dev]))), "test_speakers": int(len(np.unique(ds.speaker[test]))),
        "test_speakers_by_corpus": {c: sorted(np.unique(ds.speaker[test][ds.corpus[test] == c]).tolist())
                                    for c in np.unique(ds.corpus[test])},
        "clips_by_corpus_label": {c: {LABELS[k]: int(((ds.corpus == c) & (y == k)).sum()) for k in range(N_LABELS)
                                      if ((ds.corpus == c) & (y == k)).any()} for c in np.unique(ds.corpus)},
    }
    assert not set(ds.speaker[dev]) & set(ds.speaker[test]), "speaker in two splits"
    return out


def carried_over(rep_dir: Path) -> dict[str, Any]:
    """Results of an earlier pass of this run that are not recomputed (the per-speaker standardisation curve)."""
    prev = json.loads((rep_dir / "report.json").read_text()) if (rep_dir / "report.json").exists() else {}
    return {k: prev[k] for k in ("per_speaker_standardisation",) if k in prev}


@dataclass(frozen=True)
class Choice:
    """The head recipe chosen on LOCO first, speaker CV second, and what follows from it."""

    sel: dict[str, Any]  # run_selection's output (with arrays)
    split: Split
    recipe: Recipe
    cfg: Config  # the config with the chosen recipe's head hyper-parameters
    conds: tuple[str, ...]  # the feature conditions the heads train on
    weights: np.ndarray  # per-clip training weights


def choose_recipe(cfg: Config, ds: Dataset, bank: Feats, paths: RunPaths) -> Choice:
    """Every recipe on leave-one-corpus-out folds and speaker CV (each recipe cached), and the choice."""
    sp = Split(ds.y, ds.corpus, ds.language, ds.speaker, ds.fold)
    sel = run_selection(cfg, sp, bank, paths.cache / "loco" / cfg.run_id, log)
    recipe = recipe_from(sel["results"][sel["chosen"]]["recipe"])
    return Choice(sel, sp, recipe, with_recipe(cfg, recipe), recipe.conditions(),
                  clip_weights(ds.corpus, ds.speaker, recipe.weighting))


def selection_summary(sel: dict[str, Any]) -> dict[str, Any]:
    return {**sel, "results": {n: strip(r) for n, r in sel["results"].items()}}


def keep_blocks(bank: Feats, depth: int) -> None:
    """The Whisper features of the chosen encoder depth only (the first `depth` blocks' pooled layers)."""
    bank.by_kind["whisper"] = np.ascontiguousarray(bank.by_kind["whisper"][:, :depth])


@dataclass(frozen=True)
class Trained:
    """Base models and candidate combinations on dev CV, with their held-out-speaker logits (checkpointed)."""

    main: dict[str, Any]  # with_bases output plus "candidates"
    kinds: tuple[str, ...]
    evals: dict[str, tuple[np.ndarray, str]]  # held-out-speaker sets: name -> (clips, condition)
    key: str  # the settings the checkpoints depend on
    cands: dict[str, dict[str, Any]]  # the candidates whose base kinds are all configured


def train_candidates(choice: Choice, ds: Dataset, bank: Feats, paths: RunPaths) -> Trained:
    """Dev CV: out-of-fold logits of every base kind and every candidate combination; held-out speakers."""
    cfg, y = choice.cfg, ds.y
    dev, test = dev_test(ds)
    kinds: tuple[str, ...] = ("whisper", "melstats", *(cfg.extra_bases or ()))
    evals = {"test_clean": (test, "clean"), **{f"test_{c}": (test, c) for c in cfg.conditions_test
                                                if c in ds.feats and np.isin(test, ds.feats[c][0]).all()}}
    ckpt = paths.ex / "main.pt"
    key = f"{choice.recipe.key()},clips={len(y)},rows={len(bank.clip)}"  # a partial cache's models are not the full run's
    main = with_bases(ckpt, kinds, lambda ks: bases(bank, y, choice.weights, dev, ds.fold[dev], evals, cfg, cfg.seed,
                                                    choice.conds, ks), key)
    n_cands = len(main.get("candidates", {}))
    add_candidates(main, y[dev], ds.fold[dev], cfg, kinds)
    if len(main["candidates"]) != n_cands:
        torch.save(main, ckpt)
    cands: dict[str, dict[str, Any]] = {n: c for n, c in main["candidates"].items()
                                        if all(k in kinds for k in c["kinds"])}
    return Trained(main, kinds, evals, key, cands)


@dataclass(frozen=True)
class Combination:
    """What ships, chosen among the candidates, and the dev-CV scores it was chosen on."""

    chosen: str
    ship: dict[str, Any]
    dev_scores: dict[str, dict[str, Any]]

    @property
    def stacked(self) -> bool:
        return self.ship["meta"] is not None


def choose_combination(cands: dict[str, dict[str, Any]], ds: Dataset) -> Combination:
    # the stacked ensembles have no LOCO score (it needs out-of-fold base logits inside every LOCO fold, five
    # times the LOCO cost), so under the LOCO criterion they are reported, not chosen
    y, (dev, _) = ds.y, dev_test(ds)
    dev_scores = {n: {**scores(y[dev], c["oof"]), "corpus_mean_weighted_f1": corpus_mean_wf1(y[dev], c["oof"], ds.corpus[dev])}
                  for n, c in cands.items()}
    return Combination(SINGLE, cands[SINGLE], dev_scores)


def combination_summary(combo: Combination) -> dict[str, Any]:
    return {"combination_selection": {
        "criterion": "LOCO first: only the Whisper head has LOCO scores (the stacked ensembles' LOCO would need "
                     "out-of-fold base logits inside every LOCO fold, 5x its cost, not run); their dev speaker-CV "
                     "and held-out-speaker scores are reported beside it", "dev_cv": combo.dev_scores,
        "chosen": combo.chosen}}


def columns(combo: Combination, trained: Trained) -> dict[str, Any]:
    return {"columns": list(trained.kinds) + [n for n in trained.cands if n != SINGLE],
            "shipped_column": "whisper" if combo.chosen == SINGLE else combo.chosen}


def score_tables(trained: Trained, combo: Combination, ds: Dataset) -> dict[str, Any]:
    """Dev CV (out of fold) and held-out speakers under every condition: every base kind and every stacked candidate."""
    y, (dev, test) = ds.y, dev_test(ds)

    def cols(per_kind: dict[str, np.ndarray], name: str | None) -> dict[str, np.ndarray]:
        d = dict(per_kind)
        for n, c in trained.cands.items():
            if n != SINGLE:
                d[n] = c["oof"] if name is None else c["eval"][name]
        return d

    oof_all = cols(trained.main["oof"], None)
    dev_cv = table(y[dev], oof_all, ds.corpus[dev])
    dev_cv["corpus_mean_weighted_f1"] = {k: corpus_mean_wf1(y[dev], v, ds.corpus[dev]) for k, v in oof_all.items()}
    out: dict[str, Any] = {"dev_cv": dev_cv, "test": {}}
    for name in trained.evals:
        d = cols(trained.main["eval"][name], name)
        t = table(y[test], d, ds.corpus[test])
        t.update({f"lang:{k}": v for k, v in table(y[test], d, ds.language[test]).items() if k.startswith("by:")})
        t["corpus_mean_weighted_f1"] = {k: corpus_mean_wf1(y[test], v, ds.corpus[test]) for k, v in d.items()}
        out["test"][name] = t
    out["test_logits_clean_shipped"] = combo.ship["eval"]["test_clean"].tolist()
    return out


def calibrate(choice: Choice, head: WhisperHead, bank: Feats, ds: Dataset, test_logits: np.ndarray,
              ) -> tuple[Familiarity, dict[str, Any]]:
    """The familiarity measure of the final head and the confidence study (colour bands, ECE) around it."""
    dev, test = dev_test(ds)
    fam = fit_familiarity(head, bank, dev, choice.recipe.depth)
    test_x = bank.x("whisper", bank.lookup(test, "clean"))
    return fam, calibration_study(choice.sel, choice.split, test_logits, familiarity(head, fam, test_x))


def export_model(choice: Choice, trained: Trained, combo: Combination, head: WhisperHead, fam: Familiarity,
                 ab: dict[str, float], paths: RunPaths, model_dir: Path) -> tuple[dict[str, nn.Module], dict[str, Any]]:
    """The shipped combination's graphs (the Whisper head calibrated inside its graph), exported into model_dir."""
    graphs = {k: base_graph(k, CalibratedHead(head, fam, ab["a"], ab["b"]) if k == "whisper" else trained.main["models"][k],
                            choice.recipe.depth, choice.cfg) for k in combo.ship["kinds"]}
    exported = {k: export_graph(k, g, paths.ex, model_dir) for k, g in graphs.items()}
    if combo.stacked:
        export_meta(combo.ship["meta"], model_dir / "meta.onnx", 9 * len(combo.ship["kinds"]))
    return graphs, exported


def quiet_speech(model_dir: Path, ds: Dataset, cfg: Config) -> dict[str, Any]:
    """The shipped Whisper graph on the same held-out-speaker clips made 0..40 dB quieter."""
    _, test = dev_test(ds)
    files = [c.file for c in ds.clips]
    q = sample(test, 200 if cfg.quiet_clips is None else cfg.quiet_clips, cfg.seed)
    return {"n": int(len(q)), **quiet_curve(model_dir / "whisper.onnx",
                                            gain_segments([files[i] for i in q], Path(cfg.paths.corpora), cfg.seed),
                                            ds.y[q])}


def run_all(cfg: Config, ds: Dataset) -> None:
    """Each step's results go into res and report.json as they come, so an interrupted run shows how far it got."""
    t_start = time.time()
    # the heads are small MLPs: one intra-op thread; two ran them several times slower on a busy 2-core machine
    torch.set_num_threads(1)
    if (cfg.encoder.kind or "whisper") != "whisper":
        raise NotImplementedError("export of the wav2vec2/WavLM recipe is not implemented; features and heads only")
    paths = run_paths(cfg)
    res: dict[str, Any] = {"run_id": cfg.run_id, "config": cfg.as_dict()}
    bank = bank_from(ds.feats)
    dev, test = dev_test(ds)
    res["data"] = data_summary(ds)
    res.update(previous_model_numbers(cfg.paths))
    res.update(carried_over(paths.rep_dir))

    choice = choose_recipe(cfg, ds, bank, paths)
    cfg = choice.cfg
    res["selection"] = selection_summary(choice.sel)
    keep_blocks(bank, choice.recipe.depth)
    save(res, paths.rep_dir)
    log(f"chosen recipe: {choice.recipe}")

    trained = train_candidates(choice, ds, bank, paths)
    combo = choose_combination(trained.cands, ds)
    res.update(combination_summary(combo))
    log(f"combination: {combo.chosen}; {combo.dev_scores}")
    res.update(columns(combo, trained))
    res.update(score_tables(trained, combo, ds))
    shipped_test = combo.ship["eval"]["test_clean"]
    save(res, paths.rep_dir)
    log(f"held-out clean: {res['test']['test_clean'][res['shipped_column']]}")

    # a model that does not pass the ship gate is exported beside the cache instead, models/default stays as it is
    res["ship_gate"] = ship_gate(res, cfg)
    log(f"ship gate: {res['ship_gate']}")
    model_dir = paths.model_dir if res["ship_gate"]["ship"] else paths.ex / "not-shipped"
    head_a = trained.main["models"]["whisper"]
    res["layer_weights"] = torch.softmax(head_a.layer_logits.detach(), 0).tolist()
    clear_model_dir(model_dir)
    fam, res["calibration"] = calibrate(choice, head_a, bank, ds, trained.main["eval"]["test_clean"]["whisper"])
    ab = res["calibration"]["params"]["familiarity temperature"]
    save(res, paths.rep_dir)
    log(f"calibration: {ab}")
    graphs, res["export"] = export_model(choice, trained, combo, head_a, fam, ab, paths, model_dir)

    res["quantization"] = quantization_check(cfg, ds, bank, dev, choice.weights, choice.conds, graphs["whisper"].encoder,
                                             choice.recipe.depth)
    use_q = bool(res["quantization"]["shipped_int8"])
    log(f"quantization: {res['quantization']}")
    if use_q:
        quantize(paths.ex / "whisper-fp32.onnx", model_dir / "whisper.onnx")
    files = model_files(combo.ship["kinds"], combo.stacked)
    res["model_bytes"] = model_bytes(model_dir, files)
    res["shipped_onnx_test"] = shipped_onnx_test(model_dir, combo.ship["kinds"], combo.stacked, trained.evals, ds, test,
                                                 cfg, log)
    save(res, paths.rep_dir)
    res["parity_python"] = parity_check(model_dir, graphs, combo.ship, use_q, files)
    res["flops_per_segment"] = flops(graphs, combo.ship)
    res["timing_ms_per_segment"] = time_ms([model_dir / f for f in files], len(combo.ship["kinds"]))
    res["train_time_s"] = time.time() - t_start
    verify = json.loads((paths.cache / "verify.json").read_text()) if (paths.cache / "verify.json").exists() else {}
    res["weights_verification"] = verify
    save(res, paths.rep_dir)
    write_report(res, paths.rep_dir, ds, ds.y[test], shipped_test)
    write_model_manifest(model_dir, cfg, res, combo.ship, use_q, choice.recipe,
                         headline_metrics(res, combo.chosen, len(test), combo.dev_scores[combo.chosen]["weighted_f1"]),
                         verify)
    log(f"model exported in {time.time() - t_start:.0f}s; extra evaluations next")

    if "quiet_curve" not in res:
        res["quiet_curve"] = quiet_speech(model_dir, ds, cfg)
        save(res, paths.rep_dir)
    if cfg.random_protocol is not False:
        extra_evals(cfg, ds, bank, choice.weights, choice.conds, trained.kinds, res, paths.ex, paths.rep_dir, combo.ship,
                    trained.key)
    if "per_speaker_standardisation" not in res and cfg.standardisation_curve is not False:
        res["per_speaker_standardisation"] = per_speaker_curve(ds, bank, head_a, cfg)
        log("standardisation curve done")
    res["total_time_s"] = time.time() - t_start
    save(res, paths.rep_dir)
    write_report(res, paths.rep_dir, ds, ds.y[test], shipped_test)
    add_late_metrics(model_dir, res)
    log(f"done in {time.time() - t_start:.0f}s")


def extra_evals(cfg: Config, ds: Dataset, bank: Feats, w: np.ndarray, conds: tuple[str, ...],
                kinds: tuple[str, ...], res: dict[str, Any], ex: Path, rep_dir: Path, ship: dict[str, Any],
                key: str) -> None:
    """The report's random protocol (speakers shared between train and test); checkpointed per base kind. Whole
    corpora and languages held out are the LOCO folds of the recipe selection."""
    y = ds.y
    # the report's own protocol: random stratified 70/15/15 over clips (speakers shared across splits)
    r = random_stratified_split(y, cfg.seed)
    tr, te = np.flatnonzero(r == 0), np.flatnonzero(r == 2)
    rf = np.random.default_rng(cfg.seed).integers(0, 5, len(tr))
    rnd = with_bases(ex / "random.pt", kinds, lambda ks: bases(bank, y, w, tr, rf, {"random_test": (te, "clean")}, cfg,
                                                               cfg.seed, conds, ks), key)
    d = {k: rnd["eval"]["random_test"][k] for k in kinds}
    for b in kinds[1:]:
        cw = ship.get("class_weighted", True)
        d[stacked_name(b, cw)] = fit_meta(rnd, y[tr], rf, cfg, cfg.seed, ("whisper", b), cw)["eval"]["random_test"]
    res["random_70_15_15"] = table(y[te], d, ds.corpus[te])
    log(f"random protocol: { {k: v['weighted_f1'] for k, v in res['random_70_15_15'].items() if 'n' in v} }")
    save(res, rep_dir)
