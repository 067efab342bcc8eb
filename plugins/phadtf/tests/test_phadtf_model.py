"""Shapes, initialisation and memory behaviour of the phadtf networks (small preset)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from avs_phadtf.model import NUM_COEFFS, ATCNet, MemoryNetwork, PatchGAN, UNetAdaIN, compose, receptive_field


def test_atc_net_shapes_and_paper_flat_size(small_cfg) -> None:
    from avs_phadtf.config import AtcConfig

    net = ATCNet(small_cfg.atc)
    out = net(torch.randn(3, 16, 28, 12))
    assert out.shape == (3, 16, NUM_COEFFS)
    paper = ATCNet(AtcConfig())
    assert paper.flat == 12288  # 512 x 12 x 2, the reference's Linear(1024*12, 2048)
    assert paper.audio_eocder_fc[0].out_features == 2048 and paper.lstm.num_layers == 3
    convs = [m for m in paper.audio_eocder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 256, 512]
    assert all(c.bias is None for c in convs)
    w = paper.audio_eocder_fc[0].weight
    assert abs(float(w.detach().std()) - 0.02) < 1e-3 and abs(float(w.detach().mean())) < 1e-3


def test_atc_net_is_causal_in_time(small_cfg) -> None:
    net = ATCNet(small_cfg.atc).eval()
    x = torch.randn(1, 16, 28, 12)
    y = x.clone()
    y[:, 10:] = torch.randn(1, 6, 28, 12)
    with torch.no_grad():
        a, b = net(x), net(y)
    assert torch.allclose(a[:, :10], b[:, :10], atol=1e-6)
    assert not torch.allclose(a[:, 10:], b[:, 10:])


def test_generator_discriminator_shapes(small_cfg) -> None:
    g = UNetAdaIN(small_cfg.gan)
    s = small_cfg.gan.image_size
    x = torch.rand(2, 9, s, s) * 2 - 1
    with torch.no_grad():
        color, mask = g(x, F.normalize(torch.randn(2, 128), dim=1))
    assert color.shape == (2, 3, s, s) and mask.shape == (2, 1, s, s)
    assert float(color.abs().max()) <= 1 and 0 <= float(mask.min()) and float(mask.max()) <= 1
    out = compose(color, mask, x[:, -3:])
    assert out.shape == (2, 3, s, s)
    d = PatchGAN(small_cfg.gan)
    assert d(torch.cat([x, out], 1)).shape == (2, 1, s // 8 - 2, s // 8 - 2)
    assert receptive_field(3) == 70


def test_identity_changes_the_output(small_cfg) -> None:
    g = UNetAdaIN(small_cfg.gan).eval()
    s = small_cfg.gan.image_size
    x = torch.rand(1, 9, s, s)
    with torch.no_grad():
        a = g(x, F.normalize(torch.randn(1, 128), dim=1))[0]
        b = g(x, F.normalize(torch.randn(1, 128), dim=1))[0]
    assert (a - b).abs().mean() > 1e-4


def test_memory_update_merge_and_replace(small_cfg) -> None:
    mem = MemoryNetwork(small_cfg.gan)
    ident = F.normalize(torch.randn(1, 128), dim=1)
    q = mem(torch.randn(1, 128))
    assert mem.update(q, ident, torch.tensor([7.0])) == 1  # empty memory: a replacement
    slot = int(torch.nonzero(mem.top_index == 7).flatten()[0])
    assert torch.allclose(mem.color_value[slot], ident[0])
    # same identity, similar query: merged into that slot, nothing replaced
    q2 = F.normalize(q + 0.05 * torch.randn_like(q), dim=1)
    assert mem.update(q2, ident, torch.tensor([8.0])) == 0
    assert float(mem.age[slot]) == 0.0
    assert torch.allclose(mem.read(q2), ident)


def test_memory_hinge_loss_trains_the_query(small_cfg) -> None:
    torch.manual_seed(0)
    mem = MemoryNetwork(small_cfg.gan)
    feats = torch.randn(8, 128)
    idents = F.normalize(torch.randn(8, 128), dim=1)
    keys = F.normalize(torch.randn(8, small_cfg.gan.query_dim), dim=1)  # slots written by other queries
    for i in range(8):
        mem.update(keys[i:i + 1], idents[i:i + 1], torch.tensor([float(i)]))
    opt = torch.optim.Adam(mem.parameters(), lr=1e-2)
    first = float(mem.hinge_loss(mem(feats), idents).detach())
    for _ in range(30):
        loss = mem.hinge_loss(mem(feats), idents)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(mem.hinge_loss(mem(feats), idents).detach()) < first


def test_finetune_dev_range_leaves_the_held_out_frames_to_test(small_cfg) -> None:
    """Model selection (dev) never sees the held-out (test) frames when the person has frames after them."""
    from avs_phadtf.method import finetune_range

    long = {s: finetune_range(607, s, small_cfg) for s in ("train", "dev", "test")}
    assert long == {"train": (0, 300), "dev": (400, 607), "test": (300, 400)}
    short = {s: finetune_range(200, s, small_cfg) for s in ("train", "dev", "test")}
    assert short == {"train": (0, 150), "dev": (150, 200), "test": (150, 200)}  # no frames left: dev = test
    assert finetune_range(410, "dev", small_cfg) == (300, 400)  # 10 frames after test: fewer than one clip


def test_shared_expression_scale_keeps_relative_variances() -> None:
    import numpy as np

    from avs.api import AvsError
    from avs_phadtf.method import coeff_scale

    rng = np.random.default_rng(0)
    centred = rng.normal(size=(500, 70)) * np.r_[np.linspace(1.0, 0.01, 64), [0.1, 0.1, 0.1, 20, 20, 2]]
    shared, per = coeff_scale(centred, "shared"), coeff_scale(centred, "per_coefficient")
    assert np.ptp(shared[:64]) == 0 and np.allclose(shared[64:], per[64:])
    assert shared[0] == pytest.approx(np.sqrt(np.mean(centred[:, :64].std(axis=0) ** 2)), rel=1e-5)
    z = centred / shared
    assert z[:, 0].std() > 10 * z[:, 63].std()  # mouth-scale component keeps its weight in the MSE
    with pytest.raises(AvsError):
        coeff_scale(centred, "whitened")
