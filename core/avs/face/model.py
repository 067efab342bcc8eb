"""An open face model built from video: rigid pose, identity mean shape, shared expression basis.

No Basel Face Model is needed. For one person (one video) tracked with MediaPipe's 478-point mesh:

1. **Identity** — the person's mean shape ``M`` (478, 3): generalised Procrustes analysis of the
   valid frames (similarity alignment to the running mean, 3 rounds), then centred, scaled to unit
   RMS radius and turned frontal (x along the eye/mouth-corner pairs, y from forehead to chin,
   z = x × y into the screen).
2. **Rigid pose** per frame — the similarity transform (Umeyama 1991) taking ``M`` onto the
   frame's mesh: ``X_t ≈ s_t R_t (M + D_t) + t_t``. ``euler`` = ``R_t`` as extrinsic x, y, z
   angles (pitch, yaw, roll, radians; ``R = Rz·Ry·Rx``, as in PHADTF's Deep3DFaceReconstruction
   coefficients); ``trans`` = (t_x, t_y, s): the face centre in image pixels and the scale in pixels
   per model unit (weak perspective: larger is nearer).
3. **Expression** — the pose-free, identity-free residual ``D_t`` (model units, i.e. relative to the
   face's size, so comparable across people) projected on a **shared** PCA basis of 64 components
   fitted on the pooled residuals of many people (:func:`build_face_model`). Shared, as BFM's
   expression basis is in PHADTF: a coefficient means the same motion for every person.

The basis ships with avs as a small versioned ``.npz`` (``models/open_face_model_v1.npz``);
``avs data build-face-model DATA... OUT`` rebuilds it from prepared face data sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avs.errors import AvsError

NUM_POINTS = 478
NUM_COMPONENTS = 64
MODEL_FORMAT = "avs-open-face-model"
DEFAULT_MODEL = Path(__file__).parent / "models" / "open_face_model_v1.npz"

# MediaPipe mesh indices: symmetric pairs (subject's right, subject's left) and the midline.
_PAIRS = ((33, 263), (133, 362), (61, 291), (234, 454), (70, 300), (127, 356))
_FOREHEAD, _CHIN = 10, 152


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity transform ``dst ≈ s R src + t`` (Umeyama 1991) of (K, 3) point sets.

    Returns:
        (s, R (3, 3) proper rotation, t (3,)).
    """
    from skimage.transform import SimilarityTransform

    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if hasattr(SimilarityTransform, "from_estimate"):  # scikit-image >= 0.26
        tform = SimilarityTransform.from_estimate(src, dst)
        ok = bool(tform)
    else:
        tform = SimilarityTransform(dimensionality=3)
        ok = tform.estimate(src, dst)
    if not ok:
        raise AvsError("similarity alignment failed (degenerate landmarks)")
    A = tform.params[:3, :3]
    s = float(np.cbrt(np.linalg.det(A)))
    return s, A / s, tform.params[:3, 3].copy()


def frontal_frame(shape: np.ndarray) -> np.ndarray:
    """Rotation (3, 3) whose rows are the face's x (subject's right → left in the image), y (forehead →
    chin) and z (into the screen) axes, from the mesh's symmetric pairs and midline."""
    x = np.mean([shape[b] - shape[a] for a, b in _PAIRS], axis=0)
    x /= np.linalg.norm(x)
    y = shape[_CHIN] - shape[_FOREHEAD]
    y -= (y @ x) * x
    y /= np.linalg.norm(y)
    return np.stack([x, y, np.cross(x, y)])


def mean_shape(lm478: np.ndarray, rounds: int = 3) -> np.ndarray:
    """The person's frontal mean shape (478, 3), centred, unit RMS radius (generalised Procrustes).

    Args:
        lm478: (N, 478, 3) meshes of valid frames (pixels), N >= 1.
    """
    shapes = np.asarray(lm478, np.float64)
    ref = shapes[0] - shapes[0].mean(0)
    for _ in range(rounds):
        aligned = []
        for x in shapes:
            s, R, t = similarity(x, ref)
            aligned.append(s * x @ R.T + t)
        ref = np.mean(aligned, axis=0)
        ref -= ref.mean(0)
        ref /= np.sqrt((ref ** 2).sum(1).mean())
    return (ref @ frontal_frame(ref).T).astype(np.float64)


def rigid_fit(lm478: np.ndarray, valid: np.ndarray, identity_shape: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pose of every valid frame against ``identity_shape`` and the canonical residuals.

    Returns:
        euler (T, 3) radians, trans (T, 3) (t_x px, t_y px, scale px/unit), residual (T, 478, 3) model
        units; NaN on invalid frames.
    """
    from scipy.spatial.transform import Rotation

    T = len(lm478)
    euler = np.full((T, 3), np.nan)
    trans = np.full((T, 3), np.nan)
    resid = np.full((T, NUM_POINTS, 3), np.nan)
    for i in np.flatnonzero(valid):
        s, R, t = similarity(identity_shape, lm478[i])
        euler[i] = Rotation.from_matrix(R).as_euler("xyz")
        trans[i] = (t[0], t[1], s)
        resid[i] = ((lm478[i] - t) @ R) / s - identity_shape
    return euler, trans, resid


def pose_matrices(euler: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(s (T,), R (T, 3, 3), t (T, 3)) from ``euler`` (T, 3) and ``trans`` (T, 3)."""
    from scipy.spatial.transform import Rotation

    euler = np.asarray(euler, np.float64)
    trans = np.asarray(trans, np.float64)
    R = Rotation.from_euler("xyz", euler).as_matrix()
    t = np.concatenate([trans[:, :2], np.zeros((len(trans), 1))], axis=1)
    return trans[:, 2], R, t


@dataclass
class OpenFaceModel:
    """The shared expression basis.

    Attributes:
        basis: (C, 478·3) float32 orthonormal rows (expression components, model units).
        mean: (478·3,) float32 mean residual of the pooled training frames.
        stddev: (C,) float32 standard deviation of each coefficient over the training frames.
        version: model version string (stored in every prepared data set's ``meta.json``).
        info: free-form provenance (videos, frames).
    """

    basis: np.ndarray
    mean: np.ndarray
    stddev: np.ndarray
    version: str
    info: str = ""

    @property
    def num_components(self) -> int:
        return int(self.basis.shape[0])

    @classmethod
    def load(cls, path: str | Path) -> OpenFaceModel:
        """Read a model ``.npz`` (never unpickles). AvsError for a missing or foreign file."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["format"]) != MODEL_FORMAT:
                    raise AvsError(f"{path} is not an avs open face model")
                return cls(basis=z["basis"].astype(np.float32), mean=z["mean"].astype(np.float32),
                           stddev=z["stddev"].astype(np.float32), version=str(z["version"]), info=str(z["info"]))
        except AvsError:
            raise
        except Exception as exc:
            raise AvsError(f"cannot read face model {path}: {exc}") from None

    @classmethod
    def empty(cls) -> OpenFaceModel:
        """A model without expression components (``exp`` is (T, 0)): pose and identity only. Used to
        prepare the first data sets a new basis is then fitted on (see ``docs/face.md``)."""
        d = NUM_POINTS * 3
        return cls(np.zeros((0, d), np.float32), np.zeros(d, np.float32), np.zeros(0, np.float32), "none")

    @classmethod
    def load_default(cls) -> OpenFaceModel:
        """The model bundled with avs (``avs/face/models/open_face_model_v1.npz``)."""
        return cls.load(DEFAULT_MODEL)

    def save(self, path: str | Path) -> Path:
        """Write the model atomically as ``.npz``."""
        from avs.io import atomic_path

        with atomic_path(path, suffix=".npz") as tmp:
            np.savez_compressed(tmp, format=np.array(MODEL_FORMAT), version=np.array(self.version),
                                info=np.array(self.info), basis=self.basis.astype(np.float32),
                                mean=self.mean.astype(np.float32), stddev=self.stddev.astype(np.float32))
        return Path(path)

    def project(self, residual: np.ndarray) -> np.ndarray:
        """Expression coefficients (T, C) of canonical residuals (T, 478, 3) (NaN rows stay NaN)."""
        d = np.asarray(residual, np.float64).reshape(len(residual), -1) - self.mean
        return (d @ self.basis.T.astype(np.float64)).astype(np.float32)

    def expression_offsets(self, exp: np.ndarray) -> np.ndarray:
        """Canonical shape offsets (T, 478, 3) of coefficients (T, C): mean + basisᵀ·exp."""
        exp = np.asarray(exp, np.float64)
        return (self.mean + exp @ self.basis.astype(np.float64)).reshape(len(exp), NUM_POINTS, 3)

    def fit(self, lm478: np.ndarray, valid: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Fit one person's video.

        Args:
            lm478: (T, 478, 3) meshes, pixels (MediaPipe x, y, z·width).
            valid: (T,) bool (default: frames without NaN).

        Returns:
            dict with ``euler`` (T, 3) radians, ``trans`` (T, 3), ``exp`` (T, C), ``identity_shape``
            (478, 3) model units (NaN rows where not valid).

        Raises:
            AvsError: wrong shape, no valid frame.
        """
        lm478 = np.asarray(lm478, np.float64)
        if lm478.ndim != 3 or lm478.shape[1:] != (NUM_POINTS, 3):
            raise AvsError(f"expected (T, {NUM_POINTS}, 3) meshes, got {lm478.shape}")
        valid = np.isfinite(lm478).all(axis=(1, 2)) if valid is None else np.asarray(valid, bool)
        if not valid.any():
            raise AvsError("no frame with a face to fit the face model to")
        identity = mean_shape(lm478[valid])
        euler, trans, resid = rigid_fit(lm478, valid, identity)
        return {"euler": euler.astype(np.float32), "trans": trans.astype(np.float32),
                "exp": self.project(resid), "identity_shape": identity.astype(np.float32)}

    def reconstruct(self, exp: np.ndarray, euler: np.ndarray, trans: np.ndarray,
                    identity_shape: np.ndarray) -> np.ndarray:
        """Meshes (T, 478, 3) in image pixels from coefficients: ``s R (M + mean + Bᵀ exp) + t``."""
        s, R, t = pose_matrices(euler, trans)
        shape = np.asarray(identity_shape, np.float64)[None] + self.expression_offsets(exp)
        return (s[:, None, None] * np.einsum("tkj,tij->tki", shape, R) + t[:, None]).astype(np.float32)


def reconstruction_error(model: OpenFaceModel, lm478: np.ndarray, fitted: dict[str, np.ndarray],
                         valid: np.ndarray) -> float:
    """Mean 2-D distance, pixels, between tracked meshes and their reconstruction, over valid frames."""
    rec = model.reconstruct(fitted["exp"][valid], fitted["euler"][valid], fitted["trans"][valid],
                            fitted["identity_shape"])
    return float(np.linalg.norm(rec[..., :2] - np.asarray(lm478)[valid][..., :2], axis=-1).mean())


def pca_basis(residuals: np.ndarray, num_components: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA of (N, D) residuals: (basis (C, D), mean (D,), stddev (C,)), C = min(num_components, N, D)."""
    mean = residuals.mean(0)
    _, sv, vt = np.linalg.svd(residuals - mean, full_matrices=False)
    c = min(num_components, len(sv))
    return vt[:c], mean, sv[:c] / np.sqrt(max(len(residuals) - 1, 1))


def build_face_model(meshes: list[tuple[str, np.ndarray, np.ndarray]], version: str = "open-face-v1",
                     num_components: int = NUM_COMPONENTS) -> tuple[OpenFaceModel, list[dict[str, float]]]:
    """Fit the shared expression basis on the pooled identity-normalised residuals of many videos.

    Args:
        meshes: (name, lm478 (T, 478, 3) pixels, valid (T,) bool) per video (one person each).
        version: version string of the new model.
        num_components: C (PHADTF's expression vector has 64).

    Returns:
        (model, report) — report rows per video, reconstruction errors in pixels: ``rigid_only_px``
        (identity shape + pose, no expression), ``shared_px`` (the shared basis), ``shared_holdout_px``
        (a basis fitted without this video), ``person_px`` (a basis of the same size fitted on this
        video alone, in-sample), and on the video's last quarter: ``person_late_px`` (per-person
        basis fitted on the first three quarters) vs ``shared_holdout_late_px``.

    Raises:
        AvsError: no video, or fewer pooled frames than components.
    """
    if not meshes:
        raise AvsError("no videos to build the face model from")
    fits = []
    for name, lm, valid in meshes:
        valid = np.asarray(valid, bool)
        identity = mean_shape(np.asarray(lm, np.float64)[valid])
        euler, trans, resid = rigid_fit(np.asarray(lm, np.float64), valid, identity)
        fits.append((name, lm, valid, identity, euler, trans, resid[valid].reshape(int(valid.sum()), -1)))
    pooled = np.concatenate([f[-1] for f in fits])
    if len(pooled) < num_components:
        raise AvsError(f"{len(pooled)} frames are too few for {num_components} components")
    basis, mean, std = pca_basis(pooled, num_components)
    info = "; ".join(f"{f[0]}:{len(f[-1])}" for f in fits)
    model = OpenFaceModel(basis.astype(np.float32), mean.astype(np.float32), std.astype(np.float32), version, info)

    def err(m: OpenFaceModel, f: tuple, frames: slice = slice(None)) -> float:
        name, lm, valid, identity, euler, trans, res = f
        fitted = {"exp": np.zeros((len(lm), m.num_components), np.float32), "euler": euler, "trans": trans,
                  "identity_shape": identity}
        fitted["exp"][valid] = m.project(res.reshape(-1, NUM_POINTS, 3))
        keep = np.zeros(len(lm), bool)
        keep[frames] = True
        return reconstruction_error(m, lm, fitted, valid & keep)

    report = []
    for i, f in enumerate(fits):
        others = [g[-1] for j, g in enumerate(fits) if j != i]
        T = len(f[1])
        late = slice(int(0.75 * T), None)  # the last quarter: held out from a per-person basis
        row = {"name": f[0], "frames": float(len(f[-1])), "shared_px": err(model, f)}
        if others and sum(len(o) for o in others) >= num_components:
            b, m, s = pca_basis(np.concatenate(others), num_components)
            held = OpenFaceModel(b, m, s, "holdout")
            row["shared_holdout_px"] = err(held, f)
            row["shared_holdout_late_px"] = err(held, f, late)
        b, m, s = pca_basis(f[-1], num_components)
        row["person_px"] = err(OpenFaceModel(b, m, s, "person"), f)
        first = f[-1][: int(f[2][: int(0.75 * T)].sum())]
        if len(first) >= 2:
            b, m, s = pca_basis(first, num_components)
            row["person_late_px"] = err(OpenFaceModel(b, m, s, "person"), f, late)
        zero = OpenFaceModel(np.zeros((1, basis.shape[1]), np.float32), mean, np.ones(1), "none")
        row["rigid_only_px"] = err(zero, f)
        report.append(row)
    return model, report
