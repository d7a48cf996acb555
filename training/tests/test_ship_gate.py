from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from annamalai_train.config import Config, Paths, PreviousModel, RecipeSpec, load_config
from annamalai_train.runall import previous_model_numbers, ship_gate

from .conftest import TRAINING

CONFIG = load_config(TRAINING / "config.json")


def gate_inputs(loco_new: float, f1_new: float, partial: bool = False, chosen: str = "probe"
                ) -> tuple[dict[str, Any], Config]:
    def loco(x: float) -> dict[str, Any]:
        return {"loco_mean": x, "loco": {"corpus a": {"weighted_f1": x, "degenerate": False},
                                          "corpus b": {"weighted_f1": x, "degenerate": False},
                                          "corpus only-neutral": {"weighted_f1": 0.0, "degenerate": True}}}

    res = {"selection": {"chosen": chosen, "results": {"current": loco(loco_new), "probe": loco(loco_new)}},
           "previous_loco": {"corpus a": 0.25, "corpus b": 0.35, "corpus only-neutral": 0.9},
           "test": {"test_clean": {"whisper": {"weighted_f1": f1_new}}}, "shipped_column": "whisper"}
    cfg = replace(CONFIG, recipes=(RecipeSpec("current", 3, 0, "sqrt"),), previous_model=PreviousModel(0.827, 0.01),
                  partial_features=partial)
    return res, cfg


def test_ship_gate_ships_only_a_model_that_beats_the_shipped_one_on_loco_and_keeps_unseen_speakers() -> None:
    assert ship_gate(*gate_inputs(0.40, 0.82))["ship"]
    assert not ship_gate(*gate_inputs(0.29, 0.90))["ship"]  # worse on unseen corpora
    assert not ship_gate(*gate_inputs(0.40, 0.81))["ship"]  # loses more than a point on unseen speakers
    assert not ship_gate(*gate_inputs(0.40, 0.83, partial=True))["ship"]  # trained on a sample of the clips
    # the current recipe, retrained by the new pipeline, is a new model: compared with the shipped one
    assert ship_gate(*gate_inputs(0.40, 0.82, chosen="current"))["ship"]
    gate = ship_gate(*gate_inputs(0.30, 0.82))  # equal is not better
    assert not gate["ship"] and gate["loco_groups_compared"] == ["corpus a", "corpus b"]  # single-label left out


def test_previous_model_numbers_merge_its_report_and_its_graph_on_corpora_it_never_heard(tmp_path: Path) -> None:
    rep, study = tmp_path / "report.json", tmp_path / "previous.json"
    rep.write_text(json.dumps({"held_out_groups": {"corpus emodb": {"shipped": {"weighted_f1": 0.6}}}}))
    study.write_text(json.dumps({"unseen_corpora": {"scores": {"savee": {"weighted_f1": 0.3}}}}))
    out = previous_model_numbers(Paths("c", "c", "r", "m", previous_report=str(rep), previous_study=str(study)))
    assert out["previous_loco"] == {"corpus emodb": 0.6, "corpus savee": 0.3}
    assert previous_model_numbers(Paths("c", "c", "r", "m")) == {}
