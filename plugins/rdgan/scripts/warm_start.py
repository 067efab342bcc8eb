"""Start a resumable training run from the bundled rdgan weights (a run folder that ``avs train --resume`` continues).

The bundled checkpoint holds only the inference networks (generator, audio→landmark) in fp16, no critics and no
optimiser state. This script writes RUN/config.yaml and RUN/state.pt as if RUN had trained ``--epochs`` epochs of
``--steps`` generator steps: the generator comes from the checkpoint (fp32), the critics are freshly initialised
(seed ``train.seed``), RMSProp starts with empty statistics, and the learning-rate schedule continues at the step
count. Then: ``avs train rdgan --data DATA --resume RUN train.epochs=N``.

Usage: python plugins/rdgan/scripts/warm_start.py RUN [--checkpoint CKPT] [--epochs 20] [--steps 1000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from avs.checkpoint import load_impl, save_training_state
from avs.config import config_to_yaml
from avs.plugins import discover


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--epochs", type=int, default=20, help="epochs the checkpoint was trained for")
    ap.add_argument("--steps", type=int, default=1000, help="generator steps the checkpoint was trained for")
    args = ap.parse_args()
    method = discover().get("rdgan")
    impl = load_impl(method, args.checkpoint or method.default_checkpoint, [], "cpu")
    torch.manual_seed(int(impl.cfg.train.seed))
    for net in impl.networks().values():
        net.float()
    from avs_rdgan.model import build_critics

    fresh = build_critics(impl.cfg)
    impl.discriminator.load_state_dict(fresh.state_dict())
    args.run.mkdir(parents=True, exist_ok=False)
    (args.run / "config.yaml").write_text(config_to_yaml(impl.cfg))
    save_training_state(args.run / "state.pt", networks=impl.networks(), optimizers={}, epoch=args.epochs,
                        step=args.steps, rng_state={"world_size": 1, "cpu": torch.get_rng_state()[None].clone()},
                        best={})
    print(f"wrote {args.run}/config.yaml and state.pt (epoch {args.epochs}, step {args.steps})")


if __name__ == "__main__":
    main()
