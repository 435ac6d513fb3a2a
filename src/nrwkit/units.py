"""Units: every conversion factor nrwkit uses, named once.

nrwkit computes in SI (m, m3/s, s, as WNTR does) and reports in metric engineering units
(m, l/s, m3/h, m3/day, m3/year, km). Code converts through the constants and tables here, never
through a literal ``3600`` or ``1e3``; public signatures carry the unit in the name
(``min_pressure_m``, ``leak_flow_m3h``). Flow units of an EPANET file are WNTR's business
(:mod:`wntr.epanet.util`); these are the units people type and read.

Part of the foundation: it imports nothing from nrwkit.

Examples
--------
>>> to_si(36.0, "m3/h", FLOW_TO_M3S)
0.01
>>> round(from_si(0.01, "l/s", FLOW_TO_M3S), 6)
10.0
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import InputError

__all__ = [
    "CM_PER_M",
    "DAYS_PER_YEAR",
    "DAY_S",
    "FLOW_TO_M3S",
    "HOURS_PER_DAY",
    "HOUR_S",
    "LENGTH_TO_M",
    "LITRES_PER_M3",
    "M3_PER_US_GALLON",
    "METRES_PER_KM",
    "MINUTE_S",
    "METRES_PER_FOOT",
    "METRES_PER_INCH",
    "METRES_PER_MILE",
    "M_HEAD_PER_BAR",
    "M_HEAD_PER_KPA",
    "M_HEAD_PER_PSI",
    "MM_PER_M",
    "SECONDS_PER_DAY",
    "SECONDS_PER_HOUR",
    "SECONDS_PER_MINUTE",
    "SECONDS_PER_YEAR",
    "STANDARD_GRAVITY",
    "VOLUME_TO_M3",
    "WATER_DENSITY",
    "WATTS_PER_HP",
    "WATTS_PER_KW",
    "from_si",
    "m3s_to_lps",
    "m3s_to_m3d",
    "m3s_to_m3h",
    "to_si",
]

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0
#: An hour and a day in whole seconds, for time steps and durations (EPANET counts time in
#: integer seconds).
MINUTE_S = 60
HOUR_S = 3600
DAY_S = 86400
HOURS_PER_DAY = 24
#: Millimetres and centimetres in a metre (pipe diameters are reported in mm).
MM_PER_M = 1000.0
CM_PER_M = 100.0
#: A year of the water balance and of annual figures: 365 days (IWA; leap days ignored).
DAYS_PER_YEAR = 365.0
SECONDS_PER_YEAR = DAYS_PER_YEAR * SECONDS_PER_DAY
LITRES_PER_M3 = 1000.0
METRES_PER_KM = 1000.0
#: International mile, foot and inch.
METRES_PER_MILE = 1609.344
METRES_PER_FOOT = 0.3048
METRES_PER_INCH = 0.0254
SECONDS_PER_MINUTE = 60.0
#: Standard gravity (m/s2) and the density of water (kg/m3) that turn a pressure into metres of head.
STANDARD_GRAVITY = 9.80665
WATER_DENSITY = 1000.0
#: Metres of water head in a kilopascal and in a bar.
M_HEAD_PER_KPA = 1000.0 / (WATER_DENSITY * STANDARD_GRAVITY)
M_HEAD_PER_BAR = 100.0 * M_HEAD_PER_KPA
#: Metres of water head per psi, as the AWWA Free Water Audit Software converts.
M_HEAD_PER_PSI = 0.70324961490
#: Watts in a kilowatt and in a mechanical horsepower.
WATTS_PER_KW = 1000.0
WATTS_PER_HP = 745.699872
#: US gallon, exactly 3.785411784 litres.
M3_PER_US_GALLON = 3.785411784e-3
M3_PER_ACRE_FOOT = 1233.48183754752

#: Cubic metres per second in one of each flow unit.
FLOW_TO_M3S: Mapping[str, float] = {
    "m3/s": 1.0,
    "l/s": 1.0 / LITRES_PER_M3,
    "m3/h": 1.0 / SECONDS_PER_HOUR,
    "m3/day": 1.0 / SECONDS_PER_DAY,
    "m3/month": 12.0 / SECONDS_PER_YEAR,
    "m3/year": 1.0 / SECONDS_PER_YEAR,
    "gal/day": M3_PER_US_GALLON / SECONDS_PER_DAY,
    "gpm": M3_PER_US_GALLON / SECONDS_PER_MINUTE,
}

#: Cubic metres in one of each volume unit.
VOLUME_TO_M3: Mapping[str, float] = {
    "m3": 1.0,
    "l": 1.0 / LITRES_PER_M3,
    "ML": 1e3,  # megalitre: 1e6 l
    "MG": M3_PER_US_GALLON * 1e6,
    "acre-ft": M3_PER_ACRE_FOOT,
}

#: Metres in one of each length unit.
LENGTH_TO_M: Mapping[str, float] = {
    "m": 1.0,
    "km": METRES_PER_KM,
    "ft": METRES_PER_FOOT,
    "mi": METRES_PER_MILE,
}


def _factor(unit: str, table: Mapping[str, float]) -> float:
    try:
        return table[unit]
    except KeyError:
        raise InputError(f"unknown unit {unit!r}: use one of {', '.join(table)}") from None


def to_si(value: float, unit: str, table: Mapping[str, float]) -> float:
    """Convert a value in ``unit`` to SI through one of the tables of this module.

    Parameters
    ----------
    value : float
        The value in ``unit``.
    unit : str
        A key of ``table`` (e.g. ``"m3/h"``).
    table : mapping
        :data:`FLOW_TO_M3S`, :data:`VOLUME_TO_M3` or :data:`LENGTH_TO_M`.

    Returns
    -------
    float
        The value in SI.

    Raises
    ------
    InputError
        For a unit not in the table (the message lists the known ones).
    """
    return value * _factor(unit, table)


def from_si(value: float, unit: str, table: Mapping[str, float]) -> float:
    """Convert an SI value to ``unit`` (the inverse of :func:`to_si`).

    Parameters
    ----------
    value : float
        The value in SI.
    unit : str
        A key of ``table``.
    table : mapping
        :data:`FLOW_TO_M3S`, :data:`VOLUME_TO_M3` or :data:`LENGTH_TO_M`.

    Returns
    -------
    float
        The value in ``unit``.
    """
    return value / _factor(unit, table)


def m3s_to_lps(flow_m3s: float) -> float:
    """Return a flow in l/s from m3/s."""
    return flow_m3s * LITRES_PER_M3


def m3s_to_m3h(flow_m3s: float) -> float:
    """Return a flow in m3/h from m3/s."""
    return flow_m3s * SECONDS_PER_HOUR


def m3s_to_m3d(flow_m3s: float) -> float:
    """Return a flow in m3/day from m3/s."""
    return flow_m3s * SECONDS_PER_DAY
