"""The network: masks, shapes, batching with padding, presets, local pretrained encoders, sizes."""

from __future__ import annotations

import math

import pytest
import torch

from avs.config import build_config
from avs.errors import AvsError
from avs_emotalk.config import SMALL_PRESET, EmoTalkConfig
from avs_emotalk.model import (
    alibi_slopes,
    alignment_mask,
    build_generator,
    build_wav2vec2,
    count_parameters,
    frame_count,
    periodic_alibi_mask,
)


def _run(G, audios, frames, level=1, person=0, emotion_class=None):
    """Decode each waveform with its own content and emotion (the prediction path)."""
    n = len(audios)
    width = max(a.numel() for a in audios)
    batch = torch.zeros(n, width)
    for i, a in enumerate(audios):
        batch[i, : a.numel()] = a
    idx = torch.arange(n)
    return G(batch, torch.tensor([a.numel() for a in audios]), idx, idx, torch.tensor(frames),
             torch.full((n,), level), torch.full((n,), person), emotion_class)


def test_alibi_slopes_match_faceformer() -> None:
    assert alibi_slopes(4) == [0.25, 0.0625, 0.015625, 0.00390625]
    assert alibi_slopes(8)[0] == 0.5 and len(alibi_slopes(6)) == 6


def test_periodic_alibi_mask_values() -> None:
    mask = periodic_alibi_mask(70, 4, 30)
    assert mask.shape == (4, 70, 70)
    # causal: no attention to the future, none lost on the past
    assert torch.isinf(mask[:, 3, 4:]).all() and torch.isfinite(mask[:, 3, :4]).all()
    # no penalty inside the current period, then one slope per period back
    assert (mask[:, 40, 11:41] == 0).all()
    torch.testing.assert_close(mask[:, 40, 10], -torch.tensor(alibi_slopes(4)))
    torch.testing.assert_close(mask[:, 69, 0], -2 * torch.tensor(alibi_slopes(4)))
    # only the distance matters (a slice of a longer mask is the same)
    torch.testing.assert_close(periodic_alibi_mask(200, 4, 30)[:, :70, :70], mask)


def test_alignment_mask_is_diagonal() -> None:
    mask = alignment_mask(5)
    assert mask.dtype == torch.bool
    assert not mask.diagonal().any() and mask.sum() == 20


def test_frame_count_is_the_reference_ceil() -> None:
    assert frame_count(16000) == 30 and frame_count(16001) == 31 and frame_count(533) == 1
    assert frame_count(48000 + 1) == math.ceil(48001 / 16000 * 30)


def test_output_shapes_and_zero_init(small_cfg) -> None:
    torch.manual_seed(0)
    G = build_generator(small_cfg).eval()
    out = _run(G, [torch.randn(20000), torch.randn(9000)], [38, 17])
    # a batch is padded to the longest sequence rounded up to a multiple of 8 frames
    assert out["blendshapes"].shape == (2, 40, 52) and out["mask"].shape == (2, 40)
    assert out["logits"].shape == (2, 8) and out["emotion_pooled"].shape == (2, 128)  # small encoder: hidden 128
    assert out["mask"][0, :38].all() and not out["mask"][0, 38:].any()
    assert out["mask"][1, :17].all() and not out["mask"][1, 17:].any()
    assert (out["blendshapes"] == 0).all()  # the reference zero-initialises bs_map_r


def test_batched_padded_equals_one_by_one(small_G) -> None:
    """Padding in a batch changes nothing for the valid frames (masks in encoder, pooling and decoder)."""
    G = small_G.eval()
    torch.manual_seed(1)
    a, b = torch.randn(24000), torch.randn(11000)
    with torch.no_grad():
        both = _run(G, [a, b], [45, 21])
        one_a, one_b = _run(G, [a], [45]), _run(G, [b], [21])
    torch.testing.assert_close(both["blendshapes"][0, :45], one_a["blendshapes"][0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(both["blendshapes"][1, :21], one_b["blendshapes"][0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(both["logits"][1], one_b["logits"][0], atol=1e-4, rtol=1e-4)


def test_decoder_is_causal(small_G) -> None:
    """Frame t of the decoder depends on no later target frame: change the content's future, keep the past.

    The content encoder is bidirectional, so we test the decoder alone with hand-made inputs."""
    G = small_G.eval()
    torch.manual_seed(2)
    tgt = torch.randn(1, 40, G.width)
    mem = torch.randn(1, 40, G.width)
    masks = dict(tgt_mask=periodic_alibi_mask(40, 4, 30).repeat(1, 1, 1), memory_mask=alignment_mask(40))
    with torch.no_grad():
        base = G.transformer_decoder(tgt, mem, **masks)
        changed = tgt.clone()
        changed[:, 25:] += 3.0
        out = G.transformer_decoder(changed, mem, **masks)
        mem2 = mem.clone()
        mem2[:, 30] += 3.0  # memory frame 30 only reaches target frame 30 (diagonal), then later frames
        out2 = G.transformer_decoder(tgt, mem2, **masks)
    torch.testing.assert_close(out[:, :25], base[:, :25])
    assert not torch.allclose(out[:, 25:], base[:, 25:])
    torch.testing.assert_close(out2[:, :30], base[:, :30])
    assert not torch.allclose(out2[:, 30], base[:, 30])


def test_level_person_and_emotion_inputs_matter(small_G) -> None:
    G = small_G.eval()
    torch.manual_seed(3)
    a = torch.randn(16000)
    with torch.no_grad():
        base = _run(G, [a], [30])["blendshapes"]
        assert not torch.allclose(base, _run(G, [a], [30], level=0)["blendshapes"])
        assert not torch.allclose(base, _run(G, [a], [30], person=5)["blendshapes"])
        G.emotion_prototypes[2] = torch.randn(G.emotion_prototypes.shape[1])
        G.emotion_prototype_count[2] = 1
        assert not torch.allclose(base, _run(G, [a], [30], emotion_class=torch.tensor([2]))["blendshapes"])
        torch.testing.assert_close(base, _run(G, [a], [30], emotion_class=torch.tensor([-1]))["blendshapes"])


def test_cross_reconstruction_uses_both_inputs(small_G) -> None:
    """Content from one waveform and emotion from another, both interpolated to the target's length."""
    G = small_G.eval()
    torch.manual_seed(4)
    audio = torch.randn(2, 20000)
    lengths = torch.tensor([20000, 15000])
    one = torch.ones(1, dtype=torch.long)
    with torch.no_grad():
        cross = G(audio, lengths, torch.tensor([0]), torch.tensor([1]), torch.tensor([33]), one, 0 * one)
        self_ = G(audio, lengths, torch.tensor([0]), torch.tensor([0]), torch.tensor([33]), one, 0 * one)
        other = G(audio, lengths, torch.tensor([1]), torch.tensor([1]), torch.tensor([33]), one, 0 * one)
    assert cross["blendshapes"].shape == (1, 33, 52)
    assert not torch.allclose(cross["blendshapes"], self_["blendshapes"])
    torch.testing.assert_close(cross["logits"], other["logits"])  # the head reads the emotion input


def test_short_audio_is_padded_to_one_feature(small_G) -> None:
    out = _run(small_G.eval(), [torch.randn(200)], [1])
    assert out["blendshapes"].shape == (1, 1, 52) and torch.isfinite(out["blendshapes"]).all()


def test_feature_encoders_frozen_as_reference() -> None:
    cfg = build_config(EmoTalkConfig, overrides=["model.encoder=small"])
    G = build_generator(cfg)
    assert not any(p.requires_grad for p in G.audio_encoder_cont.feature_extractor.parameters())
    assert not any(p.requires_grad for p in G.audio_encoder_emo.wav2vec2.feature_extractor.parameters())
    assert not G.audio_encoder_cont.masked_spec_embed.requires_grad  # SpecAugment vector, unused


def test_bad_sizes_are_user_errors() -> None:
    with pytest.raises(AvsError, match="unknown model.encoder"):
        build_generator(build_config(EmoTalkConfig, overrides=["model.encoder=huge"]))
    with pytest.raises(AvsError, match="multiple of model.heads"):
        build_generator(build_config(EmoTalkConfig, overrides=SMALL_PRESET + ["model.heads=5"]))


def test_local_pretrained_encoder(tmp_path, small_cfg) -> None:
    """content_encoder_path loads from_pretrained(local folder) offline; its shape wins over the preset."""
    w2v = build_wav2vec2("small")
    w2v.save_pretrained(tmp_path / "w2v")
    small_cfg.model.content_encoder_path = str(tmp_path / "w2v")
    G = build_generator(small_cfg)
    torch.testing.assert_close(G.audio_encoder_cont.encoder.layers[0].attention.q_proj.weight,
                               w2v.encoder.layers[0].attention.q_proj.weight)
    with torch.device("meta"):  # as load_impl builds it for a checkpoint: the folder's shapes, no weights read
        shell = build_generator(small_cfg)
    assert {k: v.shape for k, v in shell.state_dict().items()} == {k: v.shape for k, v in G.state_dict().items()}
    assert shell.audio_encoder_cont.encoder.layers[0].attention.q_proj.weight.is_meta
    small_cfg.model.content_encoder_path = str(tmp_path / "missing")
    with pytest.raises(AvsError, match="not found"):
        build_generator(small_cfg)
    (tmp_path / "empty").mkdir()
    small_cfg.model.content_encoder_path = str(tmp_path / "empty")
    with pytest.raises(AvsError, match="no config.json"):
        build_generator(small_cfg)


def test_parameter_counts(small_cfg) -> None:
    """The small preset (the bundled checkpoint's size)."""
    G = build_generator(small_cfg)
    assert count_parameters(G) == 1_593_724
    d = 256  # 128 + 64 + 32 + 32: two attentions (4d² + 4d each), feed-forward (2d² + 2d), 3 norms (6d)
    assert count_parameters(G.transformer_decoder) == 10 * d * d + 16 * d


@pytest.mark.slow
def test_large_preset_has_the_reference_shapes() -> None:
    """Built on the meta device (no memory): two wav2vec2-large encoders (315 M each) and the 832 decoder."""
    with torch.device("meta"):
        G = build_generator(build_config(EmoTalkConfig))
    assert count_parameters(G.audio_encoder_cont) == 315_438_720
    assert G.audio_feature_map_cont.weight.shape == (512, 1024)
    assert G.audio_feature_map_emo.weight.shape == (832, 1024)
    assert G.audio_feature_map_emo2.weight.shape == (256, 832)
    assert G.transformer_decoder.layers[0].self_attn.in_proj_weight.shape == (3 * 832, 832)
    assert G.bs_map_r.weight.shape == (52, 832)
    assert count_parameters(G) == 640_505_852
