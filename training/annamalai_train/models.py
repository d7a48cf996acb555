"""Graphs: Whisper-feature head (A), heads on fixed feature vectors (B candidates), meta learner, wrappers."""

from __future__ import annotations

import torch
from torch import nn

from .encoder import WhisperEncoder
from .frontend import LogMel, LoudNorm
from .labels import N_LABELS


def pooled_layers(hs: list[torch.Tensor]) -> torch.Tensor:
    """hidden states -> [B, L, 2d] (mean and std over time of each layer)."""
    out = []
    for h in hs:
        mu = h.mean(dim=1)
        sd = torch.sqrt(torch.clamp(((h - mu.unsqueeze(1)) ** 2).mean(dim=1), min=1e-8))
        out.append(torch.cat([mu, sd], dim=-1))
    return torch.stack(out, dim=1)


def melstats(mel: torch.Tensor) -> torch.Tensor:
    """log-mel [B, 80, T] -> [B, 242]: per-band mean, std, delta std; loudness std and max."""
    mu = mel.mean(dim=2)
    sd = torch.sqrt(torch.clamp(((mel - mu.unsqueeze(2)) ** 2).mean(dim=2), min=1e-8))
    d = mel[:, :, 1:] - mel[:, :, :-1]
    dsd = torch.sqrt(torch.clamp((d**2).mean(dim=2), min=1e-8))
    e = mel.mean(dim=1)
    esd = torch.sqrt(torch.clamp(((e - e.mean(dim=1, keepdim=True)) ** 2).mean(dim=1, keepdim=True), min=1e-8))
    emax = torch.amax(e, dim=1, keepdim=True)
    return torch.cat([mu, sd, dsd, esd, emax], dim=1)


MELSTATS_DIM = 242


class Standardize(nn.Module):
    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(*shape))
        self.register_buffer("std", torch.ones(*shape))

    def fit(self, x: torch.Tensor) -> None:
        self.mean.copy_(x.mean(dim=0))
        self.std.copy_(x.std(dim=0).clamp(min=1e-4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class MLPHead(nn.Module):
    """Standardised input -> one hidden ReLU layer -> logits; hidden=0 is a linear probe (dropout, one Linear)."""

    def __init__(self, d_in: int, hidden: int, dropout: float, n_out: int = N_LABELS) -> None:
        super().__init__()
        self.norm = Standardize(d_in)
        self.net = (nn.Sequential(nn.Dropout(dropout), nn.Linear(d_in, n_out)) if hidden == 0 else nn.Sequential(
            nn.Dropout(dropout), nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_out)
        ))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(x))


class WhisperHead(nn.Module):
    """pooled layers [B, L, 2d] -> (logits [B, 9], embedding [B, 2d]); learned softmax layer weights."""

    def __init__(self, n_layers: int, d2: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.norm = Standardize(n_layers, d2)  # per layer, before the learned weighting
        self.layer_logits = nn.Parameter(torch.zeros(n_layers))
        self.head = MLPHead(d2, hidden, dropout)

    def fit_norm(self, pooled: torch.Tensor) -> None:
        self.norm.fit(pooled)
        with torch.no_grad():
            self.head.norm.fit(self.embed(pooled))

    def embed(self, pooled: torch.Tensor) -> torch.Tensor:
        w = torch.softmax(self.layer_logits, dim=0)
        return (self.norm(pooled) * w.view(1, -1, 1)).sum(dim=1)

    def forward(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = self.embed(pooled)
        return self.head(e), e


class VectorHead(nn.Module):
    """A fixed feature vector [B, d] -> (logits [B, 9], the vector itself as the embedding)."""

    def __init__(self, d_in: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.head = MLPHead(d_in, hidden, dropout)

    def fit_norm(self, feats: torch.Tensor) -> None:
        self.head.norm.fit(feats)

    def forward(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(feats), feats


class MetaMLP(nn.Module):
    """The report's meta learner: (9*M) -> 128 -> 128 -> 128 -> 9, ReLU, dropout 0.3."""

    def __init__(self, n_in: int, hidden: int = 128, dropout: float = 0.3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, N_LABELS),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class WhisperGraph(nn.Module):
    """Exported base model A: audio [B, 80000] -> logits [B, 9], embedding [B, 1024]."""

    def __init__(self, encoder: WhisperEncoder, head: nn.Module, loudnorm: bool = True) -> None:
        super().__init__()
        self.loudnorm = LoudNorm() if loudnorm else nn.Identity()
        self.logmel = LogMel()
        self.encoder = encoder
        self.head = head

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out: tuple[torch.Tensor, torch.Tensor] = self.head(pooled_layers(self.encoder(self.logmel(self.loudnorm(audio)))))
        return out


class MelStats(nn.Module):
    """audio [B, 80000] -> log-mel statistics [B, 242]."""

    def __init__(self, loudnorm: bool = True) -> None:
        super().__init__()
        self.loudnorm = LoudNorm() if loudnorm else nn.Identity()
        self.logmel = LogMel()

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return melstats(self.logmel(self.loudnorm(audio)))


class VectorGraph(nn.Module):
    """Exported base model on a fixed audio feature vector: audio [B, 80000] -> logits [B, 9], embedding [B, d]."""

    def __init__(self, features: nn.Module, head: VectorHead) -> None:
        super().__init__()
        self.features = features
        self.head = head

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out: tuple[torch.Tensor, torch.Tensor] = self.head(self.features(audio))
        return out
