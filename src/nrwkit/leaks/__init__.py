"""Leaks: sensitivities of logger pressures to leaks (localisation and detection to follow).

See :mod:`nrwkit.leaks.sensitivity`.
"""

from .sensitivity import sensitivity_matrix, simulate

__all__ = ["sensitivity_matrix", "simulate"]
