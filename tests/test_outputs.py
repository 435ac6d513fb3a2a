"""Atomic writes and the overwrite guard."""

from __future__ import annotations

import json

import pytest

from nrwkit.errors import OutputExistsError
from nrwkit.outputs import atomic_output, write_json, write_text


def test_write_text_refuses_existing(tmp_path):
    target = write_text(tmp_path / "a.txt", "one")
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        write_text(target, "two")
    assert target.read_text() == "one"
    write_text(target, "two", overwrite=True)
    assert target.read_text() == "two"


def test_failed_block_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_output(tmp_path / "b.json") as tmp:
        tmp.write_text("{partial")
        raise RuntimeError("crash while writing")
    assert list(tmp_path.iterdir()) == []


def test_nothing_written_is_an_error(tmp_path):
    with pytest.raises(OSError, match="nothing was written"), atomic_output(tmp_path / "c.txt"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_json_rejects_nan(tmp_path):
    with pytest.raises(ValueError):
        write_json(tmp_path / "d.json", {"x": float("nan")})
    assert list(tmp_path.iterdir()) == []
    write_json(tmp_path / "d.json", {"x": 1.5})
    assert json.loads((tmp_path / "d.json").read_text()) == {"x": 1.5}
