"""Meter replacement economics, sizing and sampling against oracles written here.

- the optimal replacement age by brute force over T (the EAC summed term by term in a loop);
- the ISO 4064-1:2014 / OIML R49 envelope by hand (Q3 = 2.5 m3/h, R = 100);
- the sample size by the textbook formula n = (z s / e)^2 with the finite population
  correction, worked by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nrwkit.errors import InputError
from nrwkit.metering import read_curves, read_profiles
from nrwkit.metering.replacement import (
    equivalent_annual_cost,
    optimal_replacement_age,
    payback_years,
    replacement_plan,
    revenue_loss_by_age,
)
from nrwkit.metering.sampling import sample_size
from nrwkit.metering.sizing import iso4064_flows, mpe_percent, oversized

# type A ages linearly: error 0 % new, -30 % at 30 years at every flow, so E(t) = -t / 100
# type B is flat at -12 % at every flow and age
CURVES = """meter_type,age_years,flow_l_per_h,error_percent
A,0,10,0
A,0,1000,0
A,30,10,-30
A,30,1000,-30
B,0,10,-12
B,0,1000,-12
B,10,10,-12
B,10,1000,-12
"""
# "one": all volume in one band (10 l/h); "low": bands at 10, sqrt(20 x 45) = 30 and
# sqrt(45 x 2000) = 300 l/h
PROFILES = """profile,flow_low_l_per_h,flow_high_l_per_h,volume_share
one,0,20,1.0
low,0,20,0.2
low,20,45,0.3
low,45,2000,0.5
"""


@pytest.fixture
def data(tmp_path):
    (tmp_path / "curves.csv").write_text(CURVES)
    (tmp_path / "profiles.csv").write_text(PROFILES)
    return read_curves(tmp_path / "curves.csv"), read_profiles(tmp_path / "profiles.csv")


def meters_frame(rows):
    columns = ["meter_id", "meter_type", "profile", "install_year", "annual_registered_m3"]
    extra = [c for c in ("size_mm", "tariff_per_m3") if any(c in r for r in rows)]
    return pd.DataFrame([{c: r.get(c, np.nan) for c in columns + extra} for r in rows])


def brute_force_eac(cost, losses, rate):
    eac = []
    for horizon in range(1, len(losses) + 1):
        present = cost
        for t in range(1, horizon + 1):
            present += losses[t - 1] / (1 + rate) ** t
        eac.append(present * rate / (1 - (1 + rate) ** (-horizon)))
    return eac


def test_revenue_loss_is_the_apparent_loss_at_each_age_times_the_tariff(data):
    curves, profiles = data
    losses = revenue_loss_by_age(curves, profiles, "A", "one", 100.0, 2.0)
    # true use 100 m3/year, E(t) = -t/100: apparent loss t m3, at 2 per m3: L(t) = 2t; beyond 30 years flat
    assert list(losses) == pytest.approx([2.0 * t for t in range(1, 31)])
    assert revenue_loss_by_age(curves, profiles, "A", "one", 100.0, 2.0, ages_years=[40])[0] == pytest.approx(
        60
    )


def test_optimal_replacement_age_by_brute_force_over_t():
    losses = [2.0 * t for t in range(1, 31)]
    expected = brute_force_eac(50.0, losses, 0.05)
    assert list(equivalent_annual_cost(50.0, losses, 0.05)) == pytest.approx(expected)
    best = min(range(30), key=lambda i: expected[i]) + 1
    assert best == 8  # worked out once by the loop above; interior, not at a bound
    assert optimal_replacement_age(50.0, losses, 0.05) == best
    # a constant loss never rewards replacement before the cap; a rising one sooner with a cheaper meter
    assert optimal_replacement_age(50.0, [5.0] * 30, 0.05) == 30
    assert optimal_replacement_age(10.0, losses, 0.05) < best
    # a one-year horizon: EAC(1) = (C + L1 / (1 + r)) x (1 + r) = C (1 + r) + L1
    assert equivalent_annual_cost(50.0, [2.0], 0.05)[0] == pytest.approx(50 * 1.05 + 2)


def test_payback_by_hand():
    assert payback_years(50.0, [40.0] * 5) == pytest.approx(1.25)
    assert payback_years(50.0, [20.0, 20.0, 20.0]) == pytest.approx(2.5)
    assert payback_years(50.0, [10.0, 10.0]) is None
    assert payback_years(50.0, [-5.0] * 30) is None


def test_replacement_plan_groups_programme_and_budget(data):
    curves, profiles = data
    # true use 100 m3/year for each; registered = 100 x (1 - age/100); ages 20, 10 and 3 in 2025
    meters = meters_frame(
        [
            {
                "meter_id": "old",
                "meter_type": "A",
                "profile": "one",
                "install_year": 2005,
                "annual_registered_m3": 80.0,
            },
            {
                "meter_id": "mid",
                "meter_type": "A",
                "profile": "one",
                "install_year": 2015,
                "annual_registered_m3": 90.0,
            },
            {
                "meter_id": "young",
                "meter_type": "A",
                "profile": "one",
                "install_year": 2022,
                "annual_registered_m3": 97.0,
            },
        ]
    )
    plan = replacement_plan(
        meters,
        curves,
        profiles,
        year=2025,
        meter_cost=50.0,
        discount_rate=0.05,
        tariff_per_m3=2.0,
        budget=60.0,
    )
    data_ = plan.to_dict()
    (group,) = data_["groups"]
    assert group["optimal_replacement_age_years"] == 8
    assert group["meters"] == 3
    assert group["mean_true_m3_per_year"] == pytest.approx(100.0)
    expected = brute_force_eac(50.0, [2.0 * t for t in range(1, 31)], 0.05)
    assert [p["T"] for p in group["cost_curve"]] == list(range(1, 31))
    assert [p["eac"] for p in group["cost_curve"]] == pytest.approx(expected, abs=0.01)
    # candidates: ages 20 and 10 (>= 8); replacing the 20-year meter saves L(20+k) - L(k) = 40 a year
    # for 10 years, so it pays back in 50 / 40 = 1.25 years; the 10-year one saves 20: 2.5 years
    candidates = plan.candidates.set_index("meter_id")
    assert list(plan.candidates["meter_id"]) == ["old", "mid"]
    assert candidates.loc["old", "avoided_revenue_per_year"] == pytest.approx(40.0)
    assert candidates.loc["old", "payback_years"] == pytest.approx(1.25)
    assert candidates.loc["mid", "payback_years"] == pytest.approx(2.5)
    # a budget of 60 pays for one meter of 50
    programme = data_["programme"]
    assert [m["meter_id"] for m in programme["meters"]] == ["old"]
    assert programme["candidates"] == 2 and programme["deferred"] == 1
    assert programme["cost"] == 50.0
    assert programme["avoided_revenue_per_year"] == pytest.approx(40.0)
    # group mean age 11: replacing it saves 22 a year -> 50 / 22 years
    assert group["payback_years"] == pytest.approx(50 / 22, abs=0.01)
    # no budget: everyone due
    unlimited = replacement_plan(
        meters, curves, profiles, year=2025, meter_cost=50.0, discount_rate=0.05, tariff_per_m3=2.0
    )
    assert len(unlimited.programme) == 2


def test_meter_tariffs_override_the_default_and_a_missing_one_is_refused(data):
    curves, profiles = data
    rows = [
        {
            "meter_id": "a",
            "meter_type": "A",
            "profile": "one",
            "install_year": 2005,
            "annual_registered_m3": 80.0,
            "tariff_per_m3": 4.0,
        },
        {
            "meter_id": "b",
            "meter_type": "A",
            "profile": "one",
            "install_year": 2005,
            "annual_registered_m3": 80.0,
            "tariff_per_m3": np.nan,
        },
    ]
    plan = replacement_plan(
        meters_frame(rows),
        curves,
        profiles,
        year=2025,
        meter_cost=50.0,
        discount_rate=0.05,
        tariff_per_m3=2.0,
    )
    candidates = plan.candidates.set_index("meter_id")
    assert candidates.loc["a", "avoided_revenue_per_year"] == pytest.approx(80.0)
    assert candidates.loc["b", "avoided_revenue_per_year"] == pytest.approx(40.0)
    assert plan.to_dict()["groups"][0]["tariff_per_m3"] == pytest.approx(3.0)
    with pytest.raises(InputError, match="meter b has no tariff"):
        replacement_plan(meters_frame(rows), curves, profiles, year=2025, meter_cost=50.0, discount_rate=0.05)


@pytest.mark.parametrize(
    ("cost", "rate", "match"),
    [
        (0.0, 0.05, "meter_cost"),
        (-1.0, 0.05, "meter_cost"),
        (50.0, 0.0, "discount_rate"),
        (50.0, 1.0, "discount_rate"),
        (50.0, math.nan, "discount_rate"),
    ],
)
def test_economics_refused(cost, rate, match):
    with pytest.raises(InputError, match=match):
        equivalent_annual_cost(cost, [1.0, 2.0], rate)


def test_the_iso_4064_envelope_by_hand():
    flows = iso4064_flows(2.5, 100)
    # Q1 = 2500 / 100 = 25 l/h, Q2 = 1.6 x 25 = 40 l/h, Q3 = 2500 l/h, Q4 = 1.25 x 2500 = 3125 l/h
    assert (flows.q1_l_per_h, flows.q2_l_per_h, flows.q3_l_per_h, flows.q4_l_per_h) == pytest.approx(
        (25.0, 40.0, 2500.0, 3125.0)
    )
    q = np.array([24.9, 25.0, 39.9, 40.0, 2500.0, 3125.0, 3126.0])
    mpe = mpe_percent(q, 25.0, 40.0, 3125.0)
    assert np.isnan(mpe[0]) and np.isnan(mpe[-1])
    assert list(mpe[1:-1]) == [5.0, 5.0, 2.0, 2.0, 2.0]
    # DN20, Q3 = 4 m3/h, R = 160: Q1 = 25 l/h
    assert iso4064_flows(4.0, 160).q1_l_per_h == pytest.approx(25.0)
    with pytest.raises(InputError, match="ratio_r"):
        iso4064_flows(2.5, 1.0)
    with pytest.raises(InputError, match="q3_m3_per_h"):
        iso4064_flows(0.0, 100)


def test_an_oversized_meter_and_what_downsizing_recovers(data):
    curves, profiles = data
    meters = meters_frame(
        [
            {
                "meter_id": "big",
                "meter_type": "B",
                "profile": "low",
                "install_year": 2020,
                "annual_registered_m3": 88.0,
                "size_mm": 20,
            },
            {
                "meter_id": "small",
                "meter_type": "B",
                "profile": "low",
                "install_year": 2020,
                "annual_registered_m3": 88.0,
                "size_mm": 15,
            },
            {
                "meter_id": "odd",
                "meter_type": "B",
                "profile": "low",
                "install_year": 2020,
                "annual_registered_m3": 88.0,
                "size_mm": 100,
            },
        ]
    )
    result = oversized(meters, curves, profiles, year=2025, ratio_r=100)
    rows = result.meters.set_index("meter_id")
    # DN20: Q3 = 4 m3/h, Q1 = 40 l/h; bands at 10 and 30 l/h are below it: share 0.5 > 0.3
    assert rows.loc["big", "q1_l_per_h"] == pytest.approx(40.0)
    assert rows.loc["big", "share_below_q1"] == pytest.approx(0.5)
    assert bool(rows.loc["big", "oversized"])
    # DN15: Q1 = 25 l/h; the 30 l/h band moves into its lower zone (MPE 5 %); the 10 l/h band stays out.
    # The meter errs -12 % there: 7 points beyond the envelope on 0.3 of a true 88 / 0.88 = 100 m3
    assert rows.loc["big", "smaller_size_mm"] == 15
    assert rows.loc["big", "recovered_m3_per_year"] == pytest.approx(0.3 * 0.07 * 100)
    # DN15 itself: only the 10 l/h band is below 25 l/h, 0.2 <= 0.3
    assert rows.loc["small", "share_below_q1"] == pytest.approx(0.2)
    assert not bool(rows.loc["small", "oversized"])
    assert "odd" not in rows.index and result.unchecked == 1
    assert result.warnings[0].code == "metering-size-unknown"
    data_ = result.to_dict()
    assert data_["oversized"] == 1
    assert data_["recoverable_m3_per_year"] == pytest.approx(2.1)
    # a lower threshold flags the DN15 too, but it has no smaller size: nothing recovered
    strict = oversized(meters, curves, profiles, year=2025, threshold_fraction=0.1).meters.set_index(
        "meter_id"
    )
    assert bool(strict.loc["small", "oversized"])
    assert math.isnan(strict.loc["small", "smaller_size_mm"])
    assert strict.loc["small", "recovered_m3_per_year"] == 0.0


def test_sample_size_by_the_textbook_formula():
    pilot = [-2.0, -4.0, -6.0, -8.0, -10.0]
    # mean -6; squared deviations 16 + 4 + 0 + 4 + 16 = 40; s^2 = 40 / 4 = 10
    # z = 1.959964, z^2 = 3.841459; e = 1: n0 = 3.841459 x 10 = 38.41 -> 39
    result = sample_size(pilot, 1.0)
    assert result.sd_percent == pytest.approx(math.sqrt(10))
    assert result.meters == 39 and result.infinite_population_meters == 39
    assert result.additional_meters == 34
    # N = 100: 38.41459 / (1 + 37.41459 / 100) = 27.955 -> 28
    assert sample_size(pilot, 1.0, population=100).meters == 28
    # e = 2: n0 = 9.6036 -> 10; N = 20: 9.6036 / (1 + 8.6036 / 20) = 6.715 -> 7
    assert sample_size(pilot, 2.0).meters == 10
    assert sample_size(pilot, 2.0, population=20).meters == 7
    # 90 %: z = 1.644854, n0 = 2.705543 x 10 = 27.06 -> 28
    assert sample_size(pilot, 1.0, confidence=0.90).meters == 28
    assert sample_size(pilot, 1.0, population=100).to_dict()["population"] == 100


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pilot_errors_percent": [1.0]}, "pilot_errors_percent"),
        ({"pilot_errors_percent": [1.0, math.nan]}, "pilot_errors_percent"),
        ({"margin_percent": 0.0}, "margin_percent"),
        ({"confidence": 1.0}, "confidence"),
        ({"population": 0}, "population"),
    ],
)
def test_sample_size_refused(kwargs, match):
    args = {"pilot_errors_percent": [1.0, 2.0, 3.0], "margin_percent": 1.0, **kwargs}
    with pytest.raises(InputError, match=match):
        sample_size(**args)
