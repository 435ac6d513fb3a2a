"""The same inputs give the same report bytes: creation stamps, SVG ids and Bokeh ids."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest
from test_balance import EXAMPLE

from nrwkit.balance import BalanceInput, compute_balance
from nrwkit.network import inspect_network
from nrwkit.networks import load, path
from nrwkit.report import inspection_report
from nrwkit.report.balance import balance_report
from nrwkit.report.html import readable_header, table_html

matplotlib.use("Agg")


@pytest.fixture
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")   # 2026-01-01T00:00:00 UTC
    return "2026-01-01T00:00:00+00:00"


def test_balance_report_is_byte_identical(epoch, tmp_path):
    def render(name):
        out = tmp_path / name
        balance_report(compute_balance(BalanceInput.model_validate(EXAMPLE))).write(out)
        return out.read_bytes()

    first, second = render("a.html"), render("b.html")
    assert first == second
    text = first.decode()
    assert epoch in text and "<svg" in text
    assert "<dc:date>" not in text          # matplotlib's SVG date is left out


def test_report_with_a_map_is_byte_identical(epoch):
    wn = load("net1")
    result = inspect_network(wn)
    first = inspection_report(wn, result, network_path=path("net1")).to_html()
    second = inspection_report(load("net1"), inspect_network(load("net1")),
                               network_path=path("net1")).to_html()
    assert "Bokeh" in first and 'data-root-id="m1p' in first
    assert first == second


def test_creation_stamp_is_now_without_the_variable(monkeypatch):
    import datetime

    from nrwkit.report.html import created_stamp

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    stamp = datetime.datetime.fromisoformat(created_stamp())
    assert abs((datetime.datetime.now().astimezone() - stamp).total_seconds()) < 60


def test_headers_are_readable_with_units():
    assert readable_header("leak_flow_m3h") == "leak flow (m3/h)"
    assert readable_header("min_pressure_m") == "min pressure (m)"
    assert readable_header("demand_m3_per_day") == "demand (m3/day)"
    assert readable_header("peak_flow_lps") == "peak flow (l/s)"
    assert readable_header("night flow (l/s)") == "night flow (l/s)"
    page = table_html(pd.DataFrame({"node": ["J1"], "leak_flow_m3h": [1.5]}))
    assert ">leak flow (m3/h)</th>" in page and "leak_flow_m3h" not in page
