"""Inference in bfloat16 (``infer.dtype``): parity with float32, loading a checkpoint in it, ``auto``."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from avs.errors import AvsError
from avs_emotalk import model as emotalk_model
from avs_emotalk.inference import predict_raw

BF16_MAX_ABS = 0.05
"""Parity tolerance of bfloat16 against float32 on raw blendshape weights (ARKit range [0, 1]): largest
absolute difference over every frame and channel. Measured: 0.035 on the large preset (random weights,
60 s of speech, ``benchmarks/bench_emotalk_large.py``), 0.016 on the bundled small checkpoint."""
BF16_MEAN_ABS = 0.01
"""... and the mean absolute difference (measured: 0.006 large, 0.0013 bundled small)."""


@pytest.fixture()
def random_G(small_cfg):
    """The small network with random weights and PyTorch's default init of the output layer (outputs of
    about the size of real blendshape weights, so that the tolerance means something)."""
    torch.manual_seed(0)
    G = emotalk_model.build_generator(small_cfg)
    G.bs_map_r.reset_parameters()
    return G.eval()


def test_bfloat16_predictions_match_float32(random_G, small_cfg, speech) -> None:
    audio = speech[: 6 * 16000]
    full, probs = predict_raw(random_G, audio, small_cfg)
    half = copy.deepcopy(random_G).to(torch.bfloat16)
    low, low_probs = predict_raw(half, audio, small_cfg)
    assert low.dtype == np.float32 and low.shape == full.shape == (180, 52)
    assert np.abs(full).mean() > 0.1  # outputs of real size
    diff = np.abs(low - full)
    assert 0 < diff.max() <= BF16_MAX_ABS  # really computed in bfloat16, and close
    assert diff.mean() <= BF16_MEAN_ABS
    assert np.abs(low_probs - probs).max() < 0.05


def test_checkpoint_loads_in_bfloat16(tmp_path, random_G, small_cfg, speech) -> None:
    from avs.checkpoint import load_impl, save_checkpoint
    from avs.plugins import discover

    method = discover().get("emotalk")
    path = save_checkpoint(tmp_path / "small.safetensors", {"generator": random_G.state_dict()}, method=method,
                           cfg=small_cfg, stats={})
    impl = load_impl(method, path, ["infer.dtype=bfloat16"])
    assert {p.dtype for p in impl.generator.parameters()} == {torch.bfloat16}
    motion = impl.predict(speech[: 3 * 16000])
    assert motion.data.shape == (90, 52) and np.isfinite(motion.data).all()
    auto = load_impl(method, path)  # auto: the small preset stays float32, equal to the saved weights
    assert {p.dtype for p in auto.generator.parameters()} == {torch.float32}
    for name, t in random_G.state_dict().items():
        assert torch.equal(auto.generator.state_dict()[name], t), name


def test_auto_dtype(small_cfg, monkeypatch) -> None:
    from avs.config import build_config
    from avs_emotalk.config import EmoTalkConfig

    large = build_config(EmoTalkConfig)
    monkeypatch.setattr(emotalk_model, "native_bfloat16", lambda: True)
    assert emotalk_model.resolve_dtype(large, "cpu") == "bfloat16"
    assert emotalk_model.resolve_dtype(large, "cuda") == "float32"
    assert emotalk_model.resolve_dtype(small_cfg, "cpu") == "float32"
    monkeypatch.setattr(emotalk_model, "native_bfloat16", lambda: False)
    assert emotalk_model.resolve_dtype(large, "cpu") == "float32"
    large.infer.dtype = "bfloat16"
    assert emotalk_model.resolve_dtype(large, "cpu") == "bfloat16"
    large.infer.dtype = "half"
    with pytest.raises(AvsError, match="infer.dtype must be one of auto, float32, bfloat16"):
        emotalk_model.resolve_dtype(large, "cpu")
