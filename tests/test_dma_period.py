"""DMA design says when the day it checked is not the model's own (issue 15: a 0-hour model
printed "checks: pass" with nothing said)."""

from __future__ import annotations

import wntr

from nrwkit.dma.design import period_warnings
from nrwkit.networks import load


def _two_junctions(multipliers: list[float] | None, duration_s: int) -> wntr.network.WaterNetworkModel:
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=60.0)
    if multipliers is not None:
        wn.add_pattern("day", multipliers)
    for name in ("A", "B"):
        wn.add_junction(name, base_demand=0.002, demand_pattern="day" if multipliers else None)
    wn.add_pipe("P1", "R", "A", length=100.0, diameter=0.2)
    wn.add_pipe("P2", "A", "B", length=100.0, diameter=0.2)
    wn.options.time.duration = duration_s
    wn.options.time.pattern_timestep = 3600
    return wn


def test_a_model_with_a_day_and_patterns_gets_no_warning() -> None:
    assert period_warnings(load("net3")) == []
    day = [0.5] * 6 + [1.5] * 12 + [0.8] * 6
    assert period_warnings(_two_junctions(day, 86400)) == []


def test_a_single_period_model_is_named_as_such() -> None:
    day = [0.5] * 6 + [1.5] * 12 + [0.8] * 6
    (warning,) = period_warnings(_two_junctions(day, 0))
    assert warning.code == "dma-single-period"
    assert "single period (duration 0 h)" in warning.message and "24 h" in warning.message
    assert "[TIMES] DURATION" in warning.fix


def test_constant_demands_are_named_even_over_a_day() -> None:
    warnings = period_warnings(_two_junctions(None, 86400))
    assert len(warnings) == 1 and warnings[0].code == "dma-constant-demand"
    assert "do not vary" in warnings[0].message and "diurnal" in warnings[0].fix
    both = period_warnings(_two_junctions([1.0, 1.0, 1.0], 0))
    assert [w.code for w in both] == ["dma-single-period", "dma-constant-demand"]
