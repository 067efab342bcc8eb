"""Shapes through both GANs and their critics; the reference's layer choices; the audio→landmark model."""

from __future__ import annotations

import pytest
import torch

from avs_rdgan.audio2landmark import AudioToLandmarks
from avs_rdgan.model import DualCritics, FineGenerator, RDGenerator, SeedGenerator


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 3, 128, 128) * 2 - 1


def test_seed_and_fine_generator_shapes(images: torch.Tensor) -> None:
    seed = SeedGenerator(width=0.25).eval()
    fine = FineGenerator(width=0.25).eval()
    s = seed(images, images)
    f = fine(s, images)
    assert s.shape == f.shape == (2, 3, 128, 128)
    assert s.abs().max() <= 1 and f.abs().max() <= 1  # tanh


def test_seed_generator_internal_resolutions(images: torch.Tensor) -> None:
    g = SeedGenerator(width=1.0).eval()
    s64 = g.img1(images)
    s32 = g.img2(s64)
    s16 = g.img3(s32)
    z = g.img4(s16)
    assert (s64.shape[1:], s32.shape[1:], s16.shape[1:], z.shape[1:]) == (
        (32, 64, 64), (64, 32, 32), (128, 16, 16), (256, 8, 8))
    e32 = g.edge1(images)
    e16 = g.edge2(e32)
    e8 = g.edge3(e16)
    assert (e32.shape[1:], e16.shape[1:], e8.shape[1:]) == ((32, 32, 32), (64, 16, 16), (128, 8, 8))


def test_reference_layer_choices() -> None:
    g = RDGenerator(width=1.0)
    convs = [m for m in g.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)]
    assert convs and all(m.bias is None for m in convs), "generator convolutions are bias-free"
    drops = [m for m in g.modules() if isinstance(m, torch.nn.Dropout)]
    assert [d.p for d in drops] == [pytest.approx(0.4)]  # keep-probability 0.6
    slopes = {m.negative_slope for m in g.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.2}
    assert any(isinstance(m, torch.nn.ReLU) for m in g.seed.up1.modules())


def test_critics_give_one_logit_per_image(images: torch.Tensor) -> None:
    d = DualCritics(width=0.25).eval()
    for side in (d.left, d.right):
        assert side.seed(images).shape == (2,)
        assert side.fine(images).shape == (2,)
    convs = [m for m in d.left.fine.features if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 7
    seed_convs = [m for m in d.left.seed.features if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in DualCritics(width=1.0).left.seed.features
            if isinstance(c, torch.nn.Conv2d)] == [128, 256, 512, 512]
    assert len(seed_convs) == 4


def test_recursive_generator_uses_the_original_face(images: torch.Tensor) -> None:
    g = RDGenerator(width=0.25).eval()
    with torch.no_grad():
        _, a = g(images, images, images)
        _, b = g(images, images, torch.zeros_like(images))
    assert not torch.allclose(a, b)


def test_audio_to_landmarks_shapes_and_standardisation() -> None:
    m = AudioToLandmarks(64, 2)
    assert not any(True for _ in m.parameters())  # fitted in closed form, never by gradient
    mel = torch.randn(3, 4 * 20, 64)
    assert m(mel).abs().max() == 0  # unfitted: no motion
    m.weight.normal_()
    m.pattern[66, 1], m.pattern[62, 1] = 0.5, -0.5
    out = m(mel)
    assert out.shape == (3, 20, 68, 2)
    assert torch.allclose(out.mean(1), torch.zeros(3, 68, 2), atol=1e-6)  # centred over the sequence
    assert torch.allclose(out[..., 66, 1] - out[..., 62, 1], m.opening(mel) / 128)
    m.mel_mean.fill_(5.0)  # a constant shift cancels: features and opening are centred over the sequence
    assert torch.allclose(m(mel), out, atol=1e-5)
    m.mel_std.fill_(2.0)
    assert torch.allclose(m(mel), out / 2, atol=1e-5)
    with pytest.raises(Exception, match="4T"):
        m(torch.randn(1, 7, 64))
