"""The pressure-management report: self-contained, complete, and the same bytes each build."""

from __future__ import annotations

import re

import matplotlib
import pytest

from nrwkit.networks import load, path
from nrwkit.pressure import compare_modes, scenario, zone_from_inlets
from nrwkit.report import pressure_report
from nrwkit.report.pressure import MODE_NAMES, prv_in_words

matplotlib.use("Agg")

EPOCH = "1767225600"   # 2026-01-01T00:00:00 UTC


@pytest.fixture(scope="module")
def ltown():
    """L-Town's PRV-3 zone under critical-point control, and the four modes compared (once)."""
    wn = load("l-town")
    zone = zone_from_inlets(wn, ["PRV-3"])
    result = scenario(wn, zone, mode="critical", target_m=20.0)
    table = compare_modes(wn, zone, target_m=20.0)
    return wn, result, table


@pytest.fixture(scope="module")
def page(ltown):
    wn, result, table = ltown
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        return pressure_report(wn, result, comparison=table, network_path=path("l-town")).to_html()


def test_report_writes(ltown, tmp_path):
    wn, result, _ = ltown
    out = pressure_report(wn, result).write(tmp_path / "pressure.html")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "The four modes" not in text            # no comparison given: no modes' section
    assert "How this was computed" in text


def test_report_is_self_contained(page):
    # as tests/test_report.py: nothing fetched by the page's markup (BokehJS's own code names a
    # MathJax CDN it would use only for LaTeX labels, never drawn)
    markup = re.sub(r"<script\b.*?</script>", "", page, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert markup.count("<script") == 0 and page.count("<script") >= 2
    assert "@import" not in page and "url(http" not in page
    assert "Bokeh" in page and page.count("<svg") >= 2      # the map, the day and the modes' chart


def test_report_names_the_zone_the_critical_node_and_the_modes(ltown, page):
    _, result, table = ltown
    assert f"zone {result.zone.name}" in page
    assert result.after.critical_node in page
    for mode in table.index:
        assert MODE_NAMES[mode] in page
    assert {"fixed", "time", "flow", "critical"} <= set(table.index)
    for unit in ("m3/day", "m3/h", "(m)", "%"):
        assert unit in page
    assert "Thornton &amp; Lambert 2007" in page and "0.7–2.8" in page
    assert f"{result.after.leakage_m3_per_day:,.2f}" in page


def test_prv_settings_in_words(ltown):
    _, result, _ = ltown
    mode, text = prv_in_words(result)
    assert mode == "critical-point control"
    assert "20 m" in text and "PRV-3" in text and " m" in text


def test_report_is_byte_identical(ltown, monkeypatch):
    wn, result, table = ltown
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    first = pressure_report(wn, result, comparison=table, network_path=path("l-town")).to_html()
    second = pressure_report(load("l-town"), result, comparison=table, network_path=path("l-town")).to_html()
    assert first == second
    assert "2026-01-01T00:00:00+00:00" in first and "<dc:date>" not in first
