"""3D-ETF-style data: RAVDESS names, pairing, layouts, checks, statistics and the synthetic set."""

from __future__ import annotations

import math
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from avs.audio import write_wav
from avs.errors import AvsError
from avs_emotalk.arkit import EMOTIONS, EYES_BROWS, INDEX, MOUTH_JAW
from avs_emotalk.data import EmoTalkDataset, compute_stats, find_clips, make_pairs, parse_ravdess
from avs_emotalk.synth import EMOTION_AUDIO, apply_emotion, audio_to_blendshapes, person_offsets


def _clip(folder: Path, stem: str, seconds: float = 1.0, frames: int | None = None, width: int = 52,
          npy_dir: Path | None = None) -> None:
    """A wav of noise and an .npy of matching length (or as given)."""
    rng = np.random.default_rng(zlib.crc32(stem.encode()))
    write_wav(folder / f"{stem}.wav", rng.uniform(-0.3, 0.3, int(seconds * 16000)).astype(np.float32), 16000)
    t = math.ceil(seconds * 30) if frames is None else frames
    (npy_dir or folder).mkdir(parents=True, exist_ok=True)
    np.save((npy_dir or folder) / f"{stem}.npy", rng.uniform(0, 1, (t, width)).astype(np.float32))


def test_parse_ravdess() -> None:
    name = parse_ravdess("03-01-05-02-01-01-12")
    assert name is not None and (name.emotion, name.intensity, name.statement, name.actor) == (5, 2, 1, 12)
    assert name.stem() == "03-01-05-02-01-01-12"
    assert parse_ravdess("speaker_clip_3") is None and parse_ravdess("03-01-05-02-01-01") is None
    with pytest.raises(AvsError, match="actor 25"):
        parse_ravdess("03-01-05-02-01-01-25")
    with pytest.raises(AvsError, match="emotion code 09"):
        parse_ravdess("03-01-09-01-01-01-01")


def test_pairs_need_all_four_clips(tmp_path, small_cfg) -> None:
    """Actor 1: statements 1, 2 × emotions happy (03), sad (04): one pair each way; a lone clip is self-only."""
    root = tmp_path / "d"
    root.mkdir()
    for s in (1, 2):
        for e in (3, 4):
            _clip(root, f"03-01-{e:02d}-01-{s:02d}-01-01", seconds=0.5 + 0.1 * s + 0.05 * e)
    _clip(root, "03-01-05-01-01-01-01")  # angry, statement 1 only: no partner
    _clip(root, "hdtf_speaker", seconds=0.6)  # not a RAVDESS name
    clips = find_clips(root, "train", small_cfg)
    pairs = make_pairs(clips)
    cross = [p for p in pairs if p.is_cross]
    assert len(cross) == 2 and len(pairs) == 4
    by_name = {c.wav.stem: i for i, c in enumerate(clips)}
    first = cross[0]  # e1 = happy, e2 = sad: inputs A(c1, sad), A(c2, happy)
    assert clips[first.a.clip].wav.stem == "03-01-04-01-01-01-01"
    assert clips[first.b.clip].wav.stem == "03-01-03-01-02-01-01"
    assert first.ab.clip == by_name["03-01-03-01-01-01-01"] and first.ba.clip == by_name["03-01-04-01-02-01-01"]
    lone = [p for p in pairs if not p.is_cross]
    assert {clips[p.a.clip].wav.stem for p in lone} == {"03-01-05-01-01-01-01", "hdtf_speaker"}
    item = EmoTalkDataset(root, "train", small_cfg)[0]
    assert item["emotion_a"] == EMOTIONS.index("sad") and item["emotion_b"] == EMOTIONS.index("happy")
    assert item["level"] == 0 and item["person"] == 0
    assert item["bs_a"].shape == (clips[first.a.clip].num_frames, 52)


def test_npy_tree_and_actor_split(tmp_path, small_cfg) -> None:
    root = tmp_path / "etf"
    for actor in (1, 2, 3):
        _clip(root / "wav" / "RAVDESS", f"03-01-01-01-01-01-{actor:02d}", npy_dir=root / "npy" / "RAVDESS")
    small_cfg.data.dev_actors = [2]
    small_cfg.data.test_actors = [3]
    assert [c.name.actor for c in find_clips(root, "train", small_cfg)] == [1]
    assert [c.name.actor for c in find_clips(root, "dev", small_cfg)] == [2]
    assert find_clips(root, "test", small_cfg)[0].npy == root / "npy" / "RAVDESS" / "03-01-01-01-01-01-03.npy"


def test_long_unnamed_clips_are_cut(tmp_path, small_cfg) -> None:
    root = tmp_path / "hdtf"
    root.mkdir()
    _clip(root, "long", seconds=5.0)  # 150 frames
    small_cfg.data.max_frames = 60
    ds = EmoTalkDataset(root, "train", small_cfg)
    assert [(p.a.start, p.a.stop) for p in ds.items] == [(0, 50), (50, 100), (100, 150)]
    item = ds[1]
    assert item["bs_a"].shape == (50, 52) and abs(item["audio_a"].size - 50 * 16000 / 30) <= 1


@pytest.mark.parametrize(("frames", "width", "message"), [
    (30, 51, r"shape \(30, 51\)"),
    (34, 52, "more than 2 frames apart"),
    (27, 52, "more than 2 frames apart"),
])
def test_bad_npy_is_a_user_error(tmp_path, small_cfg, frames: int, width: int, message: str) -> None:
    root = tmp_path / "bad"
    root.mkdir()
    _clip(root, "03-01-01-01-01-01-01", seconds=1.0, frames=frames, width=width)
    with pytest.raises(AvsError, match=message):
        find_clips(root, "train", small_cfg)


def test_two_frames_of_slack_are_accepted(tmp_path, small_cfg) -> None:
    root = tmp_path / "ok"
    root.mkdir()
    _clip(root, "a", seconds=1.0, frames=32)
    assert find_clips(root, "train", small_cfg)[0].num_frames == 32


def test_missing_npy_and_splits(tmp_path, small_cfg) -> None:
    root = tmp_path / "m"
    root.mkdir()
    write_wav(root / "x.wav", np.zeros(16000, np.float32), 16000)
    with pytest.raises(AvsError, match="no matching .npy"):
        find_clips(root, "train", small_cfg)
    with pytest.raises(AvsError, match="data folder not found"):
        find_clips(tmp_path / "nowhere", "train", small_cfg)
    (tmp_path / "s" / "train").mkdir(parents=True)
    with pytest.raises(AvsError, match="no dev/ folder"):
        find_clips(tmp_path / "s", "dev", small_cfg)
    with pytest.raises(AvsError, match="no train clips"):
        find_clips(tmp_path / "s", "train", small_cfg)


def test_pickled_npy_is_refused(tmp_path, small_cfg) -> None:
    root = tmp_path / "p"
    root.mkdir()
    write_wav(root / "x.wav", np.zeros(16000, np.float32), 16000)
    np.save(root / "x.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(AvsError, match="cannot read blendshapes"):
        find_clips(root, "train", small_cfg)


def test_synthetic_set_layout_and_pairs(synth_root, small_cfg, synth_stats) -> None:
    for split, statements in (("train", 13), ("dev", 2), ("test", 2)):
        clips = find_clips(synth_root, split, small_cfg)
        assert len(clips) == statements * 2 * 8  # 2 actors, 8 emotions, normal intensity
        for c in clips[:5]:
            assert c.num_frames == math.ceil(30 * sf.info(str(c.wav)).duration - 1e-6)
    train = EmoTalkDataset(synth_root, "train", small_cfg)
    # per actor: C(13, 2) statement pairs × 8 · 7 ordered emotion pairs
    assert sum(p.is_cross for p in train.items) == 2 * 78 * 56 == len(train)
    assert synth_stats["mean"].shape == (52,) and int(synth_stats["clips"][0]) == 208
    assert (synth_root / "README.txt").read_text().count("jawOpen") >= 1
    # dev and test hear statements that training never heard
    assert {c.name.statement for c in find_clips(synth_root, "dev", small_cfg)}.isdisjoint(
        {c.name.statement for c in train.clips})


def test_synthetic_faces_follow_audio_and_emotion(speech) -> None:
    y = speech[16000:48000]
    neutral = audio_to_blendshapes(apply_emotion(y, "neutral", False), "neutral", False, 1)
    happy = audio_to_blendshapes(apply_emotion(y, "happy", False), "happy", False, 1)
    strong = audio_to_blendshapes(apply_emotion(y, "happy", True), "happy", True, 1)
    smile = INDEX["mouthSmileLeft"]
    assert happy[:, smile].mean() > neutral[:, smile].mean() + 0.3
    assert strong[:, smile].mean() > happy[:, smile].mean() + 0.1
    assert neutral.shape[0] == math.ceil(y.size / 16000 * 30)
    assert happy.shape[0] < neutral.shape[0]  # happy speaks faster (tempo 1.1)
    silence = audio_to_blendshapes(np.zeros(16000, np.float32), "neutral", False, 1)
    assert neutral[:, INDEX["jawOpen"]].std() > 0.05 and silence[:, INDEX["jawOpen"]].max() < 0.01
    assert 0 <= neutral.min() and neutral.max() <= 1
    assert not np.allclose(person_offsets(1), person_offsets(2))
    assert set(EMOTION_AUDIO) == set(EMOTIONS)
    assert len(MOUTH_JAW) == 28 and len(EYES_BROWS) == 19


def test_compute_stats(synth_root, small_cfg) -> None:
    stats = compute_stats(small_cfg, synth_root)
    clips = find_clips(synth_root, "train", small_cfg)
    all_frames = np.concatenate([np.load(c.npy) for c in clips])
    np.testing.assert_allclose(stats["mean"], all_frames.mean(0), atol=1e-5)
    assert int(stats["frames"][0]) == all_frames.shape[0]
