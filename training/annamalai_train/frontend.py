"""Whisper's log-mel front end, written with ONNX-friendly ops (conv1d DFT)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 80
SEGMENT_SAMPLES = 80000
N_FRAMES = SEGMENT_SAMPLES // HOP  # 500


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney mel scale (librosa default, htk=False)."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filters(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """librosa.filters.mel(sr, n_fft, n_mels) with slaney scale and slaney norm."""
    fftfreqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(sr / 2.0)), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    weights = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, None]
    return weights.astype(np.float32)


def dft_basis(n_fft: int = N_FFT) -> np.ndarray:
    """[2*(n_fft//2+1), 1, n_fft]: periodic-Hann-windowed cos and -sin rows."""
    n = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)  # periodic Hann, as torch.hann_window
    k = np.arange(n_fft // 2 + 1)[:, None]
    ang = 2 * np.pi * k * n[None, :] / n_fft
    basis = np.concatenate([np.cos(ang) * window, -np.sin(ang) * window], axis=0)
    return basis[:, None, :].astype(np.float32)


class LogMel(nn.Module):
    """audio [B, T] float32 16 kHz -> Whisper-normalised log-mel [B, 80, T/160]."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("basis", torch.from_numpy(dft_basis()))
        self.register_buffer("filters", torch.from_numpy(mel_filters()))
        self.n_bins = N_FFT // 2 + 1

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        x = audio.unsqueeze(1)
        x = nn.functional.pad(x, (N_FFT // 2, N_FFT // 2), mode="reflect")
        spec = nn.functional.conv1d(x, self.basis, stride=HOP)  # [B, 402, frames+1]
        spec = spec[:, :, :-1]
        re = spec[:, : self.n_bins]
        im = spec[:, self.n_bins :]
        power = re * re + im * im
        mel = torch.matmul(self.filters, power)  # [B, 80, frames]
        log_spec = torch.log10(torch.clamp(mel, min=1e-10))
        peak = torch.amax(log_spec, dim=(1, 2), keepdim=True)
        log_spec = torch.maximum(log_spec, peak - 8.0)
        return (log_spec + 4.0) / 4.0


def reference_log_mel(audio: np.ndarray) -> np.ndarray:
    """Whisper's own algorithm (torch.stft), for tests. audio [T] -> [80, T/160]."""
    a = torch.from_numpy(np.asarray(audio, dtype=np.float32))
    window = torch.hann_window(N_FFT)
    stft = torch.stft(a, N_FFT, HOP, window=window, return_complex=True)
    mag = stft[..., :-1].abs() ** 2
    mel = torch.from_numpy(mel_filters()) @ mag
    log_spec = torch.clamp(mel, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).numpy()


# Loudness normalisation (inside every exported graph, and in feature extraction, so training sees it):
# the 5-s window is scaled so that the mean power of its loudest frames sits at TARGET_DBFS. Measuring the louder
# frames (not the whole window) keeps a 1-s word padded with 4 s of silence at the same level as a 5-s sentence;
# the floor caps the gain (TARGET - FLOOR = 50 dB) so digital silence stays silence and faint room tone is lifted
# at most 50 dB (the runtime's voice-activity gate decides whether there is speech at all).
LN_FRAME = 400  # 25 ms
LN_TOP_FRAC = 0.2  # the loudest 20 % of frames (1 s of the 5-s window)
LN_TARGET_DBFS = -20.0
LN_FLOOR_DBFS = -70.0


class LoudNorm(nn.Module):
    """audio [B, 80000] -> the same audio scaled to a fixed level of its louder frames (ONNX: Reshape, TopK)."""

    def __init__(self, target_dbfs: float = LN_TARGET_DBFS, floor_dbfs: float = LN_FLOOR_DBFS) -> None:
        super().__init__()
        self.n_frames = SEGMENT_SAMPLES // LN_FRAME
        self.k = int(round(LN_TOP_FRAC * self.n_frames))
        self.target = float(10 ** (target_dbfs / 10))  # powers
        self.floor = float(10 ** (floor_dbfs / 10))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        p = (audio.reshape(-1, self.n_frames, LN_FRAME) ** 2).mean(dim=2)
        level = torch.topk(p, self.k, dim=1).values.mean(dim=1, keepdim=True)
        return audio * torch.sqrt(self.target / torch.clamp(level, min=self.floor))


def loud_level_dbfs(audio: np.ndarray) -> float:
    """The level LoudNorm measures (dBFS power of the loudest 20 % of 25-ms frames) of one 80000-sample window."""
    p = (audio.reshape(-1, LN_FRAME).astype(np.float64) ** 2).mean(axis=1)
    k = int(round(LN_TOP_FRAC * len(p)))
    return float(10 * np.log10(np.sort(p)[-k:].mean() + 1e-20))
