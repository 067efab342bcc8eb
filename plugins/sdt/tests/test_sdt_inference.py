"""Template selection, prediction on long audio, evaluation (FTD and its refusal), rendering."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avs.checkpoint import save_checkpoint
from avs.errors import AvsError
from avs.motion import Motion
from avs.plugins import discover
from avs_sdt.data import SDTDataset, compute_stats
from avs_sdt.evaluation import ftd
from avs_sdt.inference import (
    choose_template,
    evaluate,
    mean_pose_baseline,
    predict,
    predict_clips,
    predict_normalised,
)
from avs_sdt.keypoints import DROPPED_137, KEPT_137
from avs_sdt.method import with_template_count
from avs_sdt.model import build_generator
from avs_sdt.render import build_renderer, pair_frames

GESTURE_SUITE = {"l1_px", "pck@0.1", "pck@0.2", "bc_beat_sigma0.3s", "beat_align_aist_sigma3f", "l1div_px"}
"""Keys of core's gesture suite (avs.evaluation.gesture_metrics) that sdt's evaluate reports too."""


@pytest.fixture(scope="module")
def bp(sdt_root, cfg_factory_module):
    """A tiny SDT-BP generator whose template row i is i·(1, 1, …) (distinct, recognisable)."""
    cfg = cfg_factory_module()
    stats = compute_stats(cfg, sdt_root)
    cfg = with_template_count(cfg, stats)
    torch.manual_seed(0)
    G = build_generator(cfg).eval()
    with torch.no_grad():
        G.templates.copy_(torch.arange(len(G.templates), dtype=torch.float32)[:, None].expand(-1, 32))
    return G, cfg, stats


@pytest.fixture(scope="module")
def cfg_factory_module():
    from avs.config import build_config
    from avs_sdt.config import SDTConfig

    def make(*overrides: str):
        return build_config(SDTConfig, overrides=["model.width=16", "pca_plot=", "ftd=false", *overrides])

    return make


def _with(cfg, **values):
    out = cfg.copy()
    for key, value in values.items():
        setattr(out, key, value)
    return out


def test_random_training_template_is_seeded_and_of_the_speaker(bp):
    G, cfg, stats = bp
    table = G.templates.detach().numpy()
    rows_b = set(np.flatnonzero(stats["clip_speaker"] == 1).tolist())
    picks = {int(choose_template(_with(cfg, seed=s), stats, table, 1)[0]) for s in range(12)}
    assert picks <= rows_b and len(picks) > 1  # speaker b's own templates, varying with the seed
    a = choose_template(_with(cfg, seed=3), stats, table, 1)
    np.testing.assert_array_equal(a, choose_template(_with(cfg, seed=3), stats, table, 1))


def test_normal_index_and_interpolation(bp):
    G, cfg, stats = bp
    table = G.templates.detach().numpy()
    code = choose_template(_with(cfg, template="normal", seed=5), stats, table, 0)
    np.testing.assert_array_equal(code, np.random.default_rng(5).standard_normal(32).astype(np.float32))
    np.testing.assert_array_equal(choose_template(_with(cfg, template_index=4), stats, table, 0), table[4])
    mixed = choose_template(_with(cfg, template_index=4, template_index_b=8, alpha=0.25), stats, table, 0)
    np.testing.assert_allclose(mixed, 0.75 * table[4] + 0.25 * table[8])


@pytest.mark.parametrize(
    ("options", "message"),
    [({"template_index": 10_000}, "out of range"), ({"template_index_b": 2}, "needs template_index"),
     ({"template": "normal", "template_index": 1}, "either template_index or template=normal"),
     ({"template": "gt"}, "for avs evaluate, not predict"), ({"template": "mean"}, "must be one of")],
)
def test_bad_template_options(bp, options, message):
    G, cfg, stats = bp
    with pytest.raises(AvsError, match=message):
        choose_template(_with(cfg, **options), stats, G.templates.detach().numpy(), 0)


def test_predict_gives_137_keypoints_for_any_length(bp, speech):
    G, cfg, stats = bp
    audio = speech[: int(16000 * 9.3)]  # several overlapping windows
    motion = predict(G, audio, _with(cfg, speaker="speaker_b"), stats)
    assert motion.fps == 15 and motion.data.shape == (int(15 * audio.size) // 16000, 137, 2)
    assert np.isnan(motion.data[:, list(DROPPED_137)]).all() and np.isfinite(motion.data[:, list(KEPT_137)]).all()
    np.testing.assert_allclose(motion.data[:, 1], np.broadcast_to(stats["neck"][1], (len(motion.data), 2)))
    short = predict(G, speech[:8000], cfg, stats)  # half a second: padded to the generator's 32 frames, cropped
    assert short.data.shape == (7, 137, 2)
    with pytest.raises(AvsError, match="not in this checkpoint"):
        predict(G, audio, _with(cfg, speaker="nobody"), stats)


def test_a_single_window_equals_the_network_output(bp, speech):
    from avs_sdt.data import melspectrogram

    G, cfg, _ = bp
    clip = speech[:68267]  # 64.0 frames at 15 fps
    code = np.full(32, 2.0, np.float32)
    ours = predict_normalised(G, clip, cfg, code)
    with torch.no_grad():
        mel = torch.from_numpy(melspectrogram(clip[:68266]))[None]  # the clip length of the data
        direct = G(mel, 64, torch.from_numpy(code)[None])[0].numpy()
    np.testing.assert_allclose(ours, direct, atol=1e-5)


@pytest.mark.parametrize("frames", [44, 150])
def test_a_short_clip_is_one_pass_over_the_exact_clip(bp, speech, frames):
    """As the reference demo: the clip's own audio (int(T · 16000 / 15) samples) through the generator
    once; no padding to a training window (instance norm would see the padding)."""
    from avs_sdt.data import melspectrogram

    G, cfg, _ = bp
    assert cfg.infer.window_frames == 360  # 24 s, the reference's MAX_DEMO_LENGTH
    audio = speech[: int(frames * 16000 / 15) + 11]
    code = np.full(32, 3.0, np.float32)
    ours = predict_normalised(G, audio, cfg, code)
    with torch.no_grad():
        mel = torch.from_numpy(melspectrogram(audio[: int(frames * 16000 / 15)]))[None]
        direct = G(mel, frames, torch.from_numpy(code)[None])[0].numpy()
    assert ours.shape == direct.shape == (frames, 242)
    np.testing.assert_allclose(ours, direct, rtol=0, atol=1e-5)


def test_long_audio_runs_in_cross_faded_passes(bp, speech):
    G, cfg, _ = bp
    cfg = cfg.copy()
    cfg.infer.window_frames, cfg.infer.overlap_frames = 64, 16
    audio = np.resize(speech, 16000 * 14)  # 210 frames: 4 passes of 64 frames
    code = np.zeros(32, np.float32)
    out = predict_normalised(G, audio, cfg, code)
    assert out.shape == (210, 242) and np.isfinite(out).all()
    with torch.no_grad():
        from avs_sdt.data import melspectrogram

        first = G(torch.from_numpy(melspectrogram(audio[: int(64 * 16000 / 15)]))[None], 64,
                  torch.from_numpy(code)[None])[0].numpy()
    np.testing.assert_allclose(out[:48], first[:48], rtol=0, atol=1e-5)  # before the first overlap: pass one


def test_interpolating_with_alpha_zero_is_template_i(bp, speech):
    G, cfg, stats = bp
    a = predict(G, speech[:40000], _with(cfg, template_index=3), stats).data
    b = predict(G, speech[:40000], _with(cfg, template_index=3, template_index_b=9, alpha=0.0), stats).data
    c = predict(G, speech[:40000], _with(cfg, template_index=9), stats).data
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[:, list(KEPT_137)], c[:, list(KEPT_137)])


def test_ftd_is_refused_without_a_pose_vae(bp, sdt_root):
    G, cfg, stats = bp
    dev = SDTDataset(sdt_root, "dev", stats, cfg)
    with pytest.raises(AvsError, match="FTD needs a trained pose VAE: pass pose_vae_checkpoint="):
        evaluate(G, dev, _with(cfg, ftd=True), stats)
    with pytest.raises(AvsError, match="meaningless without one"):
        ftd(None, np.zeros((2, 64, 121, 2)), np.zeros((2, 64, 121, 2)), ["speaker_a"] * 2)
    with pytest.raises(AvsError, match="pose VAE checkpoint not found"):
        evaluate(G, dev, _with(cfg, ftd=True, pose_vae_checkpoint="/nowhere/vae.safetensors"), stats)
    out = evaluate(G, dev, cfg, stats)  # ftd=false: the other metrics only
    assert set(out) == {"l1", "l2_px", "lip_sync_error"} | GESTURE_SUITE
    assert 0.0 <= out["pck@0.1"] <= out["pck@0.2"] <= 1.0


def test_evaluate_with_a_pose_vae_and_the_pca_plot(bp, sdt_root, tmp_path, cfg_factory_module):
    G, cfg, stats = bp
    vae_cfg = cfg_factory_module("variant=pose-vae")
    vae_stats = compute_stats(vae_cfg, sdt_root)
    torch.manual_seed(1)
    vae = build_generator(vae_cfg).eval()
    path = save_checkpoint(tmp_path / "vae.safetensors", vae.state_dict(), method=discover().get("sdt"),
                           cfg=vae_cfg, stats=vae_stats)
    plot = tmp_path / "pca.png"
    eval_cfg = _with(cfg, ftd=True, pose_vae_checkpoint=str(path), pca_plot=str(plot))
    dev = SDTDataset(sdt_root, "dev", stats, cfg)
    out = evaluate(G, dev, eval_cfg, stats)
    assert set(out) == {"l1", "l2_px", "lip_sync_error", "ftd", "ftd_mu_logvar"} | GESTURE_SUITE
    assert out["ftd"] > 0 and out["ftd_mu_logvar"] >= out["ftd"] * 0.5
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    base = mean_pose_baseline(dev, eval_cfg, stats)
    gt = np.stack([dev[i]["pose"] for i in range(len(dev))])
    assert base["l1"] == pytest.approx(float(np.abs(gt).mean()), rel=1e-6)
    gt_codes = evaluate(G, dev, _with(eval_cfg, template="gt", pca_plot=None), stats)  # codes: the VAE's μ of the GT
    assert gt_codes["l2_px"] != out["l2_px"]


def test_pose_vae_cannot_predict_from_speech(cfg_factory_module, sdt_root, speech):
    cfg = cfg_factory_module("variant=pose-vae")
    stats = compute_stats(cfg, sdt_root)
    with pytest.raises(AvsError, match="not speech into gestures"):
        predict(build_generator(cfg), speech[:20000], cfg, stats)


def test_renderer_draws_the_full_figure(bp, speech):
    G, cfg, stats = bp
    motion = predict(G, speech[:16000], cfg, stats)
    renderer = build_renderer(_with(cfg, render=_with(cfg.render, height=180, width=320)), stats)
    frames = list(renderer.frames(motion))
    assert len(frames) == motion.num_frames and frames[0].shape == (180, 320, 3)
    assert (frames[0] != 255).any()
    small = _with(cfg, render=_with(cfg.render, height=120, width=400))
    pairs = list(pair_frames(motion.data, motion.data + 5.0, small))
    assert len(pairs) == motion.num_frames and pairs[0].shape == (120, 400, 3)
    with pytest.raises(AvsError, match="differ in shape"):
        next(pair_frames(motion.data, motion.data[:3], small))
    assert isinstance(motion, Motion)


def test_core_renderer_draws_each_edge_with_its_own_width():
    """The backward-compatible ``line_widths`` extension of core's SkeletonRenderer."""
    from avs.render import SkeletonRenderer, ViewTransform

    renderer = SkeletonRenderer([(0, 1), (2, 3)], [(0, 0, 0)] * 2, size=(100, 200), joint_radius=0,
                                line_widths=[1, 9])
    frame = renderer.render_frame(np.array([[20, 30], [180, 30], [20, 70], [180, 70]], np.float32),
                                  ViewTransform(1.0, (0.0, 0.0)))
    thin = (frame[20:41, 100] != 255).any(axis=-1).sum()
    thick = (frame[60:81, 100] != 255).any(axis=-1).sum()
    assert 1 <= thin <= 3 and thick >= 8
    with pytest.raises(AvsError, match="line widths"):
        SkeletonRenderer([(0, 1)], line_widths=[2, 3])


def test_predict_clips_feeds_the_shared_gesture_metrics(bp, sdt_root):
    from avs.evaluation import gesture_baselines, gesture_metrics

    G, cfg, stats = bp
    dev = SDTDataset(sdt_root, "dev", stats, cfg)
    clips = predict_clips(G, dev, cfg, stats)
    assert clips.pred.shape == clips.gt.shape == (len(dev), 64, 121, 2)
    assert clips.lips == (71, 75) and clips.audio.shape == (len(dev), 68266)
    scores = gesture_metrics(clips)
    assert scores["lip_sync_error"] == pytest.approx(evaluate(G, dev, cfg, stats)["lip_sync_error"], rel=1e-5)
    assert gesture_metrics(clips, gesture_baselines(clips)["ground truth"])["l1_px"] == 0.0


def test_bfloat16_inference_is_close_to_float32(bp, speech):
    """``infer.dtype=bfloat16`` (autocast) against float32 on 6 s of speech (normalised poses, unit scale)."""
    G, cfg, _ = bp
    cfg = cfg.copy()
    code = np.full(32, 1.0, np.float32)
    exact = predict_normalised(G, speech[: 16000 * 6], cfg, code)
    cfg.infer.dtype = "bfloat16"
    low = predict_normalised(G, speech[: 16000 * 6], cfg, code)
    diff = np.abs(low - exact)
    assert low.dtype == np.float32 and low.shape == exact.shape
    assert 0 < diff.max() <= 0.05 and diff.mean() <= 0.01  # paper width, random weights: 0.032, 0.0052
    cfg.infer.dtype = "float16"
    with pytest.raises(AvsError, match="infer.dtype must be one of float32, bfloat16"):
        predict_normalised(G, speech[:16000], cfg, code)
