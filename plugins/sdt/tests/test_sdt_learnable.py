"""The synthetic set is learnable by SDT-BP: a briefly trained tiny generator fits the training clips
far better than the mean pose (each clip with its own learned template), and its lips follow the
loudness of held-out speech."""

from __future__ import annotations

import pytest
import torch

from avs_sdt.data import SDTDataset, compute_stats
from avs_sdt.inference import evaluate, mean_pose_baseline
from avs_sdt.method import with_template_count
from avs_sdt.model import build_generator
from avs_sdt.recipe import generator_loss

STEPS = 400
BATCH = 8
LR = 2e-3


@pytest.mark.slow
def test_tiny_sdt_bp_learns_the_synthetic_mapping(sdt_root, cfg_factory):
    cfg = cfg_factory()
    stats = compute_stats(cfg, sdt_root)
    cfg = with_template_count(cfg, stats)
    train = SDTDataset(sdt_root, "train", stats, cfg)
    torch.manual_seed(0)
    G = build_generator(cfg)
    opt = torch.optim.Adam(G.parameters(), lr=LR)
    mel, pose = torch.from_numpy(train.mel), torch.from_numpy(train.pose)
    order = torch.Generator().manual_seed(0)
    for _ in range(STEPS):
        idx = torch.randint(0, len(train), (BATCH,), generator=order)
        loss, _ = generator_loss(G, None, {"mel": mel[idx], "pose": pose[idx], "template_index": idx}, cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()

    fit, base = evaluate(G, train, cfg, stats), mean_pose_baseline(train, cfg, stats)
    print("train", fit, "mean pose", base)
    assert fit["l1"] < 0.8 * base["l1"] and fit["l2_px"] < 0.8 * base["l2_px"]
    dev = SDTDataset(sdt_root, "dev", stats, cfg)
    fit, base = evaluate(G, dev, cfg, stats), mean_pose_baseline(dev, cfg, stats)
    print("dev", fit, "mean pose", base)
    assert fit["lip_sync_error"] < 0.95 * base["lip_sync_error"]  # held-out speech: lips follow loudness
