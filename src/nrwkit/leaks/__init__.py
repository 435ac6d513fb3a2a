"""Leaks: one leak model over both engines, and sensitivities of logger pressures to leaks.

See :mod:`nrwkit.leaks.model` and :mod:`nrwkit.leaks.sensitivity`. Localisation, detection
and logger placement are to follow (issue 7).
"""

from .model import Leak, LeakRun, leak_flow, place_leaks, simulate_leaks
from .sensitivity import sensitivity_matrix, simulate

__all__ = ["Leak", "LeakRun", "leak_flow", "place_leaks", "sensitivity_matrix", "simulate", "simulate_leaks"]
