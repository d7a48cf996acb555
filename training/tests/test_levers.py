"""The head-training levers the LOCO selection measures do what they say."""

from __future__ import annotations

import numpy as np
import torch

from annamalai_train.models import MLPHead
from annamalai_train.train import fit_classifier

HP = {"lr": 3e-3, "weight_decay": 0.0, "batch": 64, "epochs": 30}


def two_class_data(seed: int = 0) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """A two-class problem: the label lives in dims 8-15; dims 0-7 carry an unrelated group offset."""
    rng = np.random.default_rng(seed)
    n = 600
    corpus = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 1, (n, 16))
    x[:, :8] += 2.5 * corpus[:, None]
    x[:, 8:] += 1.5 * y[:, None]
    return torch.from_numpy(x).float(), y, corpus


def test_mixup_trains_and_softens_the_output() -> None:
    x, y, _ = two_class_data(1)
    w = np.ones(len(y))
    sharp = fit_classifier(MLPHead(16, 32, 0.0, 2), x, y, w, HP, 2)
    mixed = fit_classifier(MLPHead(16, 32, 0.0, 2), x, y, w, {**HP, "mixup": 0.4}, 2)
    with torch.no_grad():
        p_sharp, p_mixed = torch.softmax(sharp(x), 1), torch.softmax(mixed(x), 1)
    assert float((p_mixed.argmax(1).numpy() == y).mean()) > 0.8
    assert float(p_mixed.max(1).values.mean()) < float(p_sharp.max(1).values.mean())
