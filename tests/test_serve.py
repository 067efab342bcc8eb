"""``avs serve`` pieces without a server: options from config dataclasses, overrides, cleanup, the backend."""

from __future__ import annotations

import enum
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from avs.config import TrainConfig, build_config, option
from avs.errors import AvsError
from avs.serve import sweep
from avs.serve.options import prediction_options, to_overrides
from avs.serve.settings import ServeSettings, parse_checkpoints


class Style(enum.Enum):
    calm = 0
    wild = 1


@dataclass
class InferConfig:
    """Inference.

    Attributes:
        smooth: filter the curves
            over time.
        window: frames per call.
    """

    smooth: bool = True
    window: int = option(64, min=16, max=256, step=16)
    output_dir: str = "out"  # free text: never offered (a path on the server)


@dataclass
class ModelConfig:
    width: int = 64


@dataclass
class ToyConfig:
    """Toy.

    Attributes:
        emotion: how it feels.
    """

    emotion: str = option("auto", choices=("auto", "happy"))
    level: int = option(1, min=0, max=1)
    style: Style = Style.calm
    mode: Literal["a", "b"] = "a"
    index: int | None = option(None, min=0)
    variant: str = option("big", choices=("big", "small"), serve=False)
    gain: float = 1.5
    model: ModelConfig = field(default_factory=ModelConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def test_prediction_options_kinds_ranges_help_and_hidden_fields() -> None:
    specs = {s.key: s for s in prediction_options(ToyConfig)}
    assert list(specs) == ["emotion", "level", "style", "mode", "index", "gain", "infer.smooth", "infer.window"]
    assert specs["emotion"].kind == "choice" and specs["emotion"].choices == ("auto", "happy")
    assert specs["emotion"].help == "how it feels."
    assert specs["style"].choices == ("calm", "wild") and specs["style"].default == "calm"
    assert specs["mode"].choices == ("a", "b")
    assert (specs["level"].minimum, specs["level"].maximum) == (0, 1)
    assert specs["index"].optional and specs["index"].default is None
    assert specs["gain"].kind == "float" and specs["gain"].minimum is None
    assert specs["infer.smooth"].help == "filter the curves over time."
    assert specs["infer.window"].step == 16


def test_option_metadata_leaves_the_cli_config_unchanged() -> None:
    cfg = build_config(ToyConfig, overrides=["emotion=sad", "level=7"])  # the CLI does not police choices
    assert cfg.emotion == "sad" and cfg.level == 7


def test_to_overrides_checks_values() -> None:
    specs = prediction_options(ToyConfig)
    assert to_overrides(specs, {"emotion": "happy", "level": 0.0, "index": None, "infer.smooth": False,
                                "gain": float("-inf")}) == [
        "emotion=happy", "level=0", "index=null", "infer.smooth=false", "gain=-inf"]
    for values, message in [({"emotion": "sad"}, "must be one of auto, happy"),
                            ({"level": 2}, "at most 1"), ({"level": 0.5}, "whole number"),
                            ({"infer.window": 8}, "at least 16"), ({"gain": "loud"}, "must be a number"),
                            ({"variant": "small"}, "unknown option 'variant'"),
                            ({"model.width": 8}, "unknown option"), ({"level": None}, "needs a value")]:
        with pytest.raises(AvsError, match=message):
            to_overrides(specs, values)
    assert build_config(ToyConfig, overrides=to_overrides(specs, {"index": 3, "gain": 2})).index == 3


def test_plugin_configs_offer_their_controls() -> None:
    from avs_emotalk.config import EmoTalkConfig
    from avs_sdt.config import SDTConfig

    emotalk = {s.key: s for s in prediction_options(EmoTalkConfig)}
    assert "happy" in emotalk["emotion"].choices and (emotalk["person"].minimum, emotalk["person"].maximum) == (0, 23)
    assert not any(k.startswith(("model.", "train.", "loss.", "data.", "eval.")) for k in emotalk)
    assert "infer.emotion_audio" not in emotalk  # a file path on the server
    sdt = {s.key: s for s in prediction_options(SDTConfig)}
    assert sdt["template"].choices == ("random", "normal") and "seed" in sdt and "variant" not in sdt


def test_sweep_deletes_only_old_entries(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new.mp4"
    old.mkdir()
    (old / "a.mp4").write_bytes(b"x")
    new.write_bytes(b"y")
    past = time.time() - 100
    os.utime(old, (past, past))
    assert sweep(tmp_path, max_age_s=50) == [old]
    assert not old.exists() and new.exists()
    assert sweep(tmp_path / "missing", 1) == []


def test_settings_and_checkpoint_items() -> None:
    with pytest.raises(AvsError, match="port"):
        ServeSettings(port=0).check()
    with pytest.raises(AvsError, match="max-audio-seconds"):
        ServeSettings(max_audio_seconds=0).check()
    assert parse_checkpoints(["s2g=runs/a.safetensors"]) == {"s2g": Path("runs/a.safetensors")}
    with pytest.raises(AvsError, match="METHOD=PATH"):
        parse_checkpoints(["s2g"])


def test_cli_help_and_serve_module_stay_light() -> None:
    """`import avs.serve` and `avs --help` import neither gradio nor torch."""
    code = ("import sys, avs.serve, avs.serve.backend, avs.cli; "
            "print(sorted(m for m in ('gradio', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_serve_unknown_method_is_one_line_error() -> None:
    result = subprocess.run([str(Path(sys.executable).parent / "avs"), "serve", "--methods", "nope"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: unknown plugin 'nope'")


def test_backend_loads_each_model_once_and_checks_audio(tmp_path: Path, speech_path: Path) -> None:
    from avs.serve.backend import Backend
    from avs.video import probe_video
    from serve_helpers import cut_speech

    backend = Backend(["s2g"])
    assert list(backend.methods()) == ["s2g"]
    clip = cut_speech(speech_path, tmp_path / "clip.wav", 1.0)
    for k in range(2):
        seen: list[float] = []
        out = tmp_path / f"r{k}"
        out.mkdir()
        result = backend.predict("s2g", clip, out, ["render.width=320", "render.height=240"],
                                 progress=lambda f, _t, seen=seen: seen.append(f))
        assert result.num_frames == 15 and probe_video(result.video).width == 320
        assert [p.suffix for p in result.files] == [".mp4", ".npz"]
        assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    assert backend.loads == {"s2g": 1}
    with pytest.raises(AvsError, match="accepts at most 0.5 s"):
        backend.predict("s2g", clip, tmp_path, max_seconds=0.5)
    with pytest.raises(AvsError, match="unknown method 'nope'"):
        backend.info("nope")


def test_check_photo_rejects_non_images_and_faceless_photos(tmp_path: Path) -> None:
    import imageio.v3 as iio
    import numpy as np

    from avs.serve.backend import check_photo

    text = tmp_path / "me.jpg"
    text.write_text("not a photo")
    with pytest.raises(AvsError, match="me.jpg is not a readable image"):
        check_photo(text)
    tiny = tmp_path / "tiny.png"
    iio.imwrite(tiny, np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(AvsError, match="not a photo"):
        check_photo(tiny)
    wall = np.full((256, 256, 3), 200, np.uint8)
    try:
        from avs.face import track_image

        track_image(wall)
    except (ImportError, AvsError) as exc:  # no avs.face, or its extra (MediaPipe, dlib) is not installed
        pytest.skip(f"the no-face check needs the face extra: {exc}")
    blank = tmp_path / "wall.png"
    iio.imwrite(blank, wall)
    with pytest.raises(AvsError, match="no face found in the face photo wall.png"):
        check_photo(blank)


def test_run_explains_a_missing_gradio_and_a_busy_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from avs.serve import run

    for name in ("GRADIO_TEMP_DIR", "GRADIO_ANALYTICS_ENABLED"):
        monkeypatch.setenv(name, "")  # run() sets them; restored after the test
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(AvsError, match=f"cannot listen on 127.0.0.1:{port}"):
            run(ServeSettings(port=port, workdir=tmp_path / "w"))
    monkeypatch.setitem(sys.modules, "gradio", None)  # as if the extra were not installed
    with pytest.raises(AvsError, match=r"pip install 'avs-toolkit\[serve\]'"):
        run(ServeSettings(port=port, workdir=tmp_path / "w"))
