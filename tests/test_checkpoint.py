"""Checkpoints: safetensors round trip, metadata, fp16, safe loading and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from avs.checkpoint import (
    load_checkpoint,
    load_generator,
    load_training_state,
    save_checkpoint,
    save_training_state,
)
from avs.config import build_config, config_to_dict
from avs.errors import AvsError
from toy_method import build_discriminator, build_generator, make_method

STATS = {
    "pose_mean": np.array([1.5, -2.0, 0.25, 3.0], dtype=np.float32),
    "speaker_std": np.arange(6, dtype=np.float64).reshape(2, 3) / 7.0,
    "count": np.array(42, dtype=np.int64),
    "names": np.array(["ann", "bob"]),
}


@pytest.fixture()
def method():
    return make_method()


@pytest.fixture()
def cfg(method):
    return build_config(method.config_class, None, ["model.batchnorm=true", "model.hidden=6"])


@pytest.fixture()
def generator(method, cfg):
    torch.manual_seed(3)
    g = build_generator(cfg)
    g.train()
    g(torch.randn(4, 16, 32))  # moves BatchNorm running stats and num_batches_tracked
    return g


def _assert_one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text
    return text


def test_round_trip_weights_metadata_and_stats(tmp_path, method, cfg, generator):
    path = save_checkpoint(
        tmp_path / "sub" / "g.safetensors", generator.state_dict(), method=method, cfg=cfg, stats=STATS,
        extra={"epoch": 7, "step": 70, "metrics": {"l1": 0.25, "bad": float("nan")}},
    )
    assert path == tmp_path / "sub" / "g.safetensors" and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["g.safetensors"]  # no temp file left behind

    ckpt = load_checkpoint(path, method)
    want = generator.state_dict()
    assert set(ckpt.state_dict) == set(want)
    for key, value in want.items():
        assert torch.equal(ckpt.state_dict[key], value), key
    assert ckpt.state_dict["branch.1.num_batches_tracked"].dtype == torch.int64
    assert ckpt.method_name == "toy" and ckpt.plugin_version == "0.0.1"
    assert ckpt.config == config_to_dict(cfg)
    assert ckpt.config["model"]["hidden"] == 6
    assert ckpt.meta == {"epoch": 7, "step": 70, "metrics": {"l1": 0.25, "bad": None}}
    assert set(ckpt.stats) == set(STATS)
    for name, value in STATS.items():
        got = ckpt.stats[name]
        assert got.dtype == value.dtype and got.shape == value.shape, name
        np.testing.assert_array_equal(got, value)


def test_metadata_is_in_the_safetensors_header(tmp_path, method, cfg, generator):
    from safetensors import safe_open

    path = save_checkpoint(tmp_path / "g.safetensors", generator.state_dict(), method=method, cfg=cfg,
                           stats=STATS)
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        keys = set(f.keys())  # noqa: SIM118 (safe_open API)
    assert meta["avs_format"] == "2" and meta["method"] == "toy" and meta["plugin_version"] == "0.0.1"
    assert json.loads(meta["networks"]) == ["generator"] and "generator.linear.weight" in keys
    assert json.loads(meta["config"])["train"]["batch_size"] == cfg.train.batch_size
    assert json.loads(meta["stats"])["pose_mean"] == {"dtype": "<f4", "shape": [4],
                                                      "data": [1.5, -2.0, 0.25, 3.0]}


def test_half_precision_halves_the_file_and_loads_as_float32(tmp_path, method, cfg):
    big = {"w": torch.randn(256, 256), "b": torch.randn(256), "n": torch.tensor(5, dtype=torch.int64)}
    full = save_checkpoint(tmp_path / "full.safetensors", big, method=method, cfg=cfg, stats=STATS)
    half = save_checkpoint(tmp_path / "half.safetensors", big, method=method, cfg=cfg, stats=STATS, half=True)
    ratio = half.stat().st_size / full.stat().st_size
    assert 0.45 < ratio < 0.55
    ckpt = load_checkpoint(half)
    assert ckpt.state_dict["w"].dtype == torch.float32
    assert ckpt.state_dict["n"].dtype == torch.int64 and int(ckpt.state_dict["n"]) == 5
    torch.testing.assert_close(ckpt.state_dict["w"], big["w"], rtol=1e-3, atol=1e-3)
    assert not torch.equal(ckpt.state_dict["w"], big["w"])  # really rounded to fp16


def test_tied_weights_can_be_saved(tmp_path, method, cfg):
    shared = torch.randn(3, 3)
    path = save_checkpoint(tmp_path / "t.safetensors", {"a": shared, "b": shared}, method=method, cfg=cfg,
                           stats={})
    ckpt = load_checkpoint(path)
    assert torch.equal(ckpt.state_dict["a"], ckpt.state_dict["b"])


def test_wrong_method_is_a_clear_error(tmp_path, method, cfg, generator):
    path = save_checkpoint(tmp_path / "g.safetensors", generator.state_dict(), method=method, cfg=cfg,
                           stats={})
    other = make_method(name="s2g")
    with pytest.raises(AvsError) as exc:
        load_checkpoint(path, other)
    assert "was made for method 'toy', not 's2g'" in _assert_one_line(exc)
    with pytest.raises(AvsError, match="made for method 'toy'"):
        load_generator(other, path)


def test_load_generator_applies_overrides_and_eval_mode(tmp_path, method, cfg, generator):
    path = save_checkpoint(tmp_path / "g.safetensors", generator.state_dict(), method=method, cfg=cfg,
                           stats=STATS)
    g, cfg2, stats = load_generator(method, path, ["model.dropout=0.3"])
    assert not g.training
    assert cfg2.model.hidden == 6 and cfg2.model.batchnorm is True  # from the checkpoint, not defaults
    assert cfg2.model.dropout == 0.3
    np.testing.assert_array_equal(stats["pose_mean"], STATS["pose_mean"])
    x = torch.randn(2, 16, 32)
    generator.eval()
    with torch.no_grad():
        assert torch.equal(g(x), generator(x))


def test_load_generator_names_the_first_mismatching_key(tmp_path, method, cfg, generator):
    path = save_checkpoint(tmp_path / "g.safetensors", generator.state_dict(), method=method, cfg=cfg,
                           stats={})
    with pytest.raises(AvsError) as exc:
        load_generator(method, path, ["model.hidden=5"])
    assert "'branch.0.weight'" in _assert_one_line(exc) and "(6, 16, 3)" in str(exc.value)
    with pytest.raises(AvsError) as exc:
        load_generator(method, path, ["model.batchnorm=false"])
    assert "key 'branch.1." in _assert_one_line(exc)
    with pytest.raises(AvsError, match="unknown option"):
        load_generator(method, path, ["model.nonsense=1"])


def _valid(tmp_path, method, cfg, generator) -> Path:
    return save_checkpoint(tmp_path / "ok.safetensors", generator.state_dict(), method=method, cfg=cfg,
                           stats=STATS)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d, ok: d / "missing.safetensors", "not found"),
        (lambda d, ok: d, "is a directory"),
        (lambda d, ok: _write(d / "e.safetensors", b""), "is empty"),
        (lambda d, ok: _write(d / "t.safetensors", b"hello, I am a text file\n"), "not a valid safetensors"),
        (lambda d, ok: _write(d / "r.safetensors", ok.read_bytes()[: len(ok.read_bytes()) // 2]),
         "not a valid safetensors"),
        (lambda d, ok: _write(d / "h.safetensors", ok.read_bytes()[:-7]), "not a valid safetensors"),
        (lambda d, ok: _write(d / "j.safetensors", _corrupt_header(ok.read_bytes())),
         "not a valid safetensors"),
        (lambda d, ok: _write(d / "n.safetensors", np.random.default_rng(0).bytes(4096)),
         "not a valid safetensors"),
    ],
    ids=["missing", "directory", "empty", "text", "half", "truncated-tail", "bad-header", "random"],
)
def test_bad_files_are_one_line_errors(tmp_path, method, cfg, generator, make, message):
    ok = _valid(tmp_path, method, cfg, generator)
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    path = make(bad_dir, ok)
    with pytest.raises(AvsError) as exc:
        load_checkpoint(path, method)
    assert message in _assert_one_line(exc)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _corrupt_header(data: bytes) -> bytes:
    n = int.from_bytes(data[:8], "little")
    header = bytearray(data[8 : 8 + n])
    header[: 10] = b"#" * 10  # not JSON any more
    return data[:8] + bytes(header) + data[8 + n :]


def test_a_torch_pickle_is_refused_with_a_hint(tmp_path, method):
    path = tmp_path / "model.pth"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(AvsError) as exc:
        load_checkpoint(path, method)
    assert "PyTorch pickle" in _assert_one_line(exc)


def test_plain_safetensors_without_avs_metadata(tmp_path, method):
    path = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"format": "pt"})
    with pytest.raises(AvsError) as exc:
        load_checkpoint(path, method)
    assert "not an avs checkpoint" in _assert_one_line(exc)


def test_unsupported_stats_dtype_is_refused(tmp_path, method, cfg):
    with pytest.raises(ValueError, match="stats 'o'"):
        save_checkpoint(tmp_path / "x.safetensors", {}, method=method, cfg=cfg,
                        stats={"o": np.array([{}, None], dtype=object)})
    assert not (tmp_path / "x.safetensors").exists()


def test_training_state_round_trip_with_weights_only(tmp_path, method, cfg, generator):
    d = build_discriminator(cfg)
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3)
    loss = generator(torch.randn(2, 16, 32)).square().mean() + d(torch.randn(2, 4, 32)).mean()
    loss.backward()
    opt_g.step()
    opt_d.step()
    gen = torch.Generator().manual_seed(5)
    rng = {"world_size": 1, "cpu": torch.get_rng_state()[None], "data": gen.get_state()}
    path = save_training_state(tmp_path / "state.pt", networks={"generator": generator, "discriminator": d},
                               optimizers={"generator": opt_g, "discriminator": opt_d}, epoch=3, step=30,
                               rng_state=rng, best={"value": 0.5, "epoch": 2})
    state = load_training_state(path)
    assert state.epoch == 3 and state.step == 30 and state.best == {"value": 0.5, "epoch": 2}
    for key, value in generator.state_dict().items():
        assert torch.equal(state.generator[key], value)
    for key, value in d.state_dict().items():
        assert torch.equal(state.discriminator[key], value)
    fresh = torch.optim.Adam(generator.parameters(), lr=1e-3)
    fresh.load_state_dict(state.opt_g)
    assert torch.equal(fresh.state_dict()["state"][0]["exp_avg"], opt_g.state_dict()["state"][0]["exp_avg"])
    assert torch.equal(state.rng_state["cpu"][0], torch.get_rng_state())
    restored = torch.Generator()
    restored.set_state(state.rng_state["data"])
    assert torch.equal(torch.randperm(10, generator=restored), torch.randperm(10, generator=gen))


def test_bad_training_state_is_an_avs_error(tmp_path):
    with pytest.raises(AvsError, match="not found"):
        load_training_state(tmp_path / "state.pt")
    (tmp_path / "state.pt").write_text("garbage")
    with pytest.raises(AvsError, match="cannot be read"):
        load_training_state(tmp_path / "state.pt")
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(AvsError, match="not an avs training state"):
        load_training_state(tmp_path / "other.pt")

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"format": 1, "x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(AvsError, match="cannot be read"):
        load_training_state(tmp_path / "evil.pt")


def test_export_checkpoint_halves_and_applies_overrides(tmp_path):
    import numpy as np

    from avs.checkpoint import export_checkpoint, load_checkpoint, save_checkpoint
    from avs.config import build_config
    method = make_method()
    cfg = build_config(method.config_class)
    source = save_checkpoint(tmp_path / "full.safetensors", build_generator(cfg).state_dict(), method=method,
                             cfg=cfg, stats={"mean": np.arange(3, dtype=np.float32)}, extra={"epoch": 7})
    out = export_checkpoint(method, source, tmp_path / "half.safetensors", ["train.seed=5"])
    assert out.stat().st_size < source.stat().st_size
    exported = load_checkpoint(out, method)
    assert exported.config["train"]["seed"] == 5 and exported.meta["epoch"] == 7
    assert np.array_equal(exported.stats["mean"], np.arange(3, dtype=np.float32))


def _format1(path, state, method, cfg, stats):
    """A checkpoint as avs wrote it before contract v2: format 1, the generator's keys unprefixed."""
    import json

    from safetensors.torch import save_file

    from avs.checkpoint import _encode_stats

    save_file({k: v.contiguous() for k, v in state.items()}, str(path), metadata={
        "avs_format": "1", "method": method.name, "plugin_version": "0.0.1",
        "config": json.dumps(config_to_dict(cfg)), "stats": _encode_stats(stats), "extra": "{}"})
    return path


def test_format_1_checkpoints_still_load(tmp_path, method, cfg, generator):
    path = _format1(tmp_path / "old.safetensors", generator.state_dict(), method, cfg, STATS)
    ckpt = load_checkpoint(path, method)
    assert set(ckpt.networks) == {"generator"} and set(ckpt.state_dict) == set(generator.state_dict())
    g, _, _ = load_generator(method, path, ["model.batchnorm=true", "model.hidden=6"])
    for key, value in generator.state_dict().items():
        assert torch.equal(g.state_dict()[key], value), key


def test_several_networks_round_trip(tmp_path, method, cfg, generator):
    d = build_discriminator(cfg)
    path = save_checkpoint(tmp_path / "gd.safetensors", {"generator": generator.state_dict(),
                                                         "discriminator": d.state_dict()},
                           method=method, cfg=cfg, stats=STATS)
    ckpt = load_checkpoint(path, method)
    assert set(ckpt.networks) == {"generator", "discriminator"}
    for key, value in d.state_dict().items():
        assert torch.equal(ckpt.networks["discriminator"][key], value), key
    assert set(ckpt.state_dict) == set(generator.state_dict())


def test_load_checkpoint_reads_as_another_dtype_a_chunk_at_a_time(tmp_path, method, cfg, monkeypatch):
    import avs.checkpoint as checkpoint

    weights = {f"w{i}": torch.randn(64, 64) for i in range(5)} | {"n": torch.tensor(7, dtype=torch.int64)}
    path = save_checkpoint(tmp_path / "w.safetensors", weights, method=method, cfg=cfg, stats=STATS)
    monkeypatch.setattr(checkpoint, "READ_CHUNK_BYTES", 64 * 64 * 2 * 2)  # reopened after every two tensors
    ckpt = load_checkpoint(path, dtype=torch.bfloat16)
    assert set(ckpt.state_dict) == set(weights)
    for name, t in weights.items():
        got = ckpt.state_dict[name]
        if t.is_floating_point():
            assert got.dtype == torch.bfloat16 and torch.equal(got, t.to(torch.bfloat16))
        else:
            assert got.dtype == torch.int64 and torch.equal(got, t)
    header = load_checkpoint(path, weights=False)
    assert header.state_dict == {} and header.config["model"]["hidden"] == 6
    np.testing.assert_array_equal(header.stats["pose_mean"], STATS["pose_mean"])


def test_load_impl_on_the_meta_device_in_the_inference_dtype(tmp_path, method, cfg, generator):
    from avs.checkpoint import load_impl
    from toy_method import ToyMethod

    lean = type("ToyLean", (ToyMethod,), {"meta_init": True,
                                           "inference_dtype": classmethod(lambda cls, cfg, dev: "bfloat16")})
    lean_method = make_method(impl=lean)
    nets = {"generator": generator.state_dict(), "discriminator": build_discriminator(cfg).state_dict()}
    path = save_checkpoint(tmp_path / "g.safetensors", nets, method=lean_method, cfg=cfg, stats=STATS)
    impl = load_impl(lean_method, path)
    g = impl.networks()["generator"]
    assert not g.training
    for name, t in g.state_dict().items():
        assert not t.is_meta, name
        want = generator.state_dict()[name]
        assert torch.equal(t, want.to(torch.bfloat16) if want.is_floating_point() else want), name
    np.testing.assert_array_equal(impl.stats["pose_mean"], STATS["pose_mean"])
    full = load_impl(method, path)  # a method without the hooks: float32, as saved
    assert all(t.dtype == torch.float32 for t in full.networks()["generator"].parameters())
