"""Customer meter accuracy and apparent losses: error curves x consumption profiles.

The method of AWWA Manual M6 (*Water Meters*) and M36, and of Arregui, Cabrera & Cobacho,
*Integrated Water Meter Management* (IWA, 2006):

- the error of a meter of type T and age A at flow q is read from the bench-test curves: along a
  curve, linear in log10(q) between its points and constant beyond its end points; between
  ages, linear in age between the two nearest curves of type T (the nearest curve beyond the
  youngest or oldest);
- its weighted error over a customer's profile is ``E = sum_b share_b x error(q_b)`` (signed:
  negative when it under-registers), with ``q_b`` the band's representative flow;
- its true volume is ``registered / (1 + E)`` and its apparent loss ``true - registered``.

Over a population, ``weighted_error_percent = (registered - true) / true x 100`` and the
balance's under-registration fraction is ``apparent losses / true volume`` (meters record
``1 - fraction`` of true use). The 95 % limits come from a Monte Carlo over the curves (each
curve shifted by its bench-test uncertainty, ``sd_percent / sqrt(meters_tested)``) and the
profiles (each profile's shares drawn from a Dirichlet of concentration ``customers_logged``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..findings import Finding, warning
from .inputs import ErrorCurves, Profiles

__all__ = ["AGE_BAND_YEARS", "Assessment", "assess", "curve_error_percent", "weighted_error"]

#: Width of the age bands of the groups, years.
AGE_BAND_YEARS = 5


def curve_error_percent(
    curves: ErrorCurves,
    meter_type: str,
    age_years: float,
    flow_l_per_h: np.ndarray,
) -> np.ndarray:
    """Return the error (%) of a meter of a type and age at the given flows.

    Parameters
    ----------
    curves : ErrorCurves
    meter_type : str
    age_years : float
    flow_l_per_h : array
        Flows, l/h (> 0).

    Returns
    -------
    numpy.ndarray
        Error in percent at each flow.
    """
    table = curves.table[curves.table["meter_type"] == meter_type]
    if table.empty:
        raise InputError(f"meter type {meter_type!r} has no error curve; fix: add it to the curves file")
    ages = np.sort(table["age_years"].unique())
    log_q = np.log10(np.asarray(flow_l_per_h, dtype=float))

    def at(age: float) -> np.ndarray:
        curve = table[table["age_years"] == age]
        return np.interp(log_q, np.log10(curve["flow_l_per_h"].to_numpy()), curve["error_percent"].to_numpy())

    weights = _age_weights(ages, age_years)
    if len(weights) == 1:
        return at(weights[0][0])
    (a0, w0), (a1, w1) = weights
    return w0 * at(a0) + w1 * at(a1)


def _age_weights(ages: np.ndarray, age_years: float) -> list[tuple[float, float]]:
    """Return the curve ages a meter's age is interpolated between, with their weights.

    The nearest curve alone outside the curves' ages; else the two around it, ``1 - w`` and
    ``w`` with ``w = (age - a0) / (a1 - a0)``.
    """
    if age_years <= ages[0]:
        return [(ages[0], 1.0)]
    if age_years >= ages[-1]:
        return [(ages[-1], 1.0)]
    upper = int(np.searchsorted(ages, age_years))
    a0, a1 = ages[upper - 1], ages[upper]
    w = (age_years - a0) / (a1 - a0)
    return [(a0, 1.0 - w), (a1, w)]


def weighted_error(
    curves: ErrorCurves,
    profiles: Profiles,
    meter_type: str,
    profile: str,
    age_years: float,
) -> float:
    """Return a meter's weighted error E (a fraction, signed) over a customer profile.

    ``E = sum_b share_b x error(q_b) / 100``, ``q_b`` the band's representative flow.
    """
    bands = profiles.table[profiles.table["profile"] == profile]
    if bands.empty:
        raise InputError(f"profile {profile!r} is not in the profiles file; fix: add it or correct the meter")
    errors = curve_error_percent(curves, meter_type, age_years, bands["flow_l_per_h"].to_numpy())
    return float(np.dot(bands["volume_share"].to_numpy(), errors) / 100.0)


def band_start(band: str) -> int:
    """Return the first year of an age band ("10-14" -> 10), to sort the bands by age."""
    return int(str(band).split("-")[0])


def age_band(age_years: np.ndarray) -> np.ndarray:
    """Return the 5-year band of each age: "0-4", "5-9", ... (negative ages count as 0)."""
    low = (np.maximum(np.asarray(age_years, dtype=float), 0.0) // AGE_BAND_YEARS * AGE_BAND_YEARS).astype(int)
    return np.array([f"{a}-{a + AGE_BAND_YEARS - 1}" for a in low], dtype=object)


@dataclass(frozen=True)
class Assessment:
    """The accuracy of a meter population and its apparent losses.

    Attributes
    ----------
    meters : pandas.DataFrame
        The meters with ``age_years``, ``weighted_error_percent``, ``true_m3_per_year`` and
        ``apparent_losses_m3_per_year``.
    groups : pandas.DataFrame
        By meter type, profile and age band: ``meters``, ``weighted_error_percent``,
        ``apparent_losses_m3_per_year``.
    registered_m3_per_year, true_m3_per_year, apparent_losses_m3_per_year : float
    weighted_error_percent : float
        ``(registered - true) / true x 100`` over all meters.
    under_registration : float
        ``apparent losses / true volume`` (the balance's fraction).
    under_registration_ci95 : float
        Its 95 % limit relative to it (half-width / fraction), from the Monte Carlo.
    samples, seed : int
    warnings : list of Finding
    """

    meters: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame
    registered_m3_per_year: float
    true_m3_per_year: float
    apparent_losses_m3_per_year: float
    weighted_error_percent: float
    under_registration: float
    under_registration_ci95: float
    samples: int
    seed: int
    warnings: list[Finding]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON of ``nrwkit metering assess``."""
        groups = [
            {
                "meter_type": r.meter_type,
                "profile": r.profile,
                "age_band": r.age_band,
                "meters": int(r.meters),
                "weighted_error_percent": round(float(r.weighted_error_percent), 4),
                "apparent_losses_m3_per_year": round(float(r.apparent_losses_m3_per_year), 3),
            }
            for r in self.groups.itertuples()
        ]
        return {
            "meters": len(self.meters),
            "registered_m3_per_year": round(self.registered_m3_per_year, 3),
            "true_m3_per_year": round(self.true_m3_per_year, 3),
            "apparent_losses_m3_per_year": round(self.apparent_losses_m3_per_year, 3),
            "weighted_error_percent": round(self.weighted_error_percent, 4),
            "under_registration": {
                "fraction": round(self.under_registration, 6),
                "ci95": round(self.under_registration_ci95, 6),
            },
            "monte_carlo": {"samples": self.samples, "seed": self.seed},
            "groups": groups,
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _population(registered: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    true = registered / (1.0 + errors)
    total_true = float(true.sum())
    return total_true, (total_true - float(registered.sum())) / total_true if total_true > 0 else 0.0


def assess(
    meters: pd.DataFrame,
    curves: ErrorCurves,
    profiles: Profiles,
    *,
    year: int,
    samples: int = 500,
    seed: int = 0,
) -> Assessment:
    """Assess a meter population: each meter's weighted error, true volume and apparent loss.

    Vectorised: the weighted error is computed once per distinct (type, profile, age), however
    many meters share it (a million meters take a few seconds).

    Parameters
    ----------
    meters : pandas.DataFrame
        From :func:`~nrwkit.metering.read_meters`.
    curves : ErrorCurves
    profiles : Profiles
    year : int
        The year assessed: a meter's age is ``year - install_year``.
    samples : int
        Monte Carlo draws for the 95 % limits (0: none).
    seed : int
        Seed of the draws.

    Returns
    -------
    Assessment
    """
    found: list[Finding] = []
    frame = meters.copy()
    frame["age_years"] = float(year) - frame["install_year"].astype(float)
    future = frame["age_years"] < 0
    if future.any():
        found.append(
            warning(
                "metering-future-install",
                f"{int(future.sum())} meters were installed after {year}; they count as new (age 0)",
                fix="check install_year or the year assessed",
                elements=frame.loc[future, "meter_id"].head(20).tolist(),
                element_type="meter",
            )
        )
        frame.loc[future, "age_years"] = 0.0
    oldest = curves.table.groupby("meter_type")["age_years"].max()
    beyond = frame["age_years"] > frame["meter_type"].map(oldest)
    if beyond.any():
        found.append(
            warning(
                "metering-age-beyond-curves",
                f"{int(beyond.sum())} meters are older than their "
                "type's oldest curve: they take that curve (their error is likely worse)",
                fix="bench-test older meters of those types",
            )
        )
    keys = ["meter_type", "profile", "age_years"]
    combos = frame[keys].drop_duplicates().reset_index(drop=True)
    combos["error"] = [
        weighted_error(curves, profiles, t, p, a)
        for t, p, a in zip(combos["meter_type"], combos["profile"], combos["age_years"], strict=True)
    ]
    frame = frame.merge(combos, on=keys, how="left")
    registered = frame["annual_registered_m3"].to_numpy(dtype=float)
    frame["weighted_error_percent"] = frame["error"] * 100.0
    frame["true_m3_per_year"] = registered / (1.0 + frame["error"].to_numpy())
    frame["apparent_losses_m3_per_year"] = frame["true_m3_per_year"] - registered
    total_true, fraction = _population(registered, frame["error"].to_numpy())
    ci95 = _monte_carlo(frame, combos, curves, profiles, registered, fraction, samples, seed)
    frame["age_band"] = age_band(frame["age_years"].to_numpy())
    grouped = frame.groupby(["meter_type", "profile", "age_band"], sort=True)
    groups = grouped.agg(
        meters=("meter_id", "size"),
        registered=("annual_registered_m3", "sum"),
        true=("true_m3_per_year", "sum"),
        apparent_losses_m3_per_year=("apparent_losses_m3_per_year", "sum"),
    ).reset_index()
    start = groups["age_band"].map(band_start)  # "5-9" before "10-14"
    groups = groups.assign(_start=start).sort_values(["meter_type", "profile", "_start"])
    groups = groups.drop(columns="_start")
    groups = groups.reset_index(drop=True)
    groups["weighted_error_percent"] = np.where(
        groups["true"] > 0,
        (groups["registered"] - groups["true"]) / groups["true"].where(groups["true"] > 0, 1.0) * 100.0,
        0.0,
    )
    total_registered = float(registered.sum())
    return Assessment(
        meters=frame.drop(columns=["error"]),
        groups=groups.drop(columns=["registered", "true"]),
        registered_m3_per_year=total_registered,
        true_m3_per_year=total_true,
        apparent_losses_m3_per_year=total_true - total_registered,
        weighted_error_percent=(total_registered - total_true) / total_true * 100.0
        if total_true > 0
        else 0.0,
        under_registration=fraction,
        under_registration_ci95=ci95,
        samples=int(samples),
        seed=int(seed),
        warnings=found,
    )


def _monte_carlo(
    frame: pd.DataFrame,
    combos: pd.DataFrame,
    curves: ErrorCurves,
    profiles: Profiles,
    registered: np.ndarray,
    fraction: float,
    samples: int,
    seed: int,
) -> float:
    """Relative 95 % half-width of the under-registration fraction, over curve and profile draws."""
    if samples <= 0 or fraction == 0:
        return 0.0
    rng = np.random.default_rng(seed)
    curve_sd = curves.table.groupby(["meter_type", "age_years"]).apply(
        lambda c: float((c["sd_percent"] / np.sqrt(c["meters_tested"])).mean()), include_groups=False
    )
    bands = {name: group for name, group in profiles.table.groupby("profile")}
    # registered volume of each (type, profile, age) combination, to weigh the combinations
    weights = frame.groupby(["meter_type", "profile", "age_years"])["annual_registered_m3"].sum()
    reg = weights.reindex(pd.MultiIndex.from_frame(combos[["meter_type", "profile", "age_years"]])).to_numpy()
    # each combination's error at its bands (percent) and the weights of the curves it mixes: a
    # curve's shift moves its error by the same points at every flow, so a draw is a dot product
    keys = list(curve_sd.index)
    position = {key: k for k, key in enumerate(keys)}
    terms = []
    for t, prof, age in zip(combos["meter_type"], combos["profile"], combos["age_years"], strict=True):
        flows = bands[prof]["flow_l_per_h"].to_numpy()
        base = curve_error_percent(curves, t, age, flows)
        mix = np.zeros(len(keys))
        ages = np.sort(curves.table.loc[curves.table["meter_type"] == t, "age_years"].unique())
        for curve_age, weight in _age_weights(ages, age):
            mix[position[(t, float(curve_age))]] = weight
        terms.append((prof, base, mix))
    sd = curve_sd.to_numpy(dtype=float)
    alphas = {  # a profile's logged shares, as Dirichlet concentrations
        name: np.maximum(g["volume_share"].to_numpy(), 1e-6) * float(g["customers_logged"].iloc[0])
        for name, g in bands.items()
    }
    draws = np.empty(samples)
    for k in range(samples):
        shift = rng.normal(0.0, sd)
        shares = {name: rng.dirichlet(alpha) for name, alpha in alphas.items()}
        errors = np.array(
            [float(np.dot(shares[prof], base + mix @ shift)) / 100.0 for prof, base, mix in terms]
        )
        draws[k] = _population(reg, errors)[1]
    low, high = np.percentile(draws, [2.5, 97.5])
    return float((high - low) / 2.0 / abs(fraction))
