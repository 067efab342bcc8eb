"""RD-GAN through core: the trainer (one dual-training epoch lowers the losses), predict on a real photo
with the bundled weights, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from avs.errors import AvsError

TINY = ["model.width=0.25", "train.batch_size=2", "data.a2l_frames=16", "data.test_pairs=2", "train.device=cpu",
        "train.seed=0"]


@pytest.fixture(scope="module")
def method():
    from avs.plugins import discover

    return discover().get("rdgan")


@pytest.fixture(scope="module")
def astronaut_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scikit-image's astronaut (Eileen Collins, NASA, public domain) as a PNG."""
    import imageio.v3 as iio
    import skimage.data

    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    iio.imwrite(path, skimage.data.astronaut())
    return path


def _face_extra() -> bool:
    try:
        from avs.face.deps import face_mesh_module

        face_mesh_module()
    except Exception:
        return False
    return True


needs_face = pytest.mark.skipif(not _face_extra(), reason="the face extra (MediaPipe, dlib) is not installed")


def test_one_dual_training_epoch_lowers_the_losses(method, synth_root: Path, tmp_path: Path) -> None:
    from avs.config import build_config
    from avs.train import Trainer
    from avs_rdgan import losses

    cfg = build_config(method.config_class, overrides=[*TINY, "train.epochs=1", "train.iterations_per_epoch=8",
                                                       "optim.lr=2e-3"])
    impl_class = method.impl_class()
    stats = impl_class.compute_stats(cfg, synth_root)
    train = impl_class(cfg, stats).build_dataset(synth_root, "train")
    batch = torch.utils.data.default_collate([train[i] for i in range(0, len(train), len(train) // 8)][:8])

    def measure(impl) -> float:
        impl.set_mode(True)
        with torch.no_grad():
            _, logs = losses.generator_loss(impl.generator, None, batch, cfg)
        return logs["l1"] + logs["l1_seed"]

    torch.manual_seed(0)
    before = measure(impl_class(cfg, stats))
    trainer = Trainer(method, cfg, synth_root, tmp_path / "run")
    trainer.fit()
    after = measure(trainer._impl())
    assert after < 0.9 * before, (before, after)
    assert (tmp_path / "run" / "last.safetensors").is_file()


def test_fitted_audio_model_beats_no_motion_on_held_out_synthetic_speech(method, synth_root: Path) -> None:
    """The closed-form audio→landmark fit (compute_stats) on the synthetic set, whose mouths open with the
    speech's loudness: on the test split it beats zero displacement and its mouth follows the real one."""
    from avs.config import build_config
    from avs_rdgan import data
    from avs_rdgan.audio2landmark import predict_displacements
    from avs_rdgan.evaluate import audio_landmark_metrics

    cfg = build_config(method.config_class, overrides=TINY)
    stats = method.impl_class().compute_stats(cfg, synth_root)
    assert stats["a2l_weight"].any() and stats["a2l_lambda"][0] in cfg.model.a2l_lambdas
    impl = method.impl_class()(cfg, stats)
    segs = []
    for clip in data.load_clips(synth_root, "test", cfg):
        d = predict_displacements(impl.audio2landmark, clip.audio, clip.num_frames)
        rms = np.sqrt(np.mean(np.square(clip.audio.reshape(-1, 640)), axis=1))
        segs.append((d - d.mean(0), clip.disp - clip.disp.mean(0), rms))
    m = audio_landmark_metrics(segs)
    assert m["a2l_l1_px"] < 0.9 * m["a2l_l1_px_static"], m
    assert m["a2l_mouth_corr"] > 0.5 and m["a2l_open_rms_corr"] > 0.3, m


def test_optimisers_and_schedule(method) -> None:
    from avs.config import build_config

    cfg = build_config(method.config_class, overrides=TINY)
    impl = method.impl_class()(cfg, {})
    opts = impl.configure_optimizers()
    assert set(opts) == {"generator", "discriminator"}
    assert all(isinstance(o, torch.optim.RMSprop) for o in opts.values())
    assert opts["discriminator"].param_groups[0]["weight_decay"] == pytest.approx(5e-4)
    assert opts["generator"].param_groups[0]["lr"] == pytest.approx(1e-4)
    assert impl.lr_scale(1, 0) == 1.0
    assert impl.lr_scale(3, 2000) == pytest.approx(0.9)
    assert impl.lr_scale(9, 4000) == pytest.approx(0.81)


@needs_face
def test_predict_astronaut_with_bundled_weights(method, astronaut_png: Path, speech: np.ndarray,
                                                tmp_path: Path) -> None:
    from avs.audio import write_wav
    from avs.predict import predict_to_video
    from avs.video import probe_video

    if method.default_checkpoint is None:
        pytest.skip("no bundled rdgan checkpoint")
    wav = write_wav(tmp_path / "speech.wav", speech[: int(1.3 * 16000)], 16000)
    out = tmp_path / "talk.mp4"
    result = predict_to_video(method, wav, method.default_checkpoint, out, inputs={"face": astronaut_png})
    assert result.num_frames == round(1.3 * 25) == result.motion.num_frames
    info = probe_video(out)
    assert info.num_frames == result.num_frames and info.fps == pytest.approx(25.0)
    frames = result.motion.data
    assert frames.shape[1:] == (128, 128, 3) and np.isfinite(frames.astype(float)).all()
    assert frames.std(axis=0).mean() > 0.05  # recursive frames change over time
    lm = result.motion.extras["landmarks"]
    gap = lm[:, 66, 1] - lm[:, 62, 1]
    assert gap.max() - gap.min() > 0.5  # the speech moves the target mouth (crop pixels)


@pytest.fixture(scope="module")
def bundled_impl(method):
    from avs.checkpoint import load_impl

    if method.default_checkpoint is None:
        pytest.skip("no bundled rdgan checkpoint")
    return load_impl(method, method.default_checkpoint, [])


@needs_face
@pytest.mark.parametrize("kind", ["grey", "rgba", "16-bit"])
def test_photo_formats_are_converted(bundled_impl, astronaut_png: Path, tmp_path: Path, kind: str) -> None:
    import imageio.v3 as iio

    image = iio.imread(astronaut_png)
    converted = {"grey": image.mean(-1).astype(np.uint8),
                 "rgba": np.dstack([image, np.full(image.shape[:2], 255, np.uint8)]),
                 "16-bit": image.astype(np.uint16) * 257}[kind]
    path = tmp_path / (f"{kind}.tiff" if kind == "16-bit" else f"{kind}.png")
    iio.imwrite(path, converted)
    motion = bundled_impl.predict(np.zeros(16000 // 5, np.float32), {"face": path})
    assert motion.num_frames == 5


@needs_face
def test_bad_photos_and_landmarks(bundled_impl, astronaut_png: Path, tmp_path: Path) -> None:
    import cv2
    import imageio.v3 as iio

    audio = np.zeros(16000 // 5, np.float32)
    with pytest.raises(AvsError, match="needs a face photo"):
        bundled_impl.predict(audio, {})
    blank = tmp_path / "blank.png"
    iio.imwrite(blank, np.full((200, 200, 3), 128, np.uint8))
    with pytest.raises(AvsError, match="no face found"):
        bundled_impl.predict(audio, {"face": blank})
    tiny = tmp_path / "tiny.png"
    iio.imwrite(tiny, cv2.resize(iio.imread(astronaut_png), (150, 150), interpolation=cv2.INTER_AREA))
    with pytest.raises(AvsError, match="too small|no face found"):
        bundled_impl.predict(audio, {"face": tiny})
    bad = tmp_path / "bad.npz"
    np.savez(bad, landmarks=np.zeros((5, 68, 3)))
    with pytest.raises(AvsError, match=r"\(T, 68, 2\)"):
        bundled_impl.predict(audio, {"face": astronaut_png, "landmarks": bad})


@needs_face
def test_landmarks_file_drives_the_photo(bundled_impl, astronaut_png: Path, tmp_path: Path) -> None:
    import imageio.v3 as iio

    from avs.face import track_image

    lm = track_image(iio.imread(astronaut_png)).lm68
    seq = np.repeat(lm[None], 8, 0).astype(np.float32)
    seq[4:, 57, 1] += 15  # open the mouth in the second half
    seq[4:, 66, 1] += 12
    path = tmp_path / "seq.npz"
    np.savez(path, landmarks=seq)
    motion = bundled_impl.predict(np.zeros(16000 // 5, np.float32), {"face": astronaut_png, "landmarks": path})
    assert motion.num_frames == 5  # round(0.2 s · 25): the audio sets the length
    lm_out = motion.extras["landmarks"]
    assert (lm_out[4, 66, 1] - lm_out[4, 62, 1]) > (lm_out[0, 66, 1] - lm_out[0, 62, 1]) + 3
