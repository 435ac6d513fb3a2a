"""Pressure management: PRVs at a zone's inlets, four control modes, and what they save.

A zone (:func:`zone_from_dma`, :func:`zone_from_inlets`), a scenario before and after its
PRV(s) (:func:`scenario`), the four modes side by side (:func:`compare_modes`), and the FAVAD
and burst-frequency formulas they use (:mod:`nrwkit.pressure.favad`).
"""

from .favad import (
    BURST_FREQUENCY_FACTOR,
    burst_reduction_percent,
    leakage_ratio,
    leakage_reduction_percent,
    night_day_factor,
)
from .scenario import (
    MODES,
    LeakageModel,
    PrvPlan,
    ScenarioResult,
    ZoneState,
    background_leakage,
    compare_modes,
    scenario,
)
from .zone import Zone, zone_from_dma, zone_from_inlets

__all__ = [
    "BURST_FREQUENCY_FACTOR",
    "MODES",
    "LeakageModel",
    "PrvPlan",
    "ScenarioResult",
    "Zone",
    "ZoneState",
    "background_leakage",
    "burst_reduction_percent",
    "compare_modes",
    "leakage_ratio",
    "leakage_reduction_percent",
    "night_day_factor",
    "scenario",
    "zone_from_dma",
    "zone_from_inlets",
]
