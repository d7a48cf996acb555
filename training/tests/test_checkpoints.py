from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from annamalai_train.runall import with_bases


def fake_bases(calls: list[tuple[str, ...]]) -> Any:
    def compute(kinds: tuple[str, ...]) -> dict[str, Any]:
        calls.append(kinds)
        return {"oof": {k: np.full(2, len(calls)) for k in kinds}, "models": {k: f"model-{k}" for k in kinds},
                "eval": {"test": {k: np.zeros(1) for k in kinds}}}

    return compute


def test_a_base_kind_added_later_is_trained_alone_and_merged(tmp_path: Path) -> None:
    calls: list[tuple[str, ...]] = []
    path = tmp_path / "main.pt"
    with_bases(path, ("whisper", "melstats"), fake_bases(calls), "depth=3")
    out = with_bases(path, ("whisper", "melstats", "yamnet"), fake_bases(calls), "depth=3")
    assert calls == [("whisper", "melstats"), ("yamnet",)]
    assert sorted(out["models"]) == ["melstats", "whisper", "yamnet"]
    assert sorted(out["eval"]["test"]) == ["melstats", "whisper", "yamnet"]
    assert int(out["oof"]["whisper"][0]) == 1 and int(out["oof"]["yamnet"][0]) == 2  # first results kept
    with_bases(path, ("whisper",), fake_bases(calls), "depth=3")
    assert len(calls) == 2  # nothing missing: nothing trained


def test_a_checkpoint_made_under_other_settings_is_discarded(tmp_path: Path) -> None:
    calls: list[tuple[str, ...]] = []
    path = tmp_path / "main.pt"
    with_bases(path, ("whisper",), fake_bases(calls), "depth=4")
    out = with_bases(path, ("whisper",), fake_bases(calls), "depth=3")
    assert calls == [("whisper",), ("whisper",)]
    assert out["key"] == "depth=3"
