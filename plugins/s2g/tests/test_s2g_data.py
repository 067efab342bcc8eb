"""The speech2gesture layout: synthetic set, statistics, normalisation, and clear errors on bad data."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from avs.config import build_config
from avs.errors import AvsError
from avs.synth import default_speech_sources
from avs_s2g.config import S2GConfig
from avs_s2g.data import (
    MEL_FRAMES,
    REQUIRED_COLUMNS,
    S2GDataset,
    compute_stats,
    denormalise,
    normalise,
    read_window,
    to_neck_relative,
)
from avs_s2g.skeleton import EDGE_COLORS, EDGES, NON_NECK_FLAT, flat_to_keypoints, keypoints_to_flat
from avs_s2g.synth import NECK_POSITION, synthesize


def _cfg(speaker: str = ""):
    return build_config(S2GConfig, overrides=[f"data.speaker={speaker}"] if speaker else [])


def _write_set(root: Path, rows: list[dict], poses: dict[str, np.ndarray] | None = None) -> Path:
    """A hand-made data set: ``rows`` of train.csv; an npz for every pose_fn in ``poses``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, pose in (poses or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        np.savez(root / rel, pose=pose, audio=np.zeros(67267, np.float32))
    with open(root / "train.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(REQUIRED_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return root


def _row(split: str, name: str, speaker: str = "a") -> dict:
    return {"dataset": split, "start": 0, "end": 4.27, "interval_id": "i", "pose_fn": f"npz/{name}.npz",
            "audio_fn": "", "video_fn": "", "speaker": speaker}


def _pose(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(300, 50, (64, 98)).astype(np.float32)


def test_skeleton_layout() -> None:
    assert len(EDGES) == len(EDGE_COLORS) == 48
    assert {(3, 28), (6, 7), (0, 1), (0, 4), (7, 8), (28, 29), (47, 48)} <= set(EDGES)
    assert len(NON_NECK_FLAT) == 96 and 0 not in NON_NECK_FLAT and 49 not in NON_NECK_FLAT
    flat = np.arange(98.0)
    kp = flat_to_keypoints(flat)
    assert kp.shape == (49, 2) and tuple(kp[3]) == (3.0, 52.0)
    assert np.array_equal(keypoints_to_flat(kp), flat)


def test_synthetic_set_loads(synth_root: Path, synth_stats) -> None:
    cfg = _cfg()
    sizes = {}
    for split in ("train", "dev", "test"):
        ds = S2GDataset(synth_root, split, synth_stats, cfg)
        item = ds[0]
        assert item["mel"].shape == (MEL_FRAMES, 64) and item["mel"].dtype == np.float32
        assert item["pose"].shape == (64, 98) and item["pose"].dtype == np.float32
        assert np.isfinite(item["mel"]).all() and np.isfinite(item["pose"]).all()
        sizes[split] = len(ds)
    assert sizes["train"] >= 80 and sizes["dev"] >= 10 and sizes["test"] >= 10
    assert (synth_root / "README.txt").read_text().count("loudness") >= 2


def test_dev_and_test_hear_held_out_speech(synth_root: Path) -> None:
    with open(synth_root / "train.csv") as fh:
        rows = list(csv.DictReader(fh))
    sources = {s: {r["audio_fn"] for r in rows if r["dataset"] == s} for s in ("train", "dev", "test")}
    assert sources["train"].isdisjoint(sources["dev"] | sources["test"])


def test_stats(synth_root: Path, synth_stats) -> None:
    assert synth_stats["mean"].shape == (98,) and synth_stats["std"].shape == (98,)
    assert synth_stats["neck"].shape == (2,)
    assert synth_stats["neck"] == pytest.approx(list(NECK_POSITION), abs=1e-3)
    assert synth_stats["mean"][[0, 49]].tolist() == [0.0, 0.0]
    assert synth_stats["std"][[0, 49]].tolist() == [1.0, 1.0]
    assert (synth_stats["std"] > 0).all()
    # normalised training poses are standardised
    ds = S2GDataset(synth_root, "train", synth_stats, _cfg())
    flat = ds.pose.reshape(-1, 98)[:, list(NON_NECK_FLAT)]
    assert np.abs(flat.mean(axis=0)).max() < 1e-3
    assert flat.std(axis=0) == pytest.approx(1.0, abs=1e-3)


def test_normalisation_round_trip(synth_root: Path, synth_stats) -> None:
    pose, audio = read_window(next((synth_root / "npz").glob("*.npz")))
    assert audio.shape == (67267,)
    back = denormalise(normalise(pose, synth_stats), synth_stats)
    np.testing.assert_allclose(back, to_neck_relative(pose), atol=1e-3)
    assert np.abs(back[:, [0, 49]]).max() == 0.0


def test_reads_the_reference_pose_layouts(tmp_path: Path) -> None:
    """(64, 2, 49) and (64, 2, 52) (with nose and eyes) read like (64, 98)."""
    pose = _pose()
    with_face = np.insert(pose.reshape(64, 2, 49), [7, 7, 7], -1.0, axis=2)
    root = _write_set(tmp_path, [_row("train", "a"), _row("train", "b"), _row("dev", "c")],
                      {"npz/a.npz": pose.reshape(64, 2, 49), "npz/b.npz": with_face, "npz/c.npz": pose})
    stats = compute_stats(_cfg(), root)
    a, b = S2GDataset(root, "train", stats, _cfg())[0], S2GDataset(root, "train", stats, _cfg())[1]
    np.testing.assert_array_equal(a["pose"], b["pose"])
    np.testing.assert_array_equal(a["pose"], S2GDataset(root, "dev", stats, _cfg())[0]["pose"])


def test_absolute_pose_paths(tmp_path: Path) -> None:
    root = _write_set(tmp_path / "set", [_row("train", "a")], {"npz/a.npz": _pose()})
    row = _row("train", "a") | {"pose_fn": str(root / "npz" / "a.npz")}
    _write_set(root, [row])
    assert compute_stats(_cfg(), root)["mean"].shape == (98,)


def test_speaker_choice(tmp_path: Path) -> None:
    rows = [_row("train", "a", "jon"), _row("train", "b", "oliver"), _row("dev", "c", "oliver")]
    root = _write_set(tmp_path, rows, {f"npz/{n}.npz": _pose(i) for i, n in enumerate("abc")})
    with pytest.raises(AvsError, match=r"several speakers \(jon, oliver\).*data.speaker"):
        compute_stats(_cfg(), root)
    stats = compute_stats(_cfg("oliver"), root)
    assert len(S2GDataset(root, "dev", stats, _cfg("oliver"))) == 1
    with pytest.raises(AvsError, match=r"speaker 'rock' is not in .*present: jon, oliver"):
        compute_stats(_cfg("rock"), root)
    with pytest.raises(AvsError, match="no test rows"):
        S2GDataset(root, "test", stats, _cfg("oliver"))


def _error(fn, *args) -> str:
    with pytest.raises(AvsError) as info:
        fn(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_bad_roots(tmp_path: Path) -> None:
    assert "not found" in _error(compute_stats, _cfg(), tmp_path / "nowhere")
    assert "no train.csv" in _error(compute_stats, _cfg(), tmp_path)
    (tmp_path / "train.csv").write_text("dataset,start,pose_fn\ntrain,0,x.npz\n")
    msg = _error(compute_stats, _cfg(), tmp_path)
    assert "lacks column(s) end, interval_id" in msg
    (tmp_path / "train.csv").write_bytes(b"\xff\xfe\x00garbage\x00\xff")
    assert "cannot read" in _error(compute_stats, _cfg(), tmp_path)
    _write_set(tmp_path, [_row("valid", "a")])
    assert "dataset 'valid' is not one of train, dev, test" in _error(compute_stats, _cfg(), tmp_path)


def test_missing_npz_names_the_first_and_counts(tmp_path: Path) -> None:
    rows = [_row("train", "a"), _row("train", "b"), _row("train", "c")]
    root = _write_set(tmp_path, rows, {"npz/a.npz": _pose()})
    msg = _error(compute_stats, _cfg(), root)
    assert "2 of 3 train pose files are missing" in msg and str(root / "npz" / "b.npz") in msg


def test_bad_npz_contents(tmp_path: Path) -> None:
    root = _write_set(tmp_path, [_row("train", "a"), _row("dev", "b")],
                      {"npz/a.npz": _pose(), "npz/b.npz": np.zeros((64, 96), np.float32)})
    stats = compute_stats(_cfg(), root)
    assert "pose has shape (64, 96), expected (64, 98)" in _error(S2GDataset, root, "dev", stats, _cfg())
    np.savez(root / "npz" / "b.npz", pose=_pose())  # no audio
    assert "has no 'audio' array" in _error(S2GDataset, root, "dev", stats, _cfg())
    np.savez(root / "npz" / "b.npz", audio=np.zeros(10))  # no pose
    assert "has no 'pose' array" in _error(S2GDataset, root, "dev", stats, _cfg())
    (root / "npz" / "b.npz").write_bytes(b"not a zip")
    assert "b.npz" in _error(S2GDataset, root, "dev", stats, _cfg())
    assert "unknown split" in _error(S2GDataset, root, "val", stats, _cfg())


def test_synthesize_refuses_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert "not an empty folder" in _error(synthesize, tmp_path, None, 0)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_synthesize_small_and_deterministic(tmp_path: Path) -> None:
    """One variant per split is enough to check the layout and that a seed fixes the output."""
    sources = default_speech_sources()
    assert [p.name for p in sources] == ["librivox_0870.wav", "librivox_0890.wav"]
    (tmp_path / "empty").mkdir()
    summary = synthesize(tmp_path / "empty", None, 3, sources, train_variants=1, eval_variants=1)
    pattern = r"\d+ windows of 64 frames: train 9, dev 4, test \d+ \(dev/test: held-out recording librivox_0890"
    assert re.match(pattern, summary), summary
    synthesize(tmp_path / "again", None, 3, sources, train_variants=1, eval_variants=1)
    files = sorted(p.name for p in (tmp_path / "empty" / "npz").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "again" / "npz").iterdir())
    a = np.load(tmp_path / "empty" / "npz" / files[-1])
    b = np.load(tmp_path / "again" / "npz" / files[-1])
    np.testing.assert_array_equal(a["pose"], b["pose"])
    assert a["pose"].shape == (64, 98) and a["audio"].shape == (67267,) and a["audio"].dtype == np.float32
    assert "imgs" not in a.files
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
    shutil.rmtree(tmp_path / "again")


def test_large_splits_are_read_item_by_item(synth_root: Path, synth_stats, monkeypatch) -> None:
    in_memory = S2GDataset(synth_root, "dev", synth_stats, _cfg())
    monkeypatch.setattr("avs_s2g.data.PRECOMPUTE_LIMIT", 4)
    lazy = S2GDataset(synth_root, "dev", synth_stats, _cfg())
    assert not lazy.in_memory and len(lazy) == len(in_memory)
    for i in (0, len(lazy) - 1):
        np.testing.assert_array_equal(lazy[i]["mel"], in_memory[i]["mel"])
        np.testing.assert_array_equal(lazy[i]["pose"], in_memory[i]["pose"])
