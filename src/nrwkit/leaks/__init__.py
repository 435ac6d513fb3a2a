"""Leaks: one leak model over both engines, and sensitivities of logger pressures to leaks.

See :mod:`nrwkit.leaks.model`, :mod:`nrwkit.leaks.sensitivity`, :mod:`nrwkit.leaks.locate`,
:mod:`nrwkit.leaks.detect` and :mod:`nrwkit.leaks.placement`.
"""

from .detect import (
    CusumResult,
    DetectionResult,
    FlowSeries,
    cusum,
    detect,
    minimum_night_flow,
    mnf_alarms,
    read_flows,
)
from .locate import METHODS, Localisation, locate
from .model import Leak, LeakRun, leak_flow, place_leaks, simulate_leaks
from .placement import Placement, expected_search_area, place_loggers
from .readings import Readings, read_readings, usable_readings
from .sensitivity import sensitivity_matrix

__all__ = [
    "METHODS",
    "CusumResult",
    "DetectionResult",
    "FlowSeries",
    "Leak",
    "LeakRun",
    "Localisation",
    "Placement",
    "Readings",
    "cusum",
    "detect",
    "expected_search_area",
    "leak_flow",
    "locate",
    "minimum_night_flow",
    "mnf_alarms",
    "place_leaks",
    "place_loggers",
    "read_flows",
    "read_readings",
    "sensitivity_matrix",
    "simulate_leaks",
    "usable_readings",
]
