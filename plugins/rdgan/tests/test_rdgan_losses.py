"""SSIM loss against scikit-image, the dual objective's terms, and learning on the synthetic set."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avs_rdgan import losses
from avs_rdgan.model import DualCritics, RDGenerator


def test_ssim_matches_scikit_image() -> None:
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, (64, 64))
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1)
    ours = float(losses.ssim(torch.tensor(a * 2 - 1)[None, None].float(), torch.tensor(b * 2 - 1)[None, None].float()))
    ref = structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False, K1=0.01, K2=0.03)
    assert ours == pytest.approx(ref, abs=2e-3)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert float(losses.ssim(x, x)) == pytest.approx(1.0, abs=1e-5)


def test_gaussian_window() -> None:
    w = losses.gaussian_window(11, 1.5)
    assert w.shape == (11, 11) and float(w.sum()) == pytest.approx(1.0)
    assert float(w[5, 5]) == float(w.max())


def _batch(n: int = 2) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {k: torch.rand(n, 3, 128, 128) * 2 - 1 for k in ("left", "right", "left_edges", "right_edges")}


def test_dual_forward_orders_the_four_evaluations() -> None:
    seen = []

    def fake_g(faces: torch.Tensor, edges: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        seen.append((faces, edges))
        return faces, faces

    b = _batch()
    _, _, target = losses.dual_forward(fake_g, b)
    faces, edges = seen[0]
    n = 2
    assert torch.equal(faces[:n], b["left"]) and torch.equal(edges[:n], b["right_edges"])
    assert torch.equal(target[:n], b["right"]) and torch.equal(target[n:2 * n], b["left"])
    assert torch.equal(edges[2 * n:3 * n], b["left_edges"]) and torch.equal(target[3 * n:], b["right"])


def test_parallelogram_term_is_zero_for_a_perfect_swap(tiny_cfg) -> None:
    b = _batch()

    def swap_g(faces: torch.Tensor, edges: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = b["left"].shape[0]
        out = torch.cat([b["right"], b["left"], b["left"], b["right"]])
        assert faces.shape[0] == 4 * n
        return out, out

    _, logs = losses.generator_loss(swap_g, None, b, tiny_cfg)
    assert logs["parallelogram"] == pytest.approx(0.0, abs=1e-6)
    assert logs["l1"] == pytest.approx(0.0, abs=1e-6) and logs["ssim_seed"] == pytest.approx(1.0, abs=1e-5)


def test_generator_and_critic_losses_backpropagate(tiny_cfg) -> None:
    g, d = RDGenerator(0.25), DualCritics(0.25)
    b = _batch()
    loss, logs = losses.generator_loss(g, d, b, tiny_cfg)
    loss.backward()
    assert {"l1", "l1_seed", "ssim_seed", "parallelogram", "adv_g"} <= set(logs)
    assert all(p.grad is not None for p in g.parameters())
    dl, dlogs = losses.critic_loss(g, d, b)
    dl.backward()
    assert np.isfinite(dlogs["d"]) and all(p.grad is not None for p in d.parameters())


def test_landmark_loss_masks_items_without_audio() -> None:
    from avs_rdgan.audio2landmark import AudioToLandmarks

    m = AudioToLandmarks(64, 1)
    m.weight.normal_()
    m.pattern.normal_()
    batch = {"mel": torch.randn(2, 16, 64), "disp": torch.zeros(2, 4, 68, 2), "has_audio": torch.tensor([0.0, 0.0])}
    loss, _ = losses.landmark_loss(m, batch)
    assert float(loss) == 0.0
    batch["has_audio"] = torch.tensor([1.0, 0.0])
    assert float(losses.landmark_loss(m, batch)[0]) > 0


def test_mouth_term_weights_only_the_target_lip_box(tiny_cfg) -> None:
    from avs_rdgan.data import mouth_mask

    lm = np.zeros((68, 2), np.float32)
    lm[48:68] = [[40.0, 80.0]] * 20
    lm[54] = [80.0, 100.0]
    mask = mouth_mask(lm)
    assert mask.shape == (1, 128, 128) and mask.sum() == (84 - 36) * (104 - 76)
    b = _batch()
    b["left_mouth"] = b["right_mouth"] = torch.from_numpy(np.repeat(mask[None], 2, 0))
    tiny_cfg.loss.w_mouth = 1.0

    def g_wrong_outside(faces: torch.Tensor, edges: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = torch.cat([b["right"], b["left"], b["left"], b["right"]]).clone()
        out[:, :, :10] = 0.0  # rows 0-9: outside every lip box
        return out, out

    _, logs = losses.generator_loss(g_wrong_outside, None, b, tiny_cfg)
    assert logs["l1_mouth"] == pytest.approx(0.0, abs=1e-6) and logs["l1"] > 0

    def g_wrong_inside(faces: torch.Tensor, edges: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = torch.cat([b["right"], b["left"], b["left"], b["right"]]).clone()
        out[:, :, 80:100, 40:80] = 5.0
        return out, out

    _, logs = losses.generator_loss(g_wrong_inside, None, b, tiny_cfg)
    assert logs["l1_mouth"] > 1.0
