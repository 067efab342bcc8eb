"""Peak memory of ``avs import emotalk`` on a reference-shaped ``EmoTalk.pth`` (640 M parameters).

A stand-in for the released file is written first (in its own process): the large EmoTalk network with
random weights, saved under the reference's names (``lm_head`` of both wav2vec2 encoders, old
``weight_g``/``weight_v`` weight-norm keys) as ``torch.save`` of a plain state dict, 2.6 GB. Then
``avs.importing.import_reference`` runs in a fresh process and its peak RSS (``ru_maxrss``) is reported.

Run: .venv/bin/python benchmarks/bench_import_memory.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_reference(path: Path) -> None:
    import torch

    from avs.config import build_config
    from avs_emotalk.config import EmoTalkConfig
    from avs_emotalk.model import build_generator

    G = build_generator(build_config(EmoTalkConfig))
    state = {}
    for key, value in G.state_dict().items():
        if key.startswith("emotion_prototype"):
            continue
        key = key.replace("conv.parametrizations.weight.original0", "conv.weight_g")
        key = key.replace("conv.parametrizations.weight.original1", "conv.weight_v")
        state[key] = value
    for prefix in ("audio_encoder_cont.", "audio_encoder_emo.wav2vec2."):
        state[prefix + "lm_head.weight"] = torch.zeros(32, 1024)
        state[prefix + "lm_head.bias"] = torch.zeros(32)
    del G
    torch.save(state, path)


def run_import(reference: Path, out: Path) -> dict:
    from avs.importing import import_reference
    from avs.plugins import discover

    t0 = time.perf_counter()
    import_reference(discover().get("emotalk"), reference, out)
    wall = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"bench": "import_memory", "plugin": "emotalk", "reference_gb": round(reference.stat().st_size / 2**30, 2),
            "wall_s": round(wall, 1), "peak_rss_mb": round(rss_mb), "out_gb": round(out.stat().st_size / 2**30, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="folder for the reference stand-in (kept for reruns)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        what, a, b = args.child
        if what == "write":
            write_reference(Path(a))
        else:
            print(json.dumps(run_import(Path(a), Path(b))))
        return
    tmp = None if args.keep else tempfile.TemporaryDirectory()
    folder = args.keep or Path(tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    reference, out = folder / "EmoTalk.pth", folder / "imported.safetensors"
    if not reference.is_file():
        subprocess.run([sys.executable, __file__, "--child", "write", str(reference), "-"], check=True)
    result = subprocess.run([sys.executable, __file__, "--child", "import", str(reference), str(out)],
                            check=True, capture_output=True, text=True)
    print(result.stdout.strip().splitlines()[-1], flush=True)
    out.unlink(missing_ok=True)
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
