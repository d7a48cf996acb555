"""Model choice for voices unlike the training data.

Primary criterion: mean weighted F1 over leave-one-corpus-out (LOCO) folds, every corpus held out in turn plus
every language that spans several corpora (trained on the dev speakers of everything else, scored on every clip of
the held-out group). Second criterion: speaker-independent dev CV (corpus-mean weighted F1, out of fold).

Scoring a held-out group: only clips whose label the fold's training data has (EmoDB's 'bored' exists in no other
corpus, so with EmoDB held out it cannot be learnt) and weighted F1 over the labels present. A group left with a
single label (BAVED: neutral only) is 'degenerate': its score is that label's F1 (2r/(1+r), r its recall), which
rewards answering one class everywhere; it is reported but kept out of the primary mean.

Every recipe's results are cached (one .npz per recipe, keyed by its fields): re-running resumes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .calibrate import N_PCS, Familiarity, by_group, calibrated, fit_ab
from .config import Config, load_config
from .data import corpus_weights
from .dataset import build_dataset
from .labels import N_LABELS
from .models import WhisperHead
from .report import calibration_lines
from .train import Feats, bank_from, fit_classifier, logits_of, scores


@dataclass(frozen=True)
class Recipe:
    """One candidate head on the cached Whisper features."""

    name: str
    depth: int  # encoder blocks whose pooled outputs the head weighs (learned softmax weights)
    hidden: int  # 0 = linear probe
    weighting: str  # "none" | "sqrt" | "equal" (per corpus) | "balanced" (corpora equal, speakers equal within)
    label_smoothing: float = 0.0
    augment: bool = True
    epochs: int = 40
    dropout: float = 0.3
    mixup: float = 0.0  # Beta(a, a) mixup of inputs and targets
    augment_set: str = "aug"  # which augmented condition: "aug" or "aug_room" (rooms.py)

    def conditions(self) -> tuple[str, ...]:
        return ("clean", self.augment_set) if self.augment else ("clean",)

    def key(self) -> str:
        # fields at their defaults are left out, so adding a lever keeps the cached results of older recipes
        return ",".join(f"{k}={v}" for k, v in asdict(self).items()
                        if k != "name" and (k, v) not in (("mixup", 0.0), ("augment_set", "aug")))


def recipe_from(d: dict[str, Any]) -> Recipe:
    return Recipe(**d)


def loco_groups(corpus: np.ndarray, language: np.ndarray) -> dict[str, np.ndarray]:
    """Every corpus, and every language spanning two or more corpora (English: RAVDESS, TESS, SAVEE and the English
    part of Indian EmoSpeech)."""
    groups = {f"corpus {c}": corpus == c for c in np.unique(corpus)}
    for lang in np.unique(language):
        m = language == lang
        if len(np.unique(corpus[m])) >= 2:
            groups[f"language {lang}"] = m
    return groups


def clip_weights(corpus: np.ndarray, speaker: np.ndarray, mode: str) -> np.ndarray:
    """Per-clip training weights; 'balanced': every corpus the same total, every speaker the same within it."""
    if mode != "balanced":
        return corpus_weights(corpus, mode)
    w = np.zeros(len(corpus), np.float64)
    for c in np.unique(corpus):
        mc = corpus == c
        spk = np.unique(speaker[mc])
        for s in spk:
            ms = mc & (speaker == s)
            w[ms] = 1.0 / (len(spk) * ms.sum())
    return w * len(w) / w.sum()


def heldout_score(y: np.ndarray, logits: np.ndarray, trained: np.ndarray) -> dict[str, Any]:
    """Scores over clips whose label was trained (trained: bool [N_LABELS]); 'degenerate' if one label is left."""
    keep = trained[y]
    s: dict[str, Any] = scores(y[keep], logits[keep]) if keep.any() else {"n": 0, "weighted_f1": float("nan")}
    s["n_dropped_untrained_label"] = int((~keep).sum())
    s["labels"] = int(len(np.unique(y[keep])))
    s["degenerate"] = s["labels"] < 2
    return s


FAMILIARITY = f"residual off {N_PCS} PCs"  # part of the cache key: arrays made with another measure are stale


def fit_familiarity(head: WhisperHead, bank: Feats, clips: np.ndarray, depth: int) -> Familiarity:
    """The familiarity measure of a head, fitted on the embeddings of the clean clips it was trained on."""
    with torch.no_grad():
        e = head.embed(bank.x("whisper", bank.lookup(clips, "clean"))[:, :depth])
    return Familiarity(e.shape[1]).fit(e)


def familiarity(head: WhisperHead, fam: Familiarity, pooled: torch.Tensor) -> np.ndarray:
    """Large for recordings unlike anything the head was trained on (see calibrate.Familiarity)."""
    with torch.no_grad():
        return fam(head.embed(pooled)).numpy()


def fit_recipe(r: Recipe, bank: Feats, clips: np.ndarray, y: np.ndarray, w: np.ndarray, hp: dict[str, Any],
               seed: int) -> WhisperHead:
    rows = bank.rows(clips, r.conditions())
    x = bank.x("whisper", rows)[:, : r.depth]
    head = WhisperHead(r.depth, x.shape[2], r.hidden, r.dropout)
    hpr = {**hp, "epochs": r.epochs, "label_smoothing": r.label_smoothing, "mixup": r.mixup}
    out = fit_classifier(head, x, y[bank.clip[rows]], w[bank.clip[rows]], hpr, seed)
    assert isinstance(out, WhisperHead)
    return out


def predict(head: WhisperHead, bank: Feats, train: np.ndarray, clips: np.ndarray, depth: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Logits and familiarity (measured against the head's own training clips) of clean clips."""
    x = bank.x("whisper", bank.lookup(clips, "clean"))[:, :depth]
    return logits_of(head, x), familiarity(head, fit_familiarity(head, bank, train, depth), x)


@dataclass
class Split:
    """What the LOCO and speaker-CV folds need from the dataset."""

    y: np.ndarray
    corpus: np.ndarray
    language: np.ndarray
    speaker: np.ndarray
    fold: np.ndarray  # -1 held-out speakers (never used here), 0..k-1 dev folds


def evaluate_recipe(r: Recipe, sp: Split, bank: Feats, hp: dict[str, Any], seed: int, cache: Path) -> dict[str, Any]:
    """LOCO and speaker-CV results of one recipe, with the per-clip held-out logits and familiarity that the
    confidence calibration is fitted on; cached in cache/<recipe key hash>.npz + .json."""
    cache.mkdir(parents=True, exist_ok=True)
    # a partial cache's results are not the full run's; nor are arrays made with another familiarity measure. Only
    # the rows the folds read count (clean and augmented), so a selection run before the test conditions were
    # extracted (main() below) is the full run's too
    used = int(np.isin(bank.cond, ("clean", "aug", "aug_room")).sum())
    key = f"{r.key()},clips={len(sp.y)},rows={used},familiarity={FAMILIARITY}"
    tag = f"{abs(hash_key(key)):016x}"
    jpath, npath = cache / f"{tag}.json", cache / f"{tag}.npz"
    if jpath.exists() and npath.exists():
        res: dict[str, Any] = json.loads(jpath.read_text())
        if res.get("key") == key:
            z = np.load(npath)
            res["arrays"] = {k: z[k] for k in z.files}
            return res
    dev = np.flatnonzero(sp.fold >= 0)
    w = clip_weights(sp.corpus, sp.speaker, r.weighting)
    groups = loco_groups(sp.corpus, sp.language)
    loco: dict[str, Any] = {}
    n = len(sp.y)
    loco_logits = np.full((n, N_LABELS), np.nan, np.float32)  # corpus folds: every clip exactly once
    loco_fam = np.full(n, np.nan, np.float32)
    for g, m in groups.items():
        tr, te = dev[~m[dev]], np.flatnonzero(m)
        trained = np.bincount(sp.y[tr], minlength=N_LABELS) > 0
        head = fit_recipe(r, bank, tr, sp.y, w, hp, seed)
        lg, fam = predict(head, bank, tr, te, r.depth)
        loco[g] = heldout_score(sp.y[te], lg, trained)
        if g.startswith("corpus "):
            loco_logits[te], loco_fam[te] = lg, fam
    oof = np.zeros((len(dev), N_LABELS), np.float32)
    oof_fam = np.zeros(len(dev), np.float32)
    for f in np.unique(sp.fold[dev]):
        tr, va = dev[sp.fold[dev] != f], dev[sp.fold[dev] == f]
        head = fit_recipe(r, bank, tr, sp.y, w, hp, seed + int(f))
        oof[sp.fold[dev] == f], oof_fam[sp.fold[dev] == f] = predict(head, bank, tr, va, r.depth)
    cv = scores(sp.y[dev], oof)
    cv["corpus_mean_weighted_f1"] = float(np.mean([scores(sp.y[dev][sp.corpus[dev] == c], oof[sp.corpus[dev] == c])
                                                   ["weighted_f1"] for c in np.unique(sp.corpus[dev])]))
    res = {"key": key, "recipe": asdict(r), "loco": loco, **loco_means(loco), "speaker_cv": cv}
    arrays = {"loco_logits": loco_logits, "loco_familiarity": loco_fam, "oof_logits": oof, "oof_familiarity": oof_fam,
              "dev": dev}
    np.savez(npath, **arrays)
    jpath.write_text(json.dumps(res, indent=1))
    res["arrays"] = arrays
    return res


def hash_key(s: str) -> int:
    import zlib

    return zlib.crc32(s.encode()) | (zlib.adler32(s.encode()) << 32)


def loco_means(loco: dict[str, Any]) -> dict[str, float]:
    """Primary: mean over non-degenerate folds (corpora and multi-corpus languages); also corpora only, and all."""
    ok = {g: s for g, s in loco.items() if not s["degenerate"]}
    return {
        "loco_mean": float(np.mean([s["weighted_f1"] for s in ok.values()])),
        "loco_mean_corpora": float(np.mean([s["weighted_f1"] for g, s in ok.items() if g.startswith("corpus ")])),
        "loco_mean_all_folds": float(np.mean([s["weighted_f1"] for s in loco.values()])),
    }


def choose(results: dict[str, dict[str, Any]], baseline: str, tolerance: float = 0.01, max_depth: int | None = None
           ) -> str:
    """The best LOCO mean among recipes whose speaker-CV corpus-mean weighted F1 is within `tolerance` of the
    baseline recipe's (the current model's recipe): better on unseen corpora without losing unseen speakers.
    Recipes deeper than max_depth (they would not fit the model's size and speed budgets) are never chosen."""
    floor = results[baseline]["speaker_cv"]["corpus_mean_weighted_f1"] - tolerance
    ok = [n for n, r in results.items() if r["speaker_cv"]["corpus_mean_weighted_f1"] >= floor
          and (max_depth is None or r["recipe"]["depth"] <= max_depth)]
    return max(ok, key=lambda n: results[n]["loco_mean"])


def strip(r: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in r.items() if k != "arrays"}


def run_selection(cfg: Config, sp: Split, bank: Feats, cache: Path, log: Any = print) -> dict[str, Any]:
    """Every recipe of cfg.recipes (in order; each cached) on LOCO and speaker CV, and the choice."""
    results: dict[str, dict[str, Any]] = {}
    for d in cfg.recipes:
        r = recipe_from({k: v for k, v in asdict(d).items() if v is not None})  # absent keys: the defaults
        results[r.name] = evaluate_recipe(r, sp, bank, cfg.head_whisper.as_dict(), cfg.seed, cache)
        s = results[r.name]
        log(f"recipe {r.name}: LOCO mean {s['loco_mean']:.3f} (corpora {s['loco_mean_corpora']:.3f}), speaker CV "
            f"corpus-mean {s['speaker_cv']['corpus_mean_weighted_f1']:.3f}")
    max_depth = cfg.encoder.max_ship_depth
    chosen = choose({n: strip(r) for n, r in results.items()}, cfg.recipes[0].name, max_depth=max_depth)
    deep = f"; recipes deeper than {max_depth} blocks are measured, never chosen (30 MB and speed budgets)"
    return {"criterion": "primary: mean weighted F1 over LOCO folds (every corpus, and English, which spans "
                         "four corpora; single-label folds reported, not averaged); kept only if the speaker-CV "
                         "corpus-mean weighted F1 is within 1 point of the current recipe's (the first listed)"
                         + (deep if max_depth else ""),
            "results": results, "chosen": chosen}


def calibration_study(sel: dict[str, Any], sp: Split, test_logits: np.ndarray, test_fam: np.ndarray,
                      ) -> dict[str, Any]:
    """Fit T(x) on held-out predictions of dev clips (LOCO + speaker-CV out of fold, equal total weight) and report
    reliability: on LOCO (per corpus, the calibration refitted without that corpus) and on the held-out speakers
    (final head). Rows: uncalibrated, one temperature, familiarity-dependent temperature."""
    arr = sel["results"][sel["chosen"]]["arrays"]
    dev = arr["dev"]
    lg = np.concatenate([arr["loco_logits"][dev], arr["oof_logits"]])
    fam = np.concatenate([arr["loco_familiarity"][dev], arr["oof_familiarity"]])
    y = np.concatenate([sp.y[dev], sp.y[dev]])
    corp = np.concatenate([sp.corpus[dev], sp.corpus[dev]])
    wt = np.concatenate([np.full(len(dev), 0.5 / len(dev)), np.full(len(dev), 0.5 / len(dev))])
    fits = {"one temperature": fit_ab(lg, fam, y, wt, fixed_b=0.0), "familiarity temperature": fit_ab(lg, fam, y, wt)}
    out: dict[str, Any] = {"fitted_on": "LOCO and speaker-CV out-of-fold predictions of the dev clips (equal weight)",
                           "params": {k: {"a": a, "b": b} for k, (a, b) in fits.items()}}
    all_idx = np.arange(len(sp.y))
    ll, lf = arr["loco_logits"], arr["loco_familiarity"]
    loco_rows: dict[str, np.ndarray] = {"uncalibrated": ll.copy()}
    for name, fixed in (("one temperature", 0.0), ("familiarity temperature", None)):
        cal = np.zeros_like(ll)
        for c in np.unique(sp.corpus):  # cross-fitted: the corpus scored was not in the calibration fit
            keep = corp != c
            ab = fit_ab(lg[keep], fam[keep], y[keep], wt[keep], fixed_b=fixed)
            m = sp.corpus == c
            cal[m] = calibrated(ll[m], lf[m], ab)
        loco_rows[name] = cal
    out["loco"] = {k: by_group(sp.y[all_idx], v, sp.corpus) for k, v in loco_rows.items()}
    test = np.flatnonzero(sp.fold == -1)
    test_rows = {"uncalibrated": test_logits,
                 **{k: calibrated(test_logits, test_fam, ab) for k, ab in fits.items()}}
    out["held_out_speakers"] = {k: by_group(sp.y[test], v, sp.corpus[test]) for k, v in test_rows.items()}
    return out


def main() -> None:
    """python -m annamalai_train.loco [--config config.json]: the recipe selection alone (resumable); writes
    reports/<run>/loco.json."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="config.json")
    ap.add_argument("--partial", action="store_true", help="only the feature shards already cached (a random sample)")
    ap.add_argument("--calibration", action="store_true",
                    help="also the confidence study of the chosen recipe with the final head of the run's main.pt")
    args = ap.parse_args()
    cfg = load_config(Path(args.config))
    if args.partial:
        cfg = replace(cfg, run_id=cfg.run_id + "-partial")
    torch.set_num_threads(1)
    # the selection reads clean and augmented features only: it can run while the test conditions are extracted
    ds = build_dataset(cfg, partial=args.partial, conditions=None if args.calibration else ("clean", "aug", "aug_room"))
    sp = Split(ds.y, ds.corpus, ds.language, ds.speaker, ds.fold)
    sel = run_selection(cfg, sp, bank_from(ds.feats), Path(cfg.paths.cache) / "loco" / cfg.run_id)
    out = Path(cfg.paths.reports) / cfg.run_id
    out.mkdir(parents=True, exist_ok=True)
    (out / "loco.json").write_text(json.dumps({**sel, "results": {n: strip(r) for n, r in sel["results"].items()}},
                                              indent=1))
    if args.calibration:
        main_pt = torch.load(Path(cfg.paths.cache) / "export" / cfg.run_id / "main.pt", weights_only=False)
        head = main_pt["models"]["whisper"]
        depth = int(sel["results"][sel["chosen"]]["recipe"]["depth"])
        bank = bank_from(ds.feats)
        dev, test = np.flatnonzero(ds.fold >= 0), np.flatnonzero(ds.fold == -1)
        fam = fit_familiarity(head, bank, dev, depth)
        x = bank.x("whisper", bank.lookup(test, "clean"))[:, :depth]
        cal = calibration_study(sel, sp, logits_of(head, x), familiarity(head, fam, x))
        (out / "calibration.json").write_text(json.dumps(cal, indent=1))
        (out / "calibration.md").write_text("\n".join(
            [f"# Confidence, {cfg.run_id}, familiarity = {FAMILIARITY}", ""] + calibration_lines(cal)))


if __name__ == "__main__":
    main()
