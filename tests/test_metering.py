"""Metering accuracy against hand calculations written here (AWWA M6/M36; Arregui et al. 2006)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from nrwkit.errors import InputError
from nrwkit.metering import assess, curve_error_percent, read_curves, read_meters, read_profiles

CURVES = """meter_type,age_years,flow_l_per_h,error_percent
A,0,10,-10
A,0,100,-2
A,0,1000,0
A,10,10,-30
A,10,100,-6
A,10,1000,-2
"""
PROFILES = """profile,flow_low_l_per_h,flow_high_l_per_h,volume_share
home,0,20,0.3
home,20,500,0.7
"""
METERS = """meter_id,meter_type,profile,install_year,annual_registered_m3
m1,A,home,2020,100
m2,A,home,2015,200
"""


@pytest.fixture
def inputs(tmp_path):
    paths = {}
    for name, text in (("curves", CURVES), ("profiles", PROFILES), ("meters", METERS)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    curves, profiles = read_curves(paths["curves"]), read_profiles(paths["profiles"])
    return curves, profiles, read_meters(paths["meters"], curves, profiles), paths


def test_interpolation_in_log_flow_and_in_age(inputs):
    curves, *_ = inputs
    # along the new curve: halfway in log10 between 10 and 100 l/h (31.6 l/h): (-10 + -2) / 2
    assert curve_error_percent(curves, "A", 0, np.array([10**1.5]))[0] == pytest.approx(-6.0)
    # beyond the end points the error stays at the end values
    assert list(curve_error_percent(curves, "A", 0, np.array([1.0, 1e5]))) == pytest.approx([-10.0, 0.0])
    # at 5 years, halfway between the 0- and 10-year curves: at 10 l/h (-10 + -30) / 2
    assert curve_error_percent(curves, "A", 5, np.array([10.0]))[0] == pytest.approx(-20.0)
    # older than the oldest curve: that curve
    assert curve_error_percent(curves, "A", 25, np.array([100.0]))[0] == pytest.approx(-6.0)


def test_a_two_band_profile_on_a_three_point_curve_by_hand(inputs):
    curves, profiles, meters, _ = inputs
    # bands: 0-20 l/h -> half the upper limit, 10 l/h; 20-500 l/h -> sqrt(20 x 500) = 100 l/h
    assert list(profiles.table["flow_l_per_h"]) == pytest.approx([10.0, 100.0])
    result = assess(meters, curves, profiles, year=2025, samples=0)
    rows = result.meters.set_index("meter_id")
    # m1, 5 years: errors -20 % at 10 l/h and -4 % at 100 l/h; E = 0.3 x -20 + 0.7 x -4 = -8.8 %
    # m2, 10 years: E = 0.3 x -30 + 0.7 x -6 = -13.2 %
    assert rows.loc["m1", "weighted_error_percent"] == pytest.approx(-8.8)
    assert rows.loc["m2", "weighted_error_percent"] == pytest.approx(-13.2)
    true = {"m1": 100 / (1 - 0.088), "m2": 200 / (1 - 0.132)}
    for meter, volume in true.items():
        assert rows.loc[meter, "true_m3_per_year"] == pytest.approx(volume)
    total_true = sum(true.values())
    assert result.true_m3_per_year == pytest.approx(total_true)
    assert result.apparent_losses_m3_per_year == pytest.approx(total_true - 300)
    assert result.weighted_error_percent == pytest.approx((300 - total_true) / total_true * 100)
    assert result.under_registration == pytest.approx((total_true - 300) / total_true)
    data = result.to_dict()
    assert [g["age_band"] for g in data["groups"]] == ["5-9", "10-14"]  # by age, not as text
    assert data["under_registration"]["ci95"] == 0.0


def test_monte_carlo_limits_are_seeded_and_shrink_with_more_tests(inputs, tmp_path):
    curves, profiles, meters, _ = inputs
    a = assess(meters, curves, profiles, year=2025, samples=300, seed=4)
    b = assess(meters, curves, profiles, year=2025, samples=300, seed=4)
    assert a.under_registration_ci95 == b.under_registration_ci95 > 0
    precise = tmp_path / "precise.csv"
    table = pd.read_csv(io.StringIO(CURVES)).assign(sd_percent=1.0, meters_tested=400)
    precise.write_text(table.to_csv(index=False))  # 400 meters tested per curve instead of 10
    tight = assess(meters, read_curves(precise), profiles, year=2025, samples=300, seed=4)
    assert tight.under_registration_ci95 < a.under_registration_ci95


def test_many_meters_are_vectorised(inputs):
    curves, profiles, _, _ = inputs
    rng = np.random.default_rng(0)
    many = pd.DataFrame({"meter_id": np.arange(200_000).astype(str), "meter_type": "A", "profile": "home",
                         "install_year": rng.integers(1995, 2025, 200_000),
                         "annual_registered_m3": rng.uniform(50, 300, 200_000)})
    result = assess(many, curves, profiles, year=2025, samples=0)
    assert result.meters["true_m3_per_year"].notna().all() and result.under_registration > 0


@pytest.mark.parametrize(("name", "text", "match"), [
    ("curves", CURVES.replace("-10\n", "abc\n", 1), r"curves.csv, row 1: error_percent"),
    ("curves", "meter_type,age_years,flow_l_per_h\nA,0,10\n", "no column error_percent"),
    ("curves", CURVES + "B,0,10,-5\n", "one point"),
    ("profiles", PROFILES.replace("0.7", "0.6"), "sum to 0.9"),
    ("profiles", PROFILES.replace("20,500", "500,20"), r"row 2: the band's upper flow"),
    ("meters", METERS + "m1,A,home,2010,5\n", "listed twice"),
    ("meters", METERS + "m3,Z,home,2010,5\n", r"row 3: meter_type 'Z' has no error curves"),
])
def test_bad_inputs_name_the_file_row_and_fix(inputs, tmp_path, name, text, match):
    curves, profiles, _, _ = inputs
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    reader = {"curves": read_curves, "profiles": read_profiles,
              "meters": lambda p: read_meters(p, curves, profiles)}[name]
    with pytest.raises(InputError, match=match) as info:
        reader(path)
    assert "fix:" in str(info.value)


def test_monte_carlo_matches_the_analytic_interval_on_a_linear_case(tmp_path):
    """A flat curve (-5 % at every flow): only the curve's shift moves E, so the shares do not matter.

    E = -0.05 + d with d ~ N(0, s), s = sd / sqrt(n) = 2 / sqrt(4) = 1 point = 0.01. The fraction
    is apparent / true = (registered / (1 + E) - registered) / (registered / (1 + E)) = -E, so it
    is normal too: 95 % half-width 1.96 x 0.01, relative to f = 0.05.
    """
    curves = tmp_path / "flat.csv"
    curves.write_text("meter_type,age_years,flow_l_per_h,error_percent,sd_percent,meters_tested\n"
                      "A,0,10,-5,2,4\nA,0,1000,-5,2,4\n")
    profiles, meters = tmp_path / "profiles.csv", tmp_path / "meters.csv"
    profiles.write_text(PROFILES)
    meters.write_text(METERS)
    c, p = read_curves(curves), read_profiles(profiles)
    result = assess(read_meters(meters, c, p), c, p, year=2025, samples=4000, seed=7)
    fraction = 0.05
    assert result.under_registration == pytest.approx(fraction)
    analytic = 1.959963984540054 * 0.01 / fraction
    assert result.under_registration_ci95 == pytest.approx(analytic, rel=0.06)
