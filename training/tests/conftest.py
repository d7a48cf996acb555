from __future__ import annotations

import sys
from pathlib import Path

TRAINING = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TRAINING))
REPO = TRAINING.parent
SHARED = REPO.parent / "shared"
