"""The report of ``nrwkit inspect``: what the network is, what is wrong, where, and pressures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import wntr

from ..findings import findings_frame
from ..hydraulics import SteadyState
from ..network.checks import CHECKS
from ..network.inspection import Inspection
from ..units import SECONDS_PER_HOUR
from .html import Card, Report, figure_svg, table_html
from .maps import network_map

__all__ = ["inspection_report"]


def _summary_table(inspection: Inspection) -> str:
    s = inspection.summary
    c = s.counts
    rows = [
        ("Junctions", f"{c['junctions']:,}"), ("Tanks / reservoirs", f"{c['tanks']} / {c['reservoirs']}"),
        ("Pipes", f"{c['pipes']:,}"), ("Pumps / valves", f"{c['pumps']} / {c['valves']}"),
        ("Mains length", f"{s.mains_length_km:,.2f} km"),
        ("Elevation", f"{s.elevation_min_m:,.1f} to {s.elevation_max_m:,.1f} m"
         if s.elevation_min_m is not None else "n/a"),
        ("Base demand", f"{s.base_demand_m3_per_day:,.0f} m3/day"),
        ("Peak demand", f"{s.peak_demand_m3_per_day:,.0f} m3/day at {s.peak_time_h:.2f} h"),
        ("Flow units of the file", s.flow_units), ("Headloss formula", s.headloss_formula),
        ("Duration", f"{s.duration_h:g} h (hydraulic step {s.hydraulic_timestep_s} s)"),
        ("CRS", s.crs or "not stated (an .inp file carries none)"),
    ]
    return table_html(pd.DataFrame(rows, columns=["", "value"]))


def _diameter_figure(inspection: Inspection) -> str:
    import matplotlib.pyplot as plt

    km = pd.Series(inspection.summary.length_by_diameter_km)
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    ax.barh(km.index[::-1], km.to_numpy()[::-1], color="#1b7fa6")
    for y, value in enumerate(km.to_numpy()[::-1]):
        if value > 0:
            ax.text(value, y, f" {value:,.1f} km", va="center", fontsize=8, color="#1d2b36")
    ax.set_xlabel("mains length (km)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlim(0, max(km.max() * 1.2, 1e-3))
    return figure_svg(fig, caption="Mains length by diameter class (upper edge of each class "
                                   "included).")


def _pressure_figure(state: SteadyState, wn: wntr.network.WaterNetworkModel,
                     min_pressure_m: float) -> str:
    import matplotlib.pyplot as plt

    pressure = state.pressure_m.reindex(wn.junction_name_list).dropna()
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    ax.hist(pressure, bins=40, color="#1b7fa6")
    ax.axvline(min_pressure_m, color="#c0392b", lw=1.5, ls="--")
    ax.text(min_pressure_m, ax.get_ylim()[1] * 0.95, f" service standard {min_pressure_m:g} m",
            color="#c0392b", fontsize=8, va="top")
    ax.set_xlabel("pressure at peak demand (m)")
    ax.set_ylabel("junctions")
    ax.spines[["top", "right"]].set_visible(False)
    return figure_svg(fig, caption="Junction pressures in the baseline steady state at peak "
                                   "demand (EPANET 2.2).")


def inspection_report(
    wn: wntr.network.WaterNetworkModel,
    inspection: Inspection,
    *,
    network_path: str | Path | None = None,
    state: SteadyState | None = None,
    kicker: str = "Network inspection",
) -> Report:
    """Build the HTML report of an inspection.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network inspected.
    inspection : Inspection
        From :func:`nrwkit.network.inspect_network`.
    network_path : str or Path, optional
        The ``.inp`` file, named in the header with its SHA-256.
    state : SteadyState, optional
        The baseline steady state (default: the inspection's): colours the map by pressure
        and adds a histogram.
    kicker : str
        The line above the title (e.g. the improvement track's name).

    Returns
    -------
    Report
        Call :meth:`Report.write` or :meth:`Report.to_html`.
    """
    s = inspection.summary
    state = state if state is not None else inspection.state
    report = Report(title=f"Network inspection: {s.name}", kicker=kicker,
                    subtitle=f"{s.counts['junctions']:,} junctions and {s.mains_length_km:,.1f} km "
                             f"of mains, checked against {len(CHECKS)} validation rules"
                             + (" and a baseline EPANET simulation"
                                if inspection.options.get("simulate") else ""))
    if network_path is not None:
        report.add_input("Network", network_path)
    report.options = dict(inspection.options)
    errors, warnings_, infos = (inspection.count(sev) for sev in ("error", "warning", "info"))
    report.cards = [
        Card("junctions", f"{s.counts['junctions']:,}"),
        Card("km of mains", f"{s.mains_length_km:,.1f}"),
        Card("peak demand, m3/day", f"{s.peak_demand_m3_per_day:,.0f}"),
        Card("errors", str(errors), "error" if errors else "ok"),
        Card("warnings", str(warnings_), "warning" if warnings_ else "ok"),
        Card("infos", str(infos)),
    ]
    if state is not None:
        low = state.pressure_m.reindex(wn.junction_name_list).min()
        report.cards.insert(3, Card("lowest pressure at peak, m", f"{low:,.1f}",
                                    "error" if low < 0 else ""))
    lead = ("Pan with the mouse, zoom with the wheel, hover over an element for its values. "
            "Click a legend entry to hide or show that layer. Circles mark findings.")
    fig = network_map(wn, node_values=state.pressure_m if state is not None else None,
                      node_label="pressure at peak (m)", findings=inspection.findings)
    report.add_map("Network map", fig, lead=lead)
    table = findings_frame(inspection.findings)
    if len(table):
        table["severity"] = [f'<span class="sev {v}">{v}</span>' for v in table["severity"]]
        shown = table[["severity", "code", "n_elements", "message", "fix"]].rename(
            columns={"n_elements": "elements"})
        body = table_html(shown, raw_columns=("severity",))
    else:
        body = '<p class="note">No findings: every check passed.</p>'
    report.add_section("Findings", body, lead="Each finding names the elements concerned and "
                       "what to do. The codes are explained in nrwkit's docs/checks.md.")
    report.add_section("The network", _summary_table(inspection) + _diameter_figure(inspection))
    if state is not None:
        report.add_section("Pressures at peak demand",
                           _pressure_figure(state, wn, float(inspection.options["min_pressure_m"])),
                           lead=f"Snapshot at model time {state.time_s / SECONDS_PER_HOUR:.2f} h, "
                                "tank levels and pump and valve statuses as at the start of the "
                                "simulation.")
    return report
