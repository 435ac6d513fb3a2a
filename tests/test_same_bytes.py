"""Two runs of the same command give the same bytes, when SOURCE_DATE_EPOCH is set.

Each command runs twice through the CLI, in two folders, and every file it writes (JSON, .inp,
HTML, GeoPackage) and its JSON on stdout are compared byte for byte. Creation stamps come from
SOURCE_DATE_EPOCH (reproducible-builds.org); stage timings are wall-clock measurements and are
left out of the files in that mode.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from nrwkit_cli.main import cli

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "networks" / "demo-utility"
EXAMPLES = REPO / "docs" / "examples"


@pytest.fixture
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00 UTC


def _twice(tmp_path: Path, monkeypatch, args: list[str], files: list[str]) -> None:
    outputs = []
    for run in ("first", "second"):
        folder = tmp_path / run
        folder.mkdir()
        monkeypatch.chdir(folder)
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        written = {name: (folder / name).read_bytes() for name in files}
        outputs.append((result.stdout, written))
    (out1, files1), (out2, files2) = outputs
    assert out1 == out2, "the JSON on stdout differs"
    for name in files:
        assert files1[name] == files2[name], f"{name} differs between two runs"
        assert files1[name], f"{name} is empty"


def test_dma_design(epoch, tmp_path, monkeypatch):
    _twice(tmp_path, monkeypatch,
           ["dma", "design", "net3", "--no-water-age", "--seed", "3", "--out", "d.gpkg",
            "--report", "d.html", "--json"],
           ["d.gpkg", "d.inp", "d.html"])


def test_gis_import(epoch, tmp_path, monkeypatch):
    _twice(tmp_path, monkeypatch,
           ["gis", "import", str(DEMO / "water_mains.gpkg"), "g.inp", "--mapping", str(DEMO / "mapping.yaml"),
            "--findings", "g.gpkg", "--report", "g.html", "--year", "2026", "--json"],
           ["g.inp", "g.gpkg", "g.html"])


def test_inspect(epoch, tmp_path, monkeypatch):
    _twice(tmp_path, monkeypatch, ["inspect", "net3", "--out", "out", "--report", "i.html", "--json"],
           ["out/inspect.json", "out/inspect.txt", "out/findings.csv", "out/network.gpkg", "i.html"])


def test_leaks_locate(epoch, tmp_path, monkeypatch):
    _twice(tmp_path, monkeypatch,
           ["leaks", "locate", "l-town", "--readings", str(EXAMPLES / "l-town-readings.csv"),
            "--flows", str(EXAMPLES / "l-town-flows.csv"), "--report", "l.html", "--json"],
           ["l.html"])
