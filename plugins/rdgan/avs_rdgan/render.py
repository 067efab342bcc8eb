"""RD-GAN's video: the generated face crops pasted back into the photo (or the crops alone, enlarged)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from avs.api import AvsError, Motion
from avs_rdgan.config import IMAGE_SIZE
from avs_rdgan.inference import paste


class FaceRenderer:
    """Frames of a ``frames`` motion from :meth:`avs_rdgan.method.RDGANMethod.predict`.

    With ``infer.paste`` each 128×128 crop is warped back into the photo and blended over the face's
    convex hull; otherwise the crop, mapped into the photo's fixed face box, is enlarged to
    ``infer.video_size``. One frame is built at a time, so memory does not grow with the length.

    Args:
        photo: (H, W, 3) uint8 photo of the prediction (None: crops only).
        cfg: the method config.
    """

    def __init__(self, photo: np.ndarray | None, cfg: Any) -> None:
        self.photo = photo
        self.do_paste = bool(cfg.infer.paste) and photo is not None
        side = int(cfg.infer.video_size)
        self.size = tuple(int(v) for v in photo.shape[:2]) if self.do_paste else (side, side)

    def frames(self, motion: Motion) -> Iterator[np.ndarray]:
        """Yield ``motion.num_frames`` (H, W, 3) uint8 frames.

        Raises:
            AvsError: a motion that is not rdgan's crops.
        """
        import cv2

        if motion.kind != "frames" or motion.data.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3):
            raise AvsError(f"rdgan renders 128×128 face crops, got {motion.kind} {motion.data.shape}")
        lm, affines = motion.extras.get("landmarks"), motion.extras.get("full_to_crop")
        for t in range(motion.num_frames):
            crop = motion.data[t]
            if self.do_paste and lm is not None and affines is not None:
                yield paste(self.photo, crop, lm[t], affines[t])
            else:
                yield cv2.resize(crop, (self.size[1], self.size[0]), interpolation=cv2.INTER_CUBIC)
