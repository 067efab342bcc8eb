"""Networks and objective: shapes, padding, parameter counts, losses and their gradients."""

from __future__ import annotations

import pytest
import torch

from avs.config import build_config
from avs.errors import AvsError
from avs_s2g.config import S2GConfig
from avs_s2g.model import AudioToPoseGenerator, PatchGANDiscriminator, build_discriminator, build_generator
from avs_s2g.recipe import discriminator_loss, generator_loss, validate


def _mel_frames(num_frames: int) -> int:
    """Log-mel frames of the audio inference feeds for ``num_frames`` poses."""
    samples = round(num_frames * 16000 / 15) + 240
    return (samples - 400) // 160 + 1


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    ("mel_frames", "num_frames"),
    [(418, 64), (_mel_frames(32), 32), (_mel_frames(96), 96), (_mel_frames(256), 256)],
)
def test_generator_shapes(small_cfg, mel_frames: int, num_frames: int) -> None:
    torch.manual_seed(0)
    G = build_generator(small_cfg)
    out = G(torch.randn(2, mel_frames, 64), num_frames)
    assert out.shape == (2, num_frames, 98)
    assert torch.isfinite(out).all()


def test_audio_encoder_collapses_mel_like_the_reference(small_cfg) -> None:
    """418 log-mel frames → 209 → 105 → 53 (TF "same", odd lengths) → 51 after the (3, 8) valid conv."""
    G = build_generator(small_cfg)
    enc = G.audio_encoder(torch.randn(1, 1, 418, 64))
    assert enc.shape == (1, 64, 51, 1)


@pytest.mark.parametrize("num_frames", [0, 48, 63, 65])
def test_generator_rejects_lengths_not_multiple_of_32(small_cfg, num_frames: int) -> None:
    G = build_generator(small_cfg)
    with pytest.raises(ValueError, match="multiple of 32"):
        G(torch.randn(1, 418, 64), num_frames)


def test_generator_rejects_bad_mel(small_cfg) -> None:
    G = build_generator(small_cfg)
    with pytest.raises(ValueError, match=r"\(B, T, 64\)"):
        G(torch.randn(1, 418, 80), 64)


@pytest.mark.parametrize(("num_frames", "patches"), [(64, 16), (32, 8), (128, 32)])
def test_discriminator_patches(small_cfg, num_frames: int, patches: int) -> None:
    D = build_discriminator(small_cfg)
    scores = D(torch.randn(3, num_frames, 98))
    assert scores.shape == (3, patches)
    assert PatchGANDiscriminator.num_patches(num_frames) == patches


def test_discriminator_sees_motion_only(small_cfg) -> None:
    """D scores frame differences: shifting a whole sequence by a constant changes nothing."""
    D = build_discriminator(small_cfg).eval()
    pose = torch.randn(2, 64, 98)
    assert torch.allclose(D(pose), D(pose + 3.0), atol=1e-5)


def test_parameter_counts() -> None:
    """Paper size (width 256, d_width 64) and the small preset (64, 16)."""
    paper = build_config(S2GConfig)
    small = build_config(S2GConfig, overrides=["model.width=64", "model.d_width=16"])
    assert _count(build_generator(paper)) == 7_423_266
    assert _count(build_discriminator(paper)) == 190_657
    assert _count(build_generator(small)) == 471_954
    assert _count(build_discriminator(small)) == 16_945


@pytest.mark.parametrize("norm", ["instance", "group"])
def test_other_norms(norm: str) -> None:
    cfg = build_config(S2GConfig, overrides=["model.width=64", "model.d_width=16", f"model.norm={norm}"])
    G, D = build_generator(cfg), build_discriminator(cfg)
    out = G(torch.randn(2, 418, 64), 64)
    assert out.shape == (2, 64, 98) and D(out).shape == (2, 16)


def test_bad_model_options_are_user_errors() -> None:
    with pytest.raises(AvsError, match="model.norm"):
        AudioToPoseGenerator(build_config(S2GConfig, overrides=["model.norm=layer"]).model)
    with pytest.raises(AvsError, match="model.width"):
        AudioToPoseGenerator(build_config(S2GConfig, overrides=["model.width=30"]).model)


def _batch(batch_size: int = 4) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    pose = torch.randn(batch_size, 64, 98, generator=g)
    pose[..., 0] = 0.0
    pose[..., 49] = 0.0
    return {"mel": torch.randn(batch_size, 418, 64, generator=g), "pose": pose}


def test_generator_loss_without_and_with_discriminator(small_cfg) -> None:
    torch.manual_seed(0)
    G, D = build_generator(small_cfg), build_discriminator(small_cfg)
    batch = _batch()
    loss, logs = generator_loss(G, None, batch, small_cfg)
    assert set(logs) == {"g_l1", "g_total"} and logs["g_total"] == pytest.approx(logs["g_l1"])
    D.requires_grad_(False)
    loss, logs = generator_loss(G, D, batch, small_cfg)
    expected = logs["g_l1"] + small_cfg.loss.lambda_gan * logs["g_gan"]
    assert logs["g_total"] == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert all(p.grad is None for p in D.parameters())
    assert all(p.grad is not None for p in G.parameters())


def test_generator_l1_ignores_the_neck(small_cfg) -> None:
    """The regression covers the 48 non-neck keypoints only (the reference drops keypoint 0)."""
    G = build_generator(small_cfg).eval()
    batch = _batch()
    _, logs = generator_loss(G, None, batch, small_cfg)
    batch["pose"][..., 0] = 100.0
    batch["pose"][..., 49] = -100.0
    _, logs_neck = generator_loss(G, None, batch, small_cfg)
    assert logs_neck["g_l1"] == pytest.approx(logs["g_l1"], rel=1e-6)


def test_discriminator_loss_trains_only_d(small_cfg) -> None:
    torch.manual_seed(0)
    G, D = build_generator(small_cfg), build_discriminator(small_cfg)
    loss, logs = discriminator_loss(G, D, _batch(), small_cfg)
    assert set(logs) == {"d_real", "d_fake", "d_total"}
    expected = logs["d_real"] + small_cfg.loss.lambda_d * logs["d_fake"]
    assert logs["d_total"] == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert all(p.grad is None for p in G.parameters())
    assert all(p.grad is not None for p in D.parameters())


def test_validate_reports_l1(small_cfg) -> None:
    G = build_generator(small_cfg).eval()
    batch = _batch()
    out = validate(G, batch, small_cfg)
    assert set(out) == {"l1"} and out["l1"] > 0
    batch["pose"] = G(batch["mel"], 64).detach()
    assert validate(G, batch, small_cfg)["l1"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(("kernel", "stride", "dims"), [(3, 1, 1), (4, 2, 1), (4, 1, 1), (3, 1, 2), (4, 2, 2)])
def test_constant_padding_equals_tensorflow_same_for_every_length(kernel: int, stride: int, dims: int) -> None:
    """The length-independent pads (what makes the network traceable for ONNX) give TF "same"'s output."""
    from avs_s2g.model import ConvNormLReLU, _same_pad, static_same_pad

    assert static_same_pad(kernel, stride) is not None
    torch.manual_seed(0)
    block = ConvNormLReLU(2, 3, dims, "batch", downsample=stride == 2, kernel=kernel).eval()
    for length in range(1, 12):
        x = torch.randn(1, 2, *([length] * dims))
        pads: list[int] = []
        for _ in range(dims):
            pads.extend(_same_pad(length, kernel, stride))
        with torch.no_grad():
            want = block.act(block.norm(block.conv(torch.nn.functional.pad(x, pads))))
            got = block(x)
        assert got.shape == want.shape and torch.equal(got, want), length


def test_static_padding_declines_kernels_whose_left_pad_varies() -> None:
    from avs_s2g.model import static_same_pad

    assert static_same_pad(5, 3) is None  # TF's left pad is 1 or 2 depending on length mod 3
    assert static_same_pad(2, 3) is None
