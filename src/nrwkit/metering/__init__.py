"""Metering: customer meter accuracy from error curves x consumption profiles, apparent losses.

Read the inputs (:mod:`nrwkit.metering.inputs`), assess a meter population
(:func:`assess`): each meter's weighted error, true volume and apparent loss, by group, and
the under-registration fraction the water balance takes.
"""

from .accuracy import AGE_BAND_YEARS, Assessment, assess, curve_error_percent, weighted_error
from .inputs import ErrorCurves, Profiles, read_curves, read_meters, read_profiles

__all__ = ["AGE_BAND_YEARS", "Assessment", "ErrorCurves", "Profiles", "assess", "curve_error_percent",
           "read_curves", "read_meters", "read_profiles", "weighted_error"]
