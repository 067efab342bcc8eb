"""Config interpolation and YAML syntax in overrides (issue 12 item 9).

The merged config is resolved when it is built: a bad reference, a resolver call or a value
the YAML scanner rejects is one ``error:`` line naming the option, before any work.
Decision (documented in ``avs.config.build_config`` and docs/configuration.md): references to
other options are allowed and resolved once; resolver calls such as ``${oc.env:HOME}`` are not.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from avs.config import TrainConfig, build_config, config_to_yaml
from avs.errors import AvsError
from cli_helpers import assert_one_error_line, run_cli


@dataclass
class Model:
    width: int = 8
    name: str = "base"


@dataclass
class Config:
    model: Model = field(default_factory=Model)
    train: TrainConfig = field(default_factory=TrainConfig)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.name=${undefined}", "'model.name'.*'undefined' not found"),
        ("model.name=${oc.env:HOME}", "'model.name'.*resolver 'oc.env'.*not allowed"),
        ("model.width=${oc.env:AVS_SURELY_UNSET}", "'model.width'.*resolver 'oc.env'"),
        ("model.name=${oc.decode:'[1'}", "'model.name'.*resolver 'oc.decode'"),
        ("model.name=`backtick", "'model.name'.*not valid YAML"),
        ("model.width=${model.name}", "'model.width'.*could not be converted"),
        ("model.name=${", "'model.name'"),
    ],
)
def test_bad_override_names_the_option(override: str, message: str):
    with pytest.raises(AvsError, match=message):
        build_config(Config, overrides=[override])


def test_references_are_resolved_once(tmp_path: Path):
    cfg = build_config(Config, overrides=["train.lr_d=${train.lr_g}", "train.lr_g=0.5", "model.name='`quoted'"])
    assert cfg.train.lr_d == 0.5 and cfg.model.name == "`quoted"
    # what is saved beside a run holds the value, not the reference
    assert "${" not in config_to_yaml(cfg)
    yaml_file = tmp_path / "exp.yaml"
    yaml_file.write_text("model:\n  width: ${train.batch_size}\n")
    assert build_config(Config, yaml_file).model.width == TrainConfig().batch_size
    assert not OmegaConf.is_interpolation(build_config(Config, yaml_file).model, "width")


def test_yaml_file_may_not_read_the_environment(tmp_path: Path):
    yaml_file = tmp_path / "exp.yaml"
    yaml_file.write_text("model:\n  name: ${oc.env:HOME}\n")
    with pytest.raises(AvsError, match="'model.name'.*resolver 'oc.env'"):
        build_config(Config, yaml_file)


@pytest.mark.parametrize("override", ["render.height=${undefined}", "render.height=${oc.env:HOME}",
                                      "render.height=`1"])
def test_cli_predict_bad_override_before_work(tmp_path: Path, speech_path: Path, override: str):
    shutil.copy(speech_path, tmp_path / "speech.wav")
    result = run_cli("predict", "s2g", "speech.wav", override, "--out", "o.mp4", cwd=tmp_path)
    assert_one_error_line(result, "'render.height'")
    assert not (tmp_path / "o.mp4").exists()


def test_cli_train_bad_override(tmp_path: Path):
    (tmp_path / "data").mkdir()
    result = run_cli("train", "s2g", "train.epochs=${nope}", "--data", "data", "--out", "run", cwd=tmp_path)
    assert_one_error_line(result, "'train.epochs'")
    assert not (tmp_path / "run").exists()
