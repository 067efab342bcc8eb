"""Contact sheet of an rdgan prediction: the photo, then for a few frames the target edge map and the
generated face (crop and pasted).

Usage: python plugins/rdgan/scripts/contact_sheet.py SPEECH.wav OUT.png [PHOTO] [--checkpoint C] [--frames N]
Without PHOTO: scikit-image's astronaut (Eileen Collins, NASA, public domain).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np


def main(argv: list[str]) -> None:
    import cv2
    import imageio.v3 as iio

    from avs.api import AvsError, load_audio
    from avs.checkpoint import load_impl
    from avs.plugins import discover
    from avs_rdgan.edges import edge_map
    from avs_rdgan.render import FaceRenderer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("speech", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("photo", type=Path, nargs="?")
    p.add_argument("--checkpoint", type=Path)
    p.add_argument("--frames", type=int, default=8)
    args = p.parse_args(argv)
    method = discover().get("rdgan")
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
    pick = np.linspace(0, motion.num_frames - 1, args.frames).round().astype(int)
    pasted = list(FaceRenderer(impl._photo, impl.cfg).frames(motion))
    lm = motion.extras["landmarks"]
    size = 160

    def tile(img: np.ndarray) -> np.ndarray:
        return cv2.resize(np.ascontiguousarray(img), (size, size), interpolation=cv2.INTER_AREA)

    rows = [
        np.concatenate([tile(image)] + [tile(edge_map(lm[t])) for t in pick], 1),
        np.concatenate([tile(image)] + [tile(motion.data[t]) for t in pick], 1),
        np.concatenate([tile(image)] + [tile(pasted[t]) for t in pick], 1),
    ]
    sheet = np.concatenate(rows, 0)
    for k, t in enumerate(pick):
        cv2.putText(sheet, f"t={t}", (size * (k + 1) + 4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(args.out, sheet)
    print(f"wrote {args.out}: rows = target edge maps, generated crops, pasted frames; {motion.num_frames} frames")


if __name__ == "__main__":
    main(sys.argv[1:])
