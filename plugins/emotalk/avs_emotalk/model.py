"""The EmoTalk network: two wav2vec2 encoders, an emotion head and a one-layer transformer decoder.

Facts from psyai-net/EmoTalk_release (``model.py``, ``wav2vec.py``, ``utils.py``) and the paper
(Peng et al., "EmoTalk: Speech-Driven Emotional Disentanglement for 3D Face Animation", ICCV 2023,
Sec. 3):

- content and emotion encoders are ``transformers.Wav2Vec2Model``; they resample differently
  (reference ``wav2vec.py``): the **content** encoder linearly interpolates (``align_corners=True``) its
  50 Hz CNN features to the 30 fps frame count T *before* the feature projection and the transformer
  encoder; the **emotion** encoder interpolates them to ``int(L / 50 · 30)`` frames (L = its 50 Hz CNN
  frames), runs the projection and transformer on those, and interpolates its *output* hidden states to
  T afterwards (``Wav2Vec2ForSpeechClassification.forward``), each sequence on its own;
- emotion head on the emotion encoder: mean over frames → dropout → Linear H→H → tanh → dropout →
  Linear H→classes;
- content' = Linear(H→512); emo832 = Linear(H→832); emo256 = ReLU(Linear 832→256); level one-hot(2)
  → Linear(2→32); person one-hot(24) → Linear(24→32); target = concat (832) → ``nn.TransformerDecoder``
  (1 layer, 4 heads, feed-forward 832, batch first) with memory emo832, the periodic ALiBi causal
  target mask (period 30) and the diagonal memory mask; Linear(832→52), zero-initialised.

Parameter names are the reference's (``audio_encoder_cont``, ``audio_encoder_emo.wav2vec2``,
``audio_encoder_emo.classifier``, ``audio_feature_map_cont``, ``audio_feature_map_emo``,
``audio_feature_map_emo2``, ``obj_vector_level``, ``obj_vector_person``, ``transformer_decoder``,
``bs_map_r``), so the released ``EmoTalk.pth`` maps onto this module almost one to one
(:mod:`avs_emotalk.importer`).

Differences from the reference, all for batching or documented controls:

- batched and padded: each sequence has its own audio length and frame count; padded CNN features
  are left out of the interpolation, the wav2vec2 encoders get an attention mask, and the emotion
  head pools over valid frames only. The decoder needs no padding mask: its causal and diagonal
  masks never let a valid frame see a padded one;
- the ALiBi mask is computed for the length at hand instead of sliced from a 5000-frame table (same
  values, no length limit);
- two buffers hold running means of the emotion features per RAVDESS emotion, so that
  ``emotion=<name>`` can replace the audio's own emotion at prediction (ours).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from avs.api import AvsError
from avs_emotalk.arkit import EMOTIONS, NUM_BLENDSHAPES, NUM_LEVELS, NUM_PERSONS

SAMPLE_RATE = 16000
"""Audio rate in Hz."""
FPS = 30.0
"""Blendshape frame rate."""
FRAME_BUCKET = 8
"""Padded sequences are as long as the longest rounded up to a multiple of this (fewer distinct shapes)."""
MIN_SAMPLES = 400
"""Shortest waveform the wav2vec2 CNN turns into one feature (its receptive field, 25 ms); shorter
inputs are zero-padded to it."""

ENCODER_PRESETS: dict[str, dict[str, Any]] = {
    # The reference's encoders (wav2vec2-large-xlsr-53 family): stable layer norm, layer-norm CNN.
    "large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                  conv_dim=(512,) * 7, num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16),
    # CPU size: the same architecture, narrow and shallow.
    "small": dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
                  conv_dim=(32,) * 7, num_conv_pos_embeddings=32, num_conv_pos_embedding_groups=4),
}
"""``Wav2Vec2Config`` shapes of ``model.encoder``; both use 7 conv layers with kernels
(10, 3, 3, 3, 3, 2, 2) and strides (5, 2, 2, 2, 2, 2, 2) (320 samples = 20 ms per feature)."""

_COMMON = dict(
    conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_stride=(5, 2, 2, 2, 2, 2, 2), conv_bias=True,
    feat_extract_norm="layer", do_stable_layer_norm=True, feat_extract_activation="gelu", hidden_act="gelu",
    layer_norm_eps=1e-5, mask_time_prob=0.05, hidden_dropout=0.1, attention_dropout=0.1, activation_dropout=0.0,
    feat_proj_dropout=0.0, final_dropout=0.1,
    layerdrop=0.0,  # no skipped layers: every parameter takes part in every step (DDP needs it)
)


def wav2vec2_config(encoder: str) -> Any:
    """The ``transformers.Wav2Vec2Config`` of an encoder preset.

    Raises:
        AvsError: an unknown preset name.
    """
    from transformers import Wav2Vec2Config

    if encoder not in ENCODER_PRESETS:
        raise AvsError(f"unknown model.encoder {encoder!r} (known: {', '.join(ENCODER_PRESETS)})")
    return Wav2Vec2Config(**_COMMON, **ENCODER_PRESETS[encoder])


def build_wav2vec2(encoder: str, local_dir: str = "", what: str = "encoder") -> nn.Module:
    """A ``Wav2Vec2Model``: random weights of the ``encoder`` preset, or pretrained from ``local_dir``.

    Args:
        encoder: ``large`` or ``small`` (ignored when ``local_dir`` is given: its config wins).
        local_dir: folder with ``config.json`` and weights (``from_pretrained(local_files_only=True)``;
            nothing is downloaded). Layer drop is switched off. Under the meta device (a checkpoint is
            being loaded: its weights replace these) only the folder's config.json is read.
        what: name for error messages (``model.content_encoder_path``...).

    Raises:
        AvsError: an unknown preset; ``local_dir`` missing, not a folder, without ``config.json``, or
            not loadable as wav2vec2.
    """
    from transformers import Wav2Vec2Model

    if local_dir:
        path = Path(local_dir).expanduser()
        if not path.is_dir():
            raise AvsError(f"{what}: folder {path} not found (expected a local wav2vec2 model folder)")
        if not (path / "config.json").is_file():
            raise AvsError(f"{what}: {path} has no config.json (expected a wav2vec2 model saved with save_pretrained)")
        try:
            if torch.empty(0).device.type == "meta":  # built for a checkpoint's weights: the folder's shapes only
                from transformers import Wav2Vec2Config

                config = Wav2Vec2Config.from_pretrained(str(path), local_files_only=True, layerdrop=0.0)
                return _no_spec_augment(Wav2Vec2Model(config))
            model = Wav2Vec2Model.from_pretrained(str(path), local_files_only=True, layerdrop=0.0)
        except Exception as exc:  # transformers raises OSError, ValueError, KeyError... for a bad folder
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise AvsError(f"{what}: cannot load a wav2vec2 model from {path}: {first}") from None
    else:
        model = Wav2Vec2Model(wav2vec2_config(encoder))
    return _no_spec_augment(model)


def _no_spec_augment(model: nn.Module) -> nn.Module:
    if hasattr(model, "masked_spec_embed"):
        model.masked_spec_embed.requires_grad_(False)  # SpecAugment vector: our forward never masks
    return model


class EmotionHead(nn.Module):
    """Mean-pooled features → dropout → Linear(H, H) → tanh → dropout → Linear(H, classes).

    Reference: ``wav2vec.py::Wav2Vec2ClassificationHead`` (names ``dense``, ``out_proj``).
    """

    def __init__(self, hidden: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(hidden, num_classes)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """(B, H) → (B, classes) logits."""
        x = torch.tanh(self.dense(self.dropout(pooled)))
        return self.out_proj(self.dropout(x))


class EmotionEncoder(nn.Module):
    """The emotion encoder: a wav2vec2 (``wav2vec2``) and its classification head (``classifier``).

    Reference: ``wav2vec.py::Wav2Vec2ForSpeechClassification`` (mean pooling).
    """

    def __init__(self, wav2vec2: nn.Module, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.wav2vec2 = wav2vec2
        self.classifier = EmotionHead(wav2vec2.config.hidden_size, num_classes, dropout)


def alibi_slopes(num_heads: int) -> list[float]:
    """ALiBi head slopes (Press et al. 2022), as FaceFormer/EmoTalk use them.

    For a power of two ``n``: ``s_h = 2^(-8 (h + 1) / n)``, h = 0..n-1 (n = 4: 1/4, 1/16, 1/64, 1/256).
    Otherwise the slopes of the nearest lower power of two, then every other slope of twice that
    power, as in the ALiBi paper.
    """
    def power_of_two(n: int) -> list[float]:
        return [2.0 ** (-8.0 * (h + 1) / n) for h in range(n)]

    if num_heads < 1:
        raise ValueError("num_heads must be at least 1")
    if math.log2(num_heads).is_integer():
        return power_of_two(num_heads)
    lower = 2 ** math.floor(math.log2(num_heads))
    return power_of_two(lower) + power_of_two(2 * lower)[0::2][: num_heads - lower]


def periodic_alibi_mask(num_frames: int, num_heads: int, period: int, device: Any = None) -> torch.Tensor:
    """FaceFormer's periodic ALiBi causal target mask (reference ``utils.py::init_biased_mask``).

    ``mask[h, i, j] = -s_h · floor((i − j) / period)`` for ``j ≤ i`` and ``-inf`` for ``j > i``
    (no attention to future frames): a frame attends to the current period with no penalty and to
    each earlier period with a penalty that grows linearly with its distance.

    Args:
        num_frames: sequence length T (frames).
        num_heads: attention heads (one slope each, :func:`alibi_slopes`).
        period: frames per period (EmoTalk: 30, one second).

    Returns:
        (num_heads, T, T) float32 additive attention mask.
    """
    i = torch.arange(num_frames, device=device)
    distance = i[:, None] - i[None, :]
    bias = -torch.div(distance.clamp(min=0), period, rounding_mode="floor").float()
    slopes = torch.tensor(alibi_slopes(num_heads), device=device).view(-1, 1, 1)
    mask = slopes * bias[None]
    return mask.masked_fill((distance < 0)[None], float("-inf"))


def alignment_mask(num_frames: int, device: Any = None) -> torch.Tensor:
    """The diagonal memory mask (reference ``utils.py::enc_dec_mask``): frame i sees memory frame i only.

    Returns:
        (T, T) bool, True where attention is *not* allowed (PyTorch's convention), False on the diagonal.
    """
    return ~torch.eye(num_frames, dtype=torch.bool, device=device)


def frame_count(num_samples: int) -> int:
    """Blendshape frames for ``num_samples`` of 16 kHz audio: ``ceil(samples / 16000 · 30)`` (reference
    ``model.py::predict``)."""
    return max(1, math.ceil(num_samples / SAMPLE_RATE * FPS))


class EmoTalk(nn.Module):
    """Speech → 52 ARKit blendshape weights at 30 fps, with emotion, level and person controls.

    Args:
        cfg: an :class:`avs_emotalk.config.ModelConfig`.

    Raises:
        AvsError: an unknown encoder preset, a missing local encoder folder, a decoder width that is
            not a multiple of ``heads``, or a non-positive size.
    """

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        dims = {k: int(getattr(cfg, k)) for k in ("content_dim", "emotion_dim", "level_dim", "person_dim",
                                                    "heads", "num_emotions", "period")}
        bad = [k for k, v in dims.items() if v < 1]
        if bad:
            raise AvsError(f"model.{bad[0]} must be at least 1 (got {dims[bad[0]]})")
        width = dims["content_dim"] + dims["emotion_dim"] + dims["level_dim"] + dims["person_dim"]
        if width % dims["heads"]:
            raise AvsError(f"decoder width {width} (content_dim + emotion_dim + level_dim + person_dim) "
                           f"must be a multiple of model.heads={dims['heads']}")
        self.width = width
        self.heads = dims["heads"]
        self.period = dims["period"]
        self.normalize_audio = bool(cfg.normalize_audio)
        self.momentum = float(cfg.prototype_momentum)

        self.audio_encoder_cont = build_wav2vec2(str(cfg.encoder), str(cfg.content_encoder_path or ""),
                                                 "model.content_encoder_path")
        emo = build_wav2vec2(str(cfg.encoder), str(cfg.emotion_encoder_path or ""), "model.emotion_encoder_path")
        self.audio_encoder_emo = EmotionEncoder(emo, dims["num_emotions"], float(emo.config.final_dropout))
        if cfg.freeze_feature_encoder:
            self.audio_encoder_cont.feature_extractor._freeze_parameters()
            self.audio_encoder_emo.wav2vec2.feature_extractor._freeze_parameters()
        h_cont = self.audio_encoder_cont.config.hidden_size
        h_emo = emo.config.hidden_size

        self.audio_feature_map_cont = nn.Linear(h_cont, dims["content_dim"])
        self.audio_feature_map_emo = nn.Linear(h_emo, width)
        self.audio_feature_map_emo2 = nn.Linear(width, dims["emotion_dim"])
        self.relu = nn.ReLU()
        self.obj_vector_level = nn.Linear(NUM_LEVELS, dims["level_dim"])
        self.obj_vector_person = nn.Linear(NUM_PERSONS, dims["person_dim"])
        layer = nn.TransformerDecoderLayer(d_model=width, nhead=dims["heads"], dim_feedforward=width,
                                           dropout=float(cfg.dropout), batch_first=True)
        self.transformer_decoder = nn.TransformerDecoder(layer, num_layers=1)
        self.bs_map_r = nn.Linear(width, NUM_BLENDSHAPES)
        nn.init.zeros_(self.bs_map_r.weight)
        nn.init.zeros_(self.bs_map_r.bias)
        # running means of the pooled emotion features per RAVDESS emotion (for emotion=<name>)
        self.register_buffer("emotion_prototypes", torch.zeros(len(EMOTIONS), h_emo))
        self.register_buffer("emotion_prototype_count", torch.zeros(len(EMOTIONS)))

    # ------------------------------------------------------------------ encoders

    def _prepare_audio(self, audio: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero the padding, standardise each waveform over its valid samples, pad to MIN_SAMPLES."""
        n, s = audio.shape
        valid = torch.arange(s, device=audio.device)[None] < lengths[:, None]
        audio = audio * valid
        if self.normalize_audio:
            count = lengths.clamp(min=1).to(audio.dtype)[:, None]
            mean = audio.sum(1, keepdim=True) / count
            var = (((audio - mean) * valid) ** 2).sum(1, keepdim=True) / count
            audio = (audio - mean) / torch.sqrt(var + 1e-7) * valid
        if s < MIN_SAMPLES:
            audio = F.pad(audio, (0, MIN_SAMPLES - s))
        return audio, lengths.clamp(min=MIN_SAMPLES)

    @staticmethod
    def _cnn(w2v: nn.Module, audio: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, S) waveforms → ((N, L, C) 50 Hz CNN features, (N,) valid feature counts)."""
        feats = w2v.feature_extractor(audio).transpose(1, 2)
        feat_len = w2v._get_feat_extract_output_lengths(lengths).long().clamp(1, feats.shape[1])
        return feats, feat_len

    @staticmethod
    def _resample(rows: list[torch.Tensor], sizes: list[int], t_max: int) -> torch.Tensor:
        """Linearly interpolate (``align_corners=True``) each (L_j, C) row to ``sizes[j]`` frames and
        zero-pad to ``t_max``: (J, t_max, C). Reference ``wav2vec.py::linear_interpolation``."""
        out = []
        for x, size in zip(rows, sizes, strict=True):
            x = F.interpolate(x.T[None], size=size, mode="linear", align_corners=True)[0].T
            out.append(F.pad(x, (0, 0, 0, t_max - size)))
        return torch.stack(out)

    @staticmethod
    def _transformer(w2v: nn.Module, x: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """Feature projection and transformer encoder over (J, T, C) features with ``lengths`` valid frames."""
        mask = torch.arange(x.shape[1], device=x.device)[None] < torch.tensor(lengths, device=x.device)[:, None]
        hidden = w2v.feature_projection(x)[0]
        return w2v.encoder(hidden, attention_mask=None if bool(mask.all()) else mask)[0]

    @staticmethod
    def _encode(w2v: nn.Module, feats: torch.Tensor, feat_len: torch.Tensor, num_frames: torch.Tensor,
                resample: str = "before") -> tuple[torch.Tensor, torch.Tensor]:
        """Encode each sequence's valid CNN features into hidden states at its frame count.

        ``resample="before"`` (the content encoder): interpolate the 50 Hz features to the frame count,
        then project and encode. ``resample="after"`` (the emotion encoder): interpolate them to
        ``int(L_j / 50 · 30)`` frames (at least 1), project and encode those, then interpolate the
        encoder's output to the frame count. Reference ``wav2vec.py``: ``Wav2Vec2Model.forward`` with and
        without ``frame_num``, ``Wav2Vec2ForSpeechClassification.forward``.

        Args:
            feats: (J, L, C) CNN features; feat_len (J,) valid counts; num_frames (J,) frame counts.
            resample: ``before`` or ``after`` the transformer.

        Returns:
            ((J, T, H) hidden states, (J, T) bool mask of valid frames), T = max(num_frames) rounded up to
            a multiple of :data:`FRAME_BUCKET` when J > 1.

        Raises:
            ValueError: an unknown ``resample``.
        """
        t_max = int(num_frames.max())
        if feats.shape[0] > 1:
            t_max = -(-t_max // FRAME_BUCKET) * FRAME_BUCKET
        frames = [int(n) for n in num_frames]
        rows = [feats[j, : int(feat_len[j])] for j in range(feats.shape[0])]
        mask = torch.arange(t_max, device=feats.device)[None] < num_frames[:, None]
        if resample == "before":
            return EmoTalk._transformer(w2v, EmoTalk._resample(rows, frames, t_max), frames), mask
        if resample != "after":
            raise ValueError(f"resample must be 'before' or 'after', got {resample!r}")
        inner = [max(1, int(r.shape[0] / 50.0 * 30)) for r in rows]  # the reference's int(L / 50 * 30)
        hidden = EmoTalk._transformer(w2v, EmoTalk._resample(rows, inner, max(inner)), inner)
        outputs = [hidden[j, :n] for j, n in enumerate(inner)]
        return EmoTalk._resample(outputs, frames, t_max), mask

    # ------------------------------------------------------------------ forward

    def forward(self, audio: torch.Tensor, audio_lengths: torch.Tensor, content_index: torch.Tensor,
                emotion_index: torch.Tensor, num_frames: torch.Tensor, level: torch.Tensor, person: torch.Tensor,
                emotion_class: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Decode J sequences, each from the content of one waveform and the emotion of another.

        With ``content_index == emotion_index`` this is the reference's ``predict``; with different
        waveforms it is the cross-reconstruction of the paper's disentanglement (Sec. 3.3), where both
        encoders are interpolated to the target's frame count (reference ``model.py::forward``).

        Args:
            audio: (N, S) float32 waveforms at 16 kHz, zero-padded at the end.
            audio_lengths: (N,) valid samples of each waveform.
            content_index: (J,) row of ``audio`` that gives each sequence its content.
            emotion_index: (J,) row of ``audio`` that gives each sequence its emotion.
            num_frames: (J,) frames (30 fps) to produce for each sequence.
            level: (J,) emotion level, 0 or 1.
            person: (J,) person, 0–23.
            emotion_class: optional (J,) RAVDESS emotion class; where >= 0 the emotion features'
                utterance mean is replaced by that emotion's running mean (``emotion=<name>``).

        Returns:
            ``blendshapes`` (J, T, 52) float32 weights at 30 fps (no activation; frames past
            ``num_frames`` are padding; T = max(num_frames), rounded up to a multiple of 8 when J > 1),
            ``mask`` (J, T) bool valid frames, ``logits`` (J, classes) of the emotion head,
            ``emotion_pooled`` (J, H) mean emotion features over valid frames.
        """
        audio, lengths = self._prepare_audio(audio.float(), audio_lengths.long())
        audio = audio.to(self.bs_map_r.weight.dtype)  # the network's precision (bfloat16 with infer.dtype)
        w2v_c, w2v_e = self.audio_encoder_cont, self.audio_encoder_emo.wav2vec2
        c_rows, e_rows = torch.unique(content_index), torch.unique(emotion_index)
        feats_c, len_c = self._cnn(w2v_c, audio[c_rows], lengths[c_rows])
        feats_e, len_e = self._cnn(w2v_e, audio[e_rows], lengths[e_rows])
        c_pos = torch.searchsorted(c_rows, content_index)
        e_pos = torch.searchsorted(e_rows, emotion_index)
        num_frames = num_frames.long()
        content, mask = self._encode(w2v_c, feats_c[c_pos], len_c[c_pos], num_frames)
        emotion, _ = self._encode(w2v_e, feats_e[e_pos], len_e[e_pos], num_frames, resample="after")

        weights = mask.unsqueeze(-1).to(emotion.dtype)
        pooled = (emotion * weights).sum(1) / num_frames.clamp(min=1)[:, None].to(emotion.dtype)
        logits = self.audio_encoder_emo.classifier(pooled)
        if emotion_class is not None:
            chosen = emotion_class >= 0
            if bool(chosen.any()):
                target = self.emotion_prototypes[emotion_class.clamp(min=0)]
                shift = torch.where(chosen[:, None], target - pooled, torch.zeros_like(pooled))
                emotion = emotion + shift[:, None, :]

        t_max = content.shape[1]
        content = self.audio_feature_map_cont(content)
        emo_wide = self.audio_feature_map_emo(emotion)
        emo_narrow = self.relu(self.audio_feature_map_emo2(emo_wide))
        lvl = self.obj_vector_level(F.one_hot(level.long(), NUM_LEVELS).to(content.dtype))
        per = self.obj_vector_person(F.one_hot(person.long(), NUM_PERSONS).to(content.dtype))
        tgt = torch.cat([content, emo_narrow, lvl[:, None].expand(-1, t_max, -1),
                         per[:, None].expand(-1, t_max, -1)], dim=2)
        jobs = tgt.shape[0]
        tgt_mask = periodic_alibi_mask(t_max, self.heads, self.period, tgt.device).to(tgt.dtype).repeat(jobs, 1, 1)
        memory_mask = alignment_mask(t_max, tgt.device)
        decoded = self.transformer_decoder(tgt, emo_wide, tgt_mask=tgt_mask, memory_mask=memory_mask)
        return {"blendshapes": self.bs_map_r(decoded), "mask": mask, "logits": logits, "emotion_pooled": pooled}

    # ------------------------------------------------------------------ emotion prototypes

    @torch.no_grad()
    def update_prototypes(self, pooled: torch.Tensor, labels: torch.Tensor) -> None:
        """Move each seen emotion's running mean towards this batch's mean pooled features.

        ``proto[e] ← (1 − m) · proto[e] + m · mean(pooled[labels == e])`` with ``m =
        model.prototype_momentum`` (the first batch of an emotion sets it directly).

        Args:
            pooled: (J, H) pooled emotion features (``forward``'s ``emotion_pooled``).
            labels: (J,) RAVDESS emotion classes; negative = unknown, skipped.
        """
        for e in torch.unique(labels[labels >= 0]).tolist():
            if e >= self.emotion_prototypes.shape[0]:
                continue
            mean = pooled[labels == e].float().mean(0)
            if float(self.emotion_prototype_count[e]) == 0:
                self.emotion_prototypes[e] = mean
            else:
                self.emotion_prototypes[e].lerp_(mean, self.momentum)
            self.emotion_prototype_count[e] += int((labels == e).sum())


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 matmuls natively (AVX-512 BF16 or AMX, as oneDNN reports it)."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    try:
        return bool(check()) if check is not None else False
    except RuntimeError:
        return False


def resolve_dtype(cfg: Any, device: Any) -> str:
    """The precision to load the network in for inference: ``cfg.infer.dtype`` with ``auto`` resolved.

    ``auto`` is ``bfloat16`` for ``model.encoder=large`` on a CPU with native bfloat16 (the 640 M
    parameters then take 1.3 GB instead of 2.6 GB, and the run fits in 3 GB), ``float32`` otherwise
    (the small preset, GPUs, CPUs that would emulate bfloat16 slowly).

    Args:
        cfg: an :class:`avs_emotalk.config.EmoTalkConfig`; device: the torch device of inference.

    Returns:
        ``float32`` or ``bfloat16``.

    Raises:
        AvsError: an unknown ``infer.dtype``.
    """
    from avs_emotalk.config import DTYPES

    name = str(cfg.infer.dtype)
    if name not in DTYPES:
        raise AvsError(f"infer.dtype must be one of {', '.join(DTYPES)}, got {name!r}")
    if name != "auto":
        return name
    on_cpu = torch.device(device).type == "cpu"
    return "bfloat16" if str(cfg.model.encoder) == "large" and on_cpu and native_bfloat16() else "float32"


def build_generator(cfg: Any) -> EmoTalk:
    """``cfg -> Generator``: the EmoTalk network of ``cfg.model`` (random or local pretrained encoders)."""
    return EmoTalk(cfg.model)


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (trainable or not)."""
    return sum(p.numel() for p in module.parameters())
