"""The SDT layout: reading, statistics (confidence-aware), the dataset, the front-end, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from avs.errors import AvsError
from avs_sdt.data import (
    MEL_FRAMES,
    WINDOW_SAMPLES,
    SDTDataset,
    compute_stats,
    melspectrogram,
    read_pose,
    split_pose,
)
from avs_sdt.keypoints import denormalise, reduce_to_121


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(src, dst)
    return dst


def _csv(root: Path, speaker: str = "speaker_a") -> Path:
    return root / speaker / "processed_137.csv"


def _first_clip(root: Path, speaker: str = "speaker_a") -> Path:
    rel = _csv(root, speaker).read_text().splitlines()[1].split(",")[4]
    return root / speaker / rel


def test_stats_are_per_speaker_and_set_the_template_count(sdt_root, sdt_stats, cfg_factory):
    st = sdt_stats
    assert [str(s) for s in st["speakers"]] == ["speaker_a", "speaker_b"]
    assert st["mean"].shape == (2, 242) and st["std"].shape == (2, 242) and st["neck"].shape == (2, 2)
    assert (st["std"] > 0).all()
    # the synthetic speakers have shoulders 260 and 200 px apart: scale = width / 331.085
    np.testing.assert_allclose(st["scale_factor"], [260 / 331.085, 200 / 331.085], rtol=0.01)
    cfg = cfg_factory()
    compute_stats(cfg, sdt_root)
    assert cfg.model.num_templates == 0  # compute_stats leaves the config alone
    from avs_sdt.method import SDTMethod

    impl = SDTMethod(cfg, st)  # the template table's size comes from the statistics
    assert impl.cfg.model.num_templates == impl.generator.num_templates == len(st["clip_speaker"]) > 0
    assert set(st["clip_speaker"].tolist()) == {0, 1}
    np.testing.assert_allclose(st["neck"], [[640, 250], [600, 285]], atol=1.0)


def test_low_confidence_keypoints_are_left_out_of_the_statistics(sdt_root, tmp_path, cfg_factory):
    root = _copy(sdt_root, tmp_path)
    path = _first_clip(root)
    before = compute_stats(cfg_factory(), root)
    with np.load(path) as f:
        pose, audio = f["pose"].copy(), f["audio"].copy()
    pose[:, 0, 100] += 5000.0  # a wild left-hand point ...
    pose[:, 2, 100] = 0.02  # ... that OpenPose was not sure about
    np.savez(path, pose=pose, audio=audio)
    after = compute_stats(cfg_factory(), root)
    np.testing.assert_allclose(after["mean"], before["mean"], atol=2.0)
    np.testing.assert_allclose(after["std"], before["std"], atol=2.0)
    pose[:, 2, 100] = 0.9  # the same point, confident: it now dominates the statistics
    np.savez(path, pose=pose, audio=audio)
    confident = compute_stats(cfg_factory(), root)
    assert abs(confident["mean"][0, 100 - 25 + 9 - 0] - before["mean"][0, 100 - 25 + 9]) > 50


def test_dataset_items_and_the_normalisation_round_trip(sdt_root, sdt_stats, cfg_factory):
    cfg = cfg_factory()
    train = SDTDataset(sdt_root, "train", sdt_stats, cfg)
    dev = SDTDataset(sdt_root, "dev", sdt_stats, cfg)
    test = SDTDataset(sdt_root, "test", sdt_stats, cfg)
    assert len(train) == len(sdt_stats["clip_speaker"]) and len(dev) > 0 and len(test) > 0
    item = train[3]
    assert item["mel"].shape == (80, MEL_FRAMES) and item["pose"].shape == (64, 242)
    assert item["template_index"] == 3  # a training clip's own template row
    # dev clips draw a training template of their own speaker, deterministically
    for i in range(len(dev)):
        row = int(dev[i]["template_index"])
        assert sdt_stats["clip_speaker"][row] == dev[i]["speaker"]
    assert [int(dev[i]["template_index"]) for i in range(len(dev))] == \
        [int(SDTDataset(sdt_root, "dev", sdt_stats, cfg)[i]["template_index"]) for i in range(len(dev))]
    # decoding a normalised clip gives back the neck-relative pixels on disk
    xy, _ = split_pose(read_pose(train.clips[3].npz))
    rel, _ = reduce_to_121(xy)
    s = int(item["speaker"])
    back = denormalise(item["pose"].astype(np.float64), sdt_stats["mean"][s], sdt_stats["std"][s],
                       float(sdt_stats["scale_factor"][s]), True)
    np.testing.assert_allclose(back, rel, atol=1e-3)
    batch = torch.utils.data.default_collate([train[0], train[1]])
    assert batch["pose"].shape == (2, 64, 242) and batch["template_index"].tolist() == [0, 1]


def test_mel_front_end_matches_a_torch_stft(speech):
    """80-band power mel, centred reflect-padded STFT (n_fft 512, win 400, hop 160), no log."""
    import librosa

    clip = speech[:WINDOW_SAMPLES]
    mel = melspectrogram(clip)
    assert mel.shape == (80, 427) and mel.dtype == np.float32 and (mel >= 0).all()
    window = torch.nn.functional.pad(torch.hann_window(400), (56, 56))
    spec = torch.stft(torch.from_numpy(clip), 512, 160, 512, window, center=True, pad_mode="reflect",
                      return_complex=True).abs() ** 2
    fb = librosa.filters.mel(sr=16000, n_fft=512, n_mels=80, fmin=55, fmax=7500, htk=True, norm=None)
    expected = fb @ spec.numpy()
    np.testing.assert_allclose(mel, expected, rtol=1e-3, atol=1e-3 * expected.max())


def test_mel_front_end_equals_librosa(speech):
    """The numpy front-end gives librosa.feature.melspectrogram's features (short clips too)."""
    import librosa

    for clip in (speech[:WINDOW_SAMPLES], speech[:200], speech[:3000]):
        want = librosa.feature.melspectrogram(
            y=clip, sr=16000, n_fft=512, hop_length=160, win_length=400, window="hann", center=True,
            pad_mode="reflect" if clip.size > 256 else "constant", power=2.0, n_mels=80, fmin=55, fmax=7500,
            htk=True, norm=None)
        np.testing.assert_allclose(melspectrogram(clip), want, rtol=1e-5, atol=1e-5 * want.max())


def test_val_labels_clips_csv_and_absolute_paths_are_accepted(sdt_root, tmp_path, cfg_factory):
    root = _copy(sdt_root, tmp_path)
    for speaker in ("speaker_a", "speaker_b"):
        src = _csv(root, speaker)
        lines = src.read_text().splitlines()
        out = [lines[0]]
        for line in lines[1:]:
            cells = line.split(",")
            cells[0] = "val" if cells[0] == "dev" else cells[0]
            cells[4] = str(root / speaker / cells[4])
            out.append(",".join(cells))
        (root / speaker / "clips.csv").write_text("\n".join(out) + "\n")
        src.unlink()
    cfg = cfg_factory()
    stats = compute_stats(cfg, root)
    assert len(SDTDataset(root, "dev", stats, cfg)) > 0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda line: line + ",extra,fields", "malformed row: 10 fields where the header has 8"),
        (lambda line: ",".join(line.split(",")[:3]), "malformed row: 3 fields"),
        (lambda line: "holdout" + line[len("train"):], "dataset 'holdout' is not one of"),
        (lambda line: ",".join(c if i != 4 else "" for i, c in enumerate(line.split(","))), "empty pose_fn"),
        (lambda line: ",".join(c if i != 4 else "clips/npz/nowhere.npz" for i, c in enumerate(line.split(","))),
         "pose files are missing"),
    ],
)
def test_malformed_csv_rows_are_one_line_errors(sdt_root, tmp_path, cfg_factory, edit, message):
    root = _copy(sdt_root, tmp_path)
    lines = _csv(root).read_text().splitlines()
    lines[2] = edit(lines[2])
    _csv(root).write_text("\n".join(lines) + "\n")
    with pytest.raises(AvsError, match=message) as err:
        compute_stats(cfg_factory(), root)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("pose", "shape"),
    [(np.zeros((64, 2, 137), np.float32), r"\(64, 2, 137\)"), (np.zeros((64, 3, 121), np.float32), r"\(64, 3, 121\)"),
     (np.zeros((32, 3, 137), np.float32), r"\(32, 3, 137\)"), (np.zeros((64, 121, 2), np.float32), r"\(64, 121, 2\)")],
)
def test_pose_arrays_of_the_wrong_shape_are_named(sdt_root, tmp_path, cfg_factory, pose, shape):
    root = _copy(sdt_root, tmp_path)
    path = _first_clip(root)
    np.savez(path, pose=pose, audio=np.zeros(WINDOW_SAMPLES, np.float32))
    with pytest.raises(AvsError, match=shape + r", expected \(64, 3, 137\)"):
        compute_stats(cfg_factory(), root)


def test_a_speaker_without_stats_able_data(sdt_root, tmp_path, cfg_factory):
    root = _copy(sdt_root, tmp_path)
    csv_path = _csv(root, "speaker_b")
    lines = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join([lines[0]] + [ln for ln in lines[1:] if not ln.startswith("train")]) + "\n")
    with pytest.raises(AvsError, match="speaker 'speaker_b' has no training clips"):
        compute_stats(cfg_factory(), root)
    root2 = _copy(sdt_root, tmp_path / "second")
    for line in _csv(root2).read_text().splitlines()[1:]:
        cells = line.split(",")
        if cells[0] == "train":
            path = root2 / "speaker_a" / cells[4]
            with np.load(path) as f:
                pose, audio = f["pose"].copy(), f["audio"].copy()
            pose[:, 2, 95:116] = 0.0  # the left hand is never detected
            np.savez(path, pose=pose, audio=audio)
    with pytest.raises(AvsError, match="speaker 'speaker_a': keypoint 79 .* cannot compute its statistics"):
        compute_stats(cfg_factory(), root2)


def test_missing_root_or_no_speakers(tmp_path, cfg_factory):
    with pytest.raises(AvsError, match="not found"):
        compute_stats(cfg_factory(), tmp_path / "nope")
    with pytest.raises(AvsError, match="no speaker folders"):
        compute_stats(cfg_factory(), tmp_path)
    with pytest.raises(AvsError, match="speaker folder .*ghost not found"):
        compute_stats(cfg_factory("data.speakers=[ghost]"), tmp_path)
