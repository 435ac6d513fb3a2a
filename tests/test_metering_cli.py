"""`nrwkit metering assess` as an analyst runs it."""

from __future__ import annotations

import json

from click.testing import CliRunner
from test_metering import CURVES, METERS, PROFILES

from nrwkit_cli.main import cli


def _files(tmp_path):
    paths = {}
    for name, text in (("curves", CURVES), ("profiles", PROFILES), ("meters", METERS)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    return paths


def test_assess_json_and_out(tmp_path):
    p = _files(tmp_path)
    out = tmp_path / "metering.json"
    args = ["metering", "assess", "--meters", str(p["meters"]), "--curves", str(p["curves"]),
            "--profiles", str(p["profiles"]), "--year", "2025", "--monte-carlo", "100", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == json.loads(out.read_text())
    assert data["meters"] == 2 and 0 < data["under_registration"]["fraction"] < 1
    for key in ("registered_m3_per_year", "true_m3_per_year", "apparent_losses_m3_per_year",
                "weighted_error_percent", "groups", "warnings"):
        assert key in data
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_bad_meters_file_exits_2(tmp_path):
    p = _files(tmp_path)
    p["meters"].write_text(METERS + "m9,Z,home,2010,5\n")
    result = CliRunner().invoke(cli, ["metering", "assess", "--meters", str(p["meters"]), "--curves",
                                      str(p["curves"]), "--profiles", str(p["profiles"]), "--year", "2025"])
    assert result.exit_code == 2 and "row 3" in result.output and "fix:" in result.output
