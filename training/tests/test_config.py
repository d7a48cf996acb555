from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annamalai_train.config import ConfigError, HeadParams, load_config, parse_config

from .conftest import TRAINING

CONFIGS = ["config.json"]


def raw(name: str = "config.json") -> dict[str, Any]:
    d: dict[str, Any] = json.loads((TRAINING / name).read_text())
    return d


@pytest.mark.parametrize("name", CONFIGS)
def test_the_shipped_configs_load_typed_and_give_back_the_files_own_dict(name: str) -> None:
    cfg = load_config(TRAINING / name)
    assert isinstance(cfg.head_whisper, HeadParams) and isinstance(cfg.seed, int)
    assert cfg.recipes[0].name == raw(name)["recipes"][0]["name"]
    assert Path(cfg.paths.cache).is_absolute()
    expect = raw(name)
    expect["paths"] = {k: str((TRAINING / v).resolve()) for k, v in expect["paths"].items()}
    assert cfg.as_dict() == expect  # the dict form the untyped modules take is the file's own, nothing added


def test_an_unknown_key_fails_naming_it() -> None:
    d = raw()
    d["head_whisper"]["epoch"] = 3
    with pytest.raises(ConfigError, match=r"unknown key 'head_whisper\.epoch'"):
        parse_config(d)


def test_a_missing_key_fails_naming_it() -> None:
    d = raw()
    del d["splits"]["n_folds"]
    with pytest.raises(ConfigError, match=r"missing key 'splits\.n_folds'"):
        parse_config(d)
    del d["seed"]
    with pytest.raises(ConfigError, match=r"missing key 'seed'"):
        parse_config(d)


def test_a_value_of_the_wrong_type_fails_naming_the_key() -> None:
    d = raw()
    d["recipes"][1]["depth"] = "3"
    with pytest.raises(ConfigError, match=r"'recipes\[1\]\.depth' must be int"):
        parse_config(d)
    d = raw()
    d["augment"] = 1
    with pytest.raises(ConfigError, match=r"'augment' must be bool"):
        parse_config(d)


def test_optional_keys_absent_from_the_file_stay_absent_and_comments_are_kept() -> None:
    d = raw()
    del d["quiet_clips"]
    d["_note"] = "why"
    cfg = parse_config(d)
    assert cfg.quiet_clips is None
    assert "quiet_clips" not in cfg.as_dict() and cfg.as_dict()["_note"] == "why"
    with pytest.raises(ConfigError, match="no head_yamnet"):
        parse_config({**raw(), "head_yamnet": None}).head("yamnet")
