"""A consumption profile from a logged flow series, against band volumes computed by hand here."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nrwkit.errors import InputError
from nrwkit.metering.inputs import read_profiles
from nrwkit.metering.profile import DEFAULT_BANDS, FlowLog, profile_from_log, read_flow_log

# flow held from each row's time to the next; 15-minute rows, two irregular, one 2-hour gap
FLOW_LOG = """time,flow_l_per_h,note
2024-03-01T00:00:00,0,night
2024-03-01T00:15:00,6,
2024-03-01T00:30:00,40,
2024-03-01T00:40:00,300,
2024-03-01T01:00:00,30,logger stopped
2024-03-01T03:00:00,2500,
2024-03-01T03:15:00,12,
2024-03-01T03:30:00,,end
"""

# litres in the minute ending at each row's time; a blank minute and a 23-minute gap
VOLUME_LOG = """time,volume_l
2024-03-01T00:00:00,
2024-03-01T00:01:00,0.3
2024-03-01T00:02:00,0
2024-03-01T00:03:00,5
2024-03-01T00:05:00,2
2024-03-01T00:06:00,
2024-03-01T00:07:00,0.1
2024-03-01T00:30:00,3
2024-03-01T00:31:00,1
"""


def _write(tmp_path, text, name="log.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _shares(profile):
    bands = zip(profile["flow_low_l_per_h"], profile["flow_high_l_per_h"], strict=True)
    return dict(zip(bands, profile["volume_share"], strict=True))


def test_a_flow_log_by_hand(tmp_path):
    path = _write(tmp_path, FLOW_LOG)
    log = read_flow_log(path)
    # intervals 900, 900, 600, 1200, 7200, 900, 900 s: median 900 s, gaps above 2700 s
    assert log.median_interval_s == 900.0
    assert list(log.intervals["duration_s"]) == [900.0, 900.0, 600.0, 1200.0, 7200.0, 900.0, 900.0]
    # counted volumes: 0 x 0.25 h, 6 x 0.25 = 1.5, 40 x 1/6 = 6.667, 300 x 1/3 = 100,
    # (30 x 2 h over the gap: not counted), 2500 x 0.25 = 625, 12 x 0.25 = 3
    total = 1.5 + 40 / 6 + 100 + 625 + 3
    assert log.counted_volume_l == pytest.approx(total)
    assert log.counted_s == pytest.approx(900 * 4 + 600 + 1200)
    assert log.gap_s == 7200.0
    assert len(log.gaps) == 1
    gap = log.gaps.iloc[0]
    assert gap["row"] == 5 and gap["reason"].startswith("longer than 3")
    assert gap["start"] == pd.Timestamp("2024-03-01T01:00") and gap["end"] == pd.Timestamp("2024-03-01T03:00")

    profile = profile_from_log(path, name="home")
    assert list(profile.columns) == [
        "profile",
        "flow_low_l_per_h",
        "flow_high_l_per_h",
        "volume_share",
        "customers_logged",
    ]
    assert set(profile["profile"]) == {"home"} and set(profile["customers_logged"]) == {1}
    # 0 l/h carries no volume; 12 l/h is in 12-24 (low <= flow < high); the open last band ends at
    # 2500 l/h rounded up on two significant figures: 2600 l/h
    expected = {
        (0.0, 12.0): 1.5 / total,
        (12.0, 24.0): 3 / total,
        (24.0, 50.0): (40 / 6) / total,
        (50.0, 100.0): 0.0,
        (100.0, 200.0): 0.0,
        (200.0, 500.0): 100 / total,
        (500.0, 1000.0): 0.0,
        (1000.0, 2000.0): 0.0,
        (2000.0, 2600.0): 625 / total,
    }
    assert list(_shares(profile)) == list(expected)
    assert list(_shares(profile).values()) == pytest.approx(list(expected.values()))
    assert profile["volume_share"].sum() == pytest.approx(1.0)


def test_a_volume_log_by_hand(tmp_path):
    path = _write(tmp_path, VOLUME_LOG)
    log = read_flow_log(path)
    assert log.source == "volume_l" and log.median_interval_s == 60.0
    # flows: 0.3 l / 1 min = 18 l/h; 0; 5 l / 1 min = 300 l/h; 2 l / 2 min = 60 l/h; blank (gap);
    # 0.1 l / 1 min = 6 l/h; 3 l over 23 min (gap); 1 l / 1 min = 60 l/h
    counted = log.intervals[log.intervals["counted"]]
    assert list(counted["flow_l_per_h"]) == pytest.approx([18.0, 0.0, 300.0, 60.0, 6.0, 60.0])
    assert list(log.gaps["row"]) == [6, 8]
    assert list(log.gaps["reason"]) == ["no value", "longer than 3 x the median interval"]
    assert log.gaps["volume_l"].iloc[1] == 3.0
    profile = profile_from_log(log)
    total = 0.3 + 5 + 2 + 0.1 + 1
    expected = {
        (0.0, 12.0): 0.1 / total,
        (12.0, 24.0): 0.3 / total,
        (24.0, 50.0): 0.0,
        (50.0, 100.0): 3 / total,
        (100.0, 200.0): 0.0,
        (200.0, 500.0): 5 / total,
        (500.0, 1000.0): 0.0,
        (1000.0, 2000.0): 0.0,
    }
    # no flow reached the open last band: it is left out
    assert list(_shares(profile)) == list(expected)
    assert list(_shares(profile).values()) == pytest.approx(list(expected.values()))
    assert profile["volume_share"].sum() == pytest.approx(1.0)
    assert set(profile["profile"]) == {"logged"}


def test_the_profile_is_read_back_as_profiles_csv(tmp_path):
    profile = profile_from_log(_write(tmp_path, FLOW_LOG), name="home")
    out = tmp_path / "profiles.csv"
    profile.to_csv(out, index=False)
    table = read_profiles(out).table
    assert table["volume_share"].sum() == pytest.approx(1.0)
    # representative flows: half the upper limit from 0, else the geometric mean
    assert table["flow_l_per_h"].iloc[0] == pytest.approx(6.0)
    assert table["flow_l_per_h"].iloc[-1] == pytest.approx(math.sqrt(2000 * 2600))


def test_own_bands_and_a_frame(tmp_path):
    frame = pd.DataFrame(
        {
            "Time": pd.to_datetime(["2024-03-01 00:00", "2024-03-01 01:00", "2024-03-01 02:00"]),
            "flow_l_per_h": [10.0, 100.0, None],
        }
    )
    profile = profile_from_log(frame, bands_l_per_h=[0, 50, 150])
    # 10 l over the first hour, 100 l over the second
    assert list(profile["volume_share"]) == pytest.approx([10 / 110, 100 / 110])
    assert list(profile["flow_high_l_per_h"]) == [50.0, 150.0]
    assert DEFAULT_BANDS[0] == 0.0 and math.isinf(DEFAULT_BANDS[-1])


def test_utc_offsets_across_a_clock_change(tmp_path):
    # clocks go back at 03:00 +02:00 = 02:00 +01:00: local 02:30 appears twice, the offsets tell them apart
    text = """time,flow_l_per_h
2024-10-27T02:00:00+02:00,100
2024-10-27T02:30:00+02:00,100
2024-10-27T02:00:00+01:00,100
2024-10-27T02:30:00+01:00,
"""
    log = read_flow_log(_write(tmp_path, text))
    assert list(log.intervals["duration_s"]) == [1800.0] * 3
    assert log.counted_volume_l == pytest.approx(150.0)
    assert isinstance(log, FlowLog) and log.gaps.empty


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("when,flow_l_per_h\n2024-03-01T00:00,1\n", r"no column time"),
        ("time,flow\n2024-03-01T00:00,1\n2024-03-01T00:15,1\n", r"no column volume_l or flow_l_per_h"),
        ("time,flow_l_per_h,volume_l\n2024-03-01T00:00,1,1\n2024-03-01T00:15,1,1\n", r"both volume_l and"),
        ("time,flow_l_per_h\n2024-03-01T00:00,1\n", r"one row makes no interval"),
        (
            "time,flow_l_per_h\n2024-03-01T00:00,1\n2024-03-01T00:30,1\n2024-03-01T00:15,1\n",
            r"log\.csv, row 3: time 2024-03-01 00:15:00 is not after the row before.*fix: sort the rows",
        ),
        (
            "time,flow_l_per_h\n2024-03-01T00:00,1\n2024-03-01T00:00,1\n",
            r"row 2: time .* is not after the row before",
        ),
        (
            "time,flow_l_per_h\n2024-03-01T00:00,1\n2024-03-01T00:15,-2\n2024-03-01T00:30,1\n",
            r"log\.csv, row 2: flow_l_per_h = -2; fix: give a flow in l/h of 0 or more",
        ),
        (
            "time,volume_l\n2024-03-01T00:00,\n2024-03-01T00:15,lots\n",
            r"row 2: volume_l = 'lots'; fix: give litres of 0 or more",
        ),
        ("time,flow_l_per_h\n2024-03-01T00:00,1\nyesterday,1\n", r"row 2: time 'yesterday' is not an ISO"),
        ("time,flow_l_per_h\n2024-03-01T00:00,1\n,1\n", r"row 2: no time"),
        (
            "time,flow_l_per_h\n2024-03-01T00:00+01:00,1\n2024-03-01T00:15,1\n",
            r"row 2: time '2024-03-01T00:15' has no UTC offset and row 1 has one",
        ),
        ("time,flow_l_per_h\n2024-03-01T00:00,0\n2024-03-01T00:15,0\n", r"no volume was counted"),
    ],
)
def test_bad_logs_are_refused_with_the_file_row_and_fix(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=match) as caught:
        profile_from_log(path)
    assert str(path) in str(caught.value) and "fix:" in str(caught.value)


def test_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such flow log file"):
        read_flow_log(tmp_path / "none.csv")


@pytest.mark.parametrize(
    ("bands", "match"),
    [
        ([0], "two or more limits"),
        ([5, 10, 100], "the first limit is 5"),
        ([0, 100, 50], "not increasing"),
        ([0, math.inf, 100], "not increasing"),
    ],
)
def test_bad_bands_are_refused(tmp_path, bands, match):
    with pytest.raises(InputError, match=match):
        profile_from_log(_write(tmp_path, FLOW_LOG), bands_l_per_h=bands)


def test_a_flow_above_the_last_finite_band_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"row 6: a flow of 2500 l/h, above the last band limit 2000"):
        profile_from_log(_write(tmp_path, FLOW_LOG), bands_l_per_h=DEFAULT_BANDS[:-1])
