"""phadtf end to end on a synthetic prepared person through core's trainer and predict, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

TINY = [
    "variant=finetune", "init=none", "atc.conv_widths=[8,8,16,16,16]", "atc.fc_hidden=64", "atc.hidden=32",
    "gan.image_size=64", "gan.levels=6", "gan.ngf=8", "gan.ndf=8", "gan.query_dim=32", "gan.mem_size=64",
    "gan.top_k=8", "data.min_frames=40", "train.device=cpu", "train.seed=0", "train.batch_size=4",
]


@pytest.fixture(scope="session")
def person(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2.4 s synthetic prepared person (60 frames, 112×144)."""
    from avs_phadtf.synth import synthesize_person

    return synthesize_person(tmp_path_factory.mktemp("phadtf") / "data", seed=0, seconds=2.4, size=(112, 144))


def _method():
    from avs.plugins import discover

    return discover().get("phadtf")


def _cfg(extra: list[str]):
    from avs.config import build_config

    return build_config(_method().config_class, overrides=[*TINY, *extra])


def test_one_finetune_epoch_lowers_the_atc_loss(person: Path, tmp_path: Path) -> None:
    from avs.train import Trainer
    from avs_phadtf.losses import atc_loss

    cfg = _cfg(["gan.enabled=false", "train.epochs=1", "train.iterations_per_epoch=25", "train.lr_g=2e-3"])
    impl_class = _method().impl_class()
    stats = impl_class.compute_stats(cfg, person)
    data = impl_class(cfg, stats).build_dataset(person, "train")
    batch = torch.utils.data.default_collate([data[i] for i in range(len(data))])

    def loss(G: torch.nn.Module) -> float:
        G.train()
        with torch.no_grad():
            return float(atc_loss(G.atc(batch["mfcc"]), batch["coeff"], cfg.atc)[0])

    torch.manual_seed(0)
    before = loss(impl_class(cfg, stats).G)
    trainer = Trainer(_method(), cfg, person, tmp_path / "run")
    trainer.fit()
    after = loss(trainer.impl.G)
    assert after < 0.8 * before


def test_end_to_end_train_predict(person: Path, tmp_path: Path) -> None:
    from avs.audio import write_wav
    from avs.predict import predict_to_video
    from avs.train import Trainer
    from avs.video import probe_video
    from avs_phadtf.data import Person

    cfg = _cfg(["train.epochs=1", "train.iterations_per_epoch=2"])
    Trainer(_method(), cfg, person, tmp_path / "run").fit()
    record = json.loads((tmp_path / "run" / "log.jsonl").read_text().splitlines()[0])
    assert {"atc_loss", "l1_img", "mem", "loss_d"} <= set(record["train"]) if "train" in record else True
    speech = Person.load(person).audio()[: int(1.3 * 16000)]
    wav = write_wav(tmp_path / "speech.wav", speech, 16000)
    res = predict_to_video(_method(), wav, tmp_path / "run" / "last.safetensors", tmp_path / "talk.mp4",
                           save_npz=True)
    info = probe_video(res.video)
    assert res.num_frames == round(1.3 * 25) == info.num_frames
    assert (info.height, info.width) == (112, 144) and info.has_audio
    z = np.load(res.npz)
    assert z["coefficients"].shape == (res.num_frames, 70)
    # pose and background are those of real training frames (background matching)
    track = np.load(person / "track.npz")
    idx = z["background_frame"]
    assert idx.max() < 45
    np.testing.assert_allclose(z["coefficients"][:, 64:67], track["euler"][idx], atol=1e-5)


def _cli(argv: list[str], capsys) -> tuple[int, str]:
    from avs.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    return int(exc.value.code), capsys.readouterr().err


def test_target_without_prepared_data(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    code, err = _cli(["train", "phadtf", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "run"),
                      "variant=finetune"], capsys)
    assert code == 2 and err.strip().startswith("error:") and "prepare face" in " ".join(err.split())
    assert err.count("error:") == 1 and "Traceback" not in err  # one message (the console wraps it at 80 columns)
    assert not (tmp_path / "run").exists()


def test_too_short_target(tmp_path: Path, capsys) -> None:
    from avs_phadtf.synth import synthesize_person

    short = synthesize_person(tmp_path / "short", seed=1, seconds=1.0, size=(64, 64))
    code, err = _cli(["train", "phadtf", "--data", str(short), "--out", str(tmp_path / "run"), "variant=finetune"],
                     capsys)
    assert code == 2 and "at least" in err and err.count("error:") == 1 and "Traceback" not in err


def test_checkpoint_of_another_method(tmp_path: Path, capsys) -> None:
    from avs.plugins import discover

    other = discover().get("s2g").default_checkpoint
    if other is None:
        pytest.skip("s2g has no bundled checkpoint here")
    code, err = _cli(["predict", "phadtf", str(Path(__file__).resolve().parents[3] / "examples" / "librivox_0870.wav"),
                      "--checkpoint", str(other), "--out", str(tmp_path / "x.mp4")], capsys)
    assert code == 2 and err.startswith("error:") and not (tmp_path / "x.mp4").exists()


def test_checkpoint_of_another_person(person: Path, tmp_path: Path) -> None:
    from avs.errors import AvsError
    from avs_phadtf.synth import synthesize_person

    other = synthesize_person(tmp_path / "other", seed=3, seconds=2.0, size=(64, 64))
    cfg = _cfg(["gan.enabled=false"])
    impl_class = _method().impl_class()
    impl = impl_class(cfg, impl_class.compute_stats(cfg, person))
    with pytest.raises(AvsError, match="fine-tuned on"):
        impl.predict(np.zeros(16000, np.float32), {"target": other})
