"""Loading the dataset leaves torch's thread count as the caller set it (the heads train on one thread: two
threads on a busy two-core machine made every LOCO fit about six times slower)."""

from __future__ import annotations

from pathlib import Path

import torch

from annamalai_train import dataset


def test_build_dataset_gives_back_the_callers_thread_count(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen: list[int] = []
    monkeypatch.setattr(dataset, "_load_features", lambda *a: seen.append(torch.get_num_threads()))
    monkeypatch.setattr(dataset, "load_metadata", lambda root: [])
    monkeypatch.setattr(dataset, "speaker_splits", lambda *a: {})
    cfg = type("C", (), {"paths": type("P", (), {"corpora": str(tmp_path)})(), "splits": type("S", (), {
        "test_frac": 0.2, "n_folds": 5, "seed": 0, "no_test": (), "late": ()})(), "seed": 0})()
    torch.set_num_threads(1)
    dataset.build_dataset(cfg)  # type: ignore[arg-type]
    assert seen == [2] and torch.get_num_threads() == 1
