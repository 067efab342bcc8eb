"""Parity with the reference: a state dict with the reference's names and shapes loads strictly.

``ReferenceEmoTalk`` below mirrors the module tree of psyai-net/EmoTalk_release ``model.py`` and
``wav2vec.py`` (attribute names and layer shapes only; 1024 becomes the small encoder's width): its
``state_dict()`` has the keys a released ``EmoTalk.pth`` has, saved with the old weight-norm names.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from avs.checkpoint import load_generator, load_state_strict
from avs.config import build_config
from avs.errors import AvsError
from avs.importing import import_reference
from avs.plugins import discover
from avs_emotalk.config import EmoTalkConfig
from avs_emotalk.importer import import_weights, map_reference_state
from avs_emotalk.inference import predict
from avs_emotalk.model import EmoTalk, build_generator, wav2vec2_config


class _RefWav2Vec2(nn.Module):
    """The reference's wav2vec2 subclass: a transformers Wav2Vec2Model plus an unused ``lm_head``."""

    def __new__(cls, config):
        from transformers import Wav2Vec2Model

        model = Wav2Vec2Model(config)
        model.lm_head = nn.Linear(config.hidden_size, 32)
        return model


class _RefHead(nn.Module):
    def __init__(self, hidden: int, labels: int) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(0.1)
        self.out_proj = nn.Linear(hidden, labels)


class _RefEmotion(nn.Module):
    def __init__(self, config, labels: int) -> None:
        super().__init__()
        self.wav2vec2 = _RefWav2Vec2(config)
        self.classifier = _RefHead(config.hidden_size, labels)


class ReferenceEmoTalk(nn.Module):
    """The reference's module tree (names and shapes of EmoTalk_release ``model.py::EmoTalk``)."""

    def __init__(self, config, labels: int = 8) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.audio_encoder_cont = _RefWav2Vec2(config)
        self.audio_encoder_emo = _RefEmotion(config, labels)
        self.audio_feature_map_cont = nn.Linear(hidden, 512)
        self.audio_feature_map_emo = nn.Linear(hidden, 832)
        self.audio_feature_map_emo2 = nn.Linear(832, 256)
        self.relu = nn.ReLU()
        self.obj_vector_level = nn.Linear(2, 32)
        self.obj_vector_person = nn.Linear(24, 32)
        layer = nn.TransformerDecoderLayer(d_model=832, nhead=4, dim_feedforward=832, batch_first=True)
        self.transformer_decoder = nn.TransformerDecoder(layer, num_layers=1)
        self.bs_map_r = nn.Linear(832, 52)


def _old_weight_norm_names(state: dict) -> OrderedDict:
    """Rename today's parametrized weight-norm keys to ``weight_g``/``weight_v`` (a 2023 torch save)."""
    out = OrderedDict()
    for k, v in state.items():
        k = k.replace("conv.parametrizations.weight.original0", "conv.weight_g")
        k = k.replace("conv.parametrizations.weight.original1", "conv.weight_v")
        out[k] = v
    return out


@pytest.fixture(scope="module")
def reference_file(tmp_path_factory):
    torch.manual_seed(0)
    ref = ReferenceEmoTalk(wav2vec2_config("small"))
    for p in ref.parameters():
        nn.init.normal_(p, std=0.02)
    state = _old_weight_norm_names(ref.state_dict())
    assert any(k.endswith("pos_conv_embed.conv.weight_g") for k in state)
    assert "audio_encoder_cont.lm_head.weight" in state and "audio_encoder_emo.wav2vec2.lm_head.weight" in state
    path = tmp_path_factory.mktemp("ref") / "EmoTalk.pth"
    torch.save(state, path)
    return path, state


@pytest.fixture()
def ref_cfg():
    """Our config for the reference's shapes with the small encoder."""
    return build_config(EmoTalkConfig, overrides=["model.encoder=small"])


def test_reference_state_dict_loads_strictly(reference_file, ref_cfg) -> None:
    path, state = reference_file
    mapped, stats = import_weights(path, ref_cfg, None)
    assert stats == {}
    G = build_generator(ref_cfg)
    load_state_strict(G, mapped, "reference")  # raises on any missing, unexpected or misshapen key
    ours = G.state_dict()
    torch.testing.assert_close(ours["transformer_decoder.layers.0.self_attn.in_proj_weight"],
                               state["transformer_decoder.layers.0.self_attn.in_proj_weight"])
    torch.testing.assert_close(ours["audio_encoder_emo.classifier.out_proj.weight"],
                               state["audio_encoder_emo.classifier.out_proj.weight"])
    torch.testing.assert_close(ours["audio_encoder_cont.encoder.pos_conv_embed.conv.parametrizations.weight.original0"],
                               state["audio_encoder_cont.encoder.pos_conv_embed.conv.weight_g"])
    assert ours["emotion_prototype_count"].sum() == 0  # no data given: no emotion=<name>
    # every reference key but the two unused lm_heads found a home
    dropped = set(state) - {k.replace("conv.parametrizations.weight.original0", "conv.weight_g")
                            .replace("conv.parametrizations.weight.original1", "conv.weight_v") for k in ours}
    assert dropped == {"audio_encoder_cont.lm_head.weight", "audio_encoder_cont.lm_head.bias",
                       "audio_encoder_emo.wav2vec2.lm_head.weight", "audio_encoder_emo.wav2vec2.lm_head.bias"}


def test_module_prefix_and_new_weight_norm_names(reference_file, ref_cfg) -> None:
    _, state = reference_file
    G = build_generator(ref_cfg)
    prefixed = {"module." + k: v for k, v in state.items()}
    mapped = map_reference_state(prefixed, set(G.state_dict()))
    mapped.update({k: G.state_dict()[k] for k in ("emotion_prototypes", "emotion_prototype_count")})
    load_state_strict(G, mapped, "reference")


def test_avs_import_then_predict(tmp_path, reference_file, synth_root, speech) -> None:
    """``avs import emotalk EmoTalk.pth out.safetensors --data DIR`` → a checkpoint that predicts, with
    per-emotion features computed from the data."""
    path, _ = reference_file
    method = discover().get("emotalk")
    out = import_reference(method, path, tmp_path / "imported.safetensors", ["model.encoder=small"], synth_root)
    G, cfg, stats = load_generator(method, out)
    assert stats["mean"].shape == (52,)
    assert (G.emotion_prototype_count > 0).all()  # all 8 emotions are in the synthetic training split
    cfg.emotion = "sad"
    motion = predict(G, speech[:16000], cfg, stats)
    assert motion.data.shape == (30, 52) and np.isfinite(motion.data).all()


def test_import_errors(tmp_path, reference_file, ref_cfg) -> None:
    path, _ = reference_file
    ref_cfg.model.num_emotions = 7
    with pytest.raises(AvsError, match="model.num_emotions=8"):
        import_weights(path, ref_cfg, None)
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(AvsError, match="state dict of tensors"):
        import_weights(tmp_path / "list.pth", ref_cfg, None)
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    with pytest.raises(AvsError, match="cannot read"):
        import_weights(tmp_path / "junk.pth", ref_cfg, None)
    torch.save({"x": ReferenceEmoTalk}, tmp_path / "code.pth")  # needs unpickling of code: refused
    with pytest.raises(AvsError, match="weights_only"):
        import_weights(tmp_path / "code.pth", ref_cfg, None)
    ref_cfg.model.num_emotions = 8
    ref_cfg.model.content_dim = 256  # our small decoder is not the reference's
    with pytest.raises(AvsError, match="does not fit"):
        import_reference(discover().get("emotalk"), path, tmp_path / "x.safetensors",
                         ["model.encoder=small", "model.content_dim=256"])
    assert not (tmp_path / "x.safetensors").exists()


# --------------------------------------------------------------------------------------------------------------
# The emotion encoder's order of operations, re-stated from EmoTalk_release (model.py::predict, wav2vec.py) in its
# simplest form: batch of one, no padding, straight calls into the reference-named modules.


def _lerp(x: torch.Tensor, size: int) -> torch.Tensor:
    """(1, L, C) → (1, size, C), linear with align_corners=True (the reference's linear_interpolation)."""
    return torch.nn.functional.interpolate(x.transpose(1, 2), size=size, align_corners=True,
                                           mode="linear").transpose(1, 2)


def _reference_predict(ref: ReferenceEmoTalk, audio: torch.Tensor, level: int, person: int) -> torch.Tensor:
    """(1, S) waveform → (1, T, 52), as the reference's ``predict`` orders it."""
    num_frames = math.ceil(audio.shape[1] / 16000 * 30)
    x = (audio - audio.mean()) / torch.sqrt(audio.var(unbiased=False) + 1e-7)  # the processors' do_normalize
    cont = ref.audio_encoder_cont
    feats = cont.feature_extractor(x).transpose(1, 2)
    feats = _lerp(feats, num_frames)  # content: to T frames *before* the transformer (frame_num given)
    content = cont.encoder(cont.feature_projection(feats)[0])[0]
    emo = ref.audio_encoder_emo.wav2vec2
    feats = emo.feature_extractor(x).transpose(1, 2)
    feats = _lerp(feats, int(feats.shape[1] / 50.0 * 30))  # emotion: frame_num not passed to wav2vec2
    hidden = emo.encoder(emo.feature_projection(feats)[0])[0]
    emotion = _lerp(hidden, num_frames)  # ... and its output interpolated to T afterwards
    lvl = ref.obj_vector_level(torch.eye(2)[[level]])[:, None].repeat(1, num_frames, 1)
    per = ref.obj_vector_person(torch.eye(24)[[person]])[:, None].repeat(1, num_frames, 1)
    emo832 = ref.audio_feature_map_emo(emotion)
    tgt = torch.cat([ref.audio_feature_map_cont(content), ref.relu(ref.audio_feature_map_emo2(emo832)), lvl, per], 2)
    slopes = [0.25 ** (h + 1) for h in range(4)]  # FaceFormer's ALiBi slopes for 4 heads
    tgt_mask = torch.full((4, num_frames, num_frames), float("-inf"))
    for h in range(4):
        for i in range(num_frames):
            for j in range(i + 1):
                tgt_mask[h, i, j] = -slopes[h] * ((i - j) // 30)
    memory_mask = ~torch.eye(num_frames, dtype=torch.bool)
    out = ref.transformer_decoder(tgt, emo832, tgt_mask=tgt_mask, memory_mask=memory_mask)
    return ref.bs_map_r(out)


@pytest.fixture(scope="module")
def default_init_reference(tmp_path_factory):
    """A reference-named EmoTalk.pth with the modules' own initialisation (seeded) and a non-zero output
    layer: unlike small normal weights, its output depends strongly on the emotion path."""
    torch.manual_seed(11)
    ref = ReferenceEmoTalk(wav2vec2_config("small"))
    nn.init.normal_(ref.bs_map_r.weight, std=0.1)
    path = tmp_path_factory.mktemp("ref_default") / "EmoTalk.pth"
    torch.save(_old_weight_norm_names(ref.state_dict()), path)
    return path, ref.eval()


def _content_order(*args, resample: str = "") -> torch.Tensor:
    """The old (wrong) emotion path: resampled before the transformer, as the content encoder does."""
    return EmoTalk._encode(*args, resample="before")


def test_forward_matches_reference_order_of_operations(default_init_reference, ref_cfg) -> None:
    path, ref = default_init_reference
    mapped, _ = import_weights(path, ref_cfg, None)
    G = build_generator(ref_cfg)
    load_state_strict(G, mapped, "reference")
    G.eval()
    torch.manual_seed(3)
    for samples in (16000 + 4321, 40000):  # 59 / 75 frames; int(L / 50 * 30) and T differ
        audio = torch.randn(1, samples) * 0.1
        with torch.no_grad():
            expected = _reference_predict(ref, audio, level=1, person=5)
            one = torch.tensor([0])
            ours = G(audio, torch.tensor([samples]), one, one, torch.tensor([expected.shape[1]]), torch.tensor([1]),
                     torch.tensor([5]))["blendshapes"]
            # the old order (emotion resampled before its transformer, like the content) is measurably different
            G._encode = _content_order
            old = G(audio, torch.tensor([samples]), one, one, torch.tensor([expected.shape[1]]), torch.tensor([1]),
                    torch.tensor([5]))["blendshapes"]
            del G._encode
        assert expected.std() > 0.5
        torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-4)
        assert (old - expected).abs().max() > 0.1


def test_batched_emotion_path_equals_one_by_one(default_init_reference, ref_cfg) -> None:
    mapped, _ = import_weights(default_init_reference[0], ref_cfg, None)
    G = build_generator(ref_cfg)
    load_state_strict(G, mapped, "reference")
    G.eval()
    torch.manual_seed(4)
    lengths = [16000 + 4321, 30000]
    audio = torch.zeros(2, max(lengths))
    for i, n in enumerate(lengths):
        audio[i, :n] = torch.randn(n) * 0.1
    frames = [math.ceil(n / 16000 * 30) for n in lengths]
    idx = torch.tensor([0, 1])
    with torch.no_grad():
        both = G(audio, torch.tensor(lengths), idx, idx, torch.tensor(frames), torch.tensor([1, 0]),
                 torch.tensor([2, 3]))["blendshapes"]
        for i, n in enumerate(lengths):
            one = torch.tensor([0])
            alone = G(audio[i : i + 1, :n], torch.tensor([n]), one, one, torch.tensor([frames[i]]),
                      torch.tensor([[1, 0][i]]), torch.tensor([[2, 3][i]]))["blendshapes"]
            torch.testing.assert_close(both[i, : frames[i]], alone[0], rtol=1e-5, atol=1e-4)
