"""One training step of every variant, the objectives' formulas, and validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avs.errors import AvsError
from avs_sdt.data import SDTDataset, compute_stats
from avs_sdt.method import with_template_count
from avs_sdt.model import build_discriminator, build_generator
from avs_sdt.recipe import discriminator_loss, generator_loss, template_kl, vae_kl, validate


def _batch(dataset: SDTDataset, indices: list[int]) -> dict[str, torch.Tensor]:
    return torch.utils.data.default_collate([dataset[i] for i in indices])


def _setup(root, cfg_factory, variant: str, *extra: str):
    cfg = cfg_factory(f"variant={variant}", *extra)
    stats = compute_stats(cfg, root)
    cfg = with_template_count(cfg, stats)  # SDT-BP's table: one row per training clip
    torch.manual_seed(0)
    return cfg, stats, SDTDataset(root, "train", stats, cfg), build_generator(cfg), build_discriminator(cfg)


def _step(G, D, batch, cfg, lr: float = 1e-3) -> dict[str, float]:
    """One generator step as core's trainer does it (D first for s2g)."""
    if D is not None:
        opt_d = torch.optim.Adam(D.parameters(), lr=lr)
        loss_d, _ = discriminator_loss(G, D, batch, cfg)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        for p in D.parameters():
            p.requires_grad_(False)
    opt = torch.optim.Adam(G.parameters(), lr=lr)
    loss, logs = generator_loss(G, D, batch, cfg)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return logs


def test_sdt_bp_step_trains_the_templates_of_the_batch(sdt_root, cfg_factory):
    cfg, _, train, G, D = _setup(sdt_root, cfg_factory, "sdt-bp")
    assert D is None
    assert G.templates.shape == (len(train), 32) and not G.templates.any()  # zeros at the start
    batch = _batch(train, [0, 1, 2, 3])
    logs = _step(G, None, batch, cfg)
    assert "g_template_kl" not in logs  # zero variance: the reference skips the term
    moved = G.templates.detach().abs().sum(dim=1) > 0
    assert moved[:4].all()  # the batch's rows got gradients from L1
    assert torch.isfinite(G.templates).all()
    logs = _step(G, None, batch, cfg)  # now the codes differ: the KL term is on
    code = G.templates.detach()[:4]
    assert logs["g_template_kl"] > 0
    expected = 0.5 * (-torch.log(code.var(0)) + code.mean(0) ** 2 + code.var(0) - 1).mean()
    torch.testing.assert_close(template_kl(code), expected)
    assert logs["g_total"] == pytest.approx(logs["g_l1"] + 0.1 * logs["g_template_kl"], rel=1e-5)


def test_template_kl_is_undefined_for_one_clip_or_zero_variance():
    assert template_kl(torch.randn(1, 32)) is None
    assert template_kl(torch.zeros(4, 32)) is None
    code = torch.randn(64, 32, generator=torch.Generator().manual_seed(0))
    assert 0 <= float(template_kl(code)) < 0.1  # N(0, I) samples are close to the prior


def test_s2g_step_is_l1_plus_a_tenth_of_lsgan(sdt_root, cfg_factory):
    cfg, _, train, G, D = _setup(sdt_root, cfg_factory, "s2g")
    assert D is not None and not hasattr(G, "templates")
    batch = _batch(train, [0, 5, 9, 14])
    loss_d, logs_d = discriminator_loss(G, D, batch, cfg)
    assert float(loss_d.detach()) == pytest.approx(0.1 * (logs_d["d_real"] + logs_d["d_fake"]), rel=1e-5)
    before = [p.detach().clone() for p in G.parameters()]
    logs = _step(G, D, batch, cfg)
    assert logs["g_total"] == pytest.approx(logs["g_l1"] + 0.1 * logs["g_gan"], rel=1e-5)
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters(), strict=True))
    assert {type(m).__name__ for m in G.modules()} >= {"BatchNorm1d", "BatchNorm2d"}  # the baseline's norm


def test_pose_vae_step_is_l1_plus_a_tenth_of_kl(sdt_root, cfg_factory):
    cfg, _, train, G, _ = _setup(sdt_root, cfg_factory, "pose-vae")
    batch = _batch(train, [0, 1, 2, 3])
    torch.manual_seed(1)
    logs = _step(G, None, batch, cfg)
    assert logs["g_total"] == pytest.approx(logs["g_l1"] + 0.1 * logs["vae_kl"], rel=1e-5)
    mu, logvar = torch.randn(5, 32), torch.randn(5, 32)
    expected = 0.5 * np.mean(-logvar.numpy() + mu.numpy() ** 2 + np.exp(logvar.numpy()) - 1)
    assert float(vae_kl(mu, logvar)) == pytest.approx(expected, rel=1e-5)
    assert float(vae_kl(torch.zeros(2, 32), torch.zeros(2, 32))) == 0.0


def test_sdt_vae_uses_the_fixed_templates_of_the_batch(sdt_root, cfg_factory, tmp_path):
    from avs.checkpoint import save_checkpoint
    from avs.plugins import discover

    method = discover().get("sdt")
    vae_cfg, vae_stats, _, vae, _ = _setup(sdt_root, cfg_factory, "pose-vae")
    path = save_checkpoint(tmp_path / "vae.safetensors", vae.state_dict(), method=method, cfg=vae_cfg, stats=vae_stats)
    with pytest.raises(AvsError, match="SDT-VAE needs a trained pose VAE"):
        compute_stats(cfg_factory("variant=sdt-vae"), sdt_root)
    cfg, stats, train, G, _ = _setup(sdt_root, cfg_factory, "sdt-vae", f"pose_vae_checkpoint={path}")
    assert stats["templates"].shape == (len(train), 32) and not hasattr(G, "templates")
    assert np.isfinite(stats["templates"]).all() and stats["templates"].std(axis=0).max() > 0
    batch = _batch(train, [2, 7])
    np.testing.assert_array_equal(batch["template"].numpy(), stats["templates"][[2, 7]])
    logs = _step(G, None, batch, cfg)
    assert logs["g_total"] == pytest.approx(logs["g_l1"])  # the KL of fixed codes is only logged
    with pytest.raises(AvsError, match="not a pose VAE"):  # an SDT-VAE run pointed at a non-VAE
        bp_cfg, bp_stats, _, bp, _ = _setup(sdt_root, cfg_factory, "s2g")
        other = save_checkpoint(tmp_path / "s2g.safetensors", bp.state_dict(), method=method, cfg=bp_cfg,
                                stats=bp_stats)
        compute_stats(cfg_factory("variant=sdt-vae", f"pose_vae_checkpoint={other}"), sdt_root)


@pytest.mark.parametrize("variant", ["sdt-bp", "s2g", "pose-vae"])
def test_validate_reports_normalised_and_pixel_errors(sdt_root, cfg_factory, variant):
    cfg, stats, _, G, _ = _setup(sdt_root, cfg_factory, variant)
    dev = SDTDataset(sdt_root, "dev", stats, cfg)
    G.eval()
    out = validate(G, _batch(dev, [0, 1]), cfg)
    assert set(out) == {"l1", "l2_px"} and out["l1"] > 0 and out["l2_px"] > 0
