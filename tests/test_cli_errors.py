"""CLI hygiene (issue 8 item 9): every usage error is one unwrapped ``error:`` line and exit 2.

Typer carries its own copy of click, so errors are recognised by class name, not by
``isinstance`` against one click module: the in-process tests raise look-alikes from
other modules to hold ``avs.cli.main`` to that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import assert_one_error_line, run_cli

LONG = "a-rather-long-folder-name-that-would-wrap-at-forty-columns"


@pytest.mark.parametrize(
    ("args", "must_contain"),
    [
        (["predict"], "missing argument"),
        (["train", "s2g"], "--data"),
        (["predict", "s2g", "speech.wav", "--no-such-option"], "--no-such-option"),
        (["data", "synth", "s2g", "out", "--seed", "abc"], "--seed"),
        (["evaluate", "s2g", "--data", ".", "--videos", "many"], "--videos"),
        (["no-such-command"], "no-such-command"),
        (["info"], "missing argument"),
        (["predict", "s2g", f"{LONG}/{LONG}/speech.wav"], LONG),
    ],
    ids=["predict-no-args", "train-without-data", "unknown-option", "wrong-type", "wrong-type-evaluate",
         "unknown-command", "info-no-args", "long-path-not-wrapped"],
)
def test_usage_error_is_one_line(tmp_path: Path, args: list[str], must_contain: str):
    # stderr is a pipe here and COLUMNS is narrow: Rich must still not wrap the line.
    result = run_cli(*args, cwd=tmp_path, env_extra={"COLUMNS": "40"})
    line = assert_one_error_line(result, must_contain)
    if "missing" in must_contain or "--" in must_contain:
        assert "--help" in line  # says where to look


def test_bare_group_prints_help(tmp_path: Path):
    for args in ([], ["data"]):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "Usage" in result.stdout and "Traceback" not in result.stderr


class UsageError(Exception):
    """A click usage error from some other copy of click (only the class name matches)."""

    exit_code = 2

    def format_message(self) -> str:
        return "No such option: --frobnicate"


class Exit(RuntimeError):
    """A click/typer Exit look-alike carrying a status."""

    def __init__(self, code: int) -> None:
        super().__init__()
        self.exit_code = code


@pytest.mark.parametrize("make", [UsageError, lambda: __import__("click").UsageError("bad usage")],
                         ids=["look-alike", "real-click"])
def test_main_maps_any_click_copy(monkeypatch, capsys, make):
    if make is not UsageError:
        pytest.importorskip("click")
    import avs.cli as cli

    def boom(**kwargs):
        raise make()

    monkeypatch.setattr(cli, "app", boom)
    monkeypatch.setattr(cli, "_register_plugin_commands", lambda: None)
    with pytest.raises(SystemExit) as info:
        cli.main(["predict"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err


def test_main_keeps_exit_status(monkeypatch):
    import avs.cli as cli

    def leave(**kwargs):
        raise Exit(3)

    monkeypatch.setattr(cli, "app", leave)
    monkeypatch.setattr(cli, "_register_plugin_commands", lambda: None)
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 3


def test_bug_still_shows_traceback(monkeypatch):
    """Only user errors are turned into one line; a programming error keeps its traceback."""
    import avs.cli as cli

    def bug(**kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "app", bug)
    monkeypatch.setattr(cli, "_register_plugin_commands", lambda: None)
    with pytest.raises(ZeroDivisionError):
        cli.main([])
