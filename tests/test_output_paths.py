"""Output locations are checked before any work (issue 12 item 8).

Each command that writes is given an output it cannot write, together with inputs that would
fail later (missing audio, data, reference weights): the one error line must be about the
output, which shows it was checked first, before any input was read or anything computed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from avs.errors import AvsError
from avs.io import atomic_path, check_output_path
from cli_helpers import assert_one_error_line, run_cli


def _unwritable(tmp_path: Path) -> Path:
    """A folder no file can be created in, for root too (root ignores permission bits)."""
    if os.geteuid() == 0:
        return Path("/proc/avs-no-such-folder")  # proc does not let anyone create files
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked


@pytest.fixture()
def afile(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder\n")
    return path


def _files(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def test_check_output_path(tmp_path: Path, afile: Path):
    assert check_output_path(tmp_path / "new" / "deeper" / "out.mp4") == tmp_path / "new" / "deeper" / "out.mp4"
    assert check_output_path(tmp_path / "report", folder=True) == tmp_path / "report"
    assert check_output_path(afile) == afile  # an existing file may be replaced
    assert _files(tmp_path) == {afile}  # nothing created, the probe file removed
    with pytest.raises(AvsError, match="is a file, not a folder"):
        check_output_path(afile / "sub" / "out.mp4")
    with pytest.raises(AvsError, match="is a file, not a folder"):
        check_output_path(afile, folder=True)
    with pytest.raises(AvsError, match="is a folder, not a file"):
        check_output_path(tmp_path)
    with pytest.raises(AvsError, match="not writable"):
        check_output_path(_unwritable(tmp_path) / "out.mp4")


def test_atomic_path_reports_an_unwritable_place(afile: Path):
    with pytest.raises(AvsError, match="cannot write"), atomic_path(afile / "x.json") as tmp:
        tmp.write_text("{}")


@pytest.mark.parametrize("place", ["under-a-file", "unwritable"])
@pytest.mark.parametrize(
    "command",
    [
        ["predict", "s2g", "missing.wav", "--out", "{bad}/out.mp4"],
        ["evaluate", "s2g", "--data", "missing-data", "--json", "{bad}/results.json"],
        ["evaluate", "s2g", "--data", "missing-data", "--videos", "1", "--videos-dir", "{bad}/videos"],
        ["import", "s2g", "missing.pth", "{bad}/imported.safetensors"],
        ["benchmark", "--data", "missing-data", "--out", "{bad}/report"],
        ["data", "synth", "s2g", "{bad}/data"],
        ["train", "s2g", "--data", "missing-data", "--out", "{bad}/run"],
    ],
    ids=["predict", "evaluate-json", "evaluate-videos", "import", "benchmark", "data-synth", "train"],
)
def test_cli_checks_output_first(tmp_path: Path, afile: Path, place: str, command: list[str]):
    bad = afile if place == "under-a-file" else _unwritable(tmp_path)
    before = _files(tmp_path)
    result = run_cli(*[arg.replace("{bad}", str(bad)) for arg in command], cwd=tmp_path)
    line = assert_one_error_line(result, str(bad))
    assert "missing" not in line, line  # the output was checked before the inputs
    assert _files(tmp_path) == before


def test_predict_to_a_folder_or_file_parent_with_real_speech(tmp_path: Path, speech_path: Path, afile: Path):
    shutil.copy(speech_path, tmp_path / "speech.wav")
    (tmp_path / "taken.mp4").mkdir()
    assert_one_error_line(run_cli("predict", "s2g", "speech.wav", "--out", "taken.mp4", cwd=tmp_path),
                          "is a folder")
    assert_one_error_line(run_cli("predict", "s2g", "speech.wav", "--out", f"{afile}/o.mp4", cwd=tmp_path),
                          "is a file, not a folder")
