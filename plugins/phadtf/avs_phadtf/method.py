"""PHADTF as an avs method implementation (contract v2: :class:`avs.api.MethodImpl`).

Variants (``variant=``):

- ``general`` — ATC_net alone, trained on every prepared person of a data root (the reference's LRW model,
  ``atcnet.py``: lr 2e-4, 10 epochs; see ``configs/general.yaml``).
- ``finetune`` — one person (``train_19news_1.py`` of both halves): ATC_net initialised from a general checkpoint
  (``init=``, default the bundled one) and fine-tuned with lr 1e-4 on the first ``data.train_frames`` frames,
  together with the memory-augmented GAN (trained from scratch: no general render-to-video model is bundled)
  on the GAN triplets of the same frames. Both halves share one Adam (lr 1e-4, β 0.5/0.999 for both in the
  reference, so one optimiser over disjoint parameters equals separate ones); each item carries one ATC clip and
  one GAN triplet, so the GAN sees the trainer's batch size (paper: batch 1) — stated deviation.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError, MethodImpl, Motion
from avs_phadtf.config import VARIANTS
from avs_phadtf.data import Person, people, person_mean, split_frames
from avs_phadtf.mfcc import SAMPLES_PER_FRAME, speech_windows

DEFAULT_GENERAL = Path(__file__).parent / "checkpoints" / "general_small.safetensors"


def _std_floor(std: np.ndarray) -> np.ndarray:
    return np.maximum(std, 1e-3 * max(float(np.median(std)), 1e-6)).astype(np.float32)


def coeff_scale(centred: np.ndarray, exp_scale: str) -> np.ndarray:
    """(70,) divisor of person-centred coefficients (N, 70) for ATC_net's targets.

    Pose (3 angles in radians, 3 translations in pixels): each its own std. Expression: ``shared`` = one RMS
    over the 64 components (their relative variances kept, as the reference's raw coefficients), or
    ``per_coefficient`` = each its own std.

    Raises:
        AvsError: unknown ``exp_scale``.
    """
    from avs_phadtf.model import NUM_EXP

    std = centred.std(axis=0)
    if exp_scale == "shared":
        std[:NUM_EXP] = np.sqrt(np.mean(std[:NUM_EXP] ** 2))
    elif exp_scale != "per_coefficient":
        raise AvsError(f"atc.exp_scale must be shared or per_coefficient; got {exp_scale!r}")
    return _std_floor(std)


def finetune_range(num_frames: int, split: str, cfg: Any) -> tuple[int, int]:
    """Frames ``[start, stop)`` of a fine-tune split: ``train`` the first ``data.train_frames``; ``test`` the
    held-out frames after them; ``dev`` (best checkpoint) the frames after the held-out ones when there are at
    least one clip's worth (phadtf_31: 400–607), so the held-out frames stay unseen by model selection; for a
    shorter person dev is the held-out range itself (then evaluate ``last.safetensors``, not ``best``)."""
    train_stop, test_stop = split_frames(num_frames, cfg.data)
    if split == "train":
        return 0, train_stop
    if split == "dev" and num_frames - test_stop >= cfg.atc.clip_frames:
        return test_stop, num_frames
    return train_stop, test_stop


class PhadtfMethod(MethodImpl):
    """ATC_net (+ the person's GAN and memory for ``finetune``); see the module docstring."""

    val_key = "atc_loss"

    def __init__(self, cfg: Any, stats: Mapping[str, np.ndarray]) -> None:
        super().__init__(cfg, stats)
        from avs_phadtf.model import ATCNet, PatchGAN, PersonModel

        if cfg.variant not in VARIANTS:
            raise AvsError(f"variant must be one of {', '.join(VARIANTS)}; got {cfg.variant!r}")
        self.general = cfg.variant == "general"
        if self.general:
            self.G: Any = ATCNet(cfg.atc)
            self.D: Any = None
        else:
            self.G = PersonModel(cfg.atc, cfg.gan)
            self.D = PatchGAN(cfg.gan) if cfg.gan.enabled else None
        self._assets: Any = None
        self._person: Person | None = None

    # ------------------------------------------------------------------ data
    @classmethod
    def compute_stats(cls, cfg: Any, data_root: Path) -> dict[str, np.ndarray]:
        """General: the pooled per-dimension std of person-centred coefficients over every training range.
        Fine-tune: the person's mean and std over its training frames, plus its fingerprint (folder, name,
        frame count, identity embedding) so a checkpoint knows its person."""
        if cfg.variant not in VARIANTS:
            raise AvsError(f"variant must be one of {', '.join(VARIANTS)}; got {cfg.variant!r}")
        if cfg.variant == "general":
            centred = []
            for person, ranges in people(data_root):
                a, b = ranges.get("train", [0, 0])
                c, v = person.coefficients(), person.valid
                if b > a and v[a:b].any():
                    centred.append(c[a:b][v[a:b]] - c[a:b][v[a:b]].mean(axis=0))
            if not centred:
                raise AvsError(f"{data_root}: no training frames with a tracked face")
            return {"coeff_std": coeff_scale(np.concatenate(centred), cfg.atc.exp_scale),
                    "variant": np.array("general")}
        person = Person.load(data_root)
        if person.num_frames < cfg.data.min_frames:
            raise AvsError(f"{person.root} has {person.num_frames} frames ({person.num_frames / 25:.1f} s); "
                           f"fine-tuning needs at least {cfg.data.min_frames}")
        stop, _ = split_frames(person.num_frames, cfg.data)
        c, v = person.coefficients(), person.valid
        mean = person_mean(c, v, stop)
        return {"coeff_std": coeff_scale(c[:stop][v[:stop]] - mean, cfg.atc.exp_scale),
                "coeff_mean": mean.astype(np.float32),
                "variant": np.array("finetune"), "person_root": np.array(str(person.root.resolve())),
                "person_name": np.array(person.name), "person_frames": np.array(person.num_frames),
                "person_identity": person.track.get("identity", np.zeros(128, np.float32)).astype(np.float32)}

    @classmethod
    def synthesize_data(cls, root: Path, cfg: Any, seed: int) -> str:
        """A synthetic prepared person (a drawn face speaking real speech) in ``root/synth_person``."""
        from avs_phadtf.synth import synthesize_person

        person = synthesize_person(Path(root), seed=seed)
        return f"synthetic prepared person {person} (6 s, 150 frames); fine-tune with --data {person}"

    @classmethod
    def import_weights(cls, reference: Path, cfg: Any, data_root: Path | None) -> tuple[dict[str, Any], Any]:
        """The reference's ATC_net (``variant=general``) or render-to-video generator (``variant=finetune
        gan.identity_dim=512``); see :mod:`avs_phadtf.importer`."""
        from avs_phadtf.importer import import_reference

        return import_reference(Path(reference), cfg)

    def build_dataset(self, data_root: Path, split: str) -> Any:
        """General: clips of every person's ``split`` range (index.json). Fine-tune: clips + GAN triplets of
        frames ``[0, train)`` (``train``) or the held-out ``[train, test)`` (``dev``/``test``)."""
        from avs_phadtf.datasets import AtcClips, FinetuneItems

        if split not in ("train", "dev", "test"):
            raise AvsError(f"unknown split {split!r}")
        std = self.stats["coeff_std"]
        if self.general:
            ranges = []
            for person, r in people(data_root):
                if split in r and r[split][1] > r[split][0]:
                    tr = r.get("train", [0, 0])
                    mean = person_mean(np.nan_to_num(person.coefficients()), person.valid, tr[1]) if tr[1] > tr[0] \
                        else np.zeros(70, np.float32)
                    ranges.append((person, r[split][0], r[split][1], mean))
            return AtcClips(ranges, std, self.cfg.atc.clip_frames, self.cfg.audio)
        person = Person.load(data_root)
        start, stop = finetune_range(person.num_frames, split, self.cfg)
        clips = AtcClips([(person, start, stop, self.stats["coeff_mean"])], std, self.cfg.atc.clip_frames,
                         self.cfg.audio)
        if split == "train":
            self._load_init()
        # GAN triplets for training, and for validation when dev is the held-out range itself (a short clip);
        # a dev range after the held-out frames validates ATC_net only (no renders of those frames needed);
        # the test split is scored on whole generated frames instead
        train_stop, _ = split_frames(person.num_frames, self.cfg.data)
        with_gan = split == "train" or (split == "dev" and start == train_stop)
        assets = self._person_assets(person) if self.cfg.gan.enabled and with_gan else None
        return FinetuneItems(clips, assets, start, stop, self.cfg.gan.window, person)

    def _person_assets(self, person: Person) -> Any:
        from avs_phadtf.pipeline import PersonAssets

        if self._assets is None or self._assets.person.root != person.root:
            self._assets = PersonAssets.build(person, self.cfg)
        return self._assets

    def _load_init(self) -> None:
        """Start the fine-tune's ATC_net from ``cfg.init`` (empty: the bundled general model; ``none``: N(0, 0.02))."""
        from avs.api import load_checkpoint

        if self.cfg.init == "none":
            return
        path = Path(self.cfg.init) if self.cfg.init else (DEFAULT_GENERAL if DEFAULT_GENERAL.is_file() else None)
        if path is None:
            return
        ckpt = load_checkpoint(path)
        if ckpt.method_name != "phadtf":
            raise AvsError(f"init checkpoint {path} was made by {ckpt.method_name}, not phadtf")
        state = ckpt.networks["generator"]
        state = {k.removeprefix("atc."): v for k, v in state.items() if not k.startswith(("unet.", "memory."))}
        try:
            self.G.atc.load_state_dict(state)
        except RuntimeError as exc:
            raise AvsError(f"init checkpoint {path} does not fit this ATC_net (same preset?): "
                           f"{str(exc).splitlines()[0]}") from None

    # ------------------------------------------------------------------ networks & steps
    def networks(self) -> dict[str, Any]:
        nets = {"generator": self.G}
        if self.D is not None:
            nets["discriminator"] = self.D
        return nets

    def configure_optimizers(self) -> dict[str, Any]:
        """Adam (lr_g / lr_d, β1, β2) as core's default, with ``atc.weight_decay`` on ATC_net's parameters."""
        import torch

        t = self.cfg.train
        betas = (float(t.beta1), float(t.beta2))
        atc = self.G if self.general else self.G.atc
        atc_ids = {id(p) for p in atc.parameters()}
        rest = [p for p in self.G.parameters() if id(p) not in atc_ids]
        groups = [{"params": list(atc.parameters()), "weight_decay": float(self.cfg.atc.weight_decay)}]
        if rest:
            groups.append({"params": rest, "weight_decay": 0.0})
        opts = {"generator": torch.optim.Adam(groups, lr=float(t.lr_g), betas=betas)}
        if self.D is not None:
            opts["discriminator"] = torch.optim.Adam(self.D.parameters(), lr=float(t.lr_d), betas=betas)
        return opts

    def generator_step(self, batch: Mapping[str, Any]) -> tuple[Any, dict[str, float]]:
        import torch

        from avs_phadtf.losses import atc_loss, generator_gan_loss
        from avs_phadtf.model import compose

        G = self.training_network("generator")
        if self.general:
            loss, logs = atc_loss(G(batch["mfcc"]), batch["coeff"], self.cfg.atc)
            return loss, {"atc_loss": float(loss.detach()), **logs}
        gan = "renders" in batch and self.D is not None
        out = G(batch["mfcc"], batch.get("renders"), batch.get("identity"), batch.get("query"))
        loss, logs = atc_loss(out[0], batch["coeff"], self.cfg.atc)
        logs = {"atc_loss": float(loss.detach()), **logs}
        if gan:
            _, query, color, mask = out
            renders, real, identity = batch["renders"], batch["real"], batch["identity"]
            mem_loss = self.G.memory.hinge_loss(query, identity)
            fake = compose(color, mask, renders[:, -3:])
            d_fake = self.D(torch.cat([renders, fake], dim=1))
            g_loss, glogs = generator_gan_loss(d_fake, fake, real, mask, self.cfg.gan)
            self.G.memory.update(query.detach(), identity, batch["index"])
            loss = loss + mem_loss + g_loss
            logs.update(glogs, mem=float(mem_loss.detach()), g_total=float(g_loss.detach()))
        return loss, logs

    def discriminator_step(self, batch: Mapping[str, Any]) -> tuple[Any, dict[str, float]] | None:
        import torch

        from avs_phadtf.losses import discriminator_loss
        from avs_phadtf.model import compose

        if self.D is None or "renders" not in batch:
            return None
        renders = batch["renders"]
        with torch.no_grad():
            color, mask = self.G.unet(renders, batch["identity"])
            fake = compose(color, mask, renders[:, -3:])
        D = self.training_network("discriminator")
        return discriminator_loss(D(torch.cat([renders, batch["real"]], 1)), D(torch.cat([renders, fake], 1)))

    def validate(self, batch: Mapping[str, Any]) -> dict[str, float]:
        """ATC loss on held-out clips; with the GAN also the L1 of refined held-out frames, identity read from
        memory as at test time."""
        import torch.nn.functional as F

        from avs_phadtf.losses import atc_loss
        from avs_phadtf.model import compose

        atc = self.G if self.general else self.G.atc
        loss, logs = atc_loss(atc(batch["mfcc"]), batch["coeff"], self.cfg.atc)
        out = {"atc_loss": float(loss), **logs}
        if not self.general and "renders" in batch and self.G.unet is not None:
            ident = self.G.memory.read(self.G.memory(batch["query"]))
            color, mask = self.G.unet(batch["renders"], ident)
            out["l1_img"] = float(F.l1_loss(compose(color, mask, batch["renders"][:, -3:]), batch["real"]))
        return out

    # ------------------------------------------------------------------ inference
    def _target(self, inputs: Mapping[str, Path] | None) -> Person:
        given = (inputs or {}).get("target") or (self.cfg.target or None)
        stored = str(self.stats["person_root"]) if "person_root" in self.stats else None
        if given is None and stored is None:
            raise AvsError("phadtf needs a person: --input target=FOLDER (made by `avs data prepare face`) "
                           "or a checkpoint fine-tuned on one")
        person = Person.load(given or stored)
        if stored is not None:
            name, frames = str(self.stats["person_name"]), int(self.stats["person_frames"])
            ident = np.asarray(self.stats["person_identity"], np.float32)
            other = person.track.get("identity")
            same = person.name == name and person.num_frames == frames
            if other is not None and np.linalg.norm(ident) > 0:
                same = same and float(np.dot(ident, other)) > 0.9
            if not same:
                raise AvsError(f"this checkpoint was fine-tuned on {name} ({frames} frames), not on {person.root}; "
                               "fine-tune on that person or use a general checkpoint")
        return person

    def predict(self, audio: np.ndarray, inputs: Mapping[str, Path] | None = None) -> Motion:
        """Speech → 70 coefficients per frame (expression predicted; pose of the matched real frame).

        ``motion.extras``: ``background_frame`` (T,) the matched training frame, ``predicted_pose`` (T, 6) the
        network's own pose before background matching.
        """
        from avs_phadtf.pipeline import PersonAssets, assign_frames, predict_coefficients

        person = self._target(inputs)
        assets = PersonAssets.build(person, self.cfg)
        num_frames = int(round(len(audio) / SAMPLES_PER_FRAME))
        windows = speech_windows(np.asarray(audio, np.float32), num_frames, self.cfg.audio)
        mean = self.stats["coeff_mean"] if "coeff_mean" in self.stats else \
            person_mean(np.nan_to_num(person.coefficients()), person.valid, assets.train_stop)
        atc = (self.G if self.general else self.G.atc).eval()
        coeffs = predict_coefficients(atc, windows, np.asarray(mean, np.float32), self.stats["coeff_std"])
        assign = assign_frames(coeffs, assets)
        final = coeffs.copy()
        final[:, 64:] = assets.pose[assign]
        self._assets = assets
        return Motion("3dmm", final.astype(np.float32), 25.0,
                      extras={"background_frame": assign.astype(np.int32), "predicted_pose": coeffs[:, 64:]})

    def renderer(self) -> Any:
        if self._assets is None:
            raise AvsError("phadtf renders after predict (it needs the target person)")
        return PhadtfRenderer(self)


    # ------------------------------------------------------------------ evaluation
    def _clip_frames(self, dataset: Any) -> dict[str, Any]:
        """Held-out clip of a fine-tune split: its speech → our video, the render without GAN, the real frames
        (all downscaled by ``EVAL_SCALE`` to bound memory)."""
        from avs_phadtf.pipeline import synthesize_frames

        person = getattr(dataset, "person", None)
        if self.general or person is None:
            raise AvsError("phadtf evaluates fine-tuned checkpoints on a prepared person's held-out frames")
        start, stop = dataset.start, dataset.stop
        audio = person.audio()[start * SAMPLES_PER_FRAME: stop * SAMPLES_PER_FRAME]
        motion = self.predict(audio, {"target": person.root})
        assign = np.asarray(motion.extras["background_frame"])
        fake = _scaled(self.renderer().frames(motion))
        no_gan = _scaled(synthesize_frames(motion.data, assign, self._assets, None, None))
        real = _scaled(person.iter_frames(start, stop))
        return {"real": real, "fake": fake, "no_gan": no_gan, "audio": audio, "name": person.name}

    def predict_clips(self, dataset: Any) -> Any:
        """The held-out clip as ``avs.face``'s ``FaceImageClips`` (real vs generated frames, with the speech)."""
        from avs.face import FaceImageClips

        c = self._clip_frames(dataset)
        return FaceImageClips(real=[c["real"]], fake=[c["fake"]], fps=25.0, audio=[c["audio"]], names=[c["name"]])

    def evaluate(self, dataset: Any) -> dict[str, float]:
        """The face-image suite (PSNR, SSIM, landmark distance, identity similarity, pose error, HS, lip-sync
        proxy) on the held-out frames, for our video and, as ``<metric>@<row>``, for the render without GAN
        refinement and the suite's baselines (still first frame; another clip — for one person its frames
        reversed in time). ATC_net's held-out coefficient MSE (normalised space) is ``atc_mse``."""
        return self.score_clip(self._clip_frames(dataset), dataset)

    def score_clip(self, c: Mapping[str, Any], dataset: Any) -> dict[str, float]:
        """:meth:`evaluate`'s metrics of frames already made by :meth:`_clip_frames`."""
        import torch

        from avs.face import FaceImageClips, face_image_baselines, face_image_metrics

        clips = FaceImageClips(real=[c["real"]], fake=[c["fake"]], fps=25.0, audio=[c["audio"]], names=[c["name"]])
        out = face_image_metrics(clips)
        rows = {"no_gan": [c["no_gan"]], **face_image_baselines(clips)}
        for label, fake in rows.items():
            m = face_image_metrics(FaceImageClips(real=clips.real, fake=fake, fps=25.0, audio=clips.audio))
            out.update({f"{k}@{label}": v for k, v in m.items()})
        losses = []
        with torch.no_grad():
            for i in range(len(dataset.clips)):
                item = dataset.clips[i]
                pred = self.G.atc.eval()(torch.from_numpy(item["mfcc"])[None].to(self.device))
                losses.append(float(torch.mean((pred[0].cpu() - torch.from_numpy(item["coeff"])) ** 2)))
        if losses:
            out["atc_mse"] = float(np.mean(losses))
        return out


EVAL_SCALE = 0.5
"""Evaluation frames are the full frames downscaled by this factor (a 1280×720 video scores at 640×360)."""


def _scaled(frames: Any) -> np.ndarray:
    import cv2

    out = []
    for f in frames:
        h, w = f.shape[:2]
        size = (int(round(w * EVAL_SCALE)), int(round(h * EVAL_SCALE)))
        out.append(cv2.resize(f, size, interpolation=cv2.INTER_AREA))
    return np.stack(out)


class PhadtfRenderer:
    """Frames of a phadtf :class:`Motion`: render → GAN refinement (fine-tuned checkpoints) → composite.

    Attributes:
        size: (height, width) of the person's video.
    """

    def __init__(self, impl: PhadtfMethod) -> None:
        self.impl = impl
        p = impl._assets.person
        self.size = (p.height, p.width)

    def frames(self, motion: Motion) -> Any:
        from avs_phadtf.pipeline import synthesize_frames

        impl = self.impl
        unet = memory = None
        if not impl.general and impl.G.unet is not None:
            unet, memory = impl.G.unet.eval(), impl.G.memory.eval()
        return synthesize_frames(motion.data, np.asarray(motion.extras["background_frame"]), impl._assets,
                                 unet, memory)
