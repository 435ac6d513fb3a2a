"""Metering: customer meter accuracy from error curves x consumption profiles, apparent losses.

Read the inputs (:mod:`nrwkit.metering.inputs`), assess a meter population
(:func:`assess`): each meter's weighted error, true volume and apparent loss, by group, and
the under-registration fraction the water balance takes.
"""

from .accuracy import AGE_BAND_YEARS, Assessment, assess, curve_error_percent, weighted_error
from .inputs import ErrorCurves, Profiles, read_curves, read_meters, read_profiles
from .profile import FlowLog, profile_from_log, read_flow_log
from .replacement import ReplacementPlan, equivalent_annual_cost, optimal_replacement_age, replacement_plan
from .sampling import SampleSize, sample_size
from .sizing import MeterFlows, Sizing, iso4064_flows, mpe_percent, oversized

__all__ = [
    "AGE_BAND_YEARS",
    "Assessment",
    "ErrorCurves",
    "FlowLog",
    "MeterFlows",
    "Profiles",
    "ReplacementPlan",
    "SampleSize",
    "Sizing",
    "assess",
    "curve_error_percent",
    "equivalent_annual_cost",
    "iso4064_flows",
    "mpe_percent",
    "optimal_replacement_age",
    "oversized",
    "profile_from_log",
    "read_curves",
    "read_flow_log",
    "read_meters",
    "read_profiles",
    "replacement_plan",
    "sample_size",
    "weighted_error",
]
