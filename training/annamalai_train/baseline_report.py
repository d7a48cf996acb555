"""The voice baseline's reports: reports/<run>/baseline.{json,md} and the model card's section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .baseline_enrolment import EVAL_KS, MODES, SKEWED, TARGET_K


def report_lines(study: dict[str, Any]) -> list[str]:
    """baseline.md: the choice, then per table (held-out speakers, dev CV) the chosen rule's rows per corpus."""
    ch = study["choice"]
    L = ["# Voice baseline (issue #21)", "", study["protocol"], "",
         "Each cell: weighted F1 of the baseline head / the main head (no baseline) on the same clips, and the "
         "difference in points; n = scored clips.", "", "## Choice (dev speaker CV)", "", ch["rule"].strip(), "",
         "| rule | min_recordings | varied gain at k=10 | varied gain at k=20 | worst skewed delta from min_recordings |",
         "|---|---|---|---|---|"]
    for r, p in ch["per_rule"].items():
        worst = p["worst_skewed_delta_from_min"]
        L.append(f"| {r} | {p['min_recordings']} | {100 * p['varied_gain_at_target']:+.1f} | "
                 f"{100 * p['varied_gain_at_max_k']:+.1f} | {'-' if worst is None else f'{100 * worst:+.1f}'} |")
    L += ["", f"Chosen: **{ch['chosen']}**, min_recordings **{ch['min_recordings']}**"
          + ("" if ch["chosen"] else " (no rule qualifies: no baseline ships)"), ""]
    if "export" in study:
        L += [f"Exported head: logits divided by a temperature {study['export']['temperature']:.3f} fitted on the "
              "dev-CV out-of-fold baseline logits (all enrolments), so the runtime takes the plain softmax; the "
              "manifest declares no other calibration.", ""]
    shown = ch["chosen"] or next(iter(study["dev_cv"]))
    for title, key in (("Held-out speakers", "held_out"), ("Dev speaker CV (out of fold)", "dev_cv")):
        t = study[key].get(shown)
        if not t:
            continue
        groups = list(t["varied"][str(EVAL_KS[0])])
        L += [f"## {title}: {shown}", "", "| enrolment | k | " + " | ".join(groups) + " |",
              "|---|---|" + "---|" * len(groups)]
        for mode in MODES:
            for k in EVAL_KS:
                cell = t.get(mode, {}).get(str(k))
                if cell is None:
                    continue
                L.append(f"| {mode} | {k} | " + " | ".join(
                    f"{c['baseline']:.3f} / {c['main']:.3f} ({100 * c['delta']:+.1f}; n={c['n']})" if (c := cell.get(gr))
                    else "-" for gr in groups) + " |")
        L.append("")
    L += ["## Every rule, all speakers (delta in points: varied k=10 | worst skewed, k >= 10)", "",
          "| rule | dev CV | held-out |", "|---|---|---|"]
    for r in study["dev_cv"]:
        cells = []
        for key in ("dev_cv", "held_out"):
            t = study[key].get(r)
            if not t:
                cells.append("-")
                continue
            worst = min(t[m][str(k)]["all"]["delta"] for m in SKEWED for k in EVAL_KS if k >= TARGET_K and str(k) in t.get(m, {}))
            cells.append(f"{100 * t['varied'][str(TARGET_K)]['all']['delta']:+.1f} / {100 * worst:+.1f}")
        L.append(f"| {r} | " + " | ".join(cells) + " |")
    return L


def card_lines(summary: dict[str, Any]) -> list[str]:
    """The model card's section: the rule and the held-out-speaker rows of the chosen rule, all corpora pooled."""
    ch = summary["choice"]
    if ch["chosen"] is None:
        return ["## Voice baseline", "", "No voice-baseline head ships: no normalisation rule met the rule on dev speaker "
                "CV (see `baseline.md` of the run).", ""]
    t = summary["held_out"][ch["chosen"]]
    L = ["## Voice baseline", "",
         f"`baseline-head.onnx` scores the `embedding` output normalised by the user's own earlier recordings ("
         f"{ch['chosen']}: the user's mean shrunk towards the global one with lambda = n / (n + k)), used from "
         f"{ch['min_recordings']} earlier recordings on; chosen on dev speaker CV by the rule in `baseline.md`. On the "
         "held-out speakers, weighted F1 of the baseline head / the main head on the same clips (difference in points):",
         "", "| enrolment | " + " | ".join(f"k={k}" for k in EVAL_KS) + " |", "|---|" + "---|" * len(EVAL_KS)]
    for mode in MODES:
        cells = [t.get(mode, {}).get(str(k), {}).get("all") for k in EVAL_KS]
        L.append(f"| {mode} | " + " | ".join(f"{c['baseline']:.3f} / {c['main']:.3f} ({100 * c['delta']:+.1f})" if c else "-"
                                             for c in cells) + " |")
    return L + [""]


def write_study(study: dict[str, Any], rep_dir: Path) -> dict[str, Any]:
    """reports/<run>/baseline.json and baseline.md; returns the JSON-able summary."""
    out = {k: v for k, v in study.items() if k != "export"}
    if "export" in study:
        e = study["export"]
        out["export"] = {"normalise": e["rule"].normalise, "shrinkage_k": e["rule"].k,
                         "min_recordings": e["min_recordings"], "temperature": e["temperature"]}
    rep_dir.mkdir(parents=True, exist_ok=True)
    (rep_dir / "baseline.json").write_text(json.dumps(out, indent=1))
    (rep_dir / "baseline.md").write_text("\n".join(report_lines(study)) + "\n")
    return out
