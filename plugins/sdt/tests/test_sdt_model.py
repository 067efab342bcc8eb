"""Networks: shapes, the reference's layer facts, parameter counts, norms and the VAE's code layout."""

from __future__ import annotations

import pytest
import torch

from avs.config import build_config
from avs.errors import AvsError
from avs_sdt.config import SMALL_PRESET, SDTConfig
from avs_sdt.model import (
    ChannelNorm,
    PoseSequenceDiscriminator,
    PoseVAE,
    SequenceGeneratorCNN,
    build_discriminator,
    build_generator,
)


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("num_frames", [32, 64, 100])
def test_generator_any_length(num_frames: int):
    torch.manual_seed(0)
    G = SequenceGeneratorCNN(16, "instance", template_dim=32, num_templates=5).eval()
    mel_frames = 1 + int(num_frames * 16000 / 15) // 160
    out = G(torch.rand(2, 80, mel_frames), num_frames, torch.randn(2, 32))
    assert out.shape == (2, num_frames, 242) and torch.isfinite(out).all()


def test_audio_encoder_reaches_5_by_51_like_the_reference():
    """(80 mels, 427 frames) → 40×213 → 20×106 → 10×53 → (6, 3) valid conv → 5×51, then (1, T)."""
    G = SequenceGeneratorCNN(16, "instance")
    assert G.audio_encoder.specgram_encoder_2d(torch.rand(1, 1, 80, 427)).shape == (1, 16, 5, 51)
    assert G.audio_encoder(torch.rand(1, 80, 427), 64).shape == (1, 16, 64)


def test_template_code_is_tiled_and_concatenated():
    G = SequenceGeneratorCNN(16, "instance", template_dim=32).eval()
    assert G.unet.e0.conv.weight.shape == (16, 16 + 32, 3)
    mel = torch.rand(1, 80, 427)
    a, b = G(mel, 64, torch.zeros(1, 32)), G(mel, 64, torch.full((1, 32), 3.0))
    assert not torch.allclose(a, b)  # the code changes the output
    with pytest.raises(ValueError, match="template code"):
        G(mel, 64)
    with pytest.raises(ValueError, match="no template"):
        SequenceGeneratorCNN(16, "instance")(mel, 64, torch.zeros(1, 32))
    with pytest.raises(ValueError, match="at least 32"):
        G(mel, 16, torch.zeros(1, 32))


def test_instance_norm_normalises_channels_at_each_time_step():
    """As the reference: InstanceNorm1d applied to the (B, T, C) permutation."""
    x = torch.randn(3, 24, 17)
    ref = torch.nn.InstanceNorm1d(17)(x.permute(0, 2, 1)).permute(0, 2, 1)
    torch.testing.assert_close(ChannelNorm()(x), ref, rtol=1e-5, atol=1e-5)
    assert not any(True for _ in ChannelNorm().state_dict())  # no parameters, as the reference's IN


def test_discriminator_scores_motion_patches():
    D = PoseSequenceDiscriminator(8)
    assert D(torch.randn(4, 63, 242)).shape == (4, 15)  # 63 → 31 → 15 → 15 → 15
    assert [m.conv.out_channels for m in list(D.seq)[:3]] == [8, 16, 32]


def test_pose_vae_interleaves_mu_and_logvar_and_decodes_64_frames():
    torch.manual_seed(0)
    vae = PoseVAE(16, 32, "batch").eval()
    pose = torch.randn(3, 64, 242)
    mu, logvar = vae.encode(pose)
    raw = vae.encoder.blocks(pose.transpose(1, 2))  # (3, 64, 2): five halvings of 64 frames
    assert raw.shape == (3, 64, 2)
    torch.testing.assert_close(mu, raw[:, 0::2, 0])  # nearest resampling keeps the first step
    torch.testing.assert_close(logvar, raw[:, 1::2, 0])
    recon, mu2, _ = vae(pose)
    assert recon.shape == (3, 64, 242)
    torch.testing.assert_close(recon, vae.decode(mu2))  # eval mode decodes μ
    with pytest.raises(ValueError, match="64"):
        vae.encode(torch.randn(1, 32, 242))


def test_parameter_counts_and_variants():
    def counts(preset: list[str], variant: str) -> tuple[int, int | None]:
        cfg = build_config(SDTConfig, overrides=[*preset, f"variant={variant}", "model.num_templates=100"])
        D = build_discriminator(cfg)
        return _count(build_generator(cfg)), None if D is None else _count(D)

    assert counts([], "s2g") == (7_061_554, 2_351_617)  # batch norm: affine parameters
    assert counts([], "sdt-bp") == (7_075_122 + 100 * 32, None)  # instance norm + the template table
    assert counts([], "sdt-vae") == (7_075_122, None)
    assert counts([], "pose-vae") == (3_164_018, None)
    assert counts(SMALL_PRESET, "sdt-bp") == (458_754 + 100 * 32, None)
    assert counts(SMALL_PRESET, "s2g") == (455_362, 194_689)


def test_build_rejects_bad_options():
    with pytest.raises(AvsError, match="unknown variant"):
        build_generator(build_config(SDTConfig, overrides=["variant=sdt"]))
    with pytest.raises(AvsError, match="num_templates is 0"):
        build_generator(build_config(SDTConfig))
    with pytest.raises(AvsError, match="multiple of 4"):
        build_generator(build_config(SDTConfig, overrides=["model.width=30", "variant=s2g"]))
    with pytest.raises(AvsError, match="model.norm"):
        build_generator(build_config(SDTConfig, overrides=["model.norm=group", "variant=s2g"]))
