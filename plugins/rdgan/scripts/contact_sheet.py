"""Contact sheet of rdgan: a photo animated from speech and, optionally, a held-out real clip.

Part 1 (photo + speech, what ``avs predict rdgan SPEECH --face PHOTO`` does): the photo, then for frames where
the predicted mouth is most open and most closed (in time order, labelled with frame and target inner-lip
opening in crop px) the target edge map, the generated crop and the frame pasted into the photo (face zoom).
Part 2 (``--data DIR --clip NAME``: the test segment of a prepared clip, its first frame as the photo): rows =
real frames, real target edge maps, RD-GAN driven by the real landmarks, edge maps from the audio→landmark
model, RD-GAN driven by those, the piecewise-affine warp baseline.

Usage: python plugins/rdgan/scripts/contact_sheet.py SPEECH.wav OUT.png [PHOTO] [--checkpoint C] [--frames N]
       [--data DIR --clip NAME]
Without PHOTO: scikit-image's astronaut (Eileen Collins, NASA, public domain).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np


def _extremes(opening: np.ndarray, n: int) -> np.ndarray:
    """``n`` frames, half where ``opening`` is largest and half where smallest, at least 5 frames apart,
    in time order."""
    chosen: list[int] = []
    for order, count in ((np.argsort(-opening), (n + 1) // 2), (np.argsort(opening), n // 2)):
        taken = 0
        for t in order:
            if taken == count:
                break
            if all(abs(int(t) - c) >= 5 for c in chosen):
                chosen.append(int(t))
                taken += 1
    return np.array(sorted(chosen))


def _label(img: np.ndarray, text: str) -> np.ndarray:
    import cv2

    img = np.ascontiguousarray(img).copy()
    cv2.putText(img, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (255, 255, 0), 1, cv2.LINE_AA)
    return img


def main(argv: list[str]) -> None:
    import cv2
    import imageio.v3 as iio

    from avs.api import AvsError, load_audio
    from avs.checkpoint import load_impl
    from avs.plugins import discover
    from avs_rdgan.audio2landmark import mouth_opening, predict_displacements
    from avs_rdgan.edges import edge_map
    from avs_rdgan.render import FaceRenderer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("speech", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("photo", type=Path, nargs="?")
    p.add_argument("--checkpoint", type=Path)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--data", type=Path)
    p.add_argument("--clip")
    args = p.parse_args(argv)
    method = discover().get("rdgan")
    size = 128
    try:
        with tempfile.TemporaryDirectory() as tmp:
            photo = args.photo
            if photo is None:
                import skimage.data

                photo = Path(tmp) / "astronaut.png"
                iio.imwrite(photo, skimage.data.astronaut())
            impl = load_impl(method, args.checkpoint or method.default_checkpoint, [])
            motion = impl.predict(load_audio(args.speech, 16000), {"face": photo})
            image = iio.imread(photo)[..., :3]
    except AvsError as exc:
        sys.exit(f"error: {exc}")

    def tile(img: np.ndarray) -> np.ndarray:
        return cv2.resize(np.ascontiguousarray(img), (size, size), interpolation=cv2.INTER_AREA)

    lm = motion.extras["landmarks"]
    opening = mouth_opening(lm)
    pick = _extremes(opening, args.frames)
    pasted = list(FaceRenderer(impl._photo, impl.cfg).frames(motion))
    # face zoom of the pasted frames: the photo's face box (from the first crop's affine), 1.4× around it
    inv = cv2.invertAffineTransform(motion.extras["full_to_crop"][0])
    (x0, y0), (x1, y1) = (inv[:, :2] @ np.array([[0, 0], [size, size]]).T).T + inv[:, 2]
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 0.7 * max(x1 - x0, y1 - y0)
    ys, xs = slice(max(int(cy - half), 0), int(cy + half)), slice(max(int(cx - half), 0), int(cx + half))
    head = [_label(tile(image), "photo"), _label(tile(image[ys, xs]), "photo (face)")]
    rows = [
        [head[0]] + [_label(tile(edge_map(lm[t])), f"t={t} open {opening[t]:.1f}") for t in pick],
        [head[1]] + [_label(tile(motion.data[t]), "generated") for t in pick],
        [head[1]] + [_label(tile(pasted[t][ys, xs]), "pasted") for t in pick],
    ]
    if args.data and args.clip:
        rows.append([np.zeros((8, size, 3), np.uint8)] * (len(pick) + 1))
        rows += _real_clip_rows(impl, args.data, args.clip, args.frames, tile, _label, predict_displacements,
                                mouth_opening, edge_map)
    width = max(len(r) for r in rows)
    sheet = np.concatenate([np.concatenate(r + [np.zeros_like(r[0])] * (width - len(r)), 1) for r in rows], 0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(args.out, sheet)
    print(f"wrote {args.out}: {motion.num_frames} frames of speech animation; frames {pick.tolist()}; "
          f"target opening {opening.min():.1f}..{opening.max():.1f} px")


def _real_clip_rows(impl, root: Path, name: str, n: int, tile, label, predict_displacements, mouth_opening,
                    edge_map) -> list[list[np.ndarray]]:
    """Rows of part 2 (module docstring) for the test segment of clip ``name``."""
    from avs_rdgan import data
    from avs_rdgan.config import IMAGE_SIZE
    from avs_rdgan.evaluate import warp_baseline
    from avs_rdgan.inference import own_box, recursive_frames

    clips = [c for c in data.load_clips(root, "test", impl.cfg) if c.name.split(":")[0] == name]
    if not clips:
        raise SystemExit(f"error: no test segment of {name} in {root}")
    clip = clips[0]
    v = np.flatnonzero(clip.valid)
    first, later = int(v[0]), v[1:]
    photo, photo_lm = clip.crops[first], clip.lm[first]
    real_gen = recursive_frames(impl.generator, photo, clip.lm[later], photo)
    disp = predict_displacements(impl.audio2landmark, clip.audio, clip.num_frames, 16000, int(impl.cfg.infer.smooth))
    audio_lm, _ = own_box(photo_lm[None] + float(impl.cfg.infer.a2l_gain) * disp[later] * IMAGE_SIZE)
    audio_gen = recursive_frames(impl.generator, photo, audio_lm, photo)
    k = np.linspace(0, len(later) - 1, n).round().astype(int)
    real_open, audio_open = mouth_opening(clip.lm[later]), mouth_opening(audio_lm)
    head = label(tile(photo), f"{name[:14]} f{first}")
    blank = np.zeros_like(head)
    return [
        [head] + [label(clip.crops[later[i]], f"real f{later[i]}") for i in k],
        [blank] + [label(edge_map(clip.lm[later[i]]), f"real open {real_open[i]:.1f}") for i in k],
        [label(blank, "real landmarks")] + [label(real_gen[i], "RD-GAN") for i in k],
        [blank] + [label(edge_map(audio_lm[i]), f"audio open {audio_open[i]:.1f}") for i in k],
        [label(blank, "audio landmarks")] + [label(audio_gen[i], "RD-GAN (audio)") for i in k],
        [label(blank, "baseline")] + [label(warp_baseline(photo, photo_lm, clip.lm[later[i]]), "warp") for i in k],
    ]


if __name__ == "__main__":
    main(sys.argv[1:])
