"""A synthetic prepared person: a drawn face whose mouth opens with the loudness of real speech.

Written in ``avs data prepare face``'s layout (``index.json``; ``<name>/meta.json``, ``track.npz``,
``audio.wav``, ``frames.mp4``), so every part of phadtf (clips, renders, GAN triplets, background matching,
prediction) runs on it in seconds. The face model is :class:`SynthFaceModel`: 478 points on the front of an
ellipsoid (the inner-lip indices of MediaPipe's mesh form the mouth ring), expression component 0 opens the
jaw, components 1..63 are small smooth deformations; head pose follows a slow yaw/pitch sway.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from avs.api import AvsError
from avs_phadtf.render import INNER_LIP, MESH_POINTS, FaceTexture

NUM_POINTS = 478
FPS = 25
SR = 16000


class SynthFaceModel:
    """A linear face model with the open face model's interface (``reconstruct``, ``fit``).

    Shapes are in model units (unit radius); ``trans`` is (x, y, scale) in pixels, as the open face model's.
    """

    def __init__(self, seed: int = 0, num_components: int = 64) -> None:
        rng = np.random.default_rng(seed)
        n = NUM_POINTS
        u = rng.uniform(-0.85, 0.85, n)
        v = rng.uniform(-1.0, 1.0, n)
        # mouth ring: the inner-lip indices on an ellipse around (0, 0.45)
        ang = np.linspace(0, 2 * np.pi, len(INNER_LIP), endpoint=False)
        u[INNER_LIP] = 0.28 * np.cos(ang + np.pi)
        v[INNER_LIP] = 0.45 + 0.06 * np.sin(ang + np.pi)
        z = -np.sqrt(np.clip(1.0 - (u / 0.95) ** 2 - (v / 1.1) ** 2, 0.02, None)) * 0.6
        self.mean_shape = np.stack([u * 0.8, v, z], axis=1)
        basis = np.zeros((num_components, n, 3))
        lower = v > 0.45
        basis[0, :, 1] = np.where(lower, 0.25 * np.clip((v - 0.45) / 0.55, 0, 1) + 0.12 * (v > 0.45), 0.0)
        ring = np.array(INNER_LIP)
        lower_ring = ring[np.sin(ang + np.pi) > 0]
        basis[0, lower_ring, 1] = 0.25
        for c in range(1, num_components):
            f = rng.normal(size=3) * 2
            basis[c, :, 0] = 0.01 * np.sin(f[0] * u + f[1] * v)
            basis[c, :, 1] = 0.01 * np.cos(f[1] * u + f[2] * v)
        self.basis = basis

    def reconstruct(self, exp: np.ndarray, euler: np.ndarray, trans: np.ndarray,
                    identity_shape: np.ndarray) -> np.ndarray:
        """(T, 478, 3) pixels: ``s R (identity + basisᵀ exp) + (x, y, 0)``, R = extrinsic x, y, z (pitch, yaw, roll)."""
        from scipy.spatial.transform import Rotation

        exp = np.asarray(exp, np.float64)
        shape = np.asarray(identity_shape, np.float64)[None] + np.einsum("tc,cnk->tnk", exp, self.basis)
        R = Rotation.from_euler("xyz", np.asarray(euler, np.float64)).as_matrix()
        trans = np.asarray(trans, np.float64)
        pts = np.einsum("tnk,tjk->tnj", shape, R) * trans[:, None, 2:3]
        pts[..., :2] += trans[:, None, :2]
        return pts.astype(np.float32)

    def fit(self, lm478: np.ndarray, valid: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Only ``identity_shape`` (the model's mean shape): synthetic tracks carry their coefficients."""
        return {"identity_shape": self.mean_shape.astype(np.float32)}


def _texture_image(size: int = 256) -> np.ndarray:
    """A drawn frontal face (skin, eyes, brows, nose, lips), (size, size, 3) uint8."""
    import cv2

    img = np.full((size, size, 3), (70, 90, 120), np.uint8)
    c = size / 2
    cv2.ellipse(img, (int(c), int(c)), (int(size * 0.36), int(size * 0.45)), 0, 0, 360, (222, 180, 150), -1)
    for dx in (-0.17, 0.17):
        cv2.ellipse(img, (int(c + dx * size), int(c - 0.1 * size)), (int(0.06 * size), int(0.03 * size)), 0, 0, 360,
                    (250, 250, 250), -1)
        cv2.circle(img, (int(c + dx * size), int(c - 0.1 * size)), int(0.022 * size), (60, 40, 30), -1)
        cv2.line(img, (int(c + (dx - 0.07) * size), int(c - 0.18 * size)),
                 (int(c + (dx + 0.07) * size), int(c - 0.19 * size)), (90, 60, 40), max(2, size // 80))
    cv2.line(img, (int(c), int(c - 0.05 * size)), (int(c - 0.03 * size), int(c + 0.1 * size)), (180, 130, 110),
             max(2, size // 100))
    cv2.ellipse(img, (int(c), int(c + 0.2 * size)), (int(0.12 * size), int(0.035 * size)), 0, 0, 360,
                (170, 70, 80), -1)
    return img


def synthesize_person(root: Path, seed: int = 0, seconds: float = 6.0, size: tuple[int, int] = (192, 256),
                      name: str = "synth_person") -> Path:
    """Write one synthetic prepared person under ``root`` (``root/index.json`` + ``root/name/``).

    Args:
        root: data root to create (must be absent or empty).
        seed: random seed.
        seconds: duration; frames = round(seconds · 25).
        size: (height, width) of the video.

    Returns:
        the person folder.

    Raises:
        AvsError: ``root`` exists and is not empty.
    """
    import soundfile

    from avs.api import load_speech_sources

    root = Path(root)
    if root.exists() and any(root.iterdir()):
        raise AvsError(f"{root} exists and is not empty")
    rng = np.random.default_rng(seed)
    t_frames = int(round(seconds * FPS))
    speech = np.concatenate(list(load_speech_sources(None, SR, 1.0).values()))
    start = int(rng.integers(0, max(1, len(speech) - t_frames * 640)))
    audio = np.resize(speech[start:start + t_frames * 640], t_frames * 640).astype(np.float32)
    rms = np.sqrt(np.convolve(audio ** 2, np.ones(640) / 640, mode="same")[::640][:t_frames] + 1e-9)
    level = np.clip((20 * np.log10(rms + 1e-9) + 50) / 30, 0, 1)
    model = SynthFaceModel(seed)
    h, w = size
    t = np.arange(t_frames) / FPS
    exp = np.zeros((t_frames, 64), np.float32)
    exp[:, 0] = level * 1.0
    exp[:, 1:6] = 0.3 * np.sin(t[:, None] * rng.uniform(0.5, 2, 5) + rng.uniform(0, 6, 5))
    euler = np.stack([0.08 * np.sin(2 * np.pi * t / 3.1), 0.25 * np.sin(2 * np.pi * t / 2.3 + 0.5),
                      0.04 * np.sin(2 * np.pi * t / 4.0)], axis=1).astype(np.float32)
    trans = np.stack([w / 2 + 6 * np.sin(t), h / 2 + 4 * np.cos(0.7 * t), np.full_like(t, 0.32 * h)],
                     axis=1).astype(np.float32)
    verts = model.reconstruct(exp, euler, trans, model.mean_shape)
    tex_img = _texture_image(256)
    tex_verts = model.reconstruct(np.zeros((1, 64)), np.zeros((1, 3)), np.array([[128.0, 128.0, 0.9 * 128]]),
                                  model.mean_shape)[0]
    texture = FaceTexture.from_frame(tex_img, tex_verts)
    bg = np.zeros((h, w, 3), np.uint8)
    bg[:] = (np.linspace(40, 120, w)[None, :, None] * np.array([0.6, 0.8, 1.0])).astype(np.uint8)
    frames = [_draw(texture, verts[i], bg) for i in range(t_frames)]
    lm = verts[..., :2]
    box = np.concatenate([lm.min(axis=1), lm.max(axis=1)], axis=1).astype(np.float32)
    lm68 = verts[:, np.linspace(0, MESH_POINTS - 1, 68).astype(int), :2]
    person = root / name
    person.mkdir(parents=True)
    _write_ffmpeg(person / "frames.mp4", frames)
    soundfile.write(person / "audio.wav", audio, SR)
    ident_vec = rng.normal(size=128).astype(np.float32)
    np.savez(person / "track.npz", valid=np.ones(t_frames, bool), lm68=lm68.astype(np.float32),
             lm478=verts.astype(np.float32), box=box, euler=euler, trans=trans, exp=exp,
             identity=ident_vec / np.linalg.norm(ident_vec), identity_shape=model.mean_shape.astype(np.float32))
    meta = {"fps": FPS, "width": w, "height": h, "num_frames": t_frames, "source": "synthetic", "faces_found": t_frames,
            "face_model": "phadtf-synthetic", "seed": seed}
    (person / "meta.json").write_text(json.dumps(meta, indent=1))
    tr = int(t_frames * 0.75)
    index = {"format": "avs-face-data", "version": 1, "fps": FPS, "sample_rate": SR,
             "videos": [{"name": name, "num_frames": t_frames,
                         "split": {"train": [0, tr], "dev": [tr, t_frames], "test": [tr, t_frames]}}]}
    (root / "index.json").write_text(json.dumps(index, indent=1))
    return person


def _draw(texture: FaceTexture, verts: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """One full synthetic frame: the textured mesh over the background, mouth interior dark."""
    from avs_phadtf.render import feather_mask, texture_warp

    h, w = bg.shape[:2]
    img, cover = texture_warp(texture.image, texture.uv, verts[:MESH_POINTS, :2].astype(np.float64),
                              verts[:MESH_POINTS, 2].astype(np.float64), texture.tri, (h, w))
    import cv2

    mouth = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mouth, [np.round(verts[INNER_LIP, :2] * 16).astype(np.int32)], 1, lineType=cv2.LINE_AA, shift=4)
    img[mouth > 0] = (50, 15, 20)
    a = feather_mask(cover | (mouth > 0), 1.0)[..., None]
    return (a * img + (1 - a) * bg).round().astype(np.uint8)


def _write_ffmpeg(path: Path, frames: list[np.ndarray]) -> None:
    import imageio

    with imageio.get_writer(path, fps=FPS, codec="libx264", quality=None, ffmpeg_params=["-crf", "12"],
                            macro_block_size=1) as wr:
        for f in frames:
            wr.append_data(f)
