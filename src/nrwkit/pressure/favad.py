"""FAVAD and the burst-frequency rule: how leakage and new bursts follow pressure.

- FAVAD (May 1994; Lambert 2001), power-law form: a zone's leakage L varies with its average
  pressure P as ``L1 / L0 = (P1 / P0) ** N1``. N1 is 0.5 for a fixed orifice, 0.5-1.0 for
  detectable leaks on rigid pipes, up to 1.5 for background leakage, 1.5 and more for splits
  in plastic pipes; ~1.0 for large mixed systems (field range 0.36-2.95).
- Night-day factor (Lambert 2001): ``NDF = sum over the 24 hours of (AZP_h / AZNP) ** N1``, in
  hours per day: the day's leakage is the night leakage rate times NDF.
- New bursts (Thornton & Lambert 2007, 112 systems): the % reduction in new bursts is the burst
  frequency factor (BFF, 1.4; range 0.7-2.8) times the % reduction in maximum pressure.

Examples
--------
>>> round(leakage_reduction_percent(20.0, 1.5), 2)
28.45
>>> burst_reduction_percent(80.0, 60.0)
{'low': 17.5, 'central': 35.0, 'high': 70.0}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError

__all__ = ["BURST_FREQUENCY_FACTOR", "N1_RANGE", "burst_reduction_percent", "check_n1", "leakage_ratio",
           "leakage_reduction_percent", "night_day_factor"]

#: Burst frequency factor: % fewer new bursts per % reduction of the maximum pressure
#: (Thornton & Lambert 2007): central 1.4, range 0.7-2.8.
BURST_FREQUENCY_FACTOR = {"low": 0.7, "central": 1.4, "high": 2.8}
#: N1 values nrwkit accepts (field values reach 0.36-2.95).
N1_RANGE = (0.0, 3.0)


def check_n1(n1: float) -> float:
    """Return N1, or raise :class:`~nrwkit.errors.InputError` when it is outside (0, 3]."""
    if not np.isfinite(n1) or not N1_RANGE[0] < n1 <= N1_RANGE[1]:
        msg = (f"n1 = {n1}: the FAVAD exponent must be above 0 and at most 3 (0.5 a fixed orifice, "
               "1.0 a large mixed system, 1.5 background leakage)")
        raise InputError(msg)
    return float(n1)


def leakage_ratio(pressure_after_m: float, pressure_before_m: float, n1: float) -> float:
    """Return ``L1 / L0 = (P1 / P0) ** N1``, the FAVAD leakage ratio.

    Parameters
    ----------
    pressure_after_m, pressure_before_m : float
        Average zone pressures after and before, m (> 0 before).
    n1 : float
        FAVAD exponent.

    Returns
    -------
    float
        Leakage after over leakage before.
    """
    check_n1(n1)
    if pressure_before_m <= 0:
        msg = f"pressure before = {pressure_before_m} m: FAVAD needs a positive pressure to scale from"
        raise InputError(msg)
    return float(max(pressure_after_m, 0.0) / pressure_before_m) ** n1


def leakage_reduction_percent(pressure_cut_percent: float, n1: float) -> float:
    """Return the % reduction of leakage for a % cut of the average zone pressure (FAVAD).

    Parameters
    ----------
    pressure_cut_percent : float
        Cut of the average zone pressure, % (0-100).
    n1 : float
        FAVAD exponent.

    Returns
    -------
    float
        ``100 (1 - (1 - cut / 100) ** N1)``.
    """
    if not 0.0 <= pressure_cut_percent <= 100.0:
        msg = f"pressure cut = {pressure_cut_percent} %: give a cut between 0 and 100 %"
        raise InputError(msg)
    return 100.0 * (1.0 - leakage_ratio(100.0 - pressure_cut_percent, 100.0, n1))


def burst_reduction_percent(max_pressure_before_m: float, max_pressure_after_m: float) -> dict[str, float]:
    """Return the predicted % reduction in new bursts, for the low, central and high BFF.

    Parameters
    ----------
    max_pressure_before_m, max_pressure_after_m : float
        The zone's maximum pressure before and after, m.

    Returns
    -------
    dict
        ``{"low", "central", "high"}``: BFF 0.7, 1.4 and 2.8 times the % cut of the maximum
        pressure, each at most 100 % (a rise in pressure gives negative reductions).
    """
    if max_pressure_before_m <= 0:
        return dict.fromkeys(BURST_FREQUENCY_FACTOR, 0.0)
    cut = 100.0 * (max_pressure_before_m - max_pressure_after_m) / max_pressure_before_m
    return {key: round(min(bff * cut, 100.0), 6) for key, bff in BURST_FREQUENCY_FACTOR.items()}


def night_day_factor(hourly_azp_m: Sequence[float], aznp_m: float, n1: float) -> float:
    """Return the night-day factor, h/day: ``sum_h (AZP_h / AZNP) ** N1`` over the day's hours.

    Parameters
    ----------
    hourly_azp_m : sequence of float
        Average zone pressure of each hour of the day, m (24 values).
    aznp_m : float
        Average zone night pressure, m.
    n1 : float
        FAVAD exponent.

    Returns
    -------
    float
        Hours per day; 24 for a zone whose pressure never changes.
    """
    return float(sum(leakage_ratio(p, aznp_m, n1) for p in hourly_azp_m))
