"""Benchmark: GeoPackage export and import of BWSN Network 2 beside WNTR's to_gis/from_gis.

BWSN Network 2 (12,523 junctions) comes from the `epyt` package (the `benchmark` extra).
Both sides run in this one process, best of REPEAT runs each:

- export: nrwkit `write_geopackage` (layers, findings layer off, model table) against WNTR's
  `to_gis` followed by writing its layers to a GeoPackage with geopandas;
- import: nrwkit `build_network` with the default mapping (reading the GeoPackage, snapping
  every pipe end, T-junction search, assembly, topology checks) against WNTR's `from_gis`
  on the GeoDataFrames already in memory (WNTR does no snapping: it trusts the node names).

Targets (issue 3): export < 5 s, import with snapping < 15 s on 2 cores.
Results go to stdout and benchmarks/results/gis-bwsn2.json.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import wntr
from bench_inspect import bwsn2_path, timed

import nrwkit
from nrwkit.gis import build_network, default_mapping, write_geopackage

RESULTS = Path(__file__).parent / "results" / "gis-bwsn2.json"


def wntr_export(wn, folder: Path) -> Path:
    gis = wn.to_gis()
    out = folder / "wntr.gpkg"
    for layer in ("junctions", "tanks", "reservoirs", "pipes", "pumps", "valves"):
        frame = getattr(gis, layer)
        if len(frame):
            frame.reset_index().to_file(out, layer=layer, driver="GPKG")
    return out


def main() -> None:
    warnings.simplefilter("ignore")
    wn = wntr.network.WaterNetworkModel(str(bwsn2_path()))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours = folder / "nrwkit.gpkg"

        def export_ours():
            write_geopackage(wn, ours, overwrite=True)

        t_export, _ = timed(export_ours)
        t_wntr_export, _ = timed(lambda: wntr_export(wn, folder))
        t_import, result = timed(lambda: build_network(ours, default_mapping()))
        gis = wn.to_gis()
        t_wntr_import, _ = timed(lambda: wntr.network.from_gis(gis))
    rebuilt = result.wn
    same = {(n, lk.start_node_name, lk.end_node_name) for n, lk in wn.links()} == \
        {(n, lk.start_node_name, lk.end_node_name) for n, lk in rebuilt.links()}
    record = {
        "benchmark": "GeoPackage export and import of BWSN Network 2",
        "junctions": wn.num_junctions, "pipes": wn.num_pipes,
        "nrwkit_export_s": round(t_export, 3), "wntr_to_gis_and_write_s": round(t_wntr_export, 3),
        "export_ratio": round(t_export / t_wntr_export, 2),
        "nrwkit_import_with_snapping_s": round(t_import, 3),
        "wntr_from_gis_in_memory_s": round(t_wntr_import, 3),
        "import_ratio": round(t_import / t_wntr_import, 2),
        "round_trip_same_topology": same,
        "targets_s": {"export": 5.0, "import": 15.0},
        "nrwkit": nrwkit.__version__, "wntr": wntr.__version__,
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(f"BWSN Network 2: {wn.num_junctions} junctions, {wn.num_pipes} pipes")
    print(f"  export  nrwkit {t_export:6.2f} s   WNTR to_gis + write {t_wntr_export:6.2f} s   "
          f"ratio {t_export / t_wntr_export:.2f}   target < 5 s: {'met' if t_export < 5 else 'MISSED'}")
    print(f"  import  nrwkit {t_import:6.2f} s   WNTR from_gis       {t_wntr_import:6.2f} s   "
          f"ratio {t_import / t_wntr_import:.2f}   target < 15 s: {'met' if t_import < 15 else 'MISSED'}")
    print(f"  round trip keeps the topology: {same}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
