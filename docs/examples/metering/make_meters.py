"""Make ``meters.csv``, an illustrative population of 5,000 customer meters (not measured data).

The meters of a mid-sized utility, drawn with a seed so the file is the same byte for byte on
every run:

- 88 % household and 12 % commercial customers (the two profiles of ``profiles.csv``);
- households on DN15 meters: single-jet class B (the older stock) or volumetric class C (fitted
  from 2008 on); commercial customers mostly on DN20 multi-jet class B;
- install years 1995 to 2024, more meters in recent years (replacement on failure);
- registered volumes lognormal: households a median of 110 m3/year, commercial customers
  520 m3/year, with a wider spread;
- a tariff per m3 (household 1.20, commercial 2.10, in the utility's currency).

Run it from the repository root with ``.venv/bin/python docs/examples/metering/make_meters.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 2006
METERS = 5000
COMMERCIAL_SHARE = 0.12
FIRST_YEAR, LAST_YEAR = 1995, 2024
#: From this year on, household meters fitted are volumetric class C.
VOLUMETRIC_FROM = 2008
#: Median (m3/year) and log standard deviation of the registered volume of each profile.
VOLUMES = {"household": (110.0, 0.55), "commercial": (520.0, 0.9)}
TARIFFS = {"household": 1.20, "commercial": 2.10}


def make(seed: int = SEED, count: int = METERS) -> pd.DataFrame:
    """Return the meter table (one row per meter)."""
    rng = np.random.default_rng(seed)
    commercial = rng.random(count) < COMMERCIAL_SHARE
    profile = np.where(commercial, "commercial", "household")
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    weights = np.linspace(1.0, 2.0, len(years))  # more meters replaced in recent years
    install = rng.choice(years, size=count, p=weights / weights.sum())
    volumetric = (install >= VOLUMETRIC_FROM) & (rng.random(count) < 0.8)
    meter_type = np.where(volumetric, "DN15 volumetric C", "DN15 single-jet B")
    dn20 = commercial & (rng.random(count) < 0.75)
    meter_type = np.where(dn20, "DN20 multi-jet B", meter_type)
    median = np.where(commercial, VOLUMES["commercial"][0], VOLUMES["household"][0])
    sigma = np.where(commercial, VOLUMES["commercial"][1], VOLUMES["household"][1])
    registered = median * np.exp(sigma * rng.standard_normal(count))
    return pd.DataFrame(
        {
            "meter_id": [f"M{k:05d}" for k in range(1, count + 1)],
            "meter_type": meter_type,
            "profile": profile,
            "install_year": install,
            "annual_registered_m3": np.round(registered, 1),
            "size_mm": np.where(dn20, 20, 15),
            "tariff_per_m3": np.where(commercial, TARIFFS["commercial"], TARIFFS["household"]),
        }
    )


def main(folder: Path = Path(__file__).parent) -> Path:
    """Write ``meters.csv`` next to this script and return its path."""
    out = folder / "meters.csv"
    make().to_csv(out, index=False, lineterminator="\n")
    return out


if __name__ == "__main__":
    print(f"wrote {main()}")
