"""Recursive inference, landmark inputs and the audio→landmark path (no face tracker needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from avs.errors import AvsError
from avs_rdgan import inference
from avs_rdgan.audio2landmark import AudioToLandmarks, mel_for_frames, predict_displacements
from avs_rdgan.model import RDGenerator


def test_recursive_inference_gives_n_finite_frames(synth_train) -> None:
    clip = synth_train[0]
    g = RDGenerator(width=0.25)
    out = inference.recursive_frames(g, clip.crops[0], clip.lm[1:13], clip.crops[0])
    assert out.shape == (12, 128, 128, 3) and out.dtype == np.uint8
    assert len({out[i].tobytes() for i in range(12)}) > 1  # each step depends on its target and its seed


def test_recursion_feeds_each_output_into_the_next_step(synth_train) -> None:
    import torch

    clip = synth_train[0]
    calls = []

    class Spy(torch.nn.Module):
        def forward(self, face, edges, original):
            calls.append(face.clone())
            return face, face * 0.5

    out = inference.recursive_frames(Spy(), clip.crops[0], clip.lm[1:4], clip.crops[0])
    assert len(calls) == 3
    assert torch.allclose(calls[1], calls[0] * 0.5) and torch.allclose(calls[2], calls[0] * 0.25)
    assert out.shape == (3, 128, 128, 3)


def test_mel_for_frames_is_exactly_four_per_frame(speech: np.ndarray) -> None:
    n = int(round(len(speech) / 16000 * 25))
    assert mel_for_frames(speech, n).shape == (4 * n, 64)
    assert mel_for_frames(speech[:3000], 10).shape == (40, 64)


def test_predict_displacements_length_and_smoothing(speech: np.ndarray) -> None:
    m = AudioToLandmarks(64, 2)
    torch.manual_seed(0)
    m.weight.normal_()
    m.pattern.normal_()
    n = 250
    raw = predict_displacements(m, speech[:160000], n, smooth=1)
    smooth = predict_displacements(m, speech[:160000], n, smooth=5)
    assert raw.shape == smooth.shape == (n, 68, 2) and np.isfinite(smooth).all()
    assert np.abs(np.diff(smooth, axis=0)).mean() < np.abs(np.diff(raw, axis=0)).mean()


def test_landmarks_file_shapes(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    np.savez(good, landmarks=np.zeros((10, 68, 2), np.float32))
    assert inference.read_landmarks_file(good).shape == (10, 68, 2)
    only = tmp_path / "only.npz"
    np.savez(only, whatever=np.zeros((3, 68, 2)))
    assert inference.read_landmarks_file(only).shape == (3, 68, 2)
    for name, arr in {"wrong": np.zeros((10, 68, 3)), "flat": np.zeros((68, 2)), "few": np.zeros((10, 5, 2))}.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, landmarks=arr)
        with pytest.raises(AvsError, match=r"\(T, 68, 2\)"):
            inference.read_landmarks_file(path)
    nan = tmp_path / "nan.npz"
    np.savez(nan, landmarks=np.full((2, 68, 2), np.nan))
    with pytest.raises(AvsError, match="NaN"):
        inference.read_landmarks_file(nan)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"junk")
    with pytest.raises(AvsError, match="cannot read"):
        inference.read_landmarks_file(junk)


def test_relative_targets_start_at_the_photo(synth_train) -> None:
    clip = synth_train[0]
    photo_lm = clip.lm[0]
    driver = clip.lm[5:15] * 3.0 + 40.0  # another scale and place: normalised away
    rel = inference.targets_from_sequence(photo_lm, driver, "relative")
    assert rel.shape == (10, 68, 2) and np.allclose(rel[0], photo_lm, atol=1e-4)
    absolute = inference.targets_from_sequence(photo_lm, driver, "absolute")
    assert np.allclose(absolute, clip.lm[5:15], atol=1e-3)
    with pytest.raises(AvsError, match="landmarks_mode"):
        inference.targets_from_sequence(photo_lm, driver, "sideways")


def test_fit_frames_cuts_or_holds() -> None:
    seq = np.arange(5)[:, None, None] * np.ones((5, 68, 2))
    assert inference.fit_frames(seq, 3).shape[0] == 3
    held = inference.fit_frames(seq, 8)
    assert held.shape[0] == 8 and (held[5:] == 4).all()


def test_paste_puts_the_face_back(synth_train) -> None:
    from avs_rdgan.crop import crop_face

    photo = np.zeros((200, 180, 3), np.uint8)
    lm = synth_train[0].lm[0] + 30
    crop, clm, affine = crop_face(photo, lm, 128)
    white = np.full_like(crop, 255)
    out = inference.paste(photo, white, clm, affine)
    centre = np.rint(lm.mean(0)).astype(int)
    assert out.shape == photo.shape and out[centre[1], centre[0]].min() > 250 and out[0, 0].max() == 0


def test_warp_baseline_identity(synth_train) -> None:
    from avs_rdgan.evaluate import warp_baseline

    clip = synth_train[0]
    same = warp_baseline(clip.crops[0], clip.lm[0], clip.lm[0])
    assert np.abs(same.astype(int) - clip.crops[0]).mean() < 1.0
    moved = warp_baseline(clip.crops[0], clip.lm[0], clip.lm[20])
    assert moved.shape == (128, 128, 3) and not np.array_equal(moved, same)
