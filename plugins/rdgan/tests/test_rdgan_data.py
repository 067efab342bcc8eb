"""Crops, pairs, items and the two on-disk formats (prepared face data, CK+-style sequences)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from avs.errors import AvsError
from avs_rdgan import data
from avs_rdgan.crop import crop_face, from_unit, to_unit


def test_crop_is_aspect_preserving_and_zero_padded() -> None:
    image = np.full((200, 300, 3), 200, np.uint8)
    lm = np.zeros((68, 2), np.float32)
    lm[:, 0] = np.linspace(100, 200, 68)  # box 100 wide, 50 high
    lm[:, 1] = np.linspace(60, 110, 68)
    crop, clm, affine = crop_face(image, lm, 128)
    assert crop.shape == (128, 128, 3)
    assert clm[:, 0].min() == pytest.approx(0, abs=1e-3) and clm[:, 0].max() == pytest.approx(128, abs=1e-3)
    assert clm[:, 1].min() == pytest.approx(32, abs=1e-3) and clm[:, 1].max() == pytest.approx(96, abs=1e-3)
    assert crop[:30].max() == 0 and crop[98:].max() == 0  # zero padding above and below
    assert crop[40:90, 5:120].min() == 200
    assert affine[0, 0] == pytest.approx(1.28) and affine[1, 1] == pytest.approx(1.28)


def test_unit_range_round_trip() -> None:
    img = np.arange(128 * 128 * 3, dtype=np.uint32).reshape(128, 128, 3).astype(np.uint8)
    x = to_unit(img)
    assert x.shape == (3, 128, 128) and x.min() >= -1 and x.max() <= 1
    assert np.array_equal(from_unit(x), img)


def test_prepared_clips_pairs_and_items(synth_root: Path, synth_train) -> None:
    index = json.loads((synth_root / "index.json").read_text())
    assert len(synth_train) == len(index["videos"])
    clip = synth_train[0]
    assert clip.crops.shape == (55, 128, 128, 3) and clip.lm.shape == (55, 68, 2)
    assert clip.mel.shape == (4 * 55, 64) and clip.audio.shape == (55 * 640,)
    assert np.allclose(clip.disp.mean(0), 0, atol=1e-5)
    assert clip.lm.min() >= -0.5 and clip.lm.max() <= 128.5
    pairs = data.training_pairs(synth_train)
    assert len(pairs) == sum(c.num_frames * (c.num_frames - 1) // 2 for c in synth_train)
    assert (pairs[:, 2] > pairs[:, 1]).all()
    assert (np.abs(data.training_pairs(synth_train, max_gap=5)[:, 2] - data.training_pairs(synth_train, 5)[:, 1])
            <= 5).all()
    tests = data.test_pairs(synth_train, per_clip=4)
    assert len(tests) == 4 * len(synth_train) and (tests[:, 1] == 0).all()
    ds = data.PairDataset(synth_train, pairs, a2l_frames=16)
    item = ds[123]
    assert item["left"].shape == item["right_edges"].shape == (3, 128, 128)
    assert item["mel"].shape == (64, 64) and item["disp"].shape == (16, 68, 2) and item["has_audio"] == 1.0
    assert set(np.unique(item["left_edges"])) <= {-1.0, 1.0}


def test_splits_do_not_overlap(synth_root: Path) -> None:
    segs = {s: data.prepared_segments(synth_root, s) for s in ("train", "dev", "test")}
    for (n1, _a1, b1), (n2, a2, _b2) in zip(segs["train"], segs["test"], strict=True):
        assert n1 == n2 and b1 <= a2
    with pytest.raises(AvsError, match="split"):
        data.prepared_segments(synth_root, "holdout")


def test_not_face_data(tmp_path: Path, tiny_cfg) -> None:
    with pytest.raises(AvsError, match="not found"):
        data.load_clips(tmp_path / "missing", "train", tiny_cfg)
    with pytest.raises(AvsError, match="neither index.json"):
        data.load_clips(tmp_path, "train", tiny_cfg)


def _write_ckplus(root: Path, synth_root: Path, subjects: int = 4) -> None:
    """CK+ layout: cohn-kanade-images/Sxxx/001/*.png + Landmarks/Sxxx/001/*_landmarks.txt (grey PNGs)."""
    import imageio.v3 as iio

    frames = data.read_video_frames(synth_root / "synth_00" / "frames.mp4", 0, 6)
    with np.load(synth_root / "synth_00" / "track.npz") as t:
        lm = t["lm68"][:6]
    for s in range(subjects):
        for i in range(6):
            name = f"S{s:03d}_001_{i + 1:08d}"
            img_dir = root / "cohn-kanade-images" / f"S{s:03d}" / "001"
            lm_dir = root / "Landmarks" / f"S{s:03d}" / "001"
            img_dir.mkdir(parents=True, exist_ok=True)
            lm_dir.mkdir(parents=True, exist_ok=True)
            iio.imwrite(img_dir / f"{name}.png", frames[i].mean(-1).astype(np.uint8))
            np.savetxt(lm_dir / f"{name}_landmarks.txt", lm[i], fmt="%.7e")


def test_ckplus_style_sequences(tmp_path: Path, synth_root: Path, tiny_cfg) -> None:
    _write_ckplus(tmp_path, synth_root)
    train = data.load_clips(tmp_path, "train", tiny_cfg)
    test = data.load_clips(tmp_path, "test", tiny_cfg)
    assert [c.name for c in train] == ["S000/001", "S001/001"] and [c.name for c in test] == ["S003/001"]
    assert train[0].crops.shape == (6, 128, 128, 3) and train[0].mel is None
    ds = data.PairDataset(train, data.training_pairs(train), 4)
    assert len(ds) == 2 * 15 and ds[0]["has_audio"] == 0.0


def test_landmark_text_files(tmp_path: Path) -> None:
    good = tmp_path / "a_landmarks.txt"
    np.savetxt(good, np.arange(136, dtype=float).reshape(68, 2), fmt="%.7e")
    assert data.read_landmarks_txt(good).shape == (68, 2)
    bad = tmp_path / "b_landmarks.txt"
    np.savetxt(bad, np.zeros((5, 2)))
    with pytest.raises(AvsError, match="68 rows"):
        data.read_landmarks_txt(bad)


@pytest.mark.parametrize("kind", ["grey", "grey16", "rgba", "rgb16", "float"])
def test_photos_are_converted_to_rgb_uint8(tmp_path: Path, kind: str) -> None:
    import imageio.v3 as iio

    rng = np.random.default_rng(0)
    arrays = {
        "grey": rng.integers(0, 256, (20, 30), dtype=np.uint8),
        "grey16": rng.integers(0, 65536, (20, 30), dtype=np.uint16),
        "rgba": rng.integers(0, 256, (20, 30, 4), dtype=np.uint8),
        "rgb16": rng.integers(0, 65536, (20, 30, 3), dtype=np.uint16),
        "float": rng.uniform(0, 1, (20, 30, 3)).astype(np.float32),
    }
    path = tmp_path / (f"{kind}.tiff" if kind in ("float", "rgb16") else f"{kind}.png")
    iio.imwrite(path, arrays[kind])
    image = data.load_image_rgb(path)
    assert image.shape == (20, 30, 3) and image.dtype == np.uint8
    if kind == "grey16":
        assert abs(int(image[0, 0, 0]) - int(arrays[kind][0, 0]) // 257) <= 1


def test_unreadable_photo(tmp_path: Path) -> None:
    bad = tmp_path / "x.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(AvsError, match="cannot read image"):
        data.load_image_rgb(bad)
