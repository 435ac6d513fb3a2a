"""Leak detection: minimum night flow, MNF trend and CUSUM against hand calculations and
synthetic flows (a diurnal pattern with noise and a leak from a known day), and bad flow files."""

from __future__ import annotations

import json
import math

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from nrwkit.errors import InputError
from nrwkit.leaks.detect import cusum, detect, minimum_night_flow, mnf_alarms, read_flows
from nrwkit_cli.leaks_detect import detect_command

DAY = 86400
QUARTER = 900


def diurnal(days: int, *, seed: int, leak_m3h: float = 0.0, leak_from_s: float | None = None,
            noise_m3h: float = 0.3) -> pd.Series:
    """15-min inflow of a zone in m3/s (index = s from 00:00 of day 0): 6 m3/h at 04:00 rising to
    20 m3/h at 16:00, normal noise, and a leak (step) from ``leak_from_s``."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, days * DAY, QUARTER)
    hour = (t % DAY) / 3600
    q = 6 + 14 * (1 - np.cos(2 * np.pi * (hour - 4) / 24)) / 2 + rng.normal(0, noise_m3h, len(t))
    if leak_from_s is not None:
        q = q + leak_m3h * (t >= leak_from_s)
    return pd.Series(q / 3600, index=pd.Index(t, name="time"), name="inlet")


def write_csv(path, frame: pd.DataFrame) -> str:
    frame.to_csv(path, index=False)
    return str(path)


# --------------------------------------------------------------------------- minimum night flow


def one_day(values_in_night: list[float], *, other: float = 10.0) -> pd.Series:
    """A day of 15-min readings (m3/h given, m3/s returned): ``other`` outside 02:00-04:00."""
    t = np.arange(0, DAY, QUARTER)
    q = np.full(len(t), other)
    q[(t >= 7200) & (t < 14400)] = values_in_night
    return pd.Series(q / 3600, index=t)


def test_mnf_is_the_lowest_rolling_hour_inside_the_night():
    # readings 02:00..03:45; hour means from 02:00: 5.5, 4.5, 4.0, 5.0, 6.0 -> 4.0 from 02:30
    q = one_day([8, 6, 4, 4, 4, 4, 8, 8], other=10.0)
    q.loc[6300] = q.loc[14400] = 0.0  # 01:45 and 04:00 are outside the night
    table = minimum_night_flow(q)
    assert list(table.index) == [0]
    row = table.loc[0]
    assert row["mnf_m3h"] == pytest.approx(4.0)
    assert row["mnf_time"] == 9000
    assert row["samples"] == 8 and row["coverage"] == 1.0
    # a 30-min window finds the two 4.0 readings first at 02:30 too
    assert minimum_night_flow(q, window="30min").loc[0, "mnf_m3h"] == pytest.approx(4.0)


def test_partial_nights_get_no_mnf_and_nights_across_midnight_take_the_morning_date():
    q = pd.concat([one_day([5] * 8), one_day([3] * 8).set_axis(np.arange(DAY, 2 * DAY, QUARTER))])
    q.loc[DAY + 7200: DAY + 7200 + 4 * QUARTER] = np.nan  # 5 of night 1's 8 readings missing
    table = minimum_night_flow(q)
    assert table.loc[0, "mnf_m3h"] == pytest.approx(5.0)
    assert math.isnan(table.loc[1, "mnf_m3h"]) and table.loc[1, "samples"] == 3
    assert table.loc[1, "coverage"] == pytest.approx(3 / 8)
    # 23:00-05:00: the night of day 0 to day 1 is labelled day 1 and spans midnight
    dates = pd.Series(np.r_[np.full(92, 10.0), [2.0, 2.0, 2.0, 2.0], np.full(96, 10.0)] / 3600,
                      index=pd.date_range("2024-03-01", periods=192, freq="15min"))
    table = minimum_night_flow(dates, night=("23:00", "05:00"))
    assert table.loc[pd.Timestamp("2024-03-02"), "mnf_m3h"] == pytest.approx(2.0)
    assert table.loc[pd.Timestamp("2024-03-02"), "mnf_time"] == pd.Timestamp("2024-03-01 23:00")


def test_favad_correction_by_hand():
    # two nights at the same 10 m3/h, AZNP 50 m then 25 m
    q = pd.concat([one_day([10] * 8), one_day([10] * 8).set_axis(np.arange(DAY, 2 * DAY, QUARTER))])
    p = pd.Series(np.where(q.index < DAY, 50.0, 25.0), index=q.index)
    table = minimum_night_flow(q, aznp_m=p, reference_pressure_m=50.0, n1=1.0)
    assert table["aznp_m"].tolist() == [50.0, 25.0]
    # N1 = 1: at half the pressure the leak is half, so at 50 m it would be twice as large
    assert table["mnf_ref_m3h"].tolist() == pytest.approx([10.0, 20.0])
    # pressure halves, leak halves
    halved = minimum_night_flow(q, aznp_m=p, reference_pressure_m=25.0, n1=1.0)
    assert halved.loc[0, "mnf_ref_m3h"] == pytest.approx(5.0)
    # N1 = 0.5 and 2 m3/h of legitimate night use, which pressure does not change
    table = minimum_night_flow(q, aznp_m=p, reference_pressure_m=50.0, n1=0.5, night_use_m3h=2.0)
    assert table.loc[1, "mnf_ref_m3h"] == pytest.approx(2 + 8 * math.sqrt(2))
    # the default reference is the median AZNP of the nights
    default = minimum_night_flow(q, aznp_m=p, n1=1.0)
    assert default.attrs["reference_pressure_m"] == 37.5
    assert default["mnf_ref_m3h"].tolist() == pytest.approx([7.5, 15.0])


def test_night_and_window_mistakes_are_input_errors():
    q = one_day([5] * 8)
    with pytest.raises(InputError, match="not a clock time"):
        minimum_night_flow(q, night=("2am", "04:00"))
    with pytest.raises(InputError, match="longer than the night"):
        minimum_night_flow(q, window="3h")
    with pytest.raises(InputError, match="is empty"):
        minimum_night_flow(q, night=("02:00", "02:00"))


# --------------------------------------------------------------------------- MNF trend


def test_mnf_alarms_by_hand():
    table = pd.DataFrame({"mnf_m3h": [10.0, 10.5, 10.2, 13.0, 10.1, 12.0]}).rename_axis("night")
    alarms = mnf_alarms(table, baseline_nights=3)
    # night 3: 13.0 - min(10.0, 10.5, 10.2) = 3.0 > 1.6; night 4: below; night 5: 12.0 - 10.1 = 1.9 > 1.6
    assert alarms["night"].tolist() == [3, 5]
    assert alarms["baseline_m3h"].tolist() == pytest.approx([10.0, 10.1])
    assert alarms["excess_m3h"].tolist() == pytest.approx([3.0, 1.9])
    # 20 % of the baseline (2.02 m3/h on night 5) is now the larger threshold
    assert mnf_alarms(table, baseline_nights=3, threshold_fraction=0.2)["night"].tolist() == [3]
    # the median baseline
    median = mnf_alarms(table, baseline_nights=3, baseline="median")
    assert median["baseline_m3h"].tolist()[0] == pytest.approx(10.2)
    # a night with fewer than half the baseline nights before it is not judged
    assert mnf_alarms(table.iloc[[0, 3]], baseline_nights=3).empty


def test_mnf_alarm_on_the_first_leak_night_and_not_before():
    leak_from = 11 * DAY + 12 * 3600  # midday of day 11: day 12 is the first night with the leak
    q = diurnal(21, seed=3, leak_m3h=3.0, leak_from_s=leak_from)
    table = minimum_night_flow(q)
    assert len(table) == 21
    alarms = mnf_alarms(table)
    assert alarms["night"].min() == 12
    assert alarms["excess_m3h"].iloc[0] == pytest.approx(3.0, abs=0.5)
    # a lasting leak alarms until the baseline takes it in (7 nights)
    assert alarms["night"].tolist() == list(range(12, 19))
    assert mnf_alarms(minimum_night_flow(diurnal(21, seed=3))).empty


# --------------------------------------------------------------------------- CUSUM


def test_cusum_by_hand():
    # mu 0, sigma 1, delta 1 (k = 0.5), h 2 (threshold 2):
    # C1 = max(0, 0 + 0 - 0.5) = 0; C2 = 0 + 1 - 0.5 = 0.5; C3 = 0.5 + 3 - 0.5 = 3.0 > 2: alarm, restart
    # C4 = 0 + 2 - 0.5 = 1.5; C5 = 1.5 + 4 - 0.5 = 5.0: alarm; C6 = max(0, -1 - 0.5) = 0; C7 = 4.5: alarm
    x = pd.Series([0.0, 1, 3, 2, 4, -1, 5])
    r = cusum(x, mu=0, sigma=1, delta=1, h=2)
    assert r.statistic["up"].tolist() == [0.0, 0.5, 3.0, 1.5, 5.0, 0.0, 4.5]
    assert r.alarm_times == [2, 4, 6]
    # each run's onset, and its shift k + C / N: the mean of x over the run
    assert r.alarms["onset"].tolist() == [1, 3, 6]
    assert r.alarms["shift"].tolist() == pytest.approx([2.0, 3.0, 5.0])
    assert (r.k, r.threshold) == (0.5, 2.0)
    # downward, on the mirrored series, is the same
    down = cusum(-x, mu=0, sigma=1, delta=1, h=2, direction="down")
    assert down.statistic["down"].tolist() == r.statistic["up"].tolist()
    assert down.alarms["shift"].tolist() == pytest.approx([-2.0, -3.0, -5.0])
    # both sides: C- = max(0, C- - x + mu - k): 0, 0, 0, 2.5 (alarm), 1.5
    both = cusum(pd.Series([0.0, 1, 3, -3, -2]), mu=0, sigma=1, h=2, direction="both")
    assert both.statistic["up"].tolist() == [0.0, 0.5, 3.0, 0.0, 0.0]
    assert both.statistic["down"].tolist() == [0.0, 0.0, 0.0, 2.5, 1.5]
    assert both.alarms[["time", "side"]].values.tolist() == [[2, "up"], [3, "down"]]
    assert both.alarms["shift"].tolist() == pytest.approx([2.0, -3.0])
    # a missing value leaves the statistic where it was
    gap = cusum(pd.Series([1.0, np.nan, 1.0]), mu=0, sigma=1, h=5)
    assert gap.statistic["up"].tolist()[::2] == [0.5, 1.0] and math.isnan(gap.statistic["up"][1])


def test_cusum_estimates_mu_and_sigma_robustly_from_the_baseline():
    x = pd.Series([1.0, 2, 3, 4, 100, 50, 60])
    r = cusum(x, baseline=5)  # median 3; MAD = median(2, 1, 0, 1, 97) = 1
    assert r.mu == 3.0 and r.sigma == pytest.approx(1.4826)
    assert cusum(x, baseline=slice(0, 4)).mu == 3.0  # labels 0..4
    with pytest.raises(InputError, match="sigma"):
        cusum(pd.Series([2.0] * 10), baseline=5)


def test_cusum_detects_a_two_sigma_step_within_a_few_samples():
    rng = np.random.default_rng(7)
    delays = []
    for _ in range(200):
        x = rng.normal(10.0, 2.0, 80)
        x[40:] += 4.0  # 2 sigma
        alarms = cusum(pd.Series(x), mu=10.0, sigma=2.0).alarms
        delays.append(int(alarms.loc[alarms["time"] >= 40, "time"].iloc[0]) - 40 + 1)
    # Montgomery's table 9.3: about 4 samples for a 2-sigma shift at h = 5, k = 0.5
    assert 2.5 < np.mean(delays) < 5.0
    assert max(delays) <= 12


def test_cusum_false_alarm_rate_on_a_stationary_series():
    rng = np.random.default_rng(11)
    x = pd.Series(rng.normal(10.0, 2.0, 100_000))
    up = cusum(x, baseline=5000)  # mu and sigma estimated from the first 5000 values
    assert up.mu == pytest.approx(10.0, abs=0.1) and up.sigma == pytest.approx(2.0, rel=0.05)
    # average run length between false alarms: about 930 one-sided, 465 both sides
    assert 600 < len(x) / len(up.alarms) < 1600
    both = cusum(x, mu=10.0, sigma=2.0, direction="both")
    assert 300 < len(x) / len(both.alarms) < 700
    # a larger decision interval (h = 12: a run length of about 10^6 by Siegmund's approximation):
    # no false alarm over 10,000 values
    assert cusum(x.iloc[:10_000], mu=10.0, sigma=2.0, h=12).alarms.empty


# --------------------------------------------------------------------------- both, per meter


def test_detect_alarms_on_the_leaky_meter_only():
    start = pd.Timestamp("2024-03-01")
    leaky = diurnal(28, seed=1, leak_m3h=3.0, leak_from_s=20 * DAY + 12 * 3600)
    quiet = diurnal(28, seed=2) * 0.5
    flows = pd.DataFrame({"dma1": leaky, "dma2": quiet})
    flows.index = start + pd.to_timedelta(flows.index, unit="s")
    result = detect(flows)
    assert set(result.alarms["meter"]) == {"dma1"}
    first = result.alarms.groupby("method")["night"].min()
    assert first["mnf"] == first["cusum"] == pd.Timestamp("2024-03-22")
    mnf = result.alarms[result.alarms["method"] == "mnf"].iloc[0]
    assert mnf["excess_m3h"] == pytest.approx(3.0, abs=0.5)
    assert mnf["value"] > mnf["threshold"]
    assert mnf["time"].strftime("%H") in ("02", "03")
    assert result.mnf.groupby("meter").size().to_dict() == {"dma1": 28, "dma2": 28}
    assert set(result.cusum) == {"dma1", "dma2"}
    data = result.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["alarms"][0]["night"] == "2024-03-22"


def test_detect_skips_dead_meters_and_says_why():
    flows = pd.DataFrame({"dead": 0.002, "live": diurnal(3, seed=0)})
    result = detect(flows)
    codes = {(f.code, f.elements) for f in result.findings}
    assert ("meter-skipped", ("dead",)) in codes
    assert ("too-few-nights", ("live",)) in codes  # 3 nights: no CUSUM baseline
    assert set(result.mnf["meter"]) == {"live"}


# --------------------------------------------------------------------------- reading flow files


def test_read_flows_converts_m3h_to_m3s_and_keeps_dates(tmp_path):
    path = write_csv(tmp_path / "f.csv", pd.DataFrame({"time": [0, 900, 1800], "a": [3.6, 7.2, 36.0]}))
    series = read_flows(path)
    assert series.flows["a"].tolist() == pytest.approx([0.001, 0.002, 0.01])
    assert series.flows.index.tolist() == [0, 900, 1800] and series.findings == []
    dated = read_flows(path, start="2024-03-01T00:00")
    assert dated.flows.index[1] == pd.Timestamp("2024-03-01 00:15")
    (tmp_path / "d.csv").write_text("time,a\n2024-03-01 00:00,1\n2024-03-01T00:15:00,2\n")
    assert isinstance(read_flows(tmp_path / "d.csv").flows.index, pd.DatetimeIndex)
    assert read_flows(path, unit="l/s").flows["a"].iloc[0] == pytest.approx(0.0036)
    with pytest.raises(InputError, match="dates already"):
        read_flows(tmp_path / "d.csv", start="2024-03-01")


def test_missing_time_column_names_the_columns_and_the_fix(tmp_path):
    (tmp_path / "f.csv").write_text("t,inlet\n0,5\n")
    with pytest.raises(InputError) as err:
        read_flows(tmp_path / "f.csv")
    message = str(err.value)
    assert str(tmp_path / "f.csv") in message and "no 'time' column" in message
    assert "t, inlet" in message and "fix: name the column of times 'time'" in message


def test_non_numeric_flow_names_line_and_column(tmp_path):
    (tmp_path / "f.csv").write_text("time,a,b\n0,1,2\n900,1,2\n1800,1,2.5.1\n2700,x,2\n")
    with pytest.raises(InputError) as err:
        read_flows(tmp_path / "f.csv")
    message = str(err.value)
    assert f"{tmp_path / 'f.csv'}, line 4, column 'b': '2.5.1' is not a flow" in message
    assert "1 more cells" in message and "fix: " in message
    (tmp_path / "t.csv").write_text("time,a\n0,1\n900,1\nsoon,1\n")
    with pytest.raises(InputError, match=r"line 4, column 'time': 'soon'"):
        read_flows(tmp_path / "t.csv")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_flows(tmp_path / "e.csv")
    with pytest.raises(InputError, match="no such file"):
        read_flows(tmp_path / "none.csv")


def test_gaps_disorder_repeats_negative_and_dead_meters_are_findings(tmp_path):
    t = list(range(0, 2 * DAY, QUARTER))
    frame = pd.DataFrame({"time": t, "a": 5.0, "b": np.linspace(1, 9, len(t))})
    frame.loc[3, "b"] = -1.0
    frame = frame.drop(index=range(20, 40))  # a 5-hour gap
    frame = pd.concat([frame.iloc[:10], frame.iloc[[12, 11, 10]], frame.iloc[13:], frame.iloc[[50]]])
    frame.loc[frame.index[5], "b"] = np.nan
    series = read_flows(write_csv(tmp_path / "f.csv", frame))
    found = {f.code: f for f in series.findings}
    assert set(found) == {"gap", "unsorted-times", "duplicate-times", "negative-flow", "missing-values",
                          "meter-constant"}
    assert "1 gap in the record" in found["gap"].message and "5.25 h" in found["gap"].message
    assert found["negative-flow"].elements == ("b",) and "line 5" in found["negative-flow"].message
    assert found["meter-constant"].elements == ("a",) and "5 m3/h" in found["meter-constant"].message
    assert found["missing-values"].message.startswith("b: 1 reading missing (first at line 7)")
    flows = series.flows
    assert flows.index.is_monotonic_increasing and flows.index.is_unique
    assert len(flows) == len(t) - 20


def test_a_stuck_meter_is_a_finding(tmp_path):
    t = np.arange(0, 3 * DAY, 3600)
    b = np.where(t < DAY, 4.0, 4.0 + np.arange(len(t)) % 3)
    series = read_flows(write_csv(tmp_path / "f.csv", pd.DataFrame({"time": t, "b": b})))
    assert [f.code for f in series.findings] == ["meter-stuck"]
    assert "reads 4 m3/h without change from 0 s (day 0, 00:00)" in series.findings[0].message


# --------------------------------------------------------------------------- command line


@pytest.fixture
def run():
    @click.group()
    def leaks() -> None:
        """Only the command under test."""

    leaks.add_command(detect_command)
    runner = CliRunner()

    def _run(*args: str):
        return runner.invoke(leaks, list(args))

    return _run


def test_command_reports_alarms_as_a_table_and_json(tmp_path, run):
    q = diurnal(21, seed=3, leak_m3h=3.0, leak_from_s=11 * DAY + 12 * 3600)
    path = write_csv(tmp_path / "flows.csv", pd.DataFrame({"time": q.index, "dma1": (q * 3600).round(4)}))
    result = run("detect", path, "--cusum-baseline", "7")
    assert result.exit_code == 1, result.output
    assert "minimum night flow (m3/h):" in result.output and "alarms:" in result.output
    assert "first night 12" in result.output
    line = next(s for s in result.output.splitlines() if s.startswith("12 ") and " mnf " in s)
    assert line.split()[1:5] == [str(12 * DAY + int(line.split()[1]) % DAY), "s", "dma1", "mnf"]
    result = run("detect", path, "--start", "2024-03-01", "--json", "--threshold", "2")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert set(data) == {"alarms", "mnf", "findings"}
    first = next(a for a in data["alarms"] if a["method"] == "mnf")
    assert first["night"] == "2024-03-13" and first["excess_m3h"] == pytest.approx(3, abs=0.5)
    assert len(data["mnf"]) == 21 and data["mnf"][0]["night"] == "2024-03-01"
    # no leak, no alarm
    q = diurnal(21, seed=3)
    path = write_csv(tmp_path / "quiet.csv", pd.DataFrame({"time": q.index, "dma1": q * 3600}))
    result = run("detect", path)
    assert result.exit_code == 0, result.output
    assert "no alarms on 1 meter of quiet.csv" in result.output


def test_command_bad_input_exits_2_with_the_message(tmp_path, run):
    (tmp_path / "f.csv").write_text("time,a\n0,1\n900,oops\n")
    result = run("detect", str(tmp_path / "f.csv"))
    assert result.exit_code == 2
    assert result.output.startswith(f"nrwkit: error: {tmp_path / 'f.csv'}, line 3, column 'a'")
    assert "Traceback" not in result.output
    result = run("detect", str(tmp_path / "f.csv"), "--night", "02:00")
    assert result.exit_code == 2 and "is not a period like 02:00-04:00" in result.output
    (tmp_path / "g.csv").write_text("time,a\n0,1\n900,2\n")
    result = run("detect", str(tmp_path / "g.csv"), "--night", "25:00-04:00")
    assert result.exit_code == 2 and "not a clock time" in result.output
