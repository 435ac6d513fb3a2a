"""Sampling: how many meters of a group to bench-test to know its weighted error to a margin.

The textbook sample size for estimating a mean (Cochran, *Sampling Techniques*, 3rd ed., 1977,
sections 4.4-4.6): from the standard deviation ``s`` of a pilot sample's weighted errors,
``n0 = (z x s / e)^2`` meters give the group's mean error within ``+-e`` at the confidence whose
two-sided normal quantile is ``z`` (1.96 at 95 %); for a group of ``N`` meters the finite
population correction gives ``n = n0 / (1 + (n0 - 1) / N)``. Both are rounded up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from ..errors import InputError

__all__ = ["SampleSize", "sample_size"]


@dataclass(frozen=True)
class SampleSize:
    """The number of meters to bench-test.

    Attributes
    ----------
    meters : int
        ``n``, the sample size (with the finite population correction when the population is known).
    infinite_population_meters : int
        ``n0 = (z s / e)^2`` rounded up.
    additional_meters : int
        Beyond the pilot sample: ``max(0, n - pilot_meters)``.
    pilot_meters : int
    sd_percent : float
        ``s``, the pilot's standard deviation (n - 1 denominator), percentage points.
    margin_percent, confidence, z : float
    population : int or None
    """

    meters: int
    infinite_population_meters: int
    additional_meters: int
    pilot_meters: int
    sd_percent: float
    margin_percent: float
    confidence: float
    z: float
    population: int | None

    def to_dict(self) -> dict[str, Any]:
        """Return the sample size as JSON-ready plain data."""
        return {
            "meters": self.meters,
            "infinite_population_meters": self.infinite_population_meters,
            "additional_meters": self.additional_meters,
            "pilot_meters": self.pilot_meters,
            "sd_percent": round(self.sd_percent, 4),
            "margin_percent": self.margin_percent,
            "confidence": self.confidence,
            "z": round(self.z, 6),
            "population": self.population,
        }


def _round_up(value: float) -> int:
    # 9.000000000001 from floating point is 9 meters, not 10
    return max(1, math.ceil(value - 1e-9))


def sample_size(
    pilot_errors_percent: Sequence[float],
    margin_percent: float,
    *,
    confidence: float = 0.95,
    population: int | None = None,
) -> SampleSize:
    """Return how many meters to bench-test to know a group's mean weighted error within a margin.

    Parameters
    ----------
    pilot_errors_percent : sequence of float
        The weighted errors (%) of the meters of a pilot sample (at least 2).
    margin_percent : float
        ``e``, the half-width wanted, percentage points (> 0).
    confidence : float
        The two-sided confidence, in (0, 1).
    population : int, optional
        ``N``, the meters in the group (finite population correction; ``n`` never exceeds it).

    Returns
    -------
    SampleSize

    Raises
    ------
    InputError
        For fewer than 2 pilot errors or a non-finite one, a margin of 0 or less, a confidence
        outside (0, 1), or a population below 1.
    """
    errors = np.asarray(pilot_errors_percent, dtype=float).ravel()
    if errors.size < 2 or not np.isfinite(errors).all():
        raise InputError(
            f"pilot_errors_percent: {errors.size} values; fix: give the finite weighted errors of at "
            "least 2 bench-tested meters"
        )
    if not (math.isfinite(margin_percent) and margin_percent > 0):
        raise InputError(f"margin_percent = {margin_percent!r}; fix: give a margin above 0 percentage points")
    if not (math.isfinite(confidence) and 0 < confidence < 1):
        raise InputError(f"confidence = {confidence!r}; fix: give a level between 0 and 1 (0.95)")
    if population is not None and (int(population) != population or population < 1):
        raise InputError(
            f"population = {population!r}; fix: give the number of meters in the group, 1 or more"
        )
    s = float(np.std(errors, ddof=1))
    z = float(norm.ppf(0.5 + confidence / 2.0))
    n0 = (z * s / margin_percent) ** 2
    n = n0 if population is None else n0 / (1.0 + (n0 - 1.0) / population)
    meters = _round_up(n)
    if population is not None:
        meters = min(meters, int(population))
    return SampleSize(
        meters=meters,
        infinite_population_meters=_round_up(n0),
        additional_meters=max(0, meters - errors.size),
        pilot_meters=int(errors.size),
        sd_percent=s,
        margin_percent=float(margin_percent),
        confidence=float(confidence),
        z=z,
        population=None if population is None else int(population),
    )
