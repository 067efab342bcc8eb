"""The face-image task: metric definitions, baselines on real clips, the preview renderer."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from avs.errors import AvsError
from avs.face.evaluation import (
    FACE_IMAGE_DIRECTIONS,
    FACE_IMAGE_SUITE,
    FaceImageClips,
    face_image_baselines,
    hs_score,
    landmark_distance,
    lip_sync_corr,
)
from face_helpers import requires_face, sample_video


def _face68(rng: np.random.Generator) -> np.ndarray:
    pts = rng.uniform(50, 150, (68, 2))
    pts[36], pts[45] = (70, 80), (130, 80)  # outer eye corners 60 px apart
    return pts


def test_landmark_distance_ignores_similarity_and_normalises_by_eyes():
    rng = np.random.default_rng(0)
    real = _face68(rng)
    th = 0.3
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    moved = 1.7 * real @ R.T + (40, -12)
    assert landmark_distance(moved[None], real[None])[0] < 1e-9
    noisy = real + rng.normal(0, 3, real.shape)
    d = landmark_distance(noisy[None], real[None])[0]
    assert 0.02 < d < 0.12  # ~3·√(π/2)≈3.8 px mean error over 60 px
    assert np.isnan(landmark_distance(np.full((1, 68, 2), np.nan), real[None])[0])


def test_hs_is_one_for_equal_pose_distributions_and_falls_with_difference():
    rng = np.random.default_rng(1)
    real = rng.normal(0, 0.05, (200, 3))
    assert hs_score(real, real) == pytest.approx(1.0)
    assert hs_score(real[::-1], real) == pytest.approx(1.0)  # a distribution, not a frame-by-frame match
    near = hs_score(real + 0.01, real)
    far = hs_score(real + 0.2, real)
    assert 1.0 > near > far >= 0.0
    assert hs_score(np.zeros((200, 3)), real) < 0.2  # a frozen head


def test_lip_sync_proxy_follows_the_envelope():
    fps, sr, T = 25, 16000, 100
    t = np.arange(T) / fps
    opening = 0.2 + 0.15 * np.sin(2 * np.pi * 2 * t)
    lm = np.zeros((T, 68, 2))
    lm[:, 36], lm[:, 45] = (0, 0), (60, 0)
    lm[:, 62, 1], lm[:, 66, 1] = 100, 100 + 60 * opening
    env = np.repeat(0.05 + 0.2 * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t)), sr // fps)
    audio = (env * np.random.default_rng(0).uniform(-1, 1, env.size)).astype(np.float32)
    assert lip_sync_corr(lm, audio, fps, sr) > 0.8
    assert lip_sync_corr(lm, audio[::-1].copy(), fps, sr) < 0.3
    still = lm.copy()
    still[:, 66, 1] = 110
    assert lip_sync_corr(still, audio, fps, sr) == 0.0


def test_clip_container_checks():
    a = np.zeros((3, 32, 32, 3), np.uint8)
    with pytest.raises(AvsError):
        FaceImageClips(real=[a], fake=[a[:2]]).check()
    with pytest.raises(AvsError):
        FaceImageClips(real=[], fake=[]).check()
    base = face_image_baselines(FaceImageClips(real=[a, a + 1], fake=[a, a]))
    assert set(base) == {"still_first_frame", "other_clip"}
    np.testing.assert_array_equal(base["other_clip"][0], a + 1)
    assert FACE_IMAGE_SUITE.task == "face-image" and FACE_IMAGE_SUITE.directions == FACE_IMAGE_DIRECTIONS


@requires_face
def test_metrics_rank_ground_truth_above_baselines_on_real_clips():
    import cv2

    from avs.face.media import SAMPLE_RATE, iter_frames, read_audio

    real, audio = [], []
    for name in ("hdtf_WDA_KatieHill_000.mp4", "hdtf_WDA_BobMenendez_000.mp4"):
        path = sample_video(name)
        frames = [cv2.resize(f, (256, 256), interpolation=cv2.INTER_AREA)
                  for f in itertools.islice(iter_frames(path), 12)]
        real.append(np.stack(frames))
        audio.append(read_audio(path, 12)[0])
    clips = FaceImageClips(real=real, fake=[r.copy() for r in real], fps=25, audio=audio, sample_rate=SAMPLE_RATE)
    gt = FACE_IMAGE_SUITE.score(clips)
    assert gt["psnr"] == float("inf") and gt["ssim"] == pytest.approx(1.0)
    assert gt["lmd"] < 1e-3 and gt["pose_error_deg"] < 1e-3 and gt["hs"] == pytest.approx(1.0)
    assert gt["identity_cos"] > 0.99 and gt["face_found"] == 1.0
    rows = FACE_IMAGE_SUITE.baselines(clips)
    assert set(rows) == {"ground truth", "still_first_frame", "other_clip"}
    assert rows["ground truth"]["lmd"] == pytest.approx(gt["lmd"], abs=1e-6)
    assert all(np.isfinite(r["lip_sync_corr"]) for r in rows.values())
    assert rows["still_first_frame"]["identity_cos"] > 0.9  # same person, frozen
    assert rows["other_clip"]["identity_cos"] < rows["still_first_frame"]["identity_cos"]
    assert rows["other_clip"]["lmd"] > rows["still_first_frame"]["lmd"] > gt["lmd"]
    assert rows["other_clip"]["ssim"] < rows["still_first_frame"]["ssim"] < 1.0


@requires_face
def test_preview_renderer_draws_landmarks_side_by_side(tmp_path):
    from avs.face import FacePreviewRenderer, draw_landmarks, track_image
    from avs.video import probe_video, write_video
    from face_helpers import astronaut

    img = astronaut()
    tr = track_image(img)
    drawn = draw_landmarks(img, tr.lm68, tr.lm478)
    changed = np.any(drawn != img, axis=-1)
    x, y = np.round(tr.lm68[48]).astype(int)  # a mouth corner lies on a drawn curve
    assert changed[y - 1:y + 2, x - 1:x + 2].any()
    assert 0.005 < changed.mean() < 0.2
    meshed = draw_landmarks(img, None, tr.lm478, mesh_lines=True)
    assert np.any(meshed != img)
    frames = list(FacePreviewRenderer(gap=4).render([img] * 3, [img[::-1].copy()] * 3,
                                                    np.stack([tr.lm68] * 3), None))
    assert len(frames) == 3 and frames[0].shape == (512, 1028, 3)
    out = write_video(tmp_path / "preview.mp4", iter(frames), 25, 3)
    assert probe_video(out).num_frames == 3
