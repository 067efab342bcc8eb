"""The objective: each loss term, masking of padding, the job layout of a batch, prototypes, validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avs_emotalk.data import EmoTalkDataset, collate
from avs_emotalk.recipe import (
    emotion_ce,
    generator_loss,
    losses,
    masked_mse,
    total_loss,
    validate,
    velocity_mse,
)


def test_masked_mse_ignores_padding() -> None:
    pred = torch.zeros(2, 4, 3)
    target = torch.zeros(2, 4, 3)
    target[0, :2] = 1.0  # valid frames of sequence 0: error 1
    target[1, 3] = 100.0  # a padded frame of sequence 1: ignored
    mask = torch.tensor([[True, True, False, False], [True, True, True, False]])
    assert float(masked_mse(pred, target, mask)) == pytest.approx(2 * 3 / (5 * 3))
    assert float(masked_mse(pred, target, torch.zeros_like(mask))) == 0.0


def test_velocity_mse_is_about_differences() -> None:
    t = torch.arange(6.0).view(1, 6, 1)
    mask = torch.ones(1, 6, dtype=torch.bool)
    assert float(velocity_mse(t + 5.0, t, mask)) == 0.0  # a constant offset has the same velocity
    assert float(velocity_mse(2 * t, t, mask)) == pytest.approx(1.0)  # velocity 2 vs 1
    mask[0, 3:] = False  # differences touching padding are left out
    assert float(velocity_mse(t * torch.tensor([1, 1, 1, 9, 9, 9.0]).view(1, 6, 1), t, mask)) == 0.0


def test_emotion_ce_skips_unknown_labels() -> None:
    logits = torch.tensor([[10.0, 0.0], [0.0, 10.0], [5.0, 5.0]])
    assert float(emotion_ce(logits, torch.tensor([0, 1, -1]))) < 1e-3
    assert float(emotion_ce(logits, torch.tensor([1, -1, -1]))) == pytest.approx(10.0, abs=1e-3)
    assert float(emotion_ce(logits, torch.tensor([-1, -1, -1]))) == 0.0


def test_total_loss_uses_config_weights(small_cfg) -> None:
    terms = {"cross": torch.tensor(1.0), "self": torch.tensor(2.0), "velocity": torch.tensor(3.0),
             "emotion": torch.tensor(4.0)}
    w = small_cfg.loss
    w.w_cross, w.w_self, w.w_velocity, w.w_emotion = 1.0, 10.0, 100.0, 1000.0
    assert float(total_loss(terms, small_cfg)) == 1 + 20 + 300 + 4000


def test_collate_job_layout(synth_root, small_cfg) -> None:
    """Jobs 0..B-1 are cross a→ab, B..2B-1 cross b→ba, then self a, self b; targets and labels follow."""
    ds = EmoTalkDataset(synth_root, "train", small_cfg)
    pairs = [i for i, p in enumerate(ds.items) if p.is_cross][:3]
    items = [ds[i] for i in pairs]
    b = collate(items)
    n = len(items)
    assert b["audio"].shape[0] == 2 * n and b["audio"].shape[1] % 4000 == 0
    assert b["content_index"].tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]
    assert b["emotion_index"].tolist() == [3, 4, 5, 0, 1, 2, 0, 1, 2, 3, 4, 5]
    assert b["cross"].tolist() == [True] * 6 + [False] * 6
    for k, it in enumerate(items):
        for j, key in enumerate(("bs_ab", "bs_ba", "bs_a", "bs_b")):
            t = it[key].shape[0]
            assert int(b["num_frames"][j * n + k]) == t
            np.testing.assert_array_equal(b["target"][j * n + k, :t].numpy(), it[key])
            assert not b["target"][j * n + k, t:].any()
        # the cross job's label is the emotion of its emotion input
        assert int(b["emotion_label"][k]) == int(it["emotion_b"])
        assert int(b["emotion_label"][n + k]) == int(it["emotion_a"])
        assert int(b["audio_lengths"][k]) == it["audio_a"].size


def test_generator_loss_terms_and_gradients(synth_root, small_cfg, small_G) -> None:
    ds = EmoTalkDataset(synth_root, "train", small_cfg)
    batch = collate([ds[i] for i in (0, 7, 33)])
    small_G.train()
    loss, logs = generator_loss(small_G, None, batch, small_cfg)
    assert set(logs) == {"cross", "self", "velocity", "emotion", "total"}
    assert all(np.isfinite(v) for v in logs.values()) and logs["emotion"] > 0
    loss.backward()
    for name in ("audio_encoder_cont.encoder.layers.0.attention.q_proj.weight",
                 "audio_encoder_emo.classifier.dense.weight", "audio_feature_map_emo2.weight",
                 "obj_vector_person.weight", "transformer_decoder.layers.0.linear1.weight"):
        grad = dict(small_G.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name
    # the running emotion means were set for the emotions of this batch only
    seen = set(batch["emotion_label"].tolist())
    assert {i for i in range(8) if small_G.emotion_prototype_count[i] > 0} == seen


def test_cross_and_self_terms_see_their_targets(synth_root, small_cfg) -> None:
    """A generator that outputs each job's own target zeroes both terms; swapping cross targets does not."""
    ds = EmoTalkDataset(synth_root, "train", small_cfg)
    batch = collate([ds[i] for i in range(2)])

    class Oracle(torch.nn.Module):
        def __init__(self, target: torch.Tensor) -> None:
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(()))
            self.target = target

        def forward(self, audio, lengths, ci, ei, num_frames, level, person):
            t = int(num_frames.max())
            mask = torch.arange(t)[None] < num_frames[:, None]
            return {"blendshapes": self.target[:, :t] + self.dummy, "mask": mask,
                    "logits": torch.zeros(len(num_frames), 8), "emotion_pooled": torch.zeros(len(num_frames), 4)}

    with torch.no_grad():
        terms, _ = losses(Oracle(batch["target"].clone()), batch)
    assert float(terms["cross"]) == 0 and float(terms["self"]) == 0 and float(terms["velocity"]) == 0
    swapped = batch["target"].clone()
    swapped[[0, 1, 2, 3]] = batch["target"][[2, 3, 0, 1]]  # cross jobs get the other pair's targets
    with torch.no_grad():
        terms, _ = losses(Oracle(swapped), batch)
    assert float(terms["cross"]) > 0 and float(terms["self"]) == 0


def test_validate_keys(synth_root, small_cfg, small_G) -> None:
    ds = EmoTalkDataset(synth_root, "dev", small_cfg)
    out = validate(small_G.eval(), collate([ds[i] for i in range(3)]), small_cfg)
    assert set(out) == {"mse", "mse_cross", "mse_self", "velocity", "emotion_acc"}
    assert 0.0 <= out["emotion_acc"] <= 1.0 and out["mse"] > 0
