"""Meter sizing and metrological classes: ISO 4064 / OIML R49 flow rates, oversized meters.

ISO 4064-1:2014 and OIML R49-1:2013 rate a water meter by its permanent flow ``Q3`` and its
ratio ``R = Q3 / Q1``:

- minimum flow ``Q1 = Q3 / R``, transitional flow ``Q2 = 1.6 x Q1``, overload flow
  ``Q4 = 1.25 x Q3``;
- maximum permissible error (MPE, cold water up to 30 degC) of +-5 % in the lower zone
  ``Q1 <= q < Q2`` and +-2 % in the upper zone ``Q2 <= q <= Q4``; below ``Q1`` and above ``Q4``
  the standard sets no limit (:func:`mpe_percent` returns NaN there).

``Q3`` is chosen from the R10 series of ISO 4064-1:2014 (1, 1.6, 2.5, 4, 6.3, 10, 16, 25, 40 ...
m3/h); :data:`Q3_BY_SIZE_MM` pairs a nominal size (DN, mm) with the ``Q3`` that manufacturers'
catalogues usually give it (the standard does not tie ``Q3`` to DN).

An oversized meter is one whose customer passes much of its volume below the meter's ``Q1``,
where it is outside its rated range and under-registers most. :func:`oversized` flags a meter
when the share of its profile's true volume in bands whose representative flow is below ``Q1``
exceeds a threshold (0.3 by default), and estimates what downsizing it by one size recovers,
with this stated model: a band that is below the present meter's ``Q1`` but within the smaller
meter's range (at or above its ``Q1``) moves into range, where the new meter is assumed to err by
the full MPE envelope in the under-registering direction (-5 % or -2 %: a conservative
assumption); the recovery is the present error at that band's flow (from the meter's curves at
its age) beyond that envelope, times the band's true volume. Bands below the smaller meter's
``Q1`` stay out of range and recover nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..findings import Finding, warning
from ..units import LITRES_PER_M3
from .accuracy import assess, curve_error_percent
from .inputs import ErrorCurves, Profiles

__all__ = [
    "LOWER_ZONE_MPE_PERCENT",
    "MeterFlows",
    "Q3_BY_SIZE_MM",
    "Sizing",
    "UPPER_ZONE_MPE_PERCENT",
    "iso4064_flows",
    "mpe_percent",
    "oversized",
]

#: ISO 4064-1:2014 ratios: Q2 / Q1 and Q4 / Q3.
Q2_OVER_Q1 = 1.6
Q4_OVER_Q3 = 1.25
#: Maximum permissible errors (cold water), percent.
LOWER_ZONE_MPE_PERCENT = 5.0
UPPER_ZONE_MPE_PERCENT = 2.0
#: Nominal size (DN, mm) -> permanent flow Q3 (m3/h): the ISO 4064-1:2014 R10 series values
#: that catalogues usually give these sizes.
Q3_BY_SIZE_MM: Mapping[float, float] = {15.0: 2.5, 20.0: 4.0, 25.0: 6.3, 32.0: 10.0, 40.0: 16.0, 50.0: 25.0}
#: Default share of volume below Q1 that makes a meter oversized.
DEFAULT_THRESHOLD_FRACTION = 0.3


@dataclass(frozen=True)
class MeterFlows:
    """The four ISO 4064 flow rates of a meter, l/h."""

    q1_l_per_h: float
    q2_l_per_h: float
    q3_l_per_h: float
    q4_l_per_h: float

    def to_dict(self) -> dict[str, float]:
        """Return the flows as JSON-ready plain data."""
        return {
            "q1_l_per_h": self.q1_l_per_h,
            "q2_l_per_h": self.q2_l_per_h,
            "q3_l_per_h": self.q3_l_per_h,
            "q4_l_per_h": self.q4_l_per_h,
        }


def iso4064_flows(q3_m3_per_h: float, ratio_r: float) -> MeterFlows:
    """Return Q1 .. Q4 of a meter from its permanent flow and its ratio R (ISO 4064-1:2014).

    Parameters
    ----------
    q3_m3_per_h : float
        Permanent flow Q3, m3/h (> 0).
    ratio_r : float
        ``R = Q3 / Q1`` (above 1.6, so that Q2 < Q3; the standard's values run from 40 up).

    Returns
    -------
    MeterFlows
        ``Q1 = Q3 / R``, ``Q2 = 1.6 Q1``, ``Q3``, ``Q4 = 1.25 Q3``, in l/h.
    """
    if not (math.isfinite(q3_m3_per_h) and q3_m3_per_h > 0):
        raise InputError(f"q3_m3_per_h = {q3_m3_per_h!r}; fix: give the meter's permanent flow, above 0")
    if not (math.isfinite(ratio_r) and ratio_r > Q2_OVER_Q1):
        raise InputError(f"ratio_r = {ratio_r!r}; fix: give the meter's ratio Q3/Q1 (e.g. 100, 160)")
    q3 = q3_m3_per_h * LITRES_PER_M3
    q1 = q3 / ratio_r
    return MeterFlows(q1, Q2_OVER_Q1 * q1, q3, Q4_OVER_Q3 * q3)


def mpe_percent(
    flow_l_per_h: np.ndarray | float, q1_l_per_h: float, q2_l_per_h: float, q4_l_per_h: float
) -> np.ndarray:
    """Return the maximum permissible error (%, magnitude) at each flow.

    5 % for ``Q1 <= q < Q2``, 2 % for ``Q2 <= q <= Q4``, NaN outside ``[Q1, Q4]`` (no limit).
    """
    q = np.asarray(flow_l_per_h, dtype=float)
    return np.where(
        (q >= q1_l_per_h) & (q < q2_l_per_h),
        LOWER_ZONE_MPE_PERCENT,
        np.where((q >= q2_l_per_h) & (q <= q4_l_per_h), UPPER_ZONE_MPE_PERCENT, np.nan),
    )


@dataclass(frozen=True)
class Sizing:
    """Oversized meters and what downsizing them would recover.

    Attributes
    ----------
    meters : pandas.DataFrame
        One row per meter checked: ``meter_id, meter_type, profile, size_mm, q1_l_per_h,
        share_below_q1, oversized, smaller_size_mm`` (NaN for the smallest size),
        ``recovered_m3_per_year`` (0 unless oversized and downsizable).
    ratio_r, threshold_fraction : float
    unchecked : int
        Meters without a size of the table.
    warnings : list of Finding
    """

    meters: pd.DataFrame = field(repr=False)
    ratio_r: float
    threshold_fraction: float
    unchecked: int
    warnings: list[Finding]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON of the sizing check: the oversized meters and their recovery."""
        flagged = self.meters[self.meters["oversized"]]
        return {
            "ratio_r": self.ratio_r,
            "threshold_fraction": self.threshold_fraction,
            "meters_checked": len(self.meters),
            "meters_unchecked": self.unchecked,
            "oversized": len(flagged),
            "recoverable_m3_per_year": round(float(flagged["recovered_m3_per_year"].sum()), 3),
            "meters": [
                {
                    "meter_id": r.meter_id,
                    "meter_type": r.meter_type,
                    "profile": r.profile,
                    "size_mm": float(r.size_mm),
                    "q1_l_per_h": round(float(r.q1_l_per_h), 3),
                    "share_below_q1": round(float(r.share_below_q1), 4),
                    "smaller_size_mm": None if math.isnan(r.smaller_size_mm) else float(r.smaller_size_mm),
                    "recovered_m3_per_year": round(float(r.recovered_m3_per_year), 3),
                }
                for r in flagged.itertuples()
            ],
            "warnings": [w.to_dict() for w in self.warnings],
        }


def oversized(
    meters: pd.DataFrame,
    curves: ErrorCurves,
    profiles: Profiles,
    *,
    year: int,
    ratio_r: float = 100.0,
    threshold_fraction: float = DEFAULT_THRESHOLD_FRACTION,
    q3_by_size_mm: Mapping[float, float] = Q3_BY_SIZE_MM,
) -> Sizing:
    """Flag oversized meters and estimate what downsizing each by one size would recover.

    See the module's description for the rule and the recovery model.

    Parameters
    ----------
    meters : pandas.DataFrame
        From :func:`~nrwkit.metering.read_meters`, with ``size_mm`` (meters without it, or with
        a size not in ``q3_by_size_mm``, are not checked and a warning says how many).
    curves : ErrorCurves
    profiles : Profiles
    year : int
        The year: a meter's age (for its present error and true use) is ``year - install_year``.
    ratio_r : float
        The meters' ratio ``R = Q3 / Q1``.
    threshold_fraction : float
        A meter is oversized above this share of volume below its ``Q1`` (in [0, 1)).
    q3_by_size_mm : mapping
        Nominal size (mm) -> ``Q3`` (m3/h).

    Returns
    -------
    Sizing
    """
    if not (math.isfinite(threshold_fraction) and 0 <= threshold_fraction < 1):
        raise InputError(f"threshold_fraction = {threshold_fraction!r}; fix: give a share in [0, 1)")
    if not q3_by_size_mm:
        raise InputError("q3_by_size_mm is empty; fix: give at least one size and its Q3")
    sizes = sorted(float(s) for s in q3_by_size_mm)
    flows = {s: iso4064_flows(float(q3_by_size_mm[s]), ratio_r) for s in sizes}
    assessment = assess(meters, curves, profiles, year=year, samples=0)
    frame = assessment.meters
    size = (
        pd.to_numeric(frame["size_mm"], errors="coerce")
        if "size_mm" in frame
        else pd.Series(np.nan, index=frame.index)
    )
    known = size.isin(sizes)
    found: list[Finding] = list(assessment.warnings)
    if (~known).any():
        found.append(
            warning(
                "metering-size-unknown",
                f"{int((~known).sum())} meters have no size or one outside the table "
                f"({', '.join(f'{s:g}' for s in sizes)} mm): not checked for oversizing",
                fix="give size_mm in the meters table, or add the size and its Q3 to the table",
                elements=frame.loc[~known, "meter_id"].head(20).tolist(),
                element_type="meter",
            )
        )
    rows = []
    checked = frame[known].assign(size_mm=size[known])
    for (meter_type, profile, age, size_mm), group in checked.groupby(
        ["meter_type", "profile", "age_years", "size_mm"], sort=True
    ):
        bands = profiles.table[profiles.table["profile"] == profile]
        q = bands["flow_l_per_h"].to_numpy()
        share = bands["volume_share"].to_numpy()
        present = flows[size_mm]
        below = q < present.q1_l_per_h
        share_below = float(share[below].sum())
        is_over = share_below > threshold_fraction
        index = sizes.index(size_mm)
        smaller = sizes[index - 1] if index > 0 else math.nan
        recovered_fraction = 0.0
        if is_over and index > 0:
            new = flows[smaller]
            moved = below & (q >= new.q1_l_per_h)
            error_now = curve_error_percent(curves, meter_type, float(age), q)
            envelope = mpe_percent(q, new.q1_l_per_h, new.q2_l_per_h, new.q4_l_per_h)
            beyond = np.clip(-error_now - np.nan_to_num(envelope), 0.0, None)
            recovered_fraction = float(np.dot(share[moved], beyond[moved]) / 100.0)
        for meter in group.itertuples():
            rows.append(
                {
                    "meter_id": meter.meter_id,
                    "meter_type": meter_type,
                    "profile": profile,
                    "size_mm": size_mm,
                    "q1_l_per_h": present.q1_l_per_h,
                    "share_below_q1": share_below,
                    "oversized": is_over,
                    "smaller_size_mm": smaller,
                    "recovered_m3_per_year": meter.true_m3_per_year * recovered_fraction,
                }
            )
    columns = [
        "meter_id",
        "meter_type",
        "profile",
        "size_mm",
        "q1_l_per_h",
        "share_below_q1",
        "oversized",
        "smaller_size_mm",
        "recovered_m3_per_year",
    ]
    table = pd.DataFrame(rows, columns=columns)
    table["oversized"] = table["oversized"].astype(bool)
    return Sizing(
        meters=table.sort_values("meter_id", kind="mergesort").reset_index(drop=True),
        ratio_r=float(ratio_r),
        threshold_fraction=float(threshold_fraction),
        unchecked=int((~known).sum()),
        warnings=found,
    )
