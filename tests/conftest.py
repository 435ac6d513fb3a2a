"""Shared fixtures: bundled networks loaded once, and a writer for small .inp files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nrwkit.networks import load

TESTS = Path(__file__).parent
DATA = TESTS / "data"
sys.path.insert(0, str(TESTS))


@pytest.fixture(scope="session")
def ltown():
    return load("l-town")


@pytest.fixture(scope="session")
def net1():
    return load("net1")


@pytest.fixture
def write_inp(tmp_path):
    """Write text to an .inp file in a temporary folder and return its path."""

    def _write(text: str, name: str = "model.inp") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


_ROOT = Path(__file__).resolve().parents[1]
#: EPANET's scratch files, written where a simulation runs without a file prefix.
_SCRATCH = ("temp.inp", "temp.rpt", "temp.bin")


@pytest.fixture(autouse=True)
def no_epanet_scratch_files(request):
    """Fail the test that leaves EPANET scratch files in the repository or the working directory."""
    places = {_ROOT, _ROOT / "notebooks", Path.cwd()}
    before = {p / name for p in places for name in _SCRATCH if (p / name).exists()}
    yield
    left = sorted(str(p / name) for p in places for name in _SCRATCH
                  if (p / name).exists() and p / name not in before)
    for path in left:
        Path(path).unlink()
    assert not left, f"{request.node.nodeid} ran EPANET in the working directory: {', '.join(left)}"


#: Files tools make on their own in the repository root (not left by a test).
_TOOL_FILES = {".pytest_cache", ".coverage", "__pycache__", ".mypy_cache", ".ruff_cache",
               ".import_linter_cache"}


def _entries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} - _TOOL_FILES if folder.is_dir() else set()


@pytest.fixture(scope="session", autouse=True)
def no_files_left_in_the_repository():
    """Fail the session if any test left a new file or folder in the repository root or the cwd.

    Commands and tests write only into their output and temporary folders (tmp_path).
    """
    places = {_ROOT, Path.cwd()}
    before = {place: _entries(place) for place in places}
    yield
    left = sorted(str(place / name) for place in places for name in _entries(place) - before[place])
    assert not left, f"tests left files outside their temporary folders: {', '.join(left)}"
