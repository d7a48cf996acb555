"""The whole pipeline, in resumable stages: verify -> features -> train -> export -> report."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from .config import load_config
from .dataset import HERE, build_dataset
from .runall import run_all
from .verify import verify


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["verify", "features", "all", "report"])
    ap.add_argument("--config", default=str(HERE / "config.json"))
    ap.add_argument("--partial", action="store_true",
                    help="all: use only the feature shards already cached (a random sample), extract nothing")
    args = ap.parse_args()
    cfg = load_config(Path(args.config))
    if args.partial:  # a measurement on the cached sample: its own report folder, and it never ships
        cfg = replace(cfg, run_id=cfg.run_id + "-partial", partial_features=True)
    if args.stage == "verify":
        r = verify(Path(cfg.paths.cache), Path(cfg.paths.cache) / "verify.json")
        print(json.dumps(r, indent=2))
        return
    if args.stage == "features":
        build_dataset(cfg)
        return
    run_all(cfg, build_dataset(cfg, partial=args.partial))


if __name__ == "__main__":
    main()
