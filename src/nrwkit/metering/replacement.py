"""Meter replacement economics: the revenue an ageing meter loses, the optimal replacement age.

The method of Arregui, Cabrera & Cobacho, *Integrated Water Meter Management* (IWA, 2006,
chapter on the optimal replacement period) and AWWA Manual M6:

- the revenue lost in year ``t`` of a meter's life is its apparent loss at age ``t`` times the
  tariff, the customer's true use held fixed: the meter registers ``true x (1 + E(t))``, so
  ``L(t) = -true x E(t) x tariff`` (``E`` the weighted error of
  :func:`~nrwkit.metering.weighted_error`, from the age-indexed curves; ages beyond the oldest
  curve take that curve, so the losses stop growing there);
- replacing every ``T`` years costs, per year, the equivalent annual cost
  ``EAC(T) = (C + sum_{t=1..T} L(t) / (1 + r)^t) x r / (1 - (1 + r)^-T)``, ``C`` the installed
  cost of a meter and ``r`` the discount rate; the optimal replacement age ``T*`` is the whole
  number of years, 1 to 30, that minimises it (the smallest on a tie);
- the payback of replacing a meter of age ``a`` now is the number of years (undiscounted,
  interpolated within the year) until the revenue the new meter saves,
  ``sum_k L(a + k) - L(k)``, repays ``C``; none when it does not within 30 years.

The programme takes the meters that have reached their group's ``T*``, ranks them by the revenue
replacement recovers in the coming year (all meters cost the same, so this is also the benefit
per unit cost), and keeps, in that order, as many as the budget pays for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..findings import Finding, warning
from .accuracy import assess, weighted_error
from .inputs import ErrorCurves, Profiles

__all__ = [
    "MAX_REPLACEMENT_AGE_YEARS",
    "ReplacementPlan",
    "equivalent_annual_cost",
    "optimal_replacement_age",
    "payback_years",
    "replacement_plan",
    "revenue_loss_by_age",
]

#: The replacement ages searched, 1 to this many years (also the payback horizon).
MAX_REPLACEMENT_AGE_YEARS = 30


def _check_economics(meter_cost: float, discount_rate: float) -> None:
    if not (math.isfinite(meter_cost) and meter_cost > 0):
        raise InputError(f"meter_cost = {meter_cost!r}; fix: give the installed cost of a meter, above 0")
    if not (math.isfinite(discount_rate) and 0 < discount_rate < 1):
        raise InputError(
            f"discount_rate = {discount_rate!r}; fix: give a yearly rate between 0 and 1 (0.05 for 5 %)"
        )


class _Errors:
    """Weighted errors by (type, profile, age), computed once each."""

    def __init__(self, curves: ErrorCurves, profiles: Profiles) -> None:
        self.curves, self.profiles = curves, profiles
        self.cache: dict[tuple[str, str, float], float] = {}

    def __call__(self, meter_type: str, profile: str, ages_years: Sequence[float] | np.ndarray) -> np.ndarray:
        out = np.empty(len(ages_years))
        for i, age in enumerate(ages_years):
            key = (meter_type, profile, float(age))
            if key not in self.cache:
                self.cache[key] = weighted_error(self.curves, self.profiles, meter_type, profile, float(age))
            out[i] = self.cache[key]
        return out


def revenue_loss_by_age(
    curves: ErrorCurves,
    profiles: Profiles,
    meter_type: str,
    profile: str,
    true_m3_per_year: float,
    tariff_per_m3: float,
    ages_years: Sequence[float] = tuple(range(1, MAX_REPLACEMENT_AGE_YEARS + 1)),
) -> np.ndarray:
    """Return the revenue a meter loses in each year of its life, the customer's true use fixed.

    Parameters
    ----------
    curves : ErrorCurves
    profiles : Profiles
    meter_type, profile : str
    true_m3_per_year : float
        The customer's true use, m3/year.
    tariff_per_m3 : float
        The price of a cubic metre.
    ages_years : sequence of float
        The ages at which to evaluate the loss (default 1 to 30: ``L(1) .. L(30)``).

    Returns
    -------
    numpy.ndarray
        ``L(t) = -true x E(t) x tariff`` at each age (negative where the meter over-registers).
    """
    errors = _Errors(curves, profiles)(meter_type, profile, list(ages_years))
    return -float(true_m3_per_year) * errors * float(tariff_per_m3)


def equivalent_annual_cost(
    meter_cost: float, losses: Sequence[float] | np.ndarray, discount_rate: float
) -> np.ndarray:
    """Return the equivalent annual cost of replacing every ``T`` years, ``T = 1 .. len(losses)``.

    Parameters
    ----------
    meter_cost : float
        ``C``, the installed cost of a meter (> 0).
    losses : sequence of float
        ``L(1), L(2), ...``: the revenue lost in each year of a meter's life.
    discount_rate : float
        ``r``, a yearly rate in (0, 1).

    Returns
    -------
    numpy.ndarray
        ``EAC(T) = (C + sum_{t<=T} L(t) / (1+r)^t) x r / (1 - (1+r)^-T)`` for each ``T``.
    """
    _check_economics(float(meter_cost), float(discount_rate))
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 1 or losses.size == 0 or not np.isfinite(losses).all():
        raise InputError("losses: give one finite revenue loss per year of life, at least one")
    t = np.arange(1, losses.size + 1, dtype=float)
    discount = (1.0 + discount_rate) ** -t
    present = meter_cost + np.cumsum(losses * discount)
    return present * discount_rate / (1.0 - discount)


def optimal_replacement_age(
    meter_cost: float, losses: Sequence[float] | np.ndarray, discount_rate: float
) -> int:
    """Return ``T*``, the whole years of life (1 .. len(losses)) with the least equivalent annual cost.

    The smallest ``T`` wins a tie. See :func:`equivalent_annual_cost` for the parameters.
    """
    return int(np.argmin(equivalent_annual_cost(meter_cost, losses, discount_rate))) + 1


def payback_years(meter_cost: float, gains: Sequence[float] | np.ndarray) -> float | None:
    """Return the years until yearly gains repay a cost (undiscounted, interpolated within a year).

    Parameters
    ----------
    meter_cost : float
        The cost to repay (> 0).
    gains : sequence of float
        The revenue gained in each coming year (year 1 first).

    Returns
    -------
    float or None
        The payback in years, or None when the gains never repay the cost.
    """
    cumulative = 0.0
    for k, gain in enumerate(gains):
        if gain > 0 and cumulative + gain >= meter_cost:
            return k + (meter_cost - cumulative) / gain
        cumulative += gain
    return None


@dataclass(frozen=True)
class ReplacementPlan:
    """The optimal replacement age by group and a replacement programme within a budget.

    Attributes
    ----------
    groups : pandas.DataFrame
        By ``meter_type, profile``: ``meters``, ``mean_age_years``, ``mean_true_m3_per_year``,
        ``tariff_per_m3`` (weighted by true use), ``optimal_replacement_age_years``,
        ``min_eac`` (the least equivalent annual cost per meter), ``payback_years`` (of replacing
        a meter of the group's mean age now; NaN when it never pays back) and ``cost_curve``
        (``EAC(T)``, ``T`` = 1 .. 30).
    candidates : pandas.DataFrame
        The meters that have reached their group's optimal age and whose replacement gains
        revenue, ranked (``rank``), with ``avoided_revenue_per_year`` (the coming year's),
        ``payback_years`` and ``within_budget``.
    meter_cost, discount_rate : float
    budget : float or None
    warnings : list of Finding
    """

    groups: pd.DataFrame
    candidates: pd.DataFrame = field(repr=False)
    meter_cost: float
    discount_rate: float
    budget: float | None
    warnings: list[Finding]

    @property
    def programme(self) -> pd.DataFrame:
        """The candidates the budget pays for, in rank order."""
        return self.candidates[self.candidates["within_budget"]]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON of the replacement economics: ``groups``, ``programme``, ``warnings``."""

        def money(value: float) -> float | None:
            return None if value is None or not math.isfinite(value) else round(float(value), 2)

        groups = [
            {
                "meter_type": r.meter_type,
                "profile": r.profile,
                "meters": int(r.meters),
                "mean_age_years": round(float(r.mean_age_years), 2),
                "mean_true_m3_per_year": round(float(r.mean_true_m3_per_year), 3),
                "tariff_per_m3": round(float(r.tariff_per_m3), 4),
                "optimal_replacement_age_years": int(r.optimal_replacement_age_years),
                "min_eac": money(r.min_eac),
                "payback_years": None if not math.isfinite(r.payback_years) else round(r.payback_years, 2),
                "cost_curve": [{"T": t + 1, "eac": money(v)} for t, v in enumerate(r.cost_curve)],
            }
            for r in self.groups.itertuples()
        ]
        chosen = self.programme
        programme = {
            "meter_cost": self.meter_cost,
            "discount_rate": self.discount_rate,
            "budget": self.budget,
            "candidates": len(self.candidates),
            "meters_replaced": len(chosen),
            "deferred": len(self.candidates) - len(chosen),
            "cost": money(len(chosen) * self.meter_cost),
            "avoided_revenue_per_year": money(float(chosen["avoided_revenue_per_year"].sum())),
            "meters": [
                {
                    "rank": int(r.rank),
                    "meter_id": r.meter_id,
                    "meter_type": r.meter_type,
                    "profile": r.profile,
                    "age_years": round(float(r.age_years), 2),
                    "optimal_replacement_age_years": int(r.optimal_replacement_age_years),
                    "avoided_revenue_per_year": money(r.avoided_revenue_per_year),
                    "payback_years": None
                    if not math.isfinite(r.payback_years)
                    else round(float(r.payback_years), 2),
                }
                for r in chosen.itertuples()
            ],
        }
        return {
            "groups": groups,
            "programme": programme,
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _tariffs(frame: pd.DataFrame, tariff_per_m3: float | None) -> np.ndarray:
    if tariff_per_m3 is not None and not (math.isfinite(tariff_per_m3) and tariff_per_m3 >= 0):
        raise InputError(f"tariff_per_m3 = {tariff_per_m3!r}; fix: give a price of 0 or more")
    if "tariff_per_m3" in frame:
        tariffs = pd.to_numeric(frame["tariff_per_m3"], errors="coerce").to_numpy(dtype=float)
    else:
        tariffs = np.full(len(frame), np.nan)
    if tariff_per_m3 is not None:
        tariffs = np.where(np.isnan(tariffs), tariff_per_m3, tariffs)
    missing = np.isnan(tariffs)
    if missing.any():
        meter = frame["meter_id"].iloc[int(np.flatnonzero(missing)[0])]
        raise InputError(
            f"meter {meter} has no tariff ({int(missing.sum())} meters without one); fix: give "
            "tariff_per_m3 in the meters table or a default tariff_per_m3"
        )
    if (tariffs < 0).any():
        meter = frame["meter_id"].iloc[int(np.flatnonzero(tariffs < 0)[0])]
        raise InputError(f"meter {meter} has a negative tariff; fix: give a price of 0 or more")
    return tariffs


def replacement_plan(
    meters: pd.DataFrame,
    curves: ErrorCurves,
    profiles: Profiles,
    *,
    year: int,
    meter_cost: float,
    discount_rate: float,
    tariff_per_m3: float | None = None,
    budget: float | None = None,
) -> ReplacementPlan:
    """Find each group's optimal replacement age and a replacement programme within a budget.

    Parameters
    ----------
    meters : pandas.DataFrame
        From :func:`~nrwkit.metering.read_meters` (a ``tariff_per_m3`` column is used where given).
    curves : ErrorCurves
    profiles : Profiles
    year : int
        The year of the plan: a meter's age is ``year - install_year`` (its true use is its
        registered volume corrected by its weighted error at that age, as in
        :func:`~nrwkit.metering.assess`).
    meter_cost : float
        Installed cost of a new meter (> 0), in the tariff's currency.
    discount_rate : float
        Yearly discount rate, in (0, 1).
    tariff_per_m3 : float, optional
        The tariff of the meters without one of their own.
    budget : float, optional
        The money for the programme (none: every candidate is in it).

    Returns
    -------
    ReplacementPlan

    Raises
    ------
    InputError
        For a meter cost of 0 or less, a discount rate outside (0, 1), a negative budget, or a
        meter with no tariff.
    """
    _check_economics(float(meter_cost), float(discount_rate))
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        raise InputError(f"budget = {budget!r}; fix: give 0 or more, or none for no limit")
    assessment = assess(meters, curves, profiles, year=year, samples=0)
    frame = assessment.meters.copy()
    frame["tariff_per_m3"] = _tariffs(frame, tariff_per_m3)
    # revenue base: true use x tariff; L(t) scales with it, so a group's losses (and its EAC) are
    # the mean of its meters'
    frame["base"] = frame["true_m3_per_year"] * frame["tariff_per_m3"]
    errors = _Errors(curves, profiles)
    life = np.arange(1, MAX_REPLACEMENT_AGE_YEARS + 1, dtype=float)
    rows, per_meter = [], []
    found: list[Finding] = list(assessment.warnings)
    capped = []
    for (meter_type, profile), group in frame.groupby(["meter_type", "profile"], sort=True):
        base = float(group["base"].mean())
        new = -errors(meter_type, profile, life)  # -E(t): loss per unit revenue base
        eac = equivalent_annual_cost(meter_cost, base * new, discount_rate)
        best = int(np.argmin(eac)) + 1
        if best == MAX_REPLACEMENT_AGE_YEARS:
            capped.append(f"{meter_type}/{profile}")
        mean_age = float(group["age_years"].mean())
        gains = base * (-errors(meter_type, profile, mean_age + life) - new)
        payback = payback_years(meter_cost, gains)
        true_total = float(group["true_m3_per_year"].sum())
        rows.append(
            {
                "meter_type": meter_type,
                "profile": profile,
                "meters": len(group),
                "mean_age_years": mean_age,
                "mean_true_m3_per_year": float(group["true_m3_per_year"].mean()),
                "tariff_per_m3": float(group["base"].sum()) / true_total
                if true_total > 0
                else float(group["tariff_per_m3"].mean()),
                "optimal_replacement_age_years": best,
                "min_eac": float(eac[best - 1]),
                "payback_years": np.nan if payback is None else payback,
                "cost_curve": [float(v) for v in eac],
            }
        )
        due = group[group["age_years"] >= best]
        for age, at_age in due.groupby("age_years"):
            loss_unit = -errors(meter_type, profile, float(age) + life) - new
            for meter in at_age.itertuples():
                gain = meter.base * loss_unit
                if gain[0] <= 0:
                    continue
                back = payback_years(meter_cost, gain)
                per_meter.append(
                    {
                        "meter_id": meter.meter_id,
                        "meter_type": meter_type,
                        "profile": profile,
                        "age_years": float(age),
                        "optimal_replacement_age_years": best,
                        "avoided_revenue_per_year": float(gain[0]),
                        "payback_years": np.nan if back is None else back,
                    }
                )
    if capped:
        found.append(
            warning(
                "metering-replacement-age-capped",
                f"{len(capped)} groups ({', '.join(capped[:5])}) are cheapest replaced at "
                f"{MAX_REPLACEMENT_AGE_YEARS} years or later: their meters lose too little to repay a "
                "new one sooner",
                fix="check their curves' ageing and the tariff; replace them when they fail",
            )
        )
    columns = [
        "meter_id",
        "meter_type",
        "profile",
        "age_years",
        "optimal_replacement_age_years",
        "avoided_revenue_per_year",
        "payback_years",
    ]
    candidates = pd.DataFrame(per_meter, columns=columns)
    candidates = candidates.sort_values(
        ["avoided_revenue_per_year", "meter_id"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    candidates.insert(0, "rank", np.arange(1, len(candidates) + 1))
    affordable = len(candidates) if budget is None else math.floor(budget / meter_cost + 1e-9)
    candidates["within_budget"] = candidates["rank"] <= affordable
    return ReplacementPlan(
        groups=pd.DataFrame(rows),
        candidates=candidates,
        meter_cost=float(meter_cost),
        discount_rate=float(discount_rate),
        budget=None if budget is None else float(budget),
        warnings=found,
    )
