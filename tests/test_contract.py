"""Contract v2: the Method record, MethodImpl's capabilities and defaults, and the trainer driving them."""

from __future__ import annotations

import io

import pytest
import torch
from rich.console import Console

from avs.config import build_config
from avs.errors import AvsError
from avs.impl import CAPABILITIES, MethodImpl
from avs.method import Method, lazy
from avs.train import Trainer
from toy_method import ToyConfig, ToyMethod, make_method


def _fit(method, tmp_path, *overrides):
    cfg = build_config(method.config_class, None, list(overrides))
    trainer = Trainer(method, cfg, tmp_path, tmp_path / "run", console=Console(file=io.StringIO()))
    return trainer, trainer.fit()


def test_a_capability_not_overridden_is_a_one_line_error():
    class Bare(MethodImpl):
        pass

    Method(name="bare", task="gesture-2d", summary="s", paper="p", config_class=ToyConfig, sample_rate=16000,
           fps=15.0, impl=Bare).impl_class()
    assert Bare.capabilities() == set()
    with pytest.raises(AvsError, match="^bare cannot import weights$"):
        Bare.import_weights(None, None, None)
    with pytest.raises(AvsError, match="^bare cannot synthesize data$"):
        Bare.require("synthesize_data")
    impl = Bare(build_config(ToyConfig), {})
    for name, call in [("predict", lambda: impl.predict(None)), ("evaluate", lambda: impl.evaluate(None)),
                       ("render video", impl.renderer), ("train", lambda: impl.generator_step({}))]:
        with pytest.raises(AvsError, match=f"^bare cannot {name}"):
            call()
    assert impl.export(None, None) == [] and impl.discriminator_step({}) is None


def test_capabilities_tell_what_is_overridden():
    caps = ToyMethod.capabilities()
    assert {"compute_stats", "synthesize_data", "build_dataset", "generator_step", "discriminator_step",
            "validate", "predict", "renderer", "evaluate"} <= caps
    assert not caps & {"import_weights", "predict_clips", "render_examples", "export"}
    assert caps <= set(CAPABILITIES)


def test_lazy_resolves_once_and_reports_a_missing_target():
    ref = lazy("avs.impl:MethodImpl")
    assert ref.resolve() is MethodImpl and ref.resolve() is ref.resolve()
    with pytest.raises(AvsError, match="cannot load avs.impl:Nope"):
        lazy("avs.impl:Nope").resolve()
    with pytest.raises(ValueError):
        lazy("no-colon")
    record = make_method(impl=lazy("avs.errors:AvsError"))
    with pytest.raises(AvsError, match="not a subclass of avs.impl.MethodImpl"):
        record.impl_class()


def test_the_record_is_torch_free_and_versioned_by_discovery():
    from avs.plugins import discover

    s2g = discover().get("s2g")
    from importlib.metadata import version

    assert s2g.version == version("avs-s2g")
    assert isinstance(s2g.impl, lazy)


def test_any_optimiser_and_a_per_step_learning_rate(tmp_path):
    seen: list[tuple[int, int, float]] = []

    def rmsprop(self):
        return {"generator": torch.optim.RMSprop(self.generator.parameters(), lr=1e-3, weight_decay=1e-4),
                "discriminator": torch.optim.RMSprop(self.discriminator.parameters(), lr=2e-3)}

    def lr_scale(self, epoch, step):
        return 1.0 / (1 + step)

    def generator_step(self, batch):
        opt_lrs = [g["lr"] for g in trainer_ref["t"].optimizers["discriminator"].param_groups]
        seen.append((len(seen), opt_lrs[0], trainer_ref["t"].optimizers["generator"].param_groups[0]["lr"]))
        return ToyMethod.generator_step(self, batch)

    trainer_ref: dict = {}
    method = make_method(configure_optimizers=rmsprop, lr_scale=lr_scale, generator_step=generator_step)
    cfg = build_config(method.config_class, None, ["train.epochs=1"])
    trainer = Trainer(method, cfg, tmp_path, tmp_path / "run", console=Console(file=io.StringIO()))
    trainer_ref["t"] = trainer
    trainer.fit()
    assert isinstance(trainer.optimizers["generator"], torch.optim.RMSprop)
    assert trainer.optimizers["generator"].param_groups[0]["weight_decay"] == 1e-4
    for step, lr_d, lr_g in seen:
        assert lr_g == pytest.approx(1e-3 / (1 + step)) and lr_d == pytest.approx(2e-3 / (1 + step))


def test_d_steps_discriminator_steps_per_generator_step(tmp_path):
    calls = {"d": 0, "g": 0}

    def d_step(self, batch):
        calls["d"] += 1
        return ToyMethod.discriminator_step(self, batch)

    def g_step(self, batch):
        calls["g"] += 1
        return ToyMethod.generator_step(self, batch)

    _fit(make_method(discriminator_step=d_step, generator_step=g_step), tmp_path, "train.epochs=1",
         "train.d_steps=3")
    assert calls["g"] == 8 and calls["d"] == 24


def test_the_last_checkpoint_holds_the_inference_networks(tmp_path):
    from avs.checkpoint import load_checkpoint

    class WithD(ToyMethod):
        inference_networks = ("generator", "discriminator")

    method = make_method(impl=WithD)
    _, result = _fit(method, tmp_path, "train.epochs=1")
    assert set(load_checkpoint(result.last_checkpoint).networks) == {"generator", "discriminator"}


def test_python_api_load_predict_render(tmp_path):
    import numpy as np

    from avs.api import load
    from avs.video import probe_video

    model = load("s2g")
    speech = (0.1 * np.sin(np.linspace(0, 800, 16000))).astype(np.float32)  # 1 s
    motion = model.predict(speech)
    assert motion.num_frames == 15 and motion.data.shape[1:] == (49, 2)
    out = model.render(motion, tmp_path / "s2g.mp4")
    info = probe_video(out)
    assert info.num_frames == 15 and info.has_audio
    with pytest.raises(AvsError, match="takes no input 'face'"):
        model.predict(speech, face=tmp_path / "me.jpg")
    with pytest.raises(AvsError, match="mono"):
        model.predict(np.zeros((2, 16000), np.float32))


def test_experiment_files_are_listed_valid_and_resolved(tmp_path):
    from avs.config import resolve_experiment, yaml_overrides
    from avs.plugins import discover

    registry = discover()
    for name in ("s2g", "sdt", "emotalk"):
        method = registry.get(name)
        assert {"paper", "small", "default-checkpoint"} <= set(method.configs), name
        for path in method.configs.values():
            build_config(method.config_class, path)  # every key exists and has the right type
    sdt = registry.get("sdt")
    assert {"sdt-bp", "sdt-vae", "s2g", "pose-vae"} <= set(sdt.configs)
    assert build_config(sdt.config_class, resolve_experiment(sdt, "pose-vae")).variant == "pose-vae"
    assert "model.width=64" in yaml_overrides(resolve_experiment(sdt, "small"))
    own = tmp_path / "mine.yaml"
    own.write_text("train: {epochs: 3}\n")
    assert resolve_experiment(sdt, own) == own and yaml_overrides(own) == ["train.epochs=3"]
    with pytest.raises(AvsError, match="neither a file nor an experiment of sdt .known: default-checkpoint"):
        resolve_experiment(sdt, "tiny")


def test_avs_info_lists_the_experiments():
    from cli_helpers import run_cli

    result = run_cli("info", "s2g")
    assert result.returncode == 0, result.stderr
    assert "experiment small:" in result.stdout and "--config default-checkpoint" in result.stdout


def test_predict_inputs_are_checked_before_any_work(tmp_path):
    from cli_helpers import run_cli

    result = run_cli("predict", "s2g", str(tmp_path / "missing.wav"), "--input", "face=me.jpg")
    assert result.returncode == 2 and result.stderr.strip() == "error: s2g takes no input 'face' (takes: none)"
    result = run_cli("predict", "s2g", "x.wav", "--input", "face")
    assert result.returncode == 2 and "NAME=PATH" in result.stderr
