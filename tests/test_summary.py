"""Network summaries against hand calculations from the file text and against WNTR."""

from __future__ import annotations

import pytest
import wntr

from nrwkit.network import summarize
from nrwkit.network.summary import length_by_diameter_class
from nrwkit.networks import load

FT = 0.3048
GPM_TO_M3_PER_DAY = 3.785411784e-3 * 1440  # US gallon (exact definition) per minute


def test_net1_by_hand(net1):
    s = summarize(net1)
    # Net1.inp [PIPES]: one pipe of 10530 ft, ten of 5280 ft, one of 200 ft
    assert s.mains_length_km == pytest.approx((10530 + 10 * 5280 + 200) * FT / 1000)
    km = {label: v for label, v in s.length_by_diameter_km.items() if v > 0}
    assert km == pytest.approx({
        "150-200 mm": 2 * 5280 * FT / 1000,            # 6 in: pipes 31, 122
        "200-300 mm": 5 * 5280 * FT / 1000,            # 8 in (113, 121) and 10 in (12, 21, 111)
        "300-400 mm": 3 * 5280 * FT / 1000,            # 12 in (22, 112) and 14 in (11)
        "400-600 mm": (10530 + 200) * FT / 1000,       # 18 in: pipes 10, 110
    })
    # [JUNCTIONS]: 1100 GPM in all; pattern 1 peaks at 1.6 in its 4th 2-hour step
    assert s.base_demand_m3_per_day == pytest.approx(1100 * GPM_TO_M3_PER_DAY)
    assert s.peak_demand_m3_per_day == pytest.approx(1.6 * 1100 * GPM_TO_M3_PER_DAY)
    assert s.peak_time_h == 6.0
    assert (s.elevation_min_m, s.elevation_max_m) == pytest.approx((690 * FT, 710 * FT))
    assert s.counts == {"junctions": 9, "tanks": 1, "reservoirs": 1, "pipes": 12, "pumps": 1,
                        "valves": 0, "patterns": 1, "curves": 1, "controls": 2}
    assert (s.flow_units, s.headloss_formula) == ("GPM", "H-W")
    assert (s.duration_h, s.hydraulic_timestep_s, s.pattern_timestep_s) == (24, 3600, 7200)
    assert s.extent == {"xmin": 10.0, "ymin": 10.0, "xmax": 70.0, "ymax": 90.0}  # [COORDINATES]
    assert s.crs is None and s.notes


def test_counts_agree_with_wntr_describe(ltown):
    s = summarize(ltown, crs="EPSG:3857")
    d = ltown.describe(level=1)
    assert s.counts["junctions"] == d["Nodes"]["Junctions"]
    assert s.counts["tanks"] == d["Nodes"]["Tanks"]
    assert s.counts["reservoirs"] == d["Nodes"]["Reservoirs"]
    assert s.counts["pipes"] == d["Links"]["Pipes"]
    assert s.counts["pumps"] == d["Links"]["Pumps"]
    assert s.counts["valves"] == d["Links"]["Valves"] == s.counts["valves_PRV"]
    assert s.crs == "EPSG:3857" and not s.notes


def test_lengths_agree_with_wntr_queries(ltown):
    s = summarize(ltown)
    length = ltown.query_link_attribute("length", link_type=wntr.network.Pipe)
    assert s.mains_length_km == pytest.approx(length.sum() / 1000)
    assert sum(s.length_by_diameter_km.values()) == pytest.approx(length.sum() / 1000, rel=1e-6)


@pytest.mark.parametrize("name", ["net3", "ky4"])
def test_peak_demand_agrees_with_wntr_expected_demand(name):
    wn = load(name)
    if wn.options.time.duration == 0:  # ky4 is a snapshot model: compare over one day
        wn.options.time.duration = 24 * 3600
    s = summarize(wn)
    expected = wntr.metrics.expected_demand(wn)  # (index = times, columns = junctions)
    total = expected.sum(axis=1)
    assert s.peak_demand_m3_per_day == pytest.approx(total.max() * 86400, rel=1e-9)
    assert s.peak_time_h * 3600 == total.idxmax()


def test_diameter_class_edges_are_inclusive():
    import pandas as pd

    diameter = pd.Series([0.100, 0.1001, 0.150, 0.601], index=list("abcd"))
    length = pd.Series([1000.0, 2000.0, 3000.0, 4000.0], index=list("abcd"))
    km = length_by_diameter_class(diameter, length)
    assert km["<= 100 mm"] == 1.0
    assert km["100-150 mm"] == 5.0
    assert km["> 600 mm"] == 4.0
    assert km.sum() == 10.0


def test_to_dict_is_json_ready():
    import json

    data = summarize(load("ky4")).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["flow_units"] == "GPM"
