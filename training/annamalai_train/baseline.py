"""Per-user voice baseline (issue #21): a second head on the main graph's embedding normalised by the user's own
statistics, shrunk towards the global ones (models: baseline-interface contract, manifest key "voice_baseline").

Voices differ more than emotions do, so subtracting a user's usual voice helps, but a user whose recordings lean to
one emotion would have that emotion subtracted too. Hence: the user's statistics are shrunk towards the global ones
(lambda = n / (n + k)), the head is trained on training speakers normalised by statistics of a few *other* clips of
theirs drawn as users would give them (varied and skewed), and the rule (mean or mean-and-scale, k) and the minimum
number of recordings are chosen by a stated rule (choose()) on a table of enrolments of 1..20 earlier clips drawn
varied, 80 % / 100 % one emotion and neutral-only, against the main head on the very same clips.

The study is parametric in the main model: TrainMain(clips) -> Main, whose embed(rows) is what the shipped graph
outputs as "embedding" for those feature-bank rows and whose logits(rows) are the main head's (the no-baseline model).

This module runs the study and is the CLI; the parts: baseline_norm (the rules and statistics, the runtime contract),
baseline_enrolment (enrolment draws, the table, choose()), baseline_head (the second head, its export and manifest
entry), baseline_report (baseline.{json,md} and the model card's section).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .baseline_enrolment import MODES, Main, Study, TrainMain, choose, score_enrolments
from .baseline_head import TRAIN_MODE_P, TRAIN_NS, BaselineGraph, export_baseline, fit_rules, fit_temperature, set_manifest_entry
from .baseline_norm import CANDIDATES, Rule, rule_named
from .baseline_report import write_study
from .config import Config, load_config
from .dataset import HERE, Dataset, build_dataset
from .loco import Recipe, clip_weights, fit_recipe, recipe_from
from .models import WhisperHead
from .train import Feats, bank_from, logits_of


def whisper_main(bank: Feats, y: np.ndarray, w: np.ndarray, recipe: Recipe, hp: dict[str, Any], seed: int) -> TrainMain:
    """The current main model: a WhisperHead of `recipe`; its embedding is WhisperHead.embed (the graph's output)."""

    def train(clips: np.ndarray) -> Main:
        return main_of(fit_recipe(recipe, bank, clips, y, w, hp, seed), bank, recipe.depth)

    return train


def main_of(head: WhisperHead, bank: Feats, depth: int) -> Main:
    def embed(rows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return np.asarray(head.embed(bank.x("whisper", rows)[:, :depth]).numpy(), np.float32)

    return Main(embed, lambda rows: logits_of(head, bank.x("whisper", rows)[:, :depth]))


@dataclass(frozen=True)
class StudyData:
    """What the study reads from the dataset: labels, speakers, corpora, dev folds (-1 = held-out speakers)."""

    y: np.ndarray
    speaker: np.ndarray
    corpus: np.ndarray
    fold: np.ndarray
    w: np.ndarray  # per-clip training weights of the main recipe
    conds: tuple[str, ...]  # the feature conditions the heads train on


def run_study(d: StudyData, bank: Feats, train_main: TrainMain, final_main: Main, hp: dict[str, Any], seed: int,
              draws: int = 3, train_draws: int = 2, log: Callable[[str], None] = print,
              candidates: tuple[tuple[str, float], ...] = CANDIDATES) -> dict[str, Any]:
    """Dev speaker CV (out of fold) for every candidate rule -> the choice; then heads on all dev speakers (the
    final main model's embedding) scored on the held-out speakers; the chosen head calibrated and ready to export."""
    rules = [Rule(n, k) for n, k in candidates]
    dev, test = np.flatnonzero(d.fold >= 0), np.flatnonzero(d.fold == -1)
    cv = Study({})
    for f in np.unique(d.fold[dev]):
        tr, va = dev[d.fold[dev] != f], dev[d.fold[dev] == f]
        main = train_main(tr)
        g, heads = fit_rules(main, bank, tr, d.conds, d.y, d.w, d.speaker, rules, hp, seed + int(f), train_draws)
        score_enrolments(cv, main, heads, g, va, bank, d.y, d.speaker, d.corpus, seed + int(f), draws)
        log(f"baseline: dev fold {f} done")
    dev_table = cv.table()
    choice = choose(dev_table)
    log(f"baseline: chosen {choice['chosen']}, min_recordings {choice['min_recordings']}")
    g, heads = fit_rules(final_main, bank, dev, d.conds, d.y, d.w, d.speaker, rules, hp, seed + 100, train_draws)
    held = Study({})
    if len(test):
        score_enrolments(held, final_main, heads, g, test, bank, d.y, d.speaker, d.corpus, seed + 100, draws)
    out: dict[str, Any] = {
        "protocol": (f"dev speaker CV ({len(np.unique(d.fold[dev]))} speaker-disjoint folds, {len(dev)} clips) for the "
                     f"choice; held-out speakers ({len(np.unique(d.speaker[test]))} speakers, {len(test)} clips, "
                     "never trained on) for the final table. Per speaker and enrolment: k earlier clean clips drawn "
                     f"{', '.join(MODES)} ({draws} draws per speaker); the speaker's other clips are scored by the main "
                     "head and by the baseline head on the same clips (weighted F1 over all scored clips of the cell)."
                     f" Training speakers: {train_draws} simulated enrolments per clip (n from {list(TRAIN_NS)}, modes "
                     f"with probabilities {list(TRAIN_MODE_P)})."),
        "candidates": [r.name for r in rules], "choice": choice, "dev_cv": dev_table, "held_out": held.table()}
    if choice["chosen"] is not None:
        rule = rule_named(choice["chosen"])
        ys, lg = [], []
        for c in cv.cells.values():
            ys.append(np.concatenate(c["y"]))
            lg.append(np.concatenate(c["base"][rule.name]))
        t = fit_temperature(np.concatenate(lg), np.concatenate(ys))
        out["export"] = {"rule": rule, "min_recordings": int(choice["min_recordings"]), "stats": g,
                         "graph": BaselineGraph(heads[rule], t).eval(), "temperature": t}
    return out


def voice_baseline(cfg: Config, ds: Dataset, bank: Feats, head: WhisperHead, recipe: Recipe, w: np.ndarray,
                   conds: tuple[str, ...], model_dir: Path, rep_dir: Path, log: Callable[[str], None] = print,
                   candidates: tuple[tuple[str, float], ...] = CANDIDATES) -> dict[str, Any]:
    """The whole step for a run: study with `head` as the final main model (its embedding is the shipped graph's),
    reports, and the export into model_dir with its manifest entry (or no baseline, stale files removed)."""
    hp = cfg.head_whisper.as_dict()
    d = StudyData(ds.y, ds.speaker, ds.corpus, ds.fold, w, conds)
    study = run_study(d, bank, whisper_main(bank, ds.y, w, recipe, hp, cfg.seed), main_of(head, bank, recipe.depth),
                      hp, cfg.seed, log=log, candidates=candidates)
    summary = write_study(study, rep_dir)
    entry = (export_baseline(model_dir, study["export"], f"training/reports/{cfg.run_id}/baseline.md")
             if "export" in study else None)
    if (model_dir / "manifest.json").exists():
        set_manifest_entry(model_dir, entry)
    elif entry is not None:
        (model_dir / "voice-baseline-entry.json").write_text(json.dumps(entry, indent=2) + "\n")
    return summary


def main() -> None:
    """python -m annamalai_train.baseline --config config.json [--partial]: the study with the current recipe's
    main head (cfg.recipes[0], clean rows, trained on the dev speakers); reports/<run>/baseline.{json,md}; the head,
    stats and manifest entry into <cache>/baseline/<run>/ (they pair with that main head, not with models/default)."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=str(HERE / "config.json"))
    ap.add_argument("--partial", action="store_true", help="only the feature shards already cached, extract nothing")
    ap.add_argument("--rules", help="the candidates instead of CANDIDATES, e.g. voice:5,voice:20 (report folder "
                                    "<run>-rules-<rules>)")
    args = ap.parse_args()
    cfg = load_config(Path(args.config))
    cands = CANDIDATES
    if args.rules:
        cands = tuple((n, float(k)) for n, k in (r.split(":") for r in args.rules.split(",")))
        cfg = replace(cfg, run_id=cfg.run_id + "-rules-" + args.rules.replace(":", "").replace(",", "-"))
    if args.partial:  # a measurement on the cached sample: its own report folder, as the pipeline's --partial
        cfg = replace(cfg, run_id=cfg.run_id + "-partial", partial_features=True)
    torch.set_num_threads(1)
    ds = build_dataset(cfg, partial=args.partial)
    bank = bank_from(ds.feats)
    spec = cfg.recipes[0]
    # clean rows only: the augmented rows are extracted after the clean ones and may be missing or partial in the
    # cache; the run's own step (voice_baseline from runall) trains on the run's conditions
    recipe = replace(recipe_from({k: v for k, v in asdict(spec).items() if v is not None}), augment=False)
    conds = ("clean",)
    w = clip_weights(ds.corpus, ds.speaker, recipe.weighting)
    dev = np.flatnonzero(ds.fold >= 0)
    head = fit_recipe(recipe, bank, dev, ds.y, w, cfg.head_whisper.as_dict(), cfg.seed + 100)
    out_dir = Path(cfg.paths.cache) / "baseline" / cfg.run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = voice_baseline(cfg, ds, bank, head, recipe, w, conds, out_dir, Path(cfg.paths.reports) / cfg.run_id,
                             candidates=cands)
    print(json.dumps({"choice": {k: v for k, v in summary["choice"].items() if k != "rule"},
                      "export": summary.get("export")}, indent=1))


if __name__ == "__main__":
    main()
