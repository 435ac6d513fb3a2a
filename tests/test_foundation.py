"""The foundation modules (units, crs, findings, run options) against oracles nrwkit did not compute.

Unit factors are checked against WNTR's own EPANET converters and the exact definitions (1 ft =
0.3048 m, 1 US gal = 231 in3); EPANET's warnings are produced by EPANET itself on a network
built to be unbalanced.
"""

from __future__ import annotations

import math

import pytest
import wntr
from planted import make_inp
from wntr.epanet.util import FlowUnits

from nrwkit.crs import parse_crs
from nrwkit.errors import CRSError, InputError
from nrwkit.findings import Finding, Severity, findings_frame, warning
from nrwkit.hydraulics import EPANET_WARNINGS, changed_options, epanet_warning, set_options, steady_state
from nrwkit.hydraulics.session import _write_session_inp
from nrwkit.network import read_inp
from nrwkit.units import (
    FLOW_TO_M3S,
    LENGTH_TO_M,
    M3_PER_US_GALLON,
    VOLUME_TO_M3,
    from_si,
    m3s_to_lps,
    m3s_to_m3d,
    m3s_to_m3h,
    to_si,
)

INCH_M = 0.0254


@pytest.mark.parametrize(("unit", "epanet"), [("l/s", FlowUnits.LPS), ("m3/h", FlowUnits.CMH),
                                              ("m3/day", FlowUnits.CMD), ("gpm", FlowUnits.GPM)])
def test_flow_factors_match_wntrs_epanet_converters(unit, epanet):
    assert FLOW_TO_M3S[unit] == pytest.approx(epanet.factor, rel=1e-9)


def test_volume_and_length_factors_from_their_definitions():
    assert M3_PER_US_GALLON == pytest.approx(231 * INCH_M**3, rel=1e-12)
    assert VOLUME_TO_M3["MG"] == pytest.approx(1e6 * 231 * INCH_M**3, rel=1e-12)
    assert VOLUME_TO_M3["acre-ft"] == pytest.approx(43_560 * (12 * INCH_M) ** 3, rel=1e-12)
    assert LENGTH_TO_M["ft"] == pytest.approx(12 * INCH_M)
    assert LENGTH_TO_M["mi"] == pytest.approx(5280 * 12 * INCH_M)


def test_conversions_round_trip_and_name_the_unit_they_refuse():
    assert to_si(36.0, "m3/h", FLOW_TO_M3S) == pytest.approx(0.01)
    assert from_si(to_si(123.4, "gpm", FLOW_TO_M3S), "gpm", FLOW_TO_M3S) == pytest.approx(123.4)
    assert (m3s_to_lps(0.01), m3s_to_m3h(0.01), m3s_to_m3d(0.01)) == pytest.approx((10.0, 36.0, 864.0))
    with pytest.raises(InputError, match="furlong"):
        to_si(1.0, "furlong", LENGTH_TO_M)


def test_parse_crs_names_the_fix():
    assert parse_crs("EPSG:32633").to_epsg() == 32633
    with pytest.raises(CRSError, match="EPSG:"):
        parse_crs("EPSG:nonsense")


def test_finding_shapes_agree():
    found = warning("dma-outside", "3 junctions lie outside every DMA", fix="draw them in",
                    elements=["J1", "J2", "J3"], element_type="node")
    assert found.severity is Severity.WARNING
    assert str(found) == "3 junctions lie outside every DMA (draw them in)"
    assert found.to_dict() == {"severity": "warning", "code": "dma-outside", "elements": ["J1", "J2", "J3"],
                               "message": "3 junctions lie outside every DMA", "element_type": "node",
                               "fix": "draw them in"}
    frame = findings_frame([found, Finding(Severity.INFO, "x", (), "note", "network")])
    assert list(frame["code"]) == ["dma-outside", "x"] and list(frame["n_elements"]) == [3, 0]


def test_changed_options_restores_after_an_exception():
    wn = wntr.network.WaterNetworkModel()
    before = (wn.options.time.duration, wn.options.hydraulic.demand_model)
    with pytest.raises(RuntimeError), changed_options(wn, duration_s=7200, demand_model="PDA"):
        assert (wn.options.time.duration, wn.options.hydraulic.demand_model) == (7200, "PDA")
        raise RuntimeError
    assert (wn.options.time.duration, wn.options.hydraulic.demand_model) == before
    with pytest.raises(InputError, match="unknown run option 'duration'"):
        set_options(wn, duration=1)


def test_session_file_has_the_asked_options_and_the_model_keeps_its_own(write_inp, tmp_path):
    wn = read_inp(write_inp(make_inp()))
    before = {name: dict(vars(getattr(wn.options, name))) for name in ("time", "hydraulic", "quality")}
    path = tmp_path / "session.inp"
    _write_session_inp(wn, path, demand_model="PDD", required=20.0, minimum=5.0, exponent=0.5,
                       water_age=True)
    after = {name: dict(vars(getattr(wn.options, name))) for name in ("time", "hydraulic", "quality")}
    assert after == before
    written = wntr.network.WaterNetworkModel(str(path))
    hyd = written.options.hydraulic
    assert (hyd.demand_model, hyd.required_pressure, hyd.minimum_pressure, hyd.pressure_exponent) == (
        "PDA", pytest.approx(20.0), pytest.approx(5.0), pytest.approx(0.5))
    assert written.options.quality.parameter == "AGE" and hyd.unbalanced == "CONTINUE"
    assert written.options.time.duration > 0  # EPANET skips quality for a 0-hour file


def test_epanet_warnings_become_findings_with_stable_codes(write_inp):
    codes = [code for code, _ in EPANET_WARNINGS.values()]
    assert len(set(codes)) == len(codes) and all(code.startswith("epanet-") for code in codes)
    unbalanced = epanet_warning("At 0:00:00, system hydraulically unbalanced - convergence to a hydraulic "
                                "solution was not achieved in the allowed number of trials")
    assert (unbalanced.code, unbalanced.severity) == ("epanet-unbalanced", Severity.ERROR)
    assert epanet_warning("something EPANET never says").code == "epanet-warning"
    # a demand far beyond what the source head can push through: EPANET itself says so
    wn = read_inp(write_inp(make_inp()))
    for _, junction in wn.junctions():
        junction.demand_timeseries_list[0].base_value = 5.0
    state = steady_state(wn)
    assert state.warnings and all(isinstance(w, Finding) for w in state.warnings)
    assert {w.code for w in state.warnings} <= {*codes, "epanet-warning"}
    assert "epanet-negative-pressure" in {w.code for w in state.warnings}
    assert state.converged == all(w.code != "epanet-unbalanced" for w in state.warnings)
    assert math.isfinite(float(state.pressure_m.min()))
