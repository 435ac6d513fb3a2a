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


def test_a_failed_write_removes_the_folders_it_created(tmp_path):
    target = tmp_path / "new" / "deeper" / "a.txt"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("the writer failed")
    assert list(tmp_path.iterdir()) == []


def test_an_output_under_a_file_is_an_output_error(tmp_path):
    from nrwkit.errors import InputError, OutputError

    (tmp_path / "afile").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="afile") as info:
        write_text(tmp_path / "afile" / "b.txt", "text")
    assert isinstance(info.value, InputError) and "fix:" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_creation_time_honours_source_date_epoch(monkeypatch):
    from nrwkit.errors import InputError
    from nrwkit.outputs import creation_time

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z, by hand: 20454 days
    assert creation_time().isoformat() == "2026-01-01T00:00:00+00:00"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH"):
        creation_time()


def test_save_run_names_writes_and_indexes_a_run(tmp_path):
    import datetime
    import json

    from nrwkit.workspace import init_workspace, save_run

    ws = init_workspace(tmp_path / "ws", "net1")
    when = datetime.datetime(2026, 3, 4, 5, 6)
    first = save_run(ws, "My Analysis", {".txt": lambda p: write_text(p, "a"),
                                         ".json": lambda p: write_json(p, {"a": 1})}, title="Mine", when=when)
    second = save_run(ws, "My Analysis", {".txt": lambda p: write_text(p, "b")}, when=when)
    assert [p.name for p in first] == ["2026-03-04T0506-my-analysis.txt", "2026-03-04T0506-my-analysis.json"]
    assert [p.name for p in second] == ["2026-03-04T0506-my-analysis-2.txt"]
    runs = json.loads((ws.root / "runs.json").read_text(encoding="utf-8"))["runs"]
    assert [(r["run"], r["title"], r["when"]) for r in runs] == [
        ("2026-03-04T0506-my-analysis", "Mine", "2026-03-04T05:06:00"),
        ("2026-03-04T0506-my-analysis-2", "My Analysis", "2026-03-04T05:06:00")]
    assert runs[0]["files"] == ["outputs/2026-03-04T0506-my-analysis.txt",
                                "outputs/2026-03-04T0506-my-analysis.json"]

    def broken(path):
        raise ValueError("the second writer failed")

    before = sorted(p.name for p in ws.outputs.iterdir())
    with pytest.raises(ValueError):
        save_run(ws, "other", {".txt": lambda p: write_text(p, "c"), ".json": broken}, when=when)
    assert sorted(p.name for p in ws.outputs.iterdir()) == before  # the run is saved whole or not at all
    assert len(ws.runs()) == 2


def test_a_folder_without_write_permission_names_the_path_and_the_fix(tmp_path, monkeypatch):
    """As the OS refuses it to a non-root user (root writes anywhere, so the refusal is simulated)."""
    import errno
    import tempfile

    from nrwkit.errors import OutputError
    from nrwkit.outputs import write_text

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError, match="no permission to write") as info:
        write_text(tmp_path / "r.html", "x")
    assert "r.html" in str(info.value) and "fix:" in str(info.value)
    assert not (tmp_path / "r.html").exists()
