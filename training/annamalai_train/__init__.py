"""Annamalai training pipeline: Whisper-encoder + log-mel ensemble for speech emotion."""

__version__ = "1.0.0"
