"""The metering report from the example data: written, self-contained, complete, the same bytes."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

from nrwkit.metering import assess, read_curves, read_meters, read_profiles
from nrwkit.report import metering_report

matplotlib.use("Agg")

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples" / "metering"
EPOCH = "1767225600"  # 2026-01-01T00:00:00 UTC
YEAR = 2025


@pytest.fixture(scope="module")
def example():
    """The example meters assessed for 2025 with 50 Monte Carlo draws (once)."""
    curves = read_curves(EXAMPLES / "curves.csv")
    profiles = read_profiles(EXAMPLES / "profiles.csv")
    meters = read_meters(EXAMPLES / "meters.csv", curves, profiles)
    return assess(meters, curves, profiles, year=YEAR, samples=50), curves, profiles


def _page(example) -> str:
    result, curves, profiles = example
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        return metering_report(result, curves, profiles, year=YEAR).to_html()


@pytest.fixture(scope="module")
def page(example):
    return _page(example)


def test_example_data_is_a_utility_of_5000_meters(example):
    result, curves, profiles = example
    assert len(result.meters) == 5000
    assert curves.types == ["DN15 single-jet B", "DN15 volumetric C", "DN20 multi-jet B"]
    assert profiles.names == ["commercial", "household"]
    assert result.meters["install_year"].between(1995, 2024).all()
    # under-registration of a few per cent, worse with age
    assert 0.01 < result.under_registration < 0.15
    by_age = result.meters.groupby("age_years")["weighted_error_percent"].mean()
    assert by_age.iloc[-1] < by_age.iloc[0] <= 0


def test_report_writes(example, tmp_path):
    result, curves, profiles = example
    out = metering_report(result, curves, profiles, year=YEAR).write(tmp_path / "metering.html")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "How this was computed" in text and "Customer metering" in text


def test_report_is_self_contained(page):
    # as tests/test_report.py: nothing fetched, no script at all (figures are inline SVG)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page
    assert "@import" not in page and "url(http" not in page


def test_report_shows_types_profiles_figures_and_sources(example, page):
    result, curves, profiles = example
    for name in [*curves.types, *profiles.names]:
        assert name in page
    # the four figures: curves, profiles, weighted error by group, apparent losses by age
    assert page.count("<svg") == 4
    for title in (
        "Error curves",
        "Consumption profiles",
        "Weighted error by group",
        "Apparent losses by age",
        "Warnings",
        "How this was computed",
    ):
        assert f"<h2>{title}</h2>" in page
    assert f"{result.apparent_losses_m3_per_year:,.0f}" in page
    assert f"{result.weighted_error_percent:.2f} %" in page
    assert "metering-age-beyond-curves" in page  # meters older than 15 years
    assert "Integrated Water Meter Management" in page and "AWWA Manual M6" in page
    assert "not billed" in page  # the example gives a tariff


def test_report_is_the_same_bytes_twice(example, page):
    assert _page(example) == page
