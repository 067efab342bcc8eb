"""``avs import sdt``: state dicts laid out exactly as the reference's checkpoints map onto ours.

The reference layouts below are written out from SpeechDrivesTemplates' modules
(``Voice2PoseModel``: ``mel_transfm``, ``netG`` with its ``code_mapper``, ``clips_code``,
``netD_pose``; ``Pose2PoseModel``: ``ae.encoder``/``ae.decoder``, ``clip_code_mu``/``_logvar``),
wrapped by DataParallel (``module.``) inside the trainer's checkpoint dict.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from avs.checkpoint import load_impl
from avs.config import build_config
from avs.errors import AvsError
from avs.plugins import discover
from avs_sdt.config import SDTConfig
from avs_sdt.importer import import_weights

W = 256  # the paper's width


def _block(prefix: str, shape: tuple[int, ...], batch_norm: bool) -> dict[str, tuple[int, ...]]:
    keys = {f"{prefix}.conv.weight": shape}
    if batch_norm:
        c = shape[0]
        keys |= {f"{prefix}.norm.weight": (c,), f"{prefix}.norm.bias": (c,), f"{prefix}.norm.running_mean": (c,),
                 f"{prefix}.norm.running_var": (c,), f"{prefix}.norm.num_batches_tracked": ()}
    return keys


def voice2pose_layout(code: int | None, clips: int, batch_norm: bool, discriminator: bool) -> dict[str, tuple]:
    """Key → shape of a reference Voice2Pose ``model_state_dict`` (without ``module.``)."""
    keys: dict[str, tuple] = {"mel_transfm.spectrogram.window": (400,), "mel_transfm.mel_scale.fb": (257, 80)}
    chans = [(1, 64), (64, 128), (128, 256), (256, 256)]
    for b, (cin, cout) in enumerate(chans):
        keys |= _block(f"netG.audio_encoder.specgram_encoder_2d.{b}.0", (cout, cin, 3, 3), batch_norm)
        last = (cout, cout, 6, 3) if b == 3 else (cout, cout, 4, 4)
        keys |= _block(f"netG.audio_encoder.specgram_encoder_2d.{b}.1", last, batch_norm)
    keys |= _block("netG.unet.e0", (W, W + (code or 0), 3), batch_norm)
    keys |= _block("netG.unet.e1", (W, W, 3), batch_norm)
    for i in range(2, 7):
        keys |= _block(f"netG.unet.e{i}", (W, W, 4), batch_norm)
    for i in range(5, 0, -1):
        keys |= _block(f"netG.unet.d{i}", (W, W, 3), batch_norm)
    for i in range(4):
        keys |= _block(f"netG.decoder.{i}", (W, W, 3), batch_norm)
    keys |= {"netG.decoder.4.weight": (242, W, 1), "netG.decoder.4.bias": (242,)}
    if code:
        for i in range(7):  # CodeMapper: batch norm always
            keys |= _block(f"netG.code_mapper.blocks.{i}", (W, W, 3), True)
        keys |= {"netG.code_mapper.blocks.7.weight": (code, W, 1), "netG.code_mapper.blocks.7.bias": (code,)}
        if clips:
            keys["clips_code"] = (clips, code)
    if discriminator:
        for i, (cin, cout, k) in enumerate([(242, 256, 4), (256, 512, 4), (512, 1024, 3)]):
            keys |= _block(f"netD_pose.seq.{i}", (cout, cin, k), True)
        keys |= {"netD_pose.seq.3.weight": (1, 1024, 3), "netD_pose.seq.3.bias": (1,)}
    return keys


def pose2pose_layout(clips: int) -> dict[str, tuple]:
    keys: dict[str, tuple] = {"mel_transfm.spectrogram.window": (400,), "mel_transfm.mel_scale.fb": (257, 80)}
    shapes = [(W, 242, 3), (W, W, 3), (W, W, 4), (W, W, 4), (W, W, 4), (W, W, 4), (64, W, 4)]
    for i, shape in enumerate(shapes):
        keys |= _block(f"ae.encoder.blocks.{i}", shape, True)
    keys |= _block("ae.decoder.d5", (W, 32, 3), True)
    for i in range(4, 0, -1):
        keys |= _block(f"ae.decoder.d{i}", (W, W, 3), True)
    for i in range(4):
        keys |= _block(f"ae.decoder.blocks.{i}", (W, W, 3), True)
    keys |= {"ae.decoder.blocks.4.weight": (242, W, 1), "ae.decoder.blocks.4.bias": (242,),
             "clip_code_mu": (clips, 32), "clip_code_logvar": (clips, 32)}
    return keys


def save_reference(path: Path, layout: dict[str, tuple], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors in ``layout`` saved as the reference trainer does; returns them (no prefix)."""
    gen = torch.Generator().manual_seed(seed)
    state = collections.OrderedDict()
    for key, shape in layout.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1234)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[key] = torch.randn(shape, generator=gen) * 0.05
    p = torch.nn.Parameter(torch.zeros(3))
    opt = torch.optim.Adam([p], lr=1e-4)
    p.grad = torch.ones(3)
    opt.step()
    torch.save({"epoch": 100, "step": 4200, "model_state_dict": {f"module.{k}": v for k, v in state.items()},
                "optimizerG_state_dict": opt.state_dict()}, path)
    return state


def _cfg(*overrides: str):
    return build_config(SDTConfig, overrides=list(overrides))


def test_sdt_bp_checkpoint_maps_onto_our_generator(sdt_root, tmp_path):
    ref = save_reference(tmp_path / "sdt_bp.pth", voice2pose_layout(32, 7, batch_norm=False, discriminator=False))
    cfg = _cfg("data.speakers=[speaker_a]")
    state, stats = import_weights(tmp_path / "sdt_bp.pth", cfg, sdt_root)
    assert (cfg.variant, cfg.model.width, cfg.model.norm, cfg.model.num_templates) == ("sdt-bp", 256, "instance", 7)
    torch.testing.assert_close(state["templates"], ref["clips_code"])
    torch.testing.assert_close(state["unet.e0.conv.weight"], ref["netG.unet.e0.conv.weight"])
    assert not any("code_mapper" in k or "mel_transfm" in k for k in state)
    assert stats["clip_speaker"].shape == (7,)
    from avs_sdt.model import build_generator

    G = build_generator(cfg)
    G.load_state_dict(state, strict=True)  # every key and shape fits
    for key, value in G.state_dict().items():
        source = "clips_code" if key == "templates" else f"netG.{key}"
        torch.testing.assert_close(value, ref[source])


def test_s2g_baseline_and_pose_vae_checkpoints(sdt_root, tmp_path):
    save_reference(tmp_path / "s2g.pth", voice2pose_layout(None, 0, batch_norm=True, discriminator=True))
    cfg = _cfg()
    state, _ = import_weights(tmp_path / "s2g.pth", cfg, sdt_root)
    assert (cfg.variant, cfg.model.norm) == ("s2g", "batch")
    assert "unet.e0.norm.running_var" in state and not any(k.startswith("netD") for k in state)

    ref = save_reference(tmp_path / "vae.pth", pose2pose_layout(11))
    cfg = _cfg()
    state, _ = import_weights(tmp_path / "vae.pth", cfg, sdt_root)
    assert (cfg.variant, cfg.model.width, cfg.model.template_dim) == ("pose-vae", 256, 32)
    from avs_sdt.model import build_generator

    vae = build_generator(cfg)
    vae.load_state_dict(state, strict=True)
    torch.testing.assert_close(vae.state_dict()["encoder.blocks.6.conv.weight"], ref["ae.encoder.blocks.6.conv.weight"])


def test_cli_import_writes_a_checkpoint_that_predicts(sdt_root, tmp_path, speech):
    save_reference(tmp_path / "ref.pth", voice2pose_layout(32, 9, batch_norm=False, discriminator=False))
    out = tmp_path / "imported.safetensors"
    run = subprocess.run([sys.executable, "-m", "avs.cli", "import", "sdt", str(tmp_path / "ref.pth"), str(out),
                          "data.speakers=[speaker_b]", "--data", str(sdt_root)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    method = discover().get("sdt")
    impl = load_impl(method, out)
    assert impl.generator.templates.shape == (9, 32) and [str(s) for s in impl.stats["speakers"]] == ["speaker_b"]
    motion = impl.predict(speech[:32000])
    assert motion.data.shape == (30, 137, 2) and np.isfinite(motion.data[:, 0]).all()


def test_unsupported_or_unsafe_files_are_refused(sdt_root, tmp_path):
    save_reference(tmp_path / "sdt_vae.pth", voice2pose_layout(32, 0, batch_norm=False, discriminator=False))
    with pytest.raises(AvsError, match="SDT-VAE generator: its templates are not in this file"):
        import_weights(tmp_path / "sdt_vae.pth", _cfg(), sdt_root)
    save_reference(tmp_path / "ok.pth", voice2pose_layout(32, 7, batch_norm=False, discriminator=False))
    with pytest.raises(AvsError, match="pass --data DIR"):
        import_weights(tmp_path / "ok.pth", _cfg(), None)
    with pytest.raises(AvsError, match="7 templates but the training split .* several speakers"):
        import_weights(tmp_path / "ok.pth", _cfg(), sdt_root)
    torch.save({"model_state_dict": {"module.x": torch.zeros(1)}, "args": argparse.Namespace(lr=1e-4)},
               tmp_path / "pickled.pth")  # needs a global that weights-only loading refuses
    with pytest.raises(AvsError, match="weights only"):
        import_weights(tmp_path / "pickled.pth", _cfg(), sdt_root)
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(AvsError, match="cannot read"):
        import_weights(tmp_path / "text.pth", _cfg(), sdt_root)
    torch.save({"model_state_dict": {"module.something.else": torch.zeros(2)}}, tmp_path / "other.pth")
    with pytest.raises(AvsError, match="neither 'module.netG"):
        import_weights(tmp_path / "other.pth", _cfg(), sdt_root)
