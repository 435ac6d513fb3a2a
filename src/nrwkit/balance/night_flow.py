"""Bottom-up check of real losses from a zone's minimum night flow (MNF).

- Legitimate night use: the share of the population active at night times a flush volume
  per hour (about 6 % and 10 l), plus non-household users measured or about 50 l/h each
  (UK practice; check locally).
- Net night flow ``NNF = MNF - legitimate night use``.
- Night-day factor ``NDF = sum over 24 h of (AZP_h / AZNP)^N1`` hours per day (FAVAD, May
  1994 and Lambert): fewer than 24 in gravity systems, more with night pressure reduction.
- Daily real losses ``= NNF x NDF``.
- Background leakage (BABE, Lambert): at 50 m and infrastructure condition factor 1, mains
  20 l/km/h, service connections 1.25 l/connection/h, private pipes 0.5 l/connection/h,
  scaled by ``(P/50)^1.5`` and by the ICF; the rest of the real losses is what active
  leakage control can find (reported and unreported bursts).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..units import HOURS_PER_DAY, LITRES_PER_M3

__all__ = ["NightFlowInput", "NightFlowResult", "night_flow"]

#: BABE unavoidable background leakage rates at 50 m, ICF 1 (litres per hour).
BACKGROUND_AT_50M = {"mains_per_km": 20.0, "per_connection": 1.25, "private_per_connection": 0.5}


class NightFlowInput(BaseModel):
    """A zone's night flow and what is needed to turn it into daily real losses (metric)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mnf_m3h: float = Field(gt=0, description="minimum night inflow of the zone, m3/h")
    population: float = Field(0.0, ge=0)
    share_active: float = Field(0.06, ge=0, le=1)
    flush_l: float = Field(10.0, ge=0)
    non_household_users: float = Field(0.0, ge=0)
    non_household_l_per_h: float = Field(50.0, ge=0)
    aznp_m: float = Field(gt=0, description="average zone night pressure at the MNF hour")
    hourly_azp_m: list[float] | None = None
    ndf_h: float | None = Field(None, gt=0, le=48)
    n1: float = Field(1.0, gt=0, le=3)
    mains_length_km: float = Field(0.0, ge=0)
    connections: float = Field(0.0, ge=0)
    icf: float = Field(1.0, gt=0, le=10)

    @field_validator("hourly_azp_m")
    @classmethod
    def _twenty_four(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (len(value) != 24 or min(value) <= 0):
            msg = "hourly_azp_m needs 24 pressures above 0 (one per hour of the day)"
            raise ValueError(msg)
        return value


@dataclass(frozen=True)
class NightFlowResult:
    """Bottom-up real losses of a zone (m3/h and m3/day)."""

    legitimate_night_use_m3h: float
    net_night_flow_m3h: float
    ndf_h: float
    real_losses_m3_per_day: float
    background_m3_per_day: float
    bursts_and_detectable_m3_per_day: float


def night_flow(data: NightFlowInput) -> NightFlowResult:
    """Estimate daily real losses from the minimum night flow.

    Examples
    --------
    >>> r = night_flow(NightFlowInput(mnf_m3h=30, population=10_000, aznp_m=50, ndf_h=20))
    >>> round(r.legitimate_night_use_m3h, 2), round(r.real_losses_m3_per_day, 1)
    (6.0, 480.0)
    """
    legit_l_h = data.population * data.share_active * data.flush_l \
        + data.non_household_users * data.non_household_l_per_h
    legit = legit_l_h / LITRES_PER_M3
    nnf = data.mnf_m3h - legit
    if data.ndf_h is not None:
        ndf = data.ndf_h
        pressures = [data.aznp_m] * HOURS_PER_DAY
    else:
        pressures = data.hourly_azp_m or [data.aznp_m] * HOURS_PER_DAY
        ndf = sum((p / data.aznp_m) ** data.n1 for p in pressures)
    rate_l_h = (BACKGROUND_AT_50M["mains_per_km"] * data.mains_length_km
                + (BACKGROUND_AT_50M["per_connection"] + BACKGROUND_AT_50M["private_per_connection"])
                * data.connections) * data.icf
    background = sum(rate_l_h * (p / 50.0) ** 1.5 for p in pressures) / LITRES_PER_M3
    daily = nnf * ndf
    return NightFlowResult(legit, nnf, ndf, daily, background, daily - background)
