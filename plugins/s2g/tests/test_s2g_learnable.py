"""The synthetic data set is learnable: a briefly trained small generator beats the mean pose on
held-out speech (dev and test hear a recording that training never heard)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avs_s2g.data import S2GDataset
from avs_s2g.inference import evaluate, mean_pose_baseline, predict
from avs_s2g.model import build_generator
from avs_s2g.recipe import generator_loss

STEPS = 350
BATCH = 8
LR = 2e-3


@pytest.mark.slow
def test_small_generator_beats_the_mean_pose(small_cfg, synth_root, synth_stats, speech) -> None:
    torch.manual_seed(0)
    train = S2GDataset(synth_root, "train", synth_stats, small_cfg)
    G = build_generator(small_cfg)
    opt = torch.optim.Adam(G.parameters(), lr=LR)
    mel, pose = torch.from_numpy(train.mel), torch.from_numpy(train.pose)
    order = torch.Generator().manual_seed(0)
    for _ in range(STEPS):
        idx = torch.randint(0, len(train), (BATCH,), generator=order)
        loss, _ = generator_loss(G, None, {"mel": mel[idx], "pose": pose[idx]}, small_cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for split in ("dev", "test"):
        data = S2GDataset(synth_root, split, synth_stats, small_cfg)
        model, base = evaluate(G, data, small_cfg, synth_stats), mean_pose_baseline(data, synth_stats)
        print(split, "model", model, "mean pose", base)
        assert model["l1"] < 0.75 * base["l1"]
        assert model["l1_px"] < 0.75 * base["l1_px"]
        assert model["pck@0.1"] > base["pck@0.1"]

    # silence: the figure rests (the synthetic mapping holds still without sound)
    still = predict(G, np.zeros(3 * 16000, np.float32), small_cfg, synth_stats).data
    moving = predict(G, speech[: 3 * 16000], small_cfg, synth_stats).data
    motion_still = np.abs(np.diff(still[4:-4], axis=0)).mean()
    motion_speech = np.abs(np.diff(moving[4:-4], axis=0)).mean()
    assert motion_still < 0.5 * motion_speech
