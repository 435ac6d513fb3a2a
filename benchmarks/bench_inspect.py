"""Benchmark: `inspect` on BWSN Network 2 against WNTR's plain load + one EPANET run.

BWSN Network 2 (12,523 junctions, 14,822 pipes) is not in the repository: it comes from
the `epyt` package (the `benchmark` extra: `pip install -e '.[benchmark]'`), which ships it
in its `networks/asce-tf-wdst` folder. Run with `make benchmark`. Both sides are timed in
this one process, best of REPEAT runs each, and the ratio is reported. Results go to
stdout and to benchmarks/results/inspect-bwsn2.json.

Target (issue 2): inspect finishes well under 10 s on 2 cores.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
import warnings
from importlib import resources
from pathlib import Path

import wntr

import nrwkit
from nrwkit.network import inspect_network, read_inp

REPEAT = int(os.environ.get("NRWKIT_BENCH_REPEAT", "3"))
RESULTS = Path(__file__).parent / "results" / "inspect-bwsn2.json"


def bwsn2_path() -> Path:
    try:
        folder = resources.files("epyt") / "networks" / "asce-tf-wdst"
    except ModuleNotFoundError:
        sys.exit("epyt is not installed: run `make benchmark` (installs the benchmark extra)")
    return Path(str(folder / "BWSN_Network_2.inp"))


def timed(func) -> tuple[float, object]:
    times, result = [], None
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def wntr_load_and_run(path: Path) -> wntr.sim.SimulationResults:
    """The obvious alternative: WNTR's load, then one EPANET run of a single period."""
    wn = wntr.network.WaterNetworkModel(str(path))
    wn.options.time.duration = 0
    with tempfile.TemporaryDirectory() as tmp:
        return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(Path(tmp) / "run"))


def nrwkit_inspect(path: Path):
    """nrwkit: read (with the text pre-pass), summarise, run every check incl. the simulation."""
    return inspect_network(read_inp(path))


def main() -> None:
    path = bwsn2_path()
    warnings.simplefilter("ignore")  # WNTR warns about unused curves in this file
    t_wntr, _ = timed(lambda: wntr_load_and_run(path))
    t_inspect, result = timed(lambda: nrwkit_inspect(path))
    counts = result.summary.counts
    record = {
        "benchmark": "inspect BWSN Network 2",
        "network": path.name,
        "junctions": counts["junctions"],
        "pipes": counts["pipes"],
        "findings": {sev: result.count(sev) for sev in ("error", "warning", "info")},
        "repeat": REPEAT,
        "nrwkit_inspect_s": round(t_inspect, 3),
        "wntr_load_plus_one_epanet_run_s": round(t_wntr, 3),
        "ratio_inspect_over_wntr": round(t_inspect / t_wntr, 2),
        "target_s": 10.0,
        "nrwkit": nrwkit.__version__,
        "wntr": wntr.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(f"{path.name}: {counts['junctions']} junctions, {counts['pipes']} pipes")
    print(f"  WNTR load + one EPANET run   {t_wntr:6.2f} s  (best of {REPEAT})")
    print(f"  nrwkit inspect (all checks)  {t_inspect:6.2f} s  (best of {REPEAT})")
    print(f"  ratio                        {t_inspect / t_wntr:6.2f}")
    print(f"  target                       < 10 s: {'met' if t_inspect < 10 else 'MISSED'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
