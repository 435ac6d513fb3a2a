"""The report of ``nrwkit gis import``: the model built from GIS layers and every repair."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..findings import Severity, findings_frame
from ..gis.build import ImportResult
from ..units import METRES_PER_KM
from .html import Card, Report, table_html
from .maps import network_map

__all__ = ["import_report"]


def import_report(result: ImportResult, *, layers: str | Path, mapping: str | Path | None = None,
                  kicker: str = "Model built from GIS layers") -> Report:
    """Build the HTML report of an import: counts, a map with every repair, the repair table.

    Parameters
    ----------
    result : ImportResult
        From :func:`nrwkit.gis.build_network`.
    layers : str or Path
        The layers' file (named in the header with its SHA-256 when it is a file).
    mapping : str or Path, optional
        The mapping file.
    kicker : str
        The line above the title.
    """
    wn = result.wn
    counts = wn.describe(level=1)
    title = f"Model built from {Path(layers).name}"
    crs = result.crs.name if result.crs is not None else "no CRS"
    report = Report(title=title, kicker=kicker,
                    subtitle=f"{counts['Nodes']['Junctions']:,} junctions and "
                             f"{counts['Links']['Pipes']:,} pipes, coordinates in {crs}")
    if Path(layers).is_file():
        report.add_input("Layers", layers)
    if mapping is not None:
        report.add_input("Mapping", mapping)
    by_severity = {s: sum(1 for f in result.findings if f.severity == s) for s in Severity}
    report.cards = [
        Card("junctions", f"{counts['Nodes']['Junctions']:,}"),
        Card("pipes", f"{counts['Links']['Pipes']:,}"),
        Card("pumps / valves", f"{counts['Links']['Pumps']} / {counts['Links']['Valves']}"),
        Card("errors", str(by_severity[Severity.ERROR]),
             "error" if by_severity[Severity.ERROR] else "ok"),
        Card("warnings", str(by_severity[Severity.WARNING]),
             "warning" if by_severity[Severity.WARNING] else "ok"),
        Card("repairs and notes", str(by_severity[Severity.INFO])),
    ]
    report.add_map("The model and its repairs", network_map(wn, findings=result.findings),
                   lead="Circles mark every repair and finding; hover for what was done. Click "
                        "a legend entry to hide or show that layer.")
    table = findings_frame(result.findings)
    if len(table):
        table["severity"] = [f'<span class="sev {v}">{v}</span>' for v in table["severity"]]
        body = table_html(table[["severity", "code", "n_elements", "message", "fix"]].rename(
            columns={"n_elements": "elements"}), raw_columns=("severity",))
    else:
        body = '<p class="note">Nothing needed repair.</p>'
    report.add_section("Repairs and findings", body, lead="What the import changed or decided, "
                       "and what to correct in the GIS. docs/gis-teams.md explains every code.")
    length_km = sum(wn.get_link(n).length for n in wn.pipe_name_list) / METRES_PER_KM
    rows = [("Mains length", f"{length_km:,.2f} km"), ("Flow units", wn.options.hydraulic.inpfile_units),
            ("CRS of the coordinates", crs)]
    report.add_section("The model", table_html(pd.DataFrame(rows, columns=["", "value"])))
    return report
