from __future__ import annotations

import pytest
import torch

from annamalai_train.ssl import TINY_SSL, SSLFeaturizer, load_ssl, transformers_available


@pytest.mark.parametrize("kind", ["wav2vec2", "wavlm"])
def test_ssl_recipe_tiny(kind: str) -> None:
    if not transformers_available():
        pytest.skip("transformers not installed: the wav2vec2/WavLM seed recipe is switched off")
    model = load_ssl(kind, tiny=dict(TINY_SSL))
    a, b = SSLFeaturizer(model, [1, 2])(0.1 * torch.randn(2, 80000))
    assert a.shape == (2, 2, 64) and b.shape == (2, 242)


def test_ssl_recipe_refuses_without_checkpoint(tmp_path: object) -> None:
    if not transformers_available():
        with pytest.raises(RuntimeError):
            load_ssl("wav2vec2", None)
        return
    with pytest.raises(FileNotFoundError):
        load_ssl("wav2vec2", "/nonexistent/checkpoint")
