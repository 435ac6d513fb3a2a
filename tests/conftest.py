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
