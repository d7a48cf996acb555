"""The seed recipe behind a switch: wav2vec2-base / WavLM-base through Hugging Face transformers.

Used only when `transformers` is installed and a local checkpoint directory is given (no downloads at
run time: `local_files_only=True`). Select it with config `"encoder": {"kind": "wav2vec2" | "wavlm",
"local_dir": "...", "layers": [..]}`; the default kind is "whisper". Nothing here runs in CI unless
transformers is installed, in which case tests build tiny random configurations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from .frontend import LogMel
from .models import melstats, pooled_layers


def transformers_available() -> bool:
    try:
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


def load_ssl(kind: str, local_dir: str | Path | None = None, tiny: dict[str, Any] | None = None) -> nn.Module:
    """A wav2vec2 or WavLM model from a local directory, or a tiny random one (tests)."""
    if not transformers_available():
        raise RuntimeError("the wav2vec2/WavLM recipe needs `pip install transformers` and a local checkpoint")
    import transformers

    cls, cfg_cls = {
        "wav2vec2": (transformers.Wav2Vec2Model, transformers.Wav2Vec2Config),
        "wavlm": (transformers.WavLMModel, transformers.WavLMConfig),
    }[kind]
    if tiny is not None:
        return cls(cfg_cls(**tiny)).eval()
    if local_dir is None or not Path(local_dir).exists():
        raise FileNotFoundError(f"no local {kind} checkpoint at {local_dir}; none can be downloaded here")
    return cls.from_pretrained(str(local_dir), local_files_only=True).eval()


class SSLFeaturizer(nn.Module):
    """audio [B, 80000] -> (pooled layers [B, L, 2d], melstats [B, 242]); same contract as Featurizer."""

    def __init__(self, model: nn.Module, layers: list[int]) -> None:
        super().__init__()
        self.model = model
        self.layers = layers
        self.logmel = LogMel()

    @torch.no_grad()
    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (audio - audio.mean(dim=1, keepdim=True)) / torch.sqrt(audio.var(dim=1, keepdim=True) + 1e-7)
        hs = self.model(x, output_hidden_states=True).hidden_states
        return pooled_layers([hs[i] for i in self.layers]), melstats(self.logmel(audio))


TINY_SSL = {
    "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
    "conv_dim": (16, 16), "conv_stride": (5, 4), "conv_kernel": (10, 4), "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 2,
}
