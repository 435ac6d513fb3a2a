"""Metering: customer meter accuracy from error curves x consumption profiles, apparent losses.

Read the inputs (:mod:`nrwkit.metering.inputs`), assess a meter population
(:func:`assess`): each meter's weighted error, true volume and apparent loss, by group, and
the under-registration fraction the water balance takes.
"""

from .accuracy import AGE_BAND_YEARS, Assessment, assess, curve_error_percent, weighted_error
from .inputs import ErrorCurves, Profiles, read_curves, read_meters, read_profiles
from .profile import FlowLog, profile_from_log, read_flow_log

__all__ = [
    "AGE_BAND_YEARS",
    "Assessment",
    "ErrorCurves",
    "FlowLog",
    "Profiles",
    "assess",
    "curve_error_percent",
    "profile_from_log",
    "read_curves",
    "read_flow_log",
    "read_meters",
    "read_profiles",
    "weighted_error",
]
