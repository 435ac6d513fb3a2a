"""A corpus of malformed inputs, one per case, across every command.

Each case writes tiny files in ``tmp_path``, runs the command in-process (click's CliRunner) and
asserts what a user must get from a bad input: the documented exit code (2 for an input, 3 for
an analysis that failed), a message naming the file or element and the fix (substrings), no
traceback, and no file left behind (the temporary folder holds exactly the inputs it held).
Cases that still fail in files owned by other parts of nrwkit are ``xfail(strict=True)`` with the
file named in the reason, so they turn into failures the day they are fixed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from nrwkit_cli.main import cli

#: A three-junction network fed by a reservoir, two hours long, with coordinates.
SMALL = """[TITLE]
small
[JUNCTIONS]
J1 10 1
J2 10 1
J3 10 1
[RESERVOIRS]
R1 50
[PIPES]
P0 R1 J1 100 200 100
P1 J1 J2 100 200 100
P2 J2 J3 100 200 100
[TIMES]
Duration 2:00
Hydraulic Timestep 1:00
[OPTIONS]
Units LPS
[COORDINATES]
R1 -100 0
J1 0 0
J2 100 0
J3 200 0
[END]
"""
NO_SOURCE = SMALL.replace("R1 50\n", "").replace("P0 R1 J1 100 200 100\n", "").replace("R1 -100 0\n", "")
GARBAGE = bytes(range(256)) * 4
READINGS = "time,J2,J3\n0,39.9,39.8\n3600,39.7,39.5\n7200,39.8,39.6\n"
FLOWS = "time,inlet\n" + "".join(f"{h * 3600},{10 + (h % 24 < 5)}\n" for h in range(24 * 3))
BALANCE = """utility: Test
year: 2025
period_days: 365
units: {volume: m3, length: km, pressure: m}
system_input:
  own_sources:
    - {name: inlet, volume: 1000000, ci95: 0.02}
billed_metered: {volume: 700000, ci95: 0.01}
network: {mains_length: 40, connections: 2000, average_pressure: 45}
"""

Files = dict[str, str | bytes]


def _write(folder: Path, files: Files) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _inp(text: str) -> Files:
    return {"bad.inp": text}


def _replace(old: str, new: str) -> str:
    assert old in SMALL
    return SMALL.replace(old, new)


def _gpkg_polygons(folder: Path) -> None:
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"dma": ["A"]}, geometry=[shapely.box(-50, -50, 250, 50)])
    frame.to_file(folder / "dmas.gpkg", layer="dmas", driver="GPKG")


def _workspace(folder: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(folder / "ws"), "--network", str(folder / "small.inp")])
    assert result.exit_code == 0, result.output


def _broken_manifest(folder: Path) -> None:
    _workspace(folder)
    (folder / "ws" / "workspace.toml").write_text("[track\nname = 1", encoding="utf-8")


#: (id, files, setup, arguments, exit code, substrings of the output); paths are relative to tmp_path.
Case = tuple[str, Files, Callable[[Path], None] | None, list[str], int, list[str]]
XFAIL: dict[str, str] = {}

CASES: list[Case] = [
    # --- .inp files, through inspect (and its outputs) ---
    (
        "inp-truncated-line",
        _inp(_replace("P2 J2 J3 100 200 100", "P2 J2 J3")),
        None,
        ["inspect", "bad.inp", "--report", "r.html"],
        2,
        ["bad.inp, line", "[PIPES] line has 3 fields", "fix:"],
    ),
    (
        "inp-truncated-file",
        _inp(SMALL[:40]),
        None,
        ["inspect", "bad.inp", "--report", "r.html"],
        2,
        ["bad.inp", "fix:"],
    ),
    (
        "inp-unknown-section",
        _inp(_replace("[TIMES]", "[TIMEZ]")),
        None,
        ["inspect", "bad.inp"],
        2,
        ["unknown section [TIMEZ]", "rename it"],
    ),
    (
        "inp-coordinate-of-undefined-node",
        _inp(_replace("J3 200 0\n", "J3 200 0\n32 5 5\n")),
        None,
        ["inspect", "bad.inp", "--report", "r.html"],
        2,
        ["line 23", "[COORDINATES]", "'32'", "fix:"],
    ),
    (
        "inp-vertex-of-undefined-link",
        _inp(_replace("[END]", "[VERTICES]\nP9 1 1\n[END]")),
        None,
        ["inspect", "bad.inp"],
        2,
        ["[VERTICES]", "'P9'", "fix:"],
    ),
    (
        "inp-binary-garbage",
        {"bad.inp": GARBAGE},
        None,
        ["inspect", "bad.inp", "--report", "r.html"],
        2,
        ["bad.inp", "not text", "fix:"],
    ),
    ("inp-empty", _inp(""), None, ["inspect", "bad.inp"], 2, ["bad.inp", "defines no junctions", "fix:"]),
    ("inp-missing", {}, None, ["inspect", "nope.inp"], 2, ["nope.inp", "file not found", "fix:"]),
    ("inp-is-a-folder", {"folder.inp/x": ""}, None, ["inspect", "folder.inp"], 2, ["folder.inp", "folder"]),
    (
        "inp-nan-value",
        _inp(_replace("J2 10 1", "J2 nan 1")),
        None,
        ["inspect", "bad.inp"],
        2,
        ["'nan' is not a finite number", "fix:"],
    ),
    (
        "inp-duplicate-junction",
        _inp(_replace("J3 10 1\n", "J3 10 1\nJ2 10 1\n")),
        None,
        ["inspect", "bad.inp"],
        2,
        ["duplicate node id 'J2'", "fix:"],
    ),
    (
        "inp-link-to-undefined-node",
        _inp(_replace("P2 J2 J3", "P2 J2 J9")),
        None,
        ["inspect", "bad.inp"],
        2,
        ["'J9', which is not defined", "fix:"],
    ),
    (
        "inp-link-to-itself",
        _inp(_replace("P2 J2 J3", "P2 J2 J2")),
        None,
        ["inspect", "bad.inp"],
        2,
        ["starts and ends at the same node", "fix:"],
    ),
    (
        "inp-unknown-units",
        _inp(_replace("Units LPS", "Units LITRES")),
        None,
        ["inspect", "bad.inp"],
        2,
        ["unknown flow unit 'LITRES'", "fix:"],
    ),
    (
        "inp-no-units",
        _inp(_replace("Units LPS", "Trials 40")),
        None,
        ["inspect", "bad.inp"],
        2,
        ["no '[OPTIONS] Units' line", "fix:"],
    ),
    (
        "inp-data-before-section",
        _inp("J0 1 1\n" + SMALL),
        None,
        ["inspect", "bad.inp"],
        2,
        ["line 1", "data before the first section header"],
    ),
    (
        "inp-bad-number",
        _inp(_replace("P1 J1 J2 100 200 100", "P1 J1 J2 long 200 100")),
        None,
        ["inspect", "bad.inp"],
        2,
        ["bad.inp", "line", "fix:"],
    ),
    (
        "inp-negative-length",
        _inp(_replace("P1 J1 J2 100 200 100", "P1 J1 J2 -100 200 100")),
        None,
        ["gis", "export", "bad.inp", "out.gpkg"],
        2,
        ["bad.inp", "P1", "length", "fix:"],
    ),
    # --- option values ---
    (
        "opt-negative-min-pressure",
        {"small.inp": SMALL},
        None,
        ["inspect", "small.inp", "--min-pressure", "-5"],
        2,
        ["--min-pressure", "-5"],
    ),
    (
        "opt-nan-snap-tolerance",
        {"small.inp": SMALL},
        None,
        ["inspect", "small.inp", "--snap-tolerance", "nan"],
        2,
        ["--snap-tolerance", "not a finite number"],
    ),
    (
        "opt-dma-negative-min-pressure",
        {"small.inp": SMALL},
        None,
        ["dma", "design", "small.inp", "--min-pressure", "-1"],
        2,
        ["--min-pressure"],
    ),
    (
        "opt-dma-zero-diameter",
        {"small.inp": SMALL},
        None,
        ["dma", "design", "small.inp", "--exclude-diameter-above", "0"],
        2,
        ["--exclude-diameter-above"],
    ),
    (
        "opt-dma-negative-fire-flow",
        {"small.inp": SMALL},
        None,
        ["dma", "design", "small.inp", "--fire-flow", "-1"],
        2,
        ["--fire-flow"],
    ),
    (
        "opt-dma-negative-fire-residual",
        {"small.inp": SMALL},
        None,
        ["dma", "design", "small.inp", "--fire-residual", "-3"],
        2,
        ["--fire-residual"],
    ),
    (
        "opt-dma-size-text",
        {"small.inp": SMALL},
        None,
        ["dma", "design", "small.inp", "--size", "big"],
        2,
        ["'big'", "MIN:MAX"],
    ),
    (
        "opt-dma-out-not-gpkg",
        {"small.inp": SMALL},
        None,
        ["dma", "design", "small.inp", "--out", "x.txt"],
        2,
        ["x.txt", "workspace folder or a .gpkg"],
    ),
    (
        "opt-locate-negative-noise",
        {"small.inp": SMALL, "r.csv": READINGS},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv", "--noise", "-1"],
        2,
        ["--noise"],
    ),
    (
        "opt-locate-window-backwards",
        {"small.inp": SMALL, "r.csv": READINGS},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv", "--window", "5:2"],
        2,
        ["--window", "5:2"],
    ),
    (
        "opt-locate-nan-demand-error",
        {"small.inp": SMALL, "r.csv": READINGS},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv", "--demand-error", "nan"],
        2,
        ["--demand-error", "not a finite number"],
    ),
    (
        "opt-place-zero-count",
        {"small.inp": SMALL},
        None,
        ["leaks", "place-loggers", "small.inp", "--count", "0"],
        2,
        ["--count"],
    ),
    (
        "opt-place-too-many",
        {"small.inp": SMALL},
        None,
        ["leaks", "place-loggers", "small.inp", "--count", "9"],
        2,
        ["count=9", "3 candidate junction(s)", "fix:"],
    ),
    (
        "opt-place-negative-leak",
        {"small.inp": SMALL},
        None,
        ["leaks", "place-loggers", "small.inp", "--count", "1", "--leak-flow", "-1"],
        2,
        ["--leak-flow"],
    ),
    (
        "opt-detect-zero-cusum-h",
        {"f.csv": FLOWS},
        None,
        ["leaks", "detect", "f.csv", "--cusum-h", "0"],
        2,
        ["--cusum-h"],
    ),
    (
        "opt-detect-bad-night",
        {"f.csv": FLOWS},
        None,
        ["leaks", "detect", "f.csv", "--night", "25"],
        2,
        ["--night", "'25'"],
    ),
    (
        "opt-gis-import-negative-snap",
        {"small.inp": SMALL},
        None,
        ["gis", "import", "small.inp", "out.inp", "--snap", "-3"],
        2,
        ["--snap"],
    ),
    (
        "opt-gis-allocate-negative-distance",
        {"small.inp": SMALL, "c.gpkg": b""},
        None,
        ["gis", "allocate-customers", "small.inp", "c.gpkg", "out.inp", "--max-distance", "-1"],
        2,
        ["--max-distance"],
    ),
    (
        "opt-balance-negative-samples",
        {"b.yaml": BALANCE},
        None,
        ["balance", "b.yaml", "--monte-carlo", "-1"],
        2,
        ["--monte-carlo"],
    ),
    ("opt-networks-unknown", {}, None, ["networks", "--bogus"], 2, ["--bogus"]),
    # --- outputs ---
    (
        "out-exists",
        {"small.inp": SMALL, "r.html": "mine"},
        None,
        ["inspect", "small.inp", "--no-simulation", "--report", "r.html"],
        2,
        ["r.html", "already exists", "--overwrite"],
    ),
    (
        "out-is-a-folder",
        {"small.inp": SMALL, "r.html/keep": ""},
        None,
        ["inspect", "small.inp", "--no-simulation", "--report", "r.html", "--overwrite"],
        2,
        ["r.html", "is a directory"],
    ),
    (
        "out-in-a-system-folder",
        {"small.inp": SMALL},
        None,
        ["inspect", "small.inp", "--no-simulation", "--report", "/proc/nrwkit-test/r.html"],
        2,
        ["/proc/nrwkit-test/r.html", "cannot be written", "fix:"],
    ),
    (
        "out-under-a-file",
        {"small.inp": SMALL, "afile": "x"},
        None,
        ["inspect", "small.inp", "--no-simulation", "--report", "afile/r.html"],
        2,
        ["afile", "a part of the path is a file", "fix:"],
    ),
    (
        "out-replaces-input",
        {"small.inp": SMALL},
        None,
        ["gis", "export", "small.inp", "small.inp", "--overwrite"],
        2,
        ["small.inp"],
    ),
    # --- dma ---
    (
        "dma-check-garbage-inp",
        {"small.inp": SMALL, "design.inp": GARBAGE},
        None,
        ["dma", "check", "small.inp", "design.inp"],
        2,
        ["design.inp", "not text", "fix:"],
    ),
    (
        "dma-check-garbage-gpkg",
        {"small.inp": SMALL, "design.gpkg": GARBAGE},
        None,
        ["dma", "check", "small.inp", "design.gpkg"],
        2,
        ["design.gpkg", "not a design GeoPackage", "fix:"],
    ),
    (
        "dma-check-garbage-other",
        {"small.inp": SMALL, "design.dat": GARBAGE},
        None,
        ["dma", "check", "small.inp", "design.dat"],
        2,
        ["design.dat", "fix:"],
    ),
    (
        "dma-check-missing",
        {"small.inp": SMALL},
        None,
        ["dma", "check", "small.inp", "nope.gpkg"],
        2,
        ["nope.gpkg", "no such design file", "fix:"],
    ),
    (
        "dma-check-untagged-inp",
        {"small.inp": SMALL, "design.inp": SMALL},
        None,
        ["dma", "check", "small.inp", "design.inp"],
        2,
        ["design.inp", "dma= tag", "fix:"],
    ),
    (
        "dma-polygons-unknown-layer",
        {"small.inp": SMALL},
        _gpkg_polygons,
        ["dma", "from-polygons", "small.inp", "dmas.gpkg", "--layer", "nope"],
        2,
        ["dmas.gpkg", "'nope'", "'dmas'", "fix:"],
    ),
    (
        "dma-polygons-garbage",
        {"small.inp": SMALL, "dmas.gpkg": GARBAGE},
        None,
        ["dma", "from-polygons", "small.inp", "dmas.gpkg"],
        2,
        ["dmas.gpkg", "fix:"],
    ),
    (
        "dma-polygons-missing",
        {"small.inp": SMALL},
        None,
        ["dma", "from-polygons", "small.inp", "none.gpkg"],
        2,
        ["none.gpkg", "no such file", "fix:"],
    ),
    (
        "dma-design-no-source",
        {"bad.inp": NO_SOURCE},
        None,
        ["dma", "design", "bad.inp", "--no-water-age"],
        2,
        ["bad.inp", "no tank or reservoir", "fix:"],
    ),
    # --- leaks locate: readings ---
    (
        "readings-missing",
        {"small.inp": SMALL},
        None,
        ["leaks", "locate", "small.inp", "--readings", "no.csv"],
        2,
        ["no.csv", "no such file"],
    ),
    (
        "readings-unknown-loggers",
        {"small.inp": SMALL, "r.csv": "time,X1,X2\n0,1,2\n3600,1.5,2.5\n"},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "'X1'", "fix:"],
    ),
    (
        "readings-text-value",
        {"small.inp": SMALL, "r.csv": READINGS.replace("39.7", "high")},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "row 3", "fix:"],
    ),
    (
        "readings-nan-time",
        {"small.inp": SMALL, "r.csv": READINGS.replace("3600,", "NaN,")},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "row 3", "fix:"],
    ),
    (
        "readings-duplicate-times",
        {"small.inp": SMALL, "r.csv": READINGS.replace("7200,", "3600,")},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "rows 3 and 4", "fix:"],
    ),
    (
        "readings-out-of-simulation",
        {"small.inp": SMALL, "r.csv": "time,J2\n90000,1\n93600,2\n"},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "outside the model's run", "fix:"],
    ),
    (
        "readings-all-dead",
        {"small.inp": SMALL, "r.csv": "time,J2,J3\n0,30,31\n3600,30,31\n7200,30,31\n"},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "dead logger", "fix:"],
    ),
    (
        "readings-no-time-column",
        {"small.inp": SMALL, "r.csv": "t,J2\n0,1\n"},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "no 'time' column", "fix:"],
    ),
    (
        "readings-empty",
        {"small.inp": SMALL, "r.csv": ""},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "empty", "fix:"],
    ),
    (
        "readings-garbage",
        {"small.inp": SMALL, "r.csv": GARBAGE},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "fix:"],
    ),
    (
        "readings-dates-without-start",
        {"small.inp": SMALL, "r.csv": "time,J2\n2024-03-01 00:00,1\n"},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "start", "fix:"],
    ),
    (
        "readings-steady-state-model",
        {"bad.inp": _replace("Duration 2:00", "Duration 0"), "r.csv": READINGS},
        None,
        ["leaks", "locate", "bad.inp", "--readings", "r.csv"],
        2,
        ["r.csv", "steady state", "fix:"],
    ),
    (
        "locate-no-source",
        {"bad.inp": NO_SOURCE, "r.csv": READINGS},
        None,
        ["leaks", "locate", "bad.inp", "--readings", "r.csv", "--report", "r.html"],
        2,
        ["bad.inp", "no tank or reservoir", "fix:"],
    ),
    (
        "locate-flows-garbage",
        {"small.inp": SMALL, "r.csv": READINGS, "f.csv": GARBAGE},
        None,
        ["leaks", "locate", "small.inp", "--readings", "r.csv", "--flows", "f.csv"],
        2,
        ["f.csv", "fix:"],
    ),
    # --- leaks place-loggers ---
    (
        "place-no-source",
        {"bad.inp": NO_SOURCE},
        None,
        ["leaks", "place-loggers", "bad.inp", "--count", "1"],
        2,
        ["bad.inp", "no tank or reservoir", "fix:"],
    ),
    (
        "place-empty-candidates",
        {"small.inp": SMALL, "c.txt": "\n"},
        None,
        ["leaks", "place-loggers", "small.inp", "--count", "1", "--candidates", "c.txt"],
        2,
        ["c.txt", "lists no junction", "fix:"],
    ),
    (
        "place-unknown-candidates",
        {"small.inp": SMALL, "c.txt": "J1\nX9\n"},
        None,
        ["leaks", "place-loggers", "small.inp", "--count", "1", "--candidates", "c.txt"],
        2,
        ["'X9'", "fix:"],
    ),
    (
        "place-garbage-candidates",
        {"small.inp": SMALL, "c.txt": GARBAGE},
        None,
        ["leaks", "place-loggers", "small.inp", "--count", "1", "--candidates", "c.txt"],
        2,
        ["c.txt", "fix:"],
    ),
    (
        "place-all-existing",
        {"small.inp": SMALL},
        None,
        [
            "leaks",
            "place-loggers",
            "small.inp",
            "--count",
            "1",
            "--existing",
            "J1",
            "--existing",
            "J2",
            "--existing",
            "J3",
        ],
        2,
        ["no junction where a new logger can go", "fix:"],
    ),
    # --- leaks detect: flows ---
    ("flows-missing", {}, None, ["leaks", "detect", "no.csv"], 2, ["no.csv", "fix:"]),
    (
        "flows-text",
        {"f.csv": FLOWS.replace(",11\n", ",lots\n", 1)},
        None,
        ["leaks", "detect", "f.csv"],
        2,
        ["f.csv", "line 2", "'lots'", "fix:"],
    ),
    (
        "flows-no-time",
        {"f.csv": "when,inlet\n0,1\n"},
        None,
        ["leaks", "detect", "f.csv"],
        2,
        ["f.csv", "time", "fix:"],
    ),
    ("flows-garbage", {"f.csv": GARBAGE}, None, ["leaks", "detect", "f.csv"], 2, ["f.csv", "fix:"]),
    ("flows-empty", {"f.csv": ""}, None, ["leaks", "detect", "f.csv"], 2, ["f.csv", "empty", "fix:"]),
    # --- init and report ---
    (
        "init-bad-network",
        {"bad.inp": _replace("[TIMES]", "[TIMEZ]")},
        None,
        ["init", "ws", "--network", "bad.inp"],
        2,
        ["bad.inp", "unknown section"],
    ),
    (
        "init-end-before-start",
        {"small.inp": SMALL},
        None,
        ["init", "ws", "--network", "small.inp", "--start", "2026-02-01", "--end", "2026-01-01"],
        2,
        ["ends (2026-01-01) before it starts"],
    ),
    (
        "init-start-not-a-date",
        {"small.inp": SMALL},
        None,
        ["init", "ws", "--network", "small.inp", "--start", "soon"],
        2,
        ["'soon'", "YYYY-MM-DD"],
    ),
    (
        "init-unknown-crs",
        {"small.inp": SMALL},
        None,
        ["init", "ws", "--network", "small.inp", "--crs", "EPSG:999999"],
        2,
        ["EPSG:999999"],
    ),
    (
        "init-twice",
        {"small.inp": SMALL},
        _workspace,
        ["init", "ws", "--network", "small.inp"],
        2,
        ["is a workspace already"],
    ),
    (
        "report-not-a-workspace",
        {"folder/x": ""},
        None,
        ["report", "folder"],
        2,
        ["not a workspace", "nrwkit init"],
    ),
    (
        "report-broken-manifest",
        {"small.inp": SMALL},
        _broken_manifest,
        ["report", "ws"],
        2,
        ["workspace.toml", "not valid TOML"],
    ),
    (
        "inspect-broken-workspace",
        {"small.inp": SMALL},
        _broken_manifest,
        ["inspect", "ws"],
        2,
        ["workspace.toml", "not valid TOML"],
    ),
    # --- gis ---
    ("gis-export-unknown-network", {}, None, ["gis", "export", "nope", "out.gpkg"], 2, ["nope", "fix:"]),
    (
        "gis-export-unknown-crs",
        {"small.inp": SMALL},
        None,
        ["gis", "export", "small.inp", "out.gpkg", "--crs", "EPSG:999999"],
        2,
        ["EPSG:999999"],
    ),
    (
        "gis-import-garbage-layers",
        {"layers.gpkg": GARBAGE},
        None,
        ["gis", "import", "layers.gpkg", "out.inp"],
        2,
        ["layers.gpkg", "fix:"],
    ),
    (
        "gis-import-mapping-yaml-syntax",
        {"layers.gpkg": GARBAGE, "m.yaml": "pipes: [a\n"},
        None,
        ["gis", "import", "layers.gpkg", "out.inp", "--mapping", "m.yaml"],
        2,
        ["m.yaml", "not valid YAML", "fix:"],
    ),
    (
        "gis-import-mapping-unknown-key",
        {"layers.gpkg": GARBAGE, "m.yaml": "pipez: {}\n"},
        None,
        ["gis", "import", "layers.gpkg", "out.inp", "--mapping", "m.yaml"],
        2,
        ["m.yaml", "pipez", "fix:"],
    ),
    (
        "gis-import-mapping-garbage",
        {"layers.gpkg": GARBAGE, "m.yaml": GARBAGE},
        None,
        ["gis", "import", "layers.gpkg", "out.inp", "--mapping", "m.yaml"],
        2,
        ["m.yaml", "fix:"],
    ),
    # --- balance ---
    ("balance-missing", {}, None, ["balance", "none.yaml"], 2, ["none.yaml"]),
    (
        "balance-yaml-syntax",
        {"b.yaml": "utility: [x\n"},
        None,
        ["balance", "b.yaml"],
        2,
        ["b.yaml", "not valid YAML", "fix the YAML syntax"],
    ),
    (
        "balance-unknown-key",
        {"b.yaml": BALANCE + "colour: red\n"},
        None,
        ["balance", "b.yaml"],
        2,
        ["b.yaml", "colour", "unknown key", "lists every key"],
    ),
    (
        "balance-negative-volume",
        {"b.yaml": BALANCE.replace("volume: 1000000", "volume: -5")},
        None,
        ["balance", "b.yaml"],
        2,
        ["b.yaml", "own_sources.0.volume", "cannot be negative", "correct the key"],
    ),
    (
        "balance-garbage",
        {"b.yaml": GARBAGE},
        None,
        ["balance", "b.yaml"],
        2,
        ["b.yaml", "not a text file", "give the"],
    ),
    (
        "balance-not-a-mapping",
        {"b.yaml": "- 1\n- 2\n"},
        None,
        ["balance", "b.yaml"],
        2,
        ["b.yaml", "mapping", "for an example"],
    ),
]


def _params() -> list:
    return [
        pytest.param(
            *case,
            id=case[0],
            marks=[pytest.mark.xfail(strict=True, reason=XFAIL[case[0]])] if case[0] in XFAIL else [],
        )
        for case in CASES
    ]


def test_the_corpus_is_large_and_covers_every_command():
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)
    commands = {c[3][0] if c[3][0] not in ("gis", "dma", "leaks") else " ".join(c[3][:2]) for c in CASES}
    assert {
        "inspect",
        "gis import",
        "gis export",
        "balance",
        "dma design",
        "dma check",
        "dma from-polygons",
        "leaks locate",
        "leaks place-loggers",
        "leaks detect",
        "init",
        "report",
        "networks",
    } <= commands


@pytest.mark.parametrize(("name", "files", "setup", "args", "code", "expected"), _params())
def test_bad_input(tmp_path, monkeypatch, name, files, setup, args, code, expected):
    _write(tmp_path, {"small.inp": SMALL, **files} if setup in (_workspace, _broken_manifest) else files)
    if setup is not None:
        setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    result = CliRunner().invoke(cli, args)
    out = result.output
    assert result.exit_code == code, f"{name}: exit {result.exit_code}\n{out}\n{result.exception!r}"
    assert "Traceback" not in out
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), out
    for text in expected:
        assert text in out, f"{name}: {text!r} not in:\n{out}"
    assert _tree(tmp_path) == before, f"{name} left {sorted(_tree(tmp_path) - before)}"


@pytest.mark.parametrize("where", ["before", "after"])
def test_exit_codes_keep_their_meaning_under_verbose(tmp_path, where):
    """-v (before or after the subcommand) adds the traceback; the exit code stays 2."""
    (tmp_path / "bad.inp").write_text(_replace("[TIMES]", "[TIMEZ]"), encoding="utf-8")
    args = ["inspect", str(tmp_path / "bad.inp")]
    result = CliRunner().invoke(cli, ["-v", *args] if where == "before" else [*args, "-v"])
    assert result.exit_code == 2
    assert "Traceback" in result.output and "unknown section [TIMEZ]" in result.output


def test_quiet_after_the_subcommand(tmp_path):
    (tmp_path / "small.inp").write_text(SMALL, encoding="utf-8")
    loud = CliRunner().invoke(cli, ["inspect", str(tmp_path / "small.inp"), "--no-simulation"])
    quiet = CliRunner().invoke(cli, ["inspect", str(tmp_path / "small.inp"), "--no-simulation", "-q"])
    assert loud.exit_code == quiet.exit_code == 0
    assert loud.output.strip() and not quiet.output.strip()


def test_an_internal_error_is_exit_4_and_names_show_versions(tmp_path, monkeypatch):
    import nrwkit_cli.networks as command

    def broken() -> None:
        raise ZeroDivisionError("a planted bug")

    monkeypatch.setattr(command.bundled, "available", broken)
    result = CliRunner().invoke(cli, ["networks"])
    assert result.exit_code == 4
    assert "internal error: ZeroDivisionError: a planted bug" in result.output
    assert "--show-versions" in result.output and "Traceback" not in result.output
    verbose = CliRunner().invoke(cli, ["networks", "-v"])
    assert verbose.exit_code == 4 and "Traceback" in verbose.output


def test_sigint_exits_130_and_leaves_no_partial_output(tmp_path):
    """Ctrl-C during a long command: exit 130, a message, and no file in the output folder."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    out = tmp_path / "out"
    out.mkdir()
    script = "import sys; from nrwkit_cli.main import cli; print('ready', file=sys.stderr, flush=True); cli()"
    command = [
        sys.executable,
        "-c",
        script,
        "dma",
        "design",
        "l-town",
        "--out",
        str(out / "design.gpkg"),
        "--report",
        str(out / "design.html"),
    ]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    assert proc.stderr.readline().strip() == b"ready"  # imports done; the design runs for ~6 s more
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"interrupted" in err and b"Traceback" not in err
    assert list(out.iterdir()) == []


def _run_twice(tmp_path: Path, args: Callable[[Path], list[str]], monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    paths = []
    for k in (1, 2):
        folder = tmp_path / f"run{k}"
        folder.mkdir()
        result = CliRunner().invoke(cli, args(folder))
        assert result.exit_code in (0, 1), result.output
        paths.append(folder)
    return paths[0], paths[1]


def test_same_seed_same_bytes_json_and_inp(tmp_path, monkeypatch):
    """Two DMA designs with the same seed: identical .inp and JSON bytes (SOURCE_DATE_EPOCH set)."""
    first, second = _run_twice(
        tmp_path,
        lambda d: [
            "dma",
            "design",
            "net1",
            "--seed",
            "3",
            "--no-water-age",
            "--out",
            str(d / "d.gpkg"),
            "--json",
        ],
        monkeypatch,
    )
    assert (first / "d.inp").read_bytes() == (second / "d.inp").read_bytes()
    assert b"; Created: 2026-01-01 00:00:00" in (first / "d.inp").read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    outputs = [
        CliRunner().invoke(cli, ["dma", "design", "net1", "--seed", "3", "--no-water-age", "--json"])
        for _ in range(2)
    ]
    data = [json.loads(o.output) for o in outputs]
    for d in data:  # the stages' run times are measured, not computed
        for stage in d["stages"]:
            stage.pop("seconds", None)
    assert json.dumps(data[0], sort_keys=True) == json.dumps(data[1], sort_keys=True)


def test_same_seed_same_bytes_html(tmp_path, monkeypatch):
    """Two inspection reports of the same network: identical HTML bytes (SOURCE_DATE_EPOCH set)."""
    first, second = _run_twice(
        tmp_path, lambda d: ["inspect", "net1", "--no-simulation", "--report", str(d / "r.html")], monkeypatch
    )
    assert (first / "r.html").read_bytes() == (second / "r.html").read_bytes()
    assert b"2026-01-01" in (first / "r.html").read_bytes()


def test_same_seed_same_geopackage_layers(tmp_path, monkeypatch):
    """The GeoPackage's layer contents (every table's rows) are identical; file bytes may differ by
    SQLite's own page layout, so the tables are compared."""
    import sqlite3

    first, second = _run_twice(tmp_path, lambda d: ["gis", "export", "net1", str(d / "n.gpkg")], monkeypatch)

    def tables(path: Path) -> dict[str, list]:
        with sqlite3.connect(path) as db:
            names = [
                r[0]
                for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' "
                    "AND name NOT LIKE 'rtree%' ORDER BY name"
                )
            ]
            return {n: sorted(map(repr, db.execute(f'SELECT * FROM "{n}"').fetchall())) for n in names}

    assert tables(first / "n.gpkg") == tables(second / "n.gpkg")
