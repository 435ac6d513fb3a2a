"""Make the leak readings of the README's tour, step 10, with nrwkit's own leak simulation.

A leak of 3 l/s (at 50 m) is hidden at junction n497 of the bundled L-Town network. The 33
pressure loggers of BattLeDIM 2020 read the pressure every 15 minutes from 00:00 to 06:00,
with 0.05 m of seeded Gaussian noise; the two mains from the reservoirs (p227, p235) carry flow
meters. The script writes, next to itself:

- ``l-town-readings.csv``: a ``time`` column (seconds from the model's start), then one column
  per logger (pressure, m), the file ``nrwkit leaks locate --readings`` reads;
- ``l-town-flows.csv``: the same times and the two inlet flows (m3/h), for ``--flows``.

Run it from the repository root with ``.venv/bin/python docs/examples/make_readings.py``. The
seed makes both files the same byte for byte on every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nrwkit.leaks import Leak, simulate_leaks
from nrwkit.networks import load
from nrwkit.units import SECONDS_PER_HOUR

#: The 33 pressure loggers of BattLeDIM 2020 (Vrachimis et al.).
LOGGERS = ("n1 n4 n31 n54 n105 n114 n163 n188 n215 n229 n288 n296 n332 n342 n410 n415 n429 n458 "
           "n469 n495 n506 n516 n519 n549 n613 n636 n644 n679 n722 n726 n740 n752 n769").split()
LEAK_JUNCTION = "n497"
LEAK_M3S = 0.003          # 3 l/s at the reference pressure of 50 m
NOISE_M = 0.05            # the loggers' noise (standard deviation), m
DURATION_S = int(6 * SECONDS_PER_HOUR)
STEP_S = 900              # 15 minutes
INLETS = ["p227", "p235"]
SEED = 2020


def main(folder: Path = Path(__file__).parent) -> tuple[Path, Path]:
    """Simulate the hidden leak and write the readings and the inlet flows.

    Parameters
    ----------
    folder : Path
        Where to write ``l-town-readings.csv`` and ``l-town-flows.csv``.

    Returns
    -------
    tuple of Path
        The readings file and the flows file.
    """
    wn = load("l-town")
    run = simulate_leaks(wn, [Leak(LEAK_JUNCTION, on="junction", flow_m3s=LEAK_M3S)],
                         duration_s=DURATION_S, report_step_s=STEP_S, links=INLETS)
    rng = np.random.default_rng(SEED)
    noise = rng.normal(0.0, NOISE_M, size=(len(run.pressure_m), len(LOGGERS)))
    readings = (run.pressure_m[LOGGERS] + noise).round(3).rename_axis("time")
    flows = (run.flowrate_m3s[INLETS] * SECONDS_PER_HOUR).round(3).rename_axis("time")
    readings_path, flows_path = folder / "l-town-readings.csv", folder / "l-town-flows.csv"
    readings.to_csv(readings_path, lineterminator="\n")
    flows.to_csv(flows_path, lineterminator="\n")
    return readings_path, flows_path


if __name__ == "__main__":
    for written in main():
        print(f"wrote {written}")
