"""Bad logger readings in `nrwkit leaks locate`: each a clean exit-2 message or a finding.

Every message names the file, the row (as an editor numbers lines, the header being row 1)
or the logger column, and the fix; nothing is written and no traceback is shown.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from nrwkit.errors import InputError
from nrwkit.findings import Finding, Severity
from nrwkit.leaks import Leak, read_readings, simulate_leaks, usable_readings
from nrwkit.networks import load, resolve
from nrwkit_cli.main import cli

HOUR = 3600
LOGGERS = ["11", "12", "21", "22", "31", "32"]


@pytest.fixture(scope="module")
def rows() -> list[str]:
    """Net1's pressures at six loggers with a leak at junction 22, hourly 0..3 h: CSV rows."""
    run = simulate_leaks(load("net1"), [Leak("22", flow_m3s=0.01)], duration_s=3 * HOUR, report_step_s=HOUR)
    frame = run.pressure_m[LOGGERS].round(3)
    return [",".join([str(int(t)), *(f"{v:g}" for v in frame.loc[t])]) for t in frame.index]


def _csv(lines: list[str], header: str = "time," + ",".join(LOGGERS)) -> str:
    return "\n".join([header, *lines]) + "\n"


def _locate(tmp_path, text: str, *extra: str, network: str = "net1"):
    path = tmp_path / "readings.csv"
    path.write_text(text)
    report = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["leaks", "locate", network, "--readings", str(path),
                                      "--report", str(report), *extra])
    return result, path, report


def _refused(tmp_path, text: str, *extra: str, network: str = "net1") -> str:
    result, path, report = _locate(tmp_path, text, *extra, network=network)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert str(path) in result.output and "fix:" in result.output
    assert not report.exists()
    return result.output


def _accepted(tmp_path, text: str, *extra: str) -> str:
    """Run locate on readings it must accept (exit 0, or 1: Net1 cannot separate); its output,
    with the lines of each wrapped warning joined (one space between words)."""
    result, _, _ = _locate(tmp_path, text, *extra)
    assert result.exit_code in (0, 1), result.output
    return " ".join(result.output.split())


def test_good_readings_run(tmp_path, rows):
    result, _, report = _locate(tmp_path, _csv(rows))
    assert result.exit_code in (0, 1), result.output  # readings accepted (1: Net1 cannot separate)
    assert report.exists() and "missing readings" not in result.output


def test_unknown_logger_is_dropped_with_a_warning(tmp_path, rows):
    text = _csv([f"{r},{k}" for k, r in enumerate(rows)], header="time," + ",".join(LOGGERS) + ",ghost")
    output = _accepted(tmp_path, text)
    assert "WARNING leaks-logger-not-junction" in output
    assert "logger ghost is not a junction of the network: dropped" in output
    assert "fix: name the column after the junction id the logger is on" in output


def test_only_unknown_loggers(tmp_path):
    out = _refused(tmp_path, "time,ghost,9\n0,1,2\n3600,2,3\n")
    assert "no logger column names a junction of the network: 'ghost', '9'" in out
    assert "[JUNCTIONS]" in out


def test_gaps_are_left_out_and_an_empty_logger_is_dead(tmp_path, rows):
    lines = [r + ",NaN" for r in rows]
    first = lines[1].split(",")
    first[2] = ""  # logger 12 at 3600 s
    lines[1] = ",".join(first)
    text = _csv(lines, header="time," + ",".join(LOGGERS) + ",23")
    output = _accepted(tmp_path, text)
    assert "5 missing readings (first at row 2, column '23'); those are left out" in output
    assert "logger 23 has no readings" in output


def test_text_in_a_reading(tmp_path):
    out = _refused(tmp_path, "time,11,12\n0,80,79\n3600,eighty,78\n")
    assert re.search(r"readings\.csv, row 3, column '11': 'eighty' is not a number", out)
    assert "plain number" in out


def test_text_in_the_time_column(tmp_path):
    out = _refused(tmp_path, "time,11,12\n0,80,79\n1 h,81,78\n")
    assert "row 3, column 'time': time '1 h' is not a number of seconds" in out


def test_date_times_need_a_start(tmp_path, rows):
    lines = [f"2024-03-01 {int(r.split(',')[0]) // HOUR:02d}:00," + r.split(",", 1)[1] for r in rows]
    out = _refused(tmp_path, _csv(lines))
    assert "the times are date-times, and the model's start is not known" in out and "start=" in out
    _accepted(tmp_path, _csv(lines), "--start", "2024-03-01T00:00")


def test_identical_duplicate_rows_are_a_finding(tmp_path, rows):
    output = _accepted(tmp_path, _csv([*rows, rows[1]]))
    assert "1 row(s) repeating an earlier time and its readings (first at row 6, a copy of row 3)" \
        in output


def test_conflicting_duplicate_rows(tmp_path):
    out = _refused(tmp_path, "time,11,12\n0,80,79\n3600,80.5,78.2\n7200,81,78\n3600,80.5,70\n")
    assert "rows 3 and 5 both give time 3600 s with different readings (column '12': 78.2 and 70)" in out
    assert "keep one row per time" in out


def test_unsorted_times_are_sorted(tmp_path, rows):
    output = _accepted(tmp_path, _csv([rows[1], rows[0], *rows[2:]]))
    assert "earlier than the row before (first at row 3); the readings were sorted by time" in output


def test_readings_outside_the_run(tmp_path):
    out = _refused(tmp_path, "time,11,12\n90000,80,79\n93600,81,78\n")
    assert "every reading lies outside the model's run: the model runs 0..86400 s" in out
    assert "the readings span 90000..93600 s" in out
    assert "give start" in out and "Duration" in out


def test_steady_state_model(tmp_path):
    inp = tmp_path / "steady.inp"
    inp.write_text(re.sub(r"Duration\s+24:00", "Duration 0:00", resolve("net1").read_text()))
    out = _refused(tmp_path, "time,11,12\n0,80,79\n3600,81,78\n", network=str(inp))
    assert "single steady state (duration 0 h)" in out and "extended-period" in out
    assert "set [TIMES] Duration" in out and "fewer than 2" not in out


def test_all_loggers_dead(tmp_path):
    out = _refused(tmp_path, "time,11,12\n0,80,79\n3600,80,79\n7200,80,79\n")
    assert "no usable logger: logger 11 reads a constant 80 m (dead logger): dropped; logger 12 reads a " \
           "constant 79 m" in out


@pytest.mark.parametrize(("text", "expected"), [
    ("", "the file is empty"),
    ("time,11,12\n", "there are no readings below the header row"),
    ("time,11,12\n\n\n", "there are no readings below the header row"),
    ("t,11\n0,50\n", "no 'time' column (the columns are: t, 11)"),
    ("time\n0\n3600\n", "there is no logger column, only times"),
    ("time,11,12\n0,80\n3600,81,78,77\n", "not a readable CSV file"),
])
def test_unreadable_files(tmp_path, text, expected):
    assert expected in _refused(tmp_path, text)


def test_missing_file(tmp_path):
    result = CliRunner().invoke(cli, ["leaks", "locate", "net1", "--readings", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "nope.csv: no such file" in result.output


def test_library_raises_input_error_naming_the_file(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("time,11,12\n0,80,79\n3600,80,79\n")
    readings = read_readings(path)
    assert readings.source == str(path)
    with pytest.raises(InputError, match=re.escape(str(path))):
        usable_readings(load("net1"), readings)
    with pytest.raises(InputError, match=r"given\.csv"):
        usable_readings(load("net1"), readings.values, source="given.csv")


def test_every_readings_warning_is_a_finding(tmp_path, rows):
    """The file's findings and the loggers dropped: warnings with a stable leaks- code, ids in elements."""
    lines = [r + ",NaN,50,77" for r in rows]
    lines = [lines[1], lines[0], *lines[2:], lines[2]]  # unsorted, and a repeated row
    first = lines[3].split(",")
    first[2] = ""  # one reading of logger 12 missing
    lines[3] = ",".join(first)
    path = tmp_path / "readings.csv"
    path.write_text(_csv(lines, header="time," + ",".join(LOGGERS) + ",23,10,ghost"))
    readings = read_readings(path)
    assert [f.code for f in readings.findings] == ["leaks-readings-unsorted", "leaks-readings-repeated",
                                                   "leaks-readings-missing"]
    assert set(readings.findings[-1].elements) == {"12", "23"}
    _, use, warnings = usable_readings(load("net1"), readings)
    assert use == LOGGERS
    codes = {w.code: w for w in warnings}
    assert {"leaks-logger-empty", "leaks-logger-dead", "leaks-logger-not-junction"} <= set(codes)
    assert codes["leaks-logger-empty"].elements == ("23",)
    assert codes["leaks-logger-dead"].elements == ("10",)
    assert codes["leaks-logger-not-junction"].elements == ("ghost",)
    for w in warnings:
        assert isinstance(w, Finding) and w.severity == Severity.WARNING
        assert re.fullmatch(r"leaks(-[a-z0-9]+)+", w.code), w.code
        assert "--" not in str(w)  # library text names parameters, not CLI flags
    assert str(codes["leaks-logger-not-junction"]) == ("logger ghost is not a junction of the network: "
                                                       "dropped (name the column after the junction id "
                                                       "the logger is on)")
