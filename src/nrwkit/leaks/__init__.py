"""Leaks: one leak model over both engines, and sensitivities of logger pressures to leaks.

See :mod:`nrwkit.leaks.model`, :mod:`nrwkit.leaks.sensitivity`, :mod:`nrwkit.leaks.locate`
and :mod:`nrwkit.leaks.placement`.
"""

from .locate import METHODS, Localisation, Readings, locate, read_readings
from .model import Leak, LeakRun, leak_flow, place_leaks, simulate_leaks
from .placement import Placement, expected_search_area, place_loggers
from .sensitivity import sensitivity_matrix, simulate

__all__ = [
    "METHODS",
    "Leak",
    "LeakRun",
    "Localisation",
    "Placement",
    "Readings",
    "expected_search_area",
    "leak_flow",
    "locate",
    "place_leaks",
    "place_loggers",
    "read_readings",
    "sensitivity_matrix",
    "simulate",
    "simulate_leaks",
]
