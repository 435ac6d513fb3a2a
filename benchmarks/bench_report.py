"""Benchmark: the inspection report of BWSN Network 2 (size, and time to open offline).

BWSN Network 2 (12,523 junctions, 14,822 pipes) comes from the `epyt` package (the
`benchmark` extra). The report is built as `nrwkit inspect --report` builds it, then opened
in headless Chromium with networking off (Debian packages chromium and chromium-driver) and
timed until its map is rendered and idle, best of REPEAT openings.

Targets (issue 4): under 15 MB, open within 10 s. Results: benchmarks/results/report-bwsn2.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

from bench_inspect import REPEAT, bwsn2_path

import nrwkit
from nrwkit.network import inspect_network, read_inp
from nrwkit.report import inspection_report

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from browser import AVAILABLE, REASON, offline_browser, open_report

RESULTS = Path(__file__).parent / "results" / "report-bwsn2.json"


def main() -> None:
    if not AVAILABLE:
        sys.exit(REASON)
    warnings.simplefilter("ignore")
    path = bwsn2_path()
    wn = read_inp(path)
    result = inspect_network(wn)
    start = time.perf_counter()
    report = inspection_report(wn, result, network_path=path)
    with tempfile.TemporaryDirectory() as tmp:
        out = report.write(Path(tmp) / "bwsn2.html")
        build_s = time.perf_counter() - start
        size_mb = out.stat().st_size / 1e6
        times = []
        with offline_browser() as driver:
            for _ in range(REPEAT):
                times.append(open_report(driver, out, timeout_s=60))
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    record = {
        "benchmark": "inspection report of BWSN Network 2",
        "junctions": wn.num_junctions, "pipes": wn.num_pipes,
        "report_mb": round(size_mb, 2), "build_s": round(build_s, 2),
        "open_offline_s": round(min(times), 2), "open_runs_s": [round(t, 2) for t in times],
        "console_errors": len(errors), "targets": {"size_mb": 15, "open_s": 10},
        "nrwkit": nrwkit.__version__, "python": platform.python_version(),
        "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d"),
    }
    print(f"BWSN Network 2 report: {size_mb:.1f} MB (target < 15 MB), built in {build_s:.1f} s, "
          f"opens offline in {min(times):.2f} s (target < 10 s), {len(errors)} console errors")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
