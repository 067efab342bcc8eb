"""Held-out ATC_net error of a phadtf checkpoint against two trivial predictors.

Usage: python plugins/phadtf/scripts/atc_heldout.py CHECKPOINT DATA [OUT_JSON]

DATA is a face data root (general checkpoint: every person's ``dev`` and ``test`` ranges of ``index.json``) or,
for a fine-tuned checkpoint, its person folder (the held-out frames after the training frames). Every 16-frame
clip of a range is predicted (as in training and validation) and scored per group:

- ``exp`` / ``pose``: MSE in the checkpoint's normalised space ((x − person's training mean) / scale);
- ``exp_raw``: MSE of the 64 expression coefficients in face-model units (comparable between checkpoints
  whose normalisations differ); ``pose_deg``: RMS error of the 3 angles in degrees.

Rows: the model; ``mean`` (the person's training mean: 0 in normalised space); ``last`` (the coefficients of
the person's last training frame, held).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def _scores(pred: np.ndarray, target: np.ndarray, std: np.ndarray) -> dict[str, float]:
    d = pred - target
    raw = d * std
    return {"exp": float(np.mean(d[..., :64] ** 2)), "pose": float(np.mean(d[..., 64:] ** 2)),
            "exp_raw": float(np.mean(raw[..., :64] ** 2)),
            "pose_deg": float(np.degrees(np.sqrt(np.mean(raw[..., 64:67] ** 2))))}


def main() -> None:
    import torch

    from avs.checkpoint import load_impl
    from avs.plugins import discover
    from avs_phadtf.data import Person, people, person_mean, split_frames
    from avs_phadtf.datasets import AtcClips

    ckpt, data = Path(sys.argv[1]), Path(sys.argv[2])
    impl = load_impl(discover().get("phadtf"), ckpt)
    std = np.asarray(impl.stats["coeff_std"], np.float32)
    atc = (impl.G if impl.general else impl.G.atc).eval()
    jobs = []  # (split, person, start, stop, mean, last training frame)
    if impl.general:
        for person, r in people(data):
            tr = r["train"]
            mean = person_mean(np.nan_to_num(person.coefficients()), person.valid, tr[1])
            for split in ("dev", "test"):
                if split in r and r[split][1] > r[split][0]:
                    jobs.append((split, person, *r[split], mean, tr[1] - 1))
    else:
        person = Person.load(data)
        train_stop, test_stop = split_frames(person.num_frames, impl.cfg.data)
        jobs.append(("test", person, train_stop, test_stop, np.asarray(impl.stats["coeff_mean"]), train_stop - 1))
    rows: dict[str, dict[str, list]] = {}
    for split, person, a, b, mean, last in jobs:
        clips = AtcClips([(person, a, b, mean)], std, impl.cfg.atc.clip_frames, impl.cfg.audio)
        if not len(clips):
            continue
        batch = [clips[i] for i in range(len(clips))]
        x = torch.from_numpy(np.stack([c["mfcc"] for c in batch]))
        y = np.stack([c["coeff"] for c in batch])
        with torch.no_grad():
            pred = atc(x).numpy()
        held = ((np.nan_to_num(person.coefficients()[last]) - mean) / std)[None, None]
        for name, p in (("model", pred), ("mean", np.zeros_like(y)), ("last", np.broadcast_to(held, y.shape))):
            acc = rows.setdefault(split, {}).setdefault(name, [])
            acc.append((len(batch), _scores(p, y, std)))
    out = {split: {name: {k: float(np.average([s[k] for _, s in v], weights=[n for n, _ in v])) for k in v[0][1]}
                   for name, v in r.items()} for split, r in rows.items()}
    out["clips"] = {split: sum(n for n, _ in rows[split]["model"]) for split in rows}
    text = json.dumps(out, indent=1)
    print(text)
    if len(sys.argv) > 3:
        Path(sys.argv[3]).write_text(text)


if __name__ == "__main__":
    main()
