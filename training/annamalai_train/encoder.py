"""Whisper encoder (cut after N blocks) in PyTorch, loadable from CTranslate2 weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .ct2 import read_ct2


@dataclass
class EncoderConfig:
    n_mels: int = 80
    d_model: int = 512
    n_heads: int = 8
    n_blocks: int = 4  # blocks kept (Whisper base has 6)
    n_ctx: int = 250  # 5 s -> 250 positions
    n_ctx_table: int = 1500
    final_norm: bool = False  # apply the encoder's last layer norm (only for a full encoder)


class Block(nn.Module):
    def __init__(self, d: int, h: int) -> None:
        super().__init__()
        self.h = h
        self.attn_ln = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.mlp_ln = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        hd = d // self.h
        y = self.attn_ln(x)
        q, k, v = self.qkv(y).split(d, dim=-1)
        q = q.reshape(b, t, self.h, hd).transpose(1, 2)
        k = k.reshape(b, t, self.h, hd).transpose(1, 2)
        v = v.reshape(b, t, self.h, hd).transpose(1, 2)
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (hd**-0.5), dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, t, d)
        x = x + self.out(y)
        x = x + self.fc2(nn.functional.gelu(self.fc1(self.mlp_ln(x))))
        return x


class WhisperEncoder(nn.Module):
    """log-mel [B, 80, 2*n_ctx] -> list of hidden states [B, n_ctx, d] after each block."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.conv1 = nn.Conv1d(cfg.n_mels, cfg.d_model, 3, padding=1)
        self.conv2 = nn.Conv1d(cfg.d_model, cfg.d_model, 3, stride=2, padding=1)
        self.register_buffer("pos", torch.zeros(cfg.n_ctx, cfg.d_model))
        self.blocks = nn.ModuleList(Block(cfg.d_model, cfg.n_heads) for _ in range(cfg.n_blocks))
        self.ln_post = nn.LayerNorm(cfg.d_model)

    def forward(self, mel: torch.Tensor) -> list[torch.Tensor]:
        x = nn.functional.gelu(self.conv1(mel))
        x = nn.functional.gelu(self.conv2(x))
        x = x.transpose(1, 2) + self.pos
        hs: list[torch.Tensor] = []
        for blk in self.blocks:
            x = blk(x)
            hs.append(x)
        if self.cfg.final_norm:
            hs[-1] = self.ln_post(hs[-1])
        return hs


def load_ct2_encoder(model_bin: str | Path, cfg: EncoderConfig) -> WhisperEncoder:
    v = {k: torch.from_numpy(a.astype(np.float32)) for k, a in read_ct2(model_bin, "encoder/").items()}
    enc = WhisperEncoder(cfg)
    with torch.no_grad():
        enc.conv1.weight.copy_(v["encoder/conv1/weight"])
        enc.conv1.bias.copy_(v["encoder/conv1/bias"])
        enc.conv2.weight.copy_(v["encoder/conv2/weight"])
        enc.conv2.bias.copy_(v["encoder/conv2/bias"])
        enc.pos.copy_(v["encoder/position_encodings/encodings"][: cfg.n_ctx])
        enc.ln_post.weight.copy_(v["encoder/layer_norm/gamma"])
        enc.ln_post.bias.copy_(v["encoder/layer_norm/beta"])
        for i, blk in enumerate(enc.blocks):
            p = f"encoder/layer_{i}/"
            blk.attn_ln.weight.copy_(v[p + "self_attention/layer_norm/gamma"])
            blk.attn_ln.bias.copy_(v[p + "self_attention/layer_norm/beta"])
            blk.qkv.weight.copy_(v[p + "self_attention/linear_0/weight"])
            blk.qkv.bias.copy_(v[p + "self_attention/linear_0/bias"])
            blk.out.weight.copy_(v[p + "self_attention/linear_1/weight"])
            blk.out.bias.copy_(v[p + "self_attention/linear_1/bias"])
            blk.mlp_ln.weight.copy_(v[p + "ffn/layer_norm/gamma"])
            blk.mlp_ln.bias.copy_(v[p + "ffn/layer_norm/beta"])
            blk.fc1.weight.copy_(v[p + "ffn/linear_0/weight"])
            blk.fc1.bias.copy_(v[p + "ffn/linear_0/bias"])
            blk.fc2.weight.copy_(v[p + "ffn/linear_1/weight"])
            blk.fc2.bias.copy_(v[p + "ffn/linear_1/bias"])
    enc.eval()
    return enc


def random_encoder(cfg: EncoderConfig, seed: int = 0) -> WhisperEncoder:
    """A randomly initialised Whisper-shaped encoder (CI smoke tests; no checkpoint)."""
    torch.manual_seed(seed)
    enc = WhisperEncoder(cfg)
    with torch.no_grad():
        enc.pos.normal_(0, 0.02)
    enc.eval()
    return enc
