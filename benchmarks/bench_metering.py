"""Benchmark: assessing 1,000,000 customer meters (issue 18 item 8), target < 10 s on 2 cores.

A seeded population of one million meters (three types, two profiles, install years 1995-2024)
over curves at four ages and eight-band profiles; timed with and without the Monte Carlo limits
(500 draws). Run: ``.venv/bin/python benchmarks/bench_metering.py``; writes
``benchmarks/results/metering-1m.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nrwkit.metering import ErrorCurves, Profiles, assess
from nrwkit.metering.inputs import representative_flow

OUT = Path(__file__).parent / "results" / "metering-1m.json"
METERS = 1_000_000


def _curves() -> ErrorCurves:
    rows = []
    for k, meter_type in enumerate(("DN15 volumetric", "DN15 single-jet", "DN20 multi-jet")):
        for age in (0, 5, 10, 15):
            for flow, new in ((5, -40), (10, -15), (20, -4), (50, -1), (200, 0.5), (1000, 0.8), (3000, 0.5)):
                worse = (1 + k) * age * (1.0 if flow <= 20 else 0.05)  # worst at low flows
                rows.append((meter_type, age, flow, new - worse, 1.0, 10))
    columns = ["meter_type", "age_years", "flow_l_per_h", "error_percent", "sd_percent", "meters_tested"]
    table = pd.DataFrame(rows, columns=columns)
    return ErrorCurves(table.sort_values(["meter_type", "age_years", "flow_l_per_h"]).reset_index(drop=True))


def _profiles() -> Profiles:
    edges = [0, 12, 24, 50, 100, 200, 500, 1000, 2000]
    rows = []
    for name, shares in (("household", (0.05, 0.08, 0.12, 0.2, 0.25, 0.2, 0.07, 0.03)),
                         ("commercial", (0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.2, 0.1))):
        for lo, hi, share in zip(edges[:-1], edges[1:], shares, strict=True):
            rows.append((name, lo, hi, share))
    table = pd.DataFrame(rows, columns=["profile", "flow_low_l_per_h", "flow_high_l_per_h", "volume_share"])
    table["flow_l_per_h"] = representative_flow(table["flow_low_l_per_h"].to_numpy(),
                                                table["flow_high_l_per_h"].to_numpy())
    table["customers_logged"] = 50.0
    return Profiles(table)


def main() -> dict[str, object]:
    rng = np.random.default_rng(2025)
    meters = pd.DataFrame({
        "meter_id": np.arange(METERS).astype(str),
        "meter_type": rng.choice(["DN15 volumetric", "DN15 single-jet", "DN20 multi-jet"], METERS),
        "profile": rng.choice(["household", "commercial"], METERS, p=[0.9, 0.1]),
        "install_year": rng.integers(1995, 2025, METERS),
        "annual_registered_m3": rng.lognormal(np.log(120), 0.5, METERS),
    })
    curves, profiles = _curves(), _profiles()
    out: dict[str, object] = {"meters": METERS}
    for samples in (0, 500):
        start = time.perf_counter()
        result = assess(meters, curves, profiles, year=2025, samples=samples, seed=1)
        out[f"seconds_with_{samples}_draws"] = round(time.perf_counter() - start, 2)
    out["under_registration"] = round(result.under_registration, 5)
    out["ci95"] = round(result.under_registration_ci95, 4)
    out["target_s"] = 10
    out["passes"] = bool(out["seconds_with_500_draws"] < 10)  # type: ignore[operator]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
