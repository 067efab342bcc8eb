"""The person-specific pipeline: renders and GAN triplets of a person's frames, speech → coefficients → frames.

Order of operations at inference (reference ``test_personalized.py``): ATC_net on the whole utterance →
background matching → render with predicted expression under the matched frame's pose, blended into that
frame → GAN refinement of the face crop (three stacked renders, identity from memory every 25 frames,
interpolated) → crop composited back into the matched full frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from avs.api import AvsError
from avs_phadtf.background import match_background
from avs_phadtf.config import PhadtfConfig
from avs_phadtf.data import Person, split_frames
from avs_phadtf.face import embedding
from avs_phadtf.model import NUM_EXP
from avs_phadtf.render import FaceTexture, apply_affine, crop_affines, paste_back, render_blend


def to_tensor_image(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 → (3, H, W) float32 in [-1, 1]."""
    return (img.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)


def to_uint8_image(x: np.ndarray) -> np.ndarray:
    """(3, H, W) float in [-1, 1] → (H, W, 3) uint8."""
    return ((x.transpose(1, 2, 0) + 1.0) * 127.5).round().clip(0, 255).astype(np.uint8)


@dataclass
class PersonAssets:
    """What rendering needs of one person: texture, crop track, identity shape, training poses.

    Attributes:
        person: the prepared person.
        train_stop, test_stop: the split (frames ``[0, train_stop)`` train).
        texture: the frontal texture frame and its mesh.
        affines: (T, 2, 3) full frame → crop, per frame.
        identity_shape: (478, 3) the person's mean shape.
        pose: (T, 6) recorded euler | trans.
        model: the person's face model (``reconstruct``).
    """

    person: Person
    cfg: PhadtfConfig
    train_stop: int
    test_stop: int
    texture: FaceTexture
    affines: np.ndarray
    identity_shape: np.ndarray
    pose: np.ndarray
    model: Any
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, person: Person, cfg: PhadtfConfig) -> PersonAssets:
        """Choose the texture frame (the most frontal valid training frame) and the crop track.

        Raises:
            AvsError: a person shorter than ``cfg.data.min_frames`` or without faces in its training frames.
        """
        if person.num_frames < cfg.data.min_frames:
            raise AvsError(f"{person.root} has {person.num_frames} frames; phadtf needs at least "
                           f"{cfg.data.min_frames} ({cfg.data.min_frames / 25:.1f} s) of one person")
        train_stop, test_stop = split_frames(person.num_frames, cfg.data)
        coeffs = person.coefficients()
        valid = person.valid
        if valid[:train_stop].sum() < cfg.atc.clip_frames:
            raise AvsError(f"{person.root}: fewer than {cfg.atc.clip_frames} training frames with a tracked face")
        boxes = _fill_invalid(person.track["box"].astype(np.float64), valid)
        pose = _fill_invalid(coeffs[:, NUM_EXP:].astype(np.float64), valid)
        frontal = np.abs(pose[:train_stop, :3]).sum(axis=1) + np.where(valid[:train_stop], 0, 1e9)
        k = int(np.argmin(frontal))
        model = person.face_model()
        identity = person.identity_shape()
        verts = model.reconstruct(coeffs[k:k + 1, :NUM_EXP], coeffs[k:k + 1, NUM_EXP:NUM_EXP + 3],
                                  coeffs[k:k + 1, NUM_EXP + 3:], identity)[0]
        image = next(person.iter_frames(k, k + 1))
        texture = FaceTexture.from_frame(image, verts)
        affines = crop_affines(boxes, cfg.render.crop_scale, cfg.gan.image_size, cfg.render.box_smooth)
        return cls(person, cfg, train_stop, test_stop, texture, affines, identity, pose, model)

    def render(self, exp: np.ndarray, frame_index: int, background: np.ndarray) -> np.ndarray:
        """(S, S, 3) uint8 blended render: expression ``exp`` (64,) under the pose of real frame ``frame_index``,
        over that frame's crop."""
        p = self.pose[frame_index]
        v = self.model.reconstruct(exp[None], p[None, :3], p[None, 3:], self.identity_shape)[0]
        r = self.cfg.render
        return render_blend(self.texture, v, background, self.affines[frame_index], self.cfg.gan.image_size,
                            tuple(r.mouth_color), r.feather)

    def crop(self, frame: np.ndarray, frame_index: int) -> np.ndarray:
        """(S, S, 3) uint8 crop of real frame ``frame_index``."""
        import cv2

        s = self.cfg.gan.image_size
        return cv2.warpAffine(frame, self.affines[frame_index], (s, s), flags=cv2.INTER_AREA,
                              borderMode=cv2.BORDER_REPLICATE)

    def query_feature(self, render_crop: np.ndarray, frame_index: int) -> np.ndarray:
        """(128,) frozen face feature of a render crop: dlib's descriptor at the frame's landmarks in the crop."""
        lm = apply_affine(self.affines[frame_index], self.person.track["lm68"][frame_index].astype(np.float64))
        return embedding(render_crop, lm)

    def frame_arrays(self, stop: int) -> dict[str, np.ndarray]:
        """Renders, real crops, query features and identity values of frames ``[0, stop)`` (cached).

        Returns:
            ``render`` (N, S, S, 3) uint8, ``real`` (N, S, S, 3) uint8, ``query`` (N, 128), ``identity`` (N, 128),
            ``valid`` (N,) bool. Frames without a face get their nearest valid frame's coefficients.
        """
        if self._cache.get("stop", -1) >= stop:
            return {k: v[:stop] for k, v in self._cache.items() if k != "stop"}
        coeffs = _fill_invalid(self.person.coefficients().astype(np.float64), self.person.valid)
        lm68 = self.person.track["lm68"]
        valid = self.person.valid
        out: dict[str, list[np.ndarray]] = {"render": [], "real": [], "query": [], "identity": []}
        fallback = None
        for i, frame in enumerate(self.person.iter_frames(0, stop)):
            rend = self.render(coeffs[i, :NUM_EXP], i, frame)
            out["render"].append(rend)
            out["real"].append(self.crop(frame, i))
            if valid[i]:
                out["query"].append(self.query_feature(rend, i))
                out["identity"].append(embedding(frame, lm68[i]))
                fallback = (out["query"][-1], out["identity"][-1])
            else:
                out["query"].append(None)  # type: ignore[arg-type]
                out["identity"].append(None)  # type: ignore[arg-type]
        if fallback is None:
            raise AvsError(f"{self.person.root}: no frame with a face")
        for key, fb in zip(("query", "identity"), fallback, strict=True):
            out[key] = [fb if v is None else v for v in out[key]]
        arrays = {k: np.stack(v) for k, v in out.items()}
        arrays["valid"] = valid[:stop]
        self._cache = {"stop": stop, **arrays}
        return arrays


def _fill_invalid(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Rows of ``x`` where not ``valid`` (or NaN) replaced by the nearest valid row."""
    x = np.array(x, dtype=np.float64)
    ok = valid & np.isfinite(x).all(axis=1)
    if not ok.any():
        raise AvsError("no frame with a tracked face")
    idx = np.nonzero(ok)[0]
    nearest = idx[np.abs(np.arange(len(x))[:, None] - idx[None]).argmin(axis=1)]
    return x[nearest]


def predict_coefficients(atc: Any, windows: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """ATC_net over a whole utterance (one LSTM pass, as ``atcnet_test1.py``).

    Args:
        atc: an :class:`avs_phadtf.model.ATCNet` in eval mode.
        windows: (T, 28, 12) MFCC windows.
        mean, std: (70,) the target person's mean and the pooled std.

    Returns:
        (T, 70) float32 coefficients in the person's units.
    """
    import torch

    device = next(atc.parameters()).device
    with torch.no_grad():
        z = atc(torch.from_numpy(windows)[None].to(device))[0].float().cpu().numpy()
    return (z * std + mean).astype(np.float32)


def assign_frames(coeffs: np.ndarray, assets: PersonAssets) -> np.ndarray:
    """(T,) training-frame index realising each predicted frame's pose (background matching)."""
    stop = assets.train_stop
    return match_background(coeffs[:, NUM_EXP:NUM_EXP + 3], assets.pose[:stop], assets.cfg.background)


def identity_track(query: np.ndarray, memory: Any, every: int) -> np.ndarray:
    """(T, D) identity per frame: memory top-1 read every ``every`` frames, linearly interpolated between."""
    import torch

    t = len(query)
    keys = np.unique(np.concatenate([np.arange(0, t, max(every, 1)), [t - 1]]))
    with torch.no_grad():
        q = memory(torch.from_numpy(query[keys]).float().to(memory.Linear.weight.device))
        vals = memory.read(q).cpu().numpy()
    return np.stack([np.interp(np.arange(t), keys, vals[:, d]) for d in range(vals.shape[1])], axis=1)


def synthesize_frames(coeffs: np.ndarray, assign: np.ndarray, assets: PersonAssets, unet: Any = None,
                      memory: Any = None) -> Iterator[np.ndarray]:
    """Full output frames: render (predicted expression, matched pose) → GAN (if given) → composite.

    Args:
        coeffs: (T, 70) predicted coefficients (only the expression is used; the pose is the matched frame's).
        assign: (T,) matched training frame per output frame.
        assets: the person.
        unet, memory: the fine-tuned GAN generator and memory, or None to show the blended render.

    Yields:
        T frames (H, W, 3) uint8 RGB of the person's full video size.
    """
    import torch

    cfg = assets.cfg
    frames = FrameStore(assets.person, sorted(set(assign.tolist())))
    renders = [assets.render(coeffs[i, :NUM_EXP], int(assign[i]), frames[int(assign[i])]) for i in range(len(assign))]
    identities = None
    if unet is not None:
        query = np.stack([assets.query_feature(r, int(a)) for r, a in zip(renders, assign, strict=True)])
        identities = identity_track(query, memory, cfg.gan.identity_every)
        device = next(unet.parameters()).device
    w = cfg.gan.window
    for i, a in enumerate(assign):
        crop = renders[i]
        if unet is not None:
            stack = np.concatenate([to_tensor_image(renders[max(i - k, 0)]) for k in range(w - 1, -1, -1)], axis=0)
            x = torch.from_numpy(stack)[None].to(device)
            ident = torch.from_numpy(identities[i]).float()[None].to(device)
            with torch.no_grad():
                color, mask = unet(x, ident)
                out = mask * x[:, -3:] + (1 - mask) * color
            crop = to_uint8_image(out[0].float().cpu().numpy())
        yield paste_back(frames[int(a)], crop, assets.affines[int(a)], cfg.render.feather)


class FrameStore:
    """The real frames a prediction shows, read in one pass and kept JPEG-encoded (quality 97) so that
    memory stays small for long inputs; ``store[i]`` decodes frame ``i`` as (H, W, 3) uint8 RGB."""

    def __init__(self, person: Person, indices: list[int]) -> None:
        import cv2

        want = set(indices)
        self._jpeg: dict[int, bytes] = {}
        for i, f in enumerate(person.iter_frames(0, max(indices) + 1)):
            if i in want:
                ok, buf = cv2.imencode(".jpg", f[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 97])
                self._jpeg[i] = buf.tobytes()
        if len(self._jpeg) != len(want):
            raise AvsError(f"{person.root / 'frames.mp4'} has fewer frames than its track")

    def __getitem__(self, i: int) -> np.ndarray:
        import cv2

        return cv2.imdecode(np.frombuffer(self._jpeg[i], np.uint8), cv2.IMREAD_COLOR)[..., ::-1].copy()
