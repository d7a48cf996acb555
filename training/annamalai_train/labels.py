"""Label order shared with the TypeScript runtime (models/default/manifest.json)."""

LABELS: list[str] = ["anger", "bored", "disgust", "fear", "happy", "neutral", "question", "sad", "surprise"]
UNTRAINED: list[str] = ["question"]  # no data anywhere in the corpora
TRAINED_LABELS: list[str] = [lab for lab in LABELS if lab not in UNTRAINED]
TRAINED_IDX: list[int] = [LABELS.index(lab) for lab in TRAINED_LABELS]
N_LABELS = len(LABELS)
