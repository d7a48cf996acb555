"""Minimal reader for CTranslate2 ``model.bin`` files (format version 6)."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np

_DTYPES: dict[int, type[np.generic]] = {
    0: np.float32,
    1: np.int8,
    2: np.int16,
    3: np.int32,
    4: np.float16,
}


def read_ct2(path: str | Path, prefix: str = "") -> dict[str, np.ndarray]:
    """Read variables whose name starts with ``prefix`` (all if empty)."""
    out: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        (version,) = struct.unpack("<I", f.read(4))
        if version != 6:
            raise ValueError(f"unsupported CTranslate2 model version {version}")
        (n,) = struct.unpack("<H", f.read(2))
        f.read(n)  # spec name
        f.read(4)  # revision
        (count,) = struct.unpack("<I", f.read(4))
        for _ in range(count):
            (n,) = struct.unpack("<H", f.read(2))
            name = f.read(n).rstrip(b"\0").decode()
            (rank,) = struct.unpack("<B", f.read(1))
            dims = struct.unpack(f"<{rank}I", f.read(4 * rank)) if rank else ()
            (dtype,) = struct.unpack("<B", f.read(1))
            (nbytes,) = struct.unpack("<I", f.read(4))
            if name.startswith(prefix):
                arr = np.frombuffer(f.read(nbytes), dtype=_DTYPES[dtype]).reshape(dims)
                out[name] = arr.copy()
            else:
                f.seek(nbytes, 1)
    return out


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
