"""Map-style datasets of ATC_net clips and GAN triplets (dict items, torch's default collate).

ATC clip item (reference ``News_1D_lstm_3dmm_pose.__getitem__``): ``mfcc`` (16, 28, 12) and ``coeff`` (16, 70)
normalised coefficients of 16 consecutive frames. Fine-tune item: an ATC clip plus the GAN triplet of one
frame t (reference ``aligned_feature_multi_dataset``): ``renders`` (9, S, S) = blended renders of t−2, t−1, t in
[−1, 1], ``real`` (3, S, S) the real crop of t, ``query`` (128,) the frozen face feature of render t,
``identity`` (128,) the dlib embedding of real frame t, ``index`` t.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from avs_phadtf.data import Person, clip_starts, normalise
from avs_phadtf.mfcc import speech_windows
from avs_phadtf.pipeline import PersonAssets, to_tensor_image


class AtcClips:
    """16-frame clips of every person in ``ranges`` (list of (person, start, stop, person_mean))."""

    def __init__(self, ranges: list[tuple[Person, int, int, np.ndarray]], std: np.ndarray, clip: int,
                 audio_cfg: Any, stride: int = 1) -> None:
        self.items: list[tuple[int, int]] = []
        self.windows: list[np.ndarray] = []
        self.coeffs: list[np.ndarray] = []
        for k, (person, start, stop, mean) in enumerate(ranges):
            self.windows.append(speech_windows(person.audio(), person.num_frames, audio_cfg))
            self.coeffs.append(normalise(np.nan_to_num(person.coefficients()), mean, std))
            self.items += [(k, s) for s in clip_starts(person.valid, start, stop, clip, stride)]
        self.clip = clip

    def __len__(self) -> int:
        return len(self.items)

    def clip_at(self, i: int) -> dict[str, np.ndarray]:
        k, s = self.items[i]
        return {"mfcc": self.windows[k][s:s + self.clip], "coeff": self.coeffs[k][s:s + self.clip]}

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        return self.clip_at(i)


class FinetuneItems:
    """One item per GAN frame t in ``[start, stop)``, each with an ATC clip of the same range (clip k = item k
    modulo the number of clips), so an epoch passes once over both the clips and the frames."""

    def __init__(self, clips: AtcClips, assets: PersonAssets | None, start: int, stop: int, window: int,
                 person: Person | None = None) -> None:
        self.clips = clips
        self.person, self.start, self.stop = person, start, stop
        self.assets = assets
        self.window = window
        if assets is None:
            self.frames: list[int] = []
            self.arrays: dict[str, np.ndarray] = {}
        else:
            self.arrays = assets.frame_arrays(max(stop, assets.test_stop))  # one pass serves train and dev
            lo = max(start, window - 1)
            self.frames = [t for t in range(lo, stop) if self.arrays["valid"][t]] if len(clips) else []

    def __len__(self) -> int:
        return len(self.frames) if self.assets is not None else len(self.clips)

    def __getitem__(self, i: int) -> dict[str, Any]:
        item: dict[str, Any] = dict(self.clips[i % len(self.clips)])
        if self.assets is None:
            return item
        t = self.frames[i]
        a = self.arrays
        item["renders"] = np.concatenate([to_tensor_image(a["render"][t - k]) for k in range(self.window - 1, -1, -1)])
        item["real"] = to_tensor_image(a["real"][t])
        item["query"] = a["query"][t].astype(np.float32)
        item["identity"] = a["identity"][t].astype(np.float32)
        item["index"] = np.float32(t)
        return item
