"""Evaluate a fine-tuned phadtf checkpoint on its person's held-out frames and draw a contact sheet.

Usage: python plugins/phadtf/scripts/evaluate_person.py CHECKPOINT PERSON_DIR OUT_JSON OUT_PNG [SPEECH_MP4]
       [BASELINES_JSON]

Writes a sheet of face crops (real held-out frames, ours for the same speech, the render without GAN, and with
SPEECH_MP4 frames of a video made from other speech), then the face-image metrics of our video, of the render
without GAN and of the baselines (as ``avs evaluate phadtf`` does, frames computed once; with BASELINES_JSON
the baseline rows, which do not depend on the checkpoint, are read from an earlier run).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np


def _crops(frames: np.ndarray, idx: list[int], box: np.ndarray, scale: float, size: int = 200) -> list[np.ndarray]:
    x0, y0, x1, y1 = (box * scale).tolist()
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, 1.5 * max(x1 - x0, y1 - y0)
    a = np.array([[size / side, 0, size / 2 - size / side * cx], [0, size / side, size / 2 - size / side * cy]])
    return [cv2.warpAffine(frames[i], a, (size, size), borderMode=cv2.BORDER_REPLICATE) for i in idx]


def main() -> None:
    from avs.checkpoint import load_impl
    from avs.plugins import discover
    from avs_phadtf.method import EVAL_SCALE

    ckpt, person_dir, out_json, out_png = (Path(a) for a in sys.argv[1:5])
    method = discover().get("phadtf")
    impl = load_impl(method, ckpt)
    t0 = time.time()
    ds = impl.build_dataset(person_dir, "test")
    c = impl._clip_frames(ds)
    t1 = time.time()
    box = np.nanmedian(impl._assets.person.track["box"][ds.start:ds.stop], axis=0)
    idx = np.linspace(0, len(c["real"]) - 1, 6).round().astype(int).tolist()
    rows = [_crops(c[k], idx, box, EVAL_SCALE) for k in ("real", "fake", "no_gan")]
    if len(sys.argv) > 5 and sys.argv[5]:
        import imageio.v3 as iio

        other = np.stack(list(iio.imiter(sys.argv[5], plugin="FFMPEG")))
        j = np.linspace(0, len(other) - 1, 6).round().astype(int).tolist()
        rows.append(_crops(other, j, box, 1.0))
    sheet = np.concatenate([np.concatenate(r, axis=1) for r in rows], axis=0)
    labels = ["real (held out)", "phadtf (same speech)", "render, no GAN", "phadtf (other speech)"]
    for k in range(len(rows)):
        cv2.putText(sheet, labels[k], (6, 200 * k + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1)
    cv2.imwrite(str(out_png), sheet[..., ::-1])
    print(f"contact sheet {out_png} ({t1 - t0:.0f} s to generate)", flush=True)

    from avs.face import FaceImageClips, face_image_baselines, face_image_metrics

    def score(fake: np.ndarray) -> dict:
        return face_image_metrics(FaceImageClips(real=[c["real"]], fake=[fake], fps=25.0, audio=[c["audio"]]))

    metrics = {"phadtf": score(c["fake"])}
    print(json.dumps(metrics), flush=True)
    metrics["render without GAN"] = score(c["no_gan"])
    if len(sys.argv) > 6:
        metrics.update(json.loads(Path(sys.argv[6]).read_text()))
    else:
        clips = FaceImageClips(real=[c["real"]], fake=[c["fake"]], fps=25.0, audio=[c["audio"]])
        metrics.update({k: score(v[0]) for k, v in face_image_baselines(clips).items()})
    metrics["seconds"] = {"generate": t1 - t0, "score": time.time() - t1}
    out_json.write_text(json.dumps(metrics, indent=1))
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
