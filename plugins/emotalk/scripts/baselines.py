"""The coefficient metrics of constant faces on a split, to compare with ``avs evaluate emotalk``.

Usage: python plugins/emotalk/scripts/baselines.py DATA_DIR [--split test] [--checkpoint C]
``mean``: the training split's mean weights (from DATA_DIR's train split); ``neutral``: all zeros.
"""

from __future__ import annotations

import argparse
import json

from avs.config import build_config
from avs_emotalk.config import SMALL_PRESET, EmoTalkConfig
from avs_emotalk.data import EmoTalkDataset, compute_stats
from avs_emotalk.inference import baseline_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    cfg = build_config(EmoTalkConfig, overrides=SMALL_PRESET)
    stats = compute_stats(cfg, args.data)
    dataset = EmoTalkDataset(args.data, args.split, cfg, stats)
    for kind in ("mean", "neutral"):
        values = baseline_metrics(dataset, stats, kind)
        print(json.dumps({"baseline": kind, "split": args.split, **{k: round(v, 5) for k, v in values.items()}}))


if __name__ == "__main__":
    main()
