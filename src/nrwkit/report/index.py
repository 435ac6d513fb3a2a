"""The workspace's index page: every report and output of the improvement track, linked."""

from __future__ import annotations

import datetime
import html
from pathlib import Path

from ..workspace import Workspace
from .html import Card, Report, created_stamp

__all__ = ["index_report", "write_index"]


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"


def index_report(workspace: Workspace) -> Report:
    """Build the index of a workspace: the track, its network, and links to every output."""
    ws = workspace
    dates = " to ".join(str(d) for d in (ws.start, ws.end) if d) or "dates not set"
    who = " and ".join(x for x in (ws.mentor, ws.mentee) if x)
    report = Report(title=ws.name, kicker="Improvement track workspace",
                    subtitle=f"{who + ', ' if who else ''}{dates}")
    report.add_input("Network", ws.network)
    report.options = {"CRS": ws.crs or "not stated", "units": ws.units}
    outputs = sorted((p for p in ws.outputs.glob("*") if p.is_file()),
                     key=lambda p: p.stat().st_mtime_ns, reverse=True)
    reports = ws.reports()
    report.cards = [Card("reports", str(len(reports))), Card("outputs", str(len(outputs)))]
    if reports:
        items = "".join(
            f'<tr><td>{_when(p)}</td><td><a href="outputs/'
            f'{html.escape(p.name)}">{html.escape(title)}</a></td><td class="num">{_size(p)}</td></tr>'
            for p, title in reports)
        body = ('<table class="data"><thead><tr><th>when</th><th>report</th><th class="num">size'
                f"</th></tr></thead><tbody>{items}</tbody></table>")
    else:
        body = '<p class="note">No reports yet: run an analysis on this workspace.</p>'
    report.add_section("Reports", body, lead="Newest first. Each report is one file that opens "
                       "without a network connection.")
    others = [p for p in outputs if p.suffix != ".html"]
    if others:
        items = "".join(
            f'<tr><td><a href="outputs/{html.escape(p.name)}">{html.escape(p.name)}</a></td>'
            f"<td>{_kind(p)}</td><td class=\"num\">{_size(p)}</td></tr>" for p in others)
        report.add_section("Data files", '<table class="data"><thead><tr><th>file</th><th>what'
                           f'</th><th class="num">size</th></tr></thead><tbody>{items}</tbody>'
                           "</table>", lead="GeoPackages open in QGIS; JSON and CSV in any tool.")
    return report


def _when(path: Path) -> str:
    """Return the run time from a dated output name (``YYYY-MM-DDTHHMM-...``)."""
    stamp = path.name[:15]
    try:
        when = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H%M")
    except ValueError:  # not a dated name: the file's own time
        when = datetime.datetime.fromtimestamp(path.stat().st_mtime)
    return when.strftime("%Y-%m-%d %H:%M")


def _kind(path: Path) -> str:
    return {".gpkg": "GeoPackage (QGIS)", ".json": "JSON results", ".csv": "table (CSV)",
            ".inp": "EPANET model", ".txt": "text report"}.get(path.suffix, path.suffix)


def write_index(workspace: Workspace) -> Path:
    """Write (or refresh) ``index.html`` at the workspace's root; return its path.

    The index is derived from the outputs, so it is the one file a workspace rewrites.
    """
    path = workspace.root / "index.html"
    report = index_report(workspace)
    report.created = created_stamp()
    return report.write(path, overwrite=True)
