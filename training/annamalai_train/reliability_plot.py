"""Reliability diagrams (confidence against accuracy, per corpus) from the calibration study's bins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SETS = (("loco", "LOCO (corpus never heard)"), ("held_out_speakers", "held-out speakers"))


def reliability_png(cal: dict[str, Any], path: Path, method: str = "familiarity temperature") -> None:
    """One row per set (LOCO, held-out speakers), one panel per corpus plus 'all': bars of accuracy per confidence
    bin against the diagonal, the colour bands' edges (60 %, 80 %) marked, n per panel in its title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({g for where, _ in SETS for g in cal[where][method]}, key=lambda g: (g != "all", g))
    fig, axes = plt.subplots(len(SETS), len(groups), figsize=(1.9 * len(groups), 2.1 * len(SETS)), squeeze=False)
    for row, (where, title) in enumerate(SETS):
        for col, g in enumerate(groups):
            ax = axes[row][col]
            ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
            for edge in (0.6, 0.8):
                ax.axvline(edge, color="#ccc", linewidth=0.6)
            a = cal[where][method].get(g)
            if a is not None:
                for b in a["bins"]:
                    ax.bar(b["from"], b["accuracy"], width=b["to"] - b["from"], align="edge",
                           color="#2a7" if b["from"] >= 0.8 else "#e90" if b["from"] >= 0.6 else "#d44",
                           alpha=0.8, edgecolor="white")
                ax.set_title(f"{g} (n {a['n']}, ECE {a['ece']:.2f})", fontsize=7)
            else:
                ax.set_title(f"{g}: none", fontsize=7)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.tick_params(labelsize=6)
            if col == 0:
                ax.set_ylabel(f"{title}\naccuracy", fontsize=7)
            if row == len(SETS) - 1:
                ax.set_xlabel("confidence", fontsize=7)
    fig.suptitle(f"Reliability per corpus ({method})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
