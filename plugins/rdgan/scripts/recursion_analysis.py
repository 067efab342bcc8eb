"""Where RD-GAN's error comes from on held-out clips: recursive vs one-step generation vs self-reconstruction.

For each test segment of prepared face data (first valid frame = the photo, the next ``--frames`` valid frames =
targets, 128×128 crops as in ``avs evaluate rdgan``), SSIM (grayscale, 11×11 Gaussian σ 1.5, L 255) and PSNR
against the real crops of:

- ``recursive``: frame t = fine(seed(frame t−1, B_t), photo), from the photo (what predict does);
- ``one_step``: frame t = G(photo, B_t) (no recursion: each frame straight from the photo);
- ``self``: G(real frame t, B_t) (the generator given the answer's own image: its reconstruction ceiling);
- ``photo``: the photo unchanged; ``warp``: the photo warped piecewise-affinely to the target landmarks.

Prints one JSON line per system (means over all target frames), the SSIM per frame index of the recursive and
one-step systems (drift shows as a recursive curve falling below the one-step one), and the **edge response**:
inside the mouth's landmark box (±4 px), the mean absolute change of the one-step frame when the photo's own edge
map is replaced by the target's, |G(photo, B_t) − G(photo, B_photo)|, against the real change |I_t − photo|
(grey levels; a generator that ignores the edge maps has a response near 0).

Usage: python plugins/rdgan/scripts/recursion_analysis.py DATA [--checkpoint C] [--frames 25]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def _gray(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def scores(fake: np.ndarray, real: np.ndarray) -> tuple[float, float]:
    """SSIM (grayscale, Gaussian 11×11 σ 1.5, K1 0.01, K2 0.03, L 255) and PSNR (dB) of two uint8 crops."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    s = structural_similarity(_gray(fake), _gray(real), gaussian_weights=True, sigma=1.5,
                              use_sample_covariance=False, data_range=255.0)
    return float(s), float(peak_signal_noise_ratio(real, fake, data_range=255))


def main(argv: list[str]) -> None:
    import torch

    from avs.checkpoint import load_impl
    from avs.plugins import discover
    from avs_rdgan import data
    from avs_rdgan.crop import from_unit, to_unit
    from avs_rdgan.edges import edge_map
    from avs_rdgan.evaluate import warp_baseline
    from avs_rdgan.inference import recursive_frames

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path)
    p.add_argument("--checkpoint", type=Path)
    p.add_argument("--frames", type=int, default=25)
    args = p.parse_args(argv)
    method = discover().get("rdgan")
    impl = load_impl(method, args.checkpoint or method.default_checkpoint, [])
    G = impl.generator.eval()
    names = ("recursive", "one_step", "self", "photo", "warp")
    rows: dict[str, list[tuple[int, float, float]]] = {k: [] for k in names}
    response: list[tuple[float, float]] = []
    with torch.no_grad():
        for clip in data.load_clips(args.data, "test", impl.cfg):
            v = np.flatnonzero(clip.valid)
            first, later = int(v[0]), v[1:1 + args.frames]
            photo, plm = clip.crops[first], clip.lm[first]
            rec = recursive_frames(G, photo, clip.lm[later], photo)
            ph = torch.from_numpy(to_unit(photo))[None]
            own_edges = torch.from_numpy(to_unit(edge_map(plm)))[None]
            base = from_unit(G(ph, own_edges, ph)[1][0].numpy()).astype(np.float64)
            for k, j in enumerate(later):
                edges = torch.from_numpy(to_unit(edge_map(clip.lm[j])))[None]
                one = from_unit(G(ph, edges, ph)[1][0].numpy())
                x0, y0 = np.floor(clip.lm[j][48:68].min(0) - 4).astype(int).clip(0, 127)
                x1, y1 = np.ceil(clip.lm[j][48:68].max(0) + 4).astype(int).clip(1, 128)
                box = (slice(y0, y1), slice(x0, x1))
                response.append((float(np.abs(one.astype(np.float64) - base)[box].mean()),
                                 float(np.abs(clip.crops[j].astype(np.float64) - photo)[box].mean())))
                real_t = torch.from_numpy(to_unit(clip.crops[j]))[None]
                own = from_unit(G(real_t, edges, real_t)[1][0].numpy())
                for name, img in (("recursive", rec[k]), ("one_step", one), ("self", own), ("photo", photo),
                                  ("warp", warp_baseline(photo, plm, clip.lm[j]))):
                    rows[name].append((k, *scores(img, clip.crops[j])))
    for name, r in rows.items():
        a = np.array(r)
        print(json.dumps({"system": name, "ssim": round(float(a[:, 1].mean()), 4),
                          "psnr": round(float(a[:, 2].mean()), 2), "frames": len(a)}))
    r = np.array(response)
    print(json.dumps({"edge_response_mouth": round(float(r[:, 0].mean()), 2),
                      "real_change_mouth": round(float(r[:, 1].mean()), 2)}))
    for name in ("recursive", "one_step", "photo"):
        a = np.array(rows[name])
        curve = [round(float(a[a[:, 0] == k, 1].mean()), 3) for k in range(int(a[:, 0].max()) + 1)]
        print(json.dumps({"system": name, "ssim_per_frame": curve}))


if __name__ == "__main__":
    main(sys.argv[1:])
