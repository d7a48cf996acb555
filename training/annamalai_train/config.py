"""The run's config (config.json and the partial configs) as frozen, typed objects, read and checked once: an unknown
key, a missing one or a value of the wrong type fails with the key's path. Keys starting with "_" are comments.
Optional keys absent from the file are None, and as_dict() leaves them out again, so the copy in report.json is the
file's own."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar


class ConfigError(ValueError):
    """The config file is not what the pipeline reads; the message names the key."""


@dataclass(frozen=True)
class Paths:
    """Absolute after loading (relative paths in the file are relative to the file)."""

    corpora: str
    cache: str
    reports: str
    model_dir: str
    previous_report: str | None = None
    previous_study: str | None = None


@dataclass(frozen=True)
class EncoderSettings:
    n_blocks: int  # blocks the features are cached for (recipes may weigh fewer)
    max_ship_depth: int | None = None  # deeper recipes are measured, never chosen (size and speed budgets)
    kind: str | None = None  # "whisper" when absent; else the wav2vec2/WavLM seed recipe
    local_dir: str | None = None
    layers: tuple[int, ...] | None = None


@dataclass(frozen=True)
class SplitSettings:
    test_frac: float
    n_folds: int
    no_test: tuple[str, ...]
    late: tuple[str, ...] | None = None


@dataclass(frozen=True)
class HeadParams:
    hidden: int
    dropout: float
    epochs: int
    lr: float
    weight_decay: float
    batch: int
    label_smoothing: float | None = None
    mixup: float | None = None  # Beta(a, a) mixup of inputs and targets (0 or absent: none)

    def as_dict(self) -> dict[str, Any]:
        """The hyper-parameters as train.fit_classifier takes them."""
        out = _plain(self)
        assert isinstance(out, dict)
        return out


@dataclass(frozen=True)
class Int8Settings:
    ship: bool
    why: str


@dataclass(frozen=True)
class PreviousModel:
    held_out_speakers_weighted_f1: float
    max_speaker_drop: float


@dataclass(frozen=True)
class RecipeSpec:
    """One head recipe as written in the file (loco.Recipe is what runs)."""

    name: str
    depth: int
    hidden: int
    weighting: str
    label_smoothing: float | None = None
    augment: bool | None = None
    epochs: int | None = None
    dropout: float | None = None
    mixup: float | None = None
    augment_set: str | None = None


@dataclass(frozen=True, kw_only=True)
class Config:
    """In the file's order, so that the copy in report.json reads like the file."""

    run_id: str
    seed: int
    paths: Paths
    encoder: EncoderSettings
    splits: SplitSettings
    conditions_test: tuple[str, ...]
    augment: bool
    augment_fraction: float | None = None
    augment_room: bool | None = None  # also cache the 'aug_room' condition (recipes with augment_set "aug_room")
    corpus_weighting: str
    head_whisper: HeadParams
    head_melstats: HeadParams
    head_yamnet: HeadParams | None = None
    extra_bases: tuple[str, ...] | None = None
    meta: HeadParams
    quantize_max_f1_drop: float
    int8: Int8Settings
    standardisation_ks: tuple[int, ...]
    loudness_norm: bool | None = None
    recipes: tuple[RecipeSpec, ...]
    random_protocol: bool | None = None
    previous_model: PreviousModel
    model_version: str | None = None
    quiet_clips: int | None = None
    shuffled_plan: bool | None = None
    standardisation_curve: bool | None = None
    partial_features: bool | None = None  # set by --partial, not by the file
    comments: dict[str, Any] = field(default_factory=dict)  # the file's "_..." keys, kept for the report

    def as_dict(self) -> dict[str, Any]:
        """The dict the file holds (paths resolved): the copy report.json keeps."""
        out = _plain(self)
        assert isinstance(out, dict)
        return out

    def head(self, kind: str) -> HeadParams:
        h = getattr(self, f"head_{kind}", None)
        if not isinstance(h, HeadParams):
            raise ConfigError(f"config: no head_{kind} for base model {kind!r}")
        return h


def _plain(v: Any) -> Any:
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        out = {f.name: _plain(getattr(v, f.name)) for f in dataclasses.fields(v)
               if f.name != "comments" and getattr(v, f.name) is not None}
        return {**out, **getattr(v, "comments", {})}
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


T = TypeVar("T")


def _value(tp: Any, v: Any, where: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):  # X | None
        if v is None:
            return None
        return _value(next(a for a in args if a is not type(None)), v, where)
    if dataclasses.is_dataclass(tp):
        return _parse(tp, v, f"{where}.")  # type: ignore[arg-type]
    if origin is tuple:
        if not isinstance(v, list):
            raise ConfigError(f"config: '{where}' must be a list, not {json.dumps(v)}")
        return tuple(_value(args[0], x, f"{where}[{i}]") for i, x in enumerate(v))
    if origin is dict:
        return v
    ok = (isinstance(v, bool) if tp is bool else isinstance(v, (int, float)) and not isinstance(v, bool) if tp is float
          else isinstance(v, int) and not isinstance(v, bool) if tp is int else isinstance(v, tp))
    if not ok:
        raise ConfigError(f"config: '{where}' must be {tp.__name__}, not {json.dumps(v)}")
    return float(v) if tp is float else v


def _parse(cls: type[T], raw: Any, where: str) -> T:
    if not isinstance(raw, dict):
        raise ConfigError(f"config: '{where.rstrip('.')}' must be an object" if where else "config: not a JSON object")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = [k for k in raw if k not in fields and not k.startswith("_")]
    if unknown:
        raise ConfigError(f"config: unknown key '{where}{unknown[0]}' (known: {', '.join(n for n in fields if n != 'comments')})")
    kw: dict[str, Any] = {}
    for name, f in fields.items():
        if name == "comments":
            kw[name] = {k: v for k, v in raw.items() if k.startswith("_")}
        elif name in raw:
            kw[name] = _value(hints[name], raw[name], f"{where}{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"config: missing key '{where}{name}'")
    return cls(**kw)


def parse_config(raw: Any) -> Config:
    return _parse(Config, raw, "")


def load_config(path: Path) -> Config:
    """config.json (or a partial config) read and checked once; paths made absolute against the file's folder."""
    cfg = parse_config(json.loads(path.read_text()))
    p = cfg.paths
    resolved = {f.name: str((path.parent / v).resolve()) for f in dataclasses.fields(p)
                if (v := getattr(p, f.name)) is not None}
    return dataclasses.replace(cfg, paths=Paths(**resolved))
