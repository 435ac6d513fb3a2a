"""The report of a pressure-management scenario: key figures, zone map, the day, the four modes.

One self-contained HTML file (:class:`~nrwkit.report.html.Report`): the zone's leakage, average
and maximum pressure before and after its PRV(s), the predicted reduction of new bursts, the
critical node and the PRV settings in words; a map of the zone with its inlets and critical
node; the average and minimum zone pressure and the leakage rate over the day, before and
after; when the four modes were compared, their table and a bar chart of daily leakage per
mode; service violations and warnings; and how the figures were computed.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import wntr

from ..network.layout import link_coordinates, link_midpoint
from ..pressure import BURST_FREQUENCY_FACTOR, ScenarioResult
from ..pressure.scenario import clock_hhmm
from ..units import DAY_S, DAYS_PER_YEAR, HOUR_S
from .html import Card, Report, figure_svg, findings_html, table_html
from .maps import network_map

__all__ = ["MODE_NAMES", "pressure_report"]

#: How the report names each row of :func:`nrwkit.pressure.compare_modes` and each PRV mode.
MODE_NAMES = {"before": "before (no PRV)", "fixed": "fixed outlet", "time": "time-modulated",
              "flow": "flow-modulated", "critical": "critical-point control"}
#: The mode as a card shows it.
_SHORT_MODES = {"fixed": "fixed", "time": "time", "flow": "flow", "critical": "critical point"}
_BEFORE_COLOUR = "#95a5a6"
_AFTER_COLOUR = "#1f618d"
_TARGET_COLOUR = "#c0392b"
_ZONE_COLOUR = "#2e86c1"
_PRV_COLOUR = "#d35400"
_CRITICAL_COLOUR = "#c0392b"
#: Bar colours of the modes' chart (before grey, the modes from light to dark).
_MODE_COLOURS = {"before": _BEFORE_COLOUR, "fixed": "#aed6f1", "time": "#5dade2", "flow": "#2e86c1",
                 "critical": "#1b4f72"}


def pressure_report(wn: wntr.network.WaterNetworkModel, result: ScenarioResult, *,
                    comparison: pd.DataFrame | None = None, network_path: str | Path | None = None,
                    kicker: str = "Pressure management") -> Report:
    """Build the HTML report of a pressure-management scenario.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network as it is (without the scenario's PRVs), for the map.
    result : ScenarioResult
        From :func:`nrwkit.pressure.scenario`.
    comparison : pandas.DataFrame, optional
        From :func:`nrwkit.pressure.compare_modes` on the same zone and target: adds the modes'
        table and a bar chart of the daily leakage of each mode.
    network_path : str or Path, optional
        The network file, named in the header with its SHA-256.
    kicker : str
        The line above the title.

    Returns
    -------
    Report
        Key figures, the zone map, the day before and after, the modes (when compared),
        service violations, warnings and how the figures were computed; units in every
        label (m, m3/day, m3/h, %).
    """
    zone, before, after = result.zone, result.before, result.after
    name = Path(network_path).name if network_path else (wn.name or "network")
    report = Report(
        title=f"Pressure management: zone {zone.name}", kicker=kicker,
        subtitle=(f"{name}: {len(zone.junctions)} junctions fed by {_names(zone.inlets)}; "
                  f"{MODE_NAMES.get(result.prv.mode, result.prv.mode)} at its lowest settings keeping "
                  f"{result.target_m:g} m at the critical point; leakage {_volume(before.leakage_m3_per_day)}"
                  f" → {_volume(after.leakage_m3_per_day)} m3/day"))
    if network_path is not None and Path(network_path).is_file():
        report.add_input("Network", network_path)
    report.options = {"mode": result.prv.mode, "target (m)": f"{result.target_m:g}",
                      "N1": f"{result.leakage.n1:g}",
                      "night leakage (m3/h)": f"{result.leakage.night_leakage_m3h:.4g}"}
    report.cards = _cards(wn, result)
    report.add_map("The zone", zone_map(wn, result),
                   lead=f"The {len(zone.junctions)} junctions of zone {zone.name} and the pipes between "
                        "them in blue; orange triangles mark the PRV(s) at the inlets, the red star the "
                        "critical node (the junction with demand that has the lowest pressure at the peak "
                        "hour). The map opens on the zone: zoom out or pan for the rest of the network; "
                        "hover for names and figures; click a legend entry to hide a layer.")
    mode, in_words = prv_in_words(result)
    report.add_section("The PRV settings", table_html(_prv_rows(result), numeric_format="{:,.2f}"),
                       lead=f"{mode[0].upper()}{mode[1:]}: {in_words}. Outlet heads are hydraulic grade "
                            "(elevation plus pressure), in m; a PRV's setting is the pressure at its "
                            "outlet, its head minus its elevation, m.")
    start_s = int(wn.options.time.start_clocktime or 0)
    saved = _volume(before.leakage_m3_per_day - after.leakage_m3_per_day)
    report.add_section("The day, before and after", figure_svg(day_figure(result, start_clock_s=start_s),
                       caption="Top: average zone pressure (AZP, connection-weighted) and the lowest "
                               "pressure at a zone junction with demand, m, at each 15-minute step; the "
                               "target is the red dotted line. Bottom: the zone's leakage rate, m3/h."),
                       lead="Pressures in m over the hours of the day; the area between the before and "
                            f"after leakage curves is the water saved, {saved} m3/day.")
    if comparison is not None and len(comparison):
        report.add_section("The four modes", _comparison_body(comparison, result.prv.mode),
                           lead=f"Each PRV mode at its lowest settings that keep {result.target_m:g} m at "
                                "the critical point at every step of the day. A PRV that follows the demand "
                                "(flow-modulated) or the critical point itself lowers the pressure at the "
                                "hours of low demand, when a fixed outlet must still cover the peak hour's "
                                "headloss.")
    if result.service_violations:
        report.add_section("Customers below the service pressure", table_html(
            _violations(result.service_violations, start_s), numeric_format="{:,.2f}"),
            lead="Zone junctions with demand whose lowest pressure after is below the minimum service "
                 "pressure (by more than 0.5 m), lowest first.")
    if result.warnings:
        report.add_section("Warnings", findings_html(result.warnings))
    report.add_section("How this was computed", _method(result))
    return report


# --------------------------------------------------------------------------- figures in words
def _volume(value: float) -> str:
    """Return a volume or rate with the digits its size deserves (1.17, 23.4, 1,234)."""
    if not np.isfinite(value):
        return "n/a"
    size = abs(value)
    digits = 2 if size < 10 else 1 if size < 100 else 0
    return f"{value:,.{digits}f}"


def _names(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names) if len(names) <= 4 else f"{', '.join(names[:4])} and {len(names) - 4} more"


def _head_range(result: ScenarioResult) -> str:
    heads = result.after.hourly["outlet_head_m"].dropna()
    if heads.empty:
        return ""
    low, high = float(heads.min()), float(heads.max())
    return f"{low:.1f} m" if high - low < 0.05 else f"{low:.1f}–{high:.1f} m"


def prv_in_words(result: ScenarioResult) -> tuple[str, str]:
    """Return the PRV mode's name and its settings in words (outlet heads in m).

    Parameters
    ----------
    result : ScenarioResult
        The scenario.

    Returns
    -------
    tuple of str
        The mode (e.g. "flow-modulated") and a sentence with its settings: outlet heads
        (HGL) in m, ``H = a + b Q^2`` for flow modulation (Q the zone's inflow in m3/s),
        and each PRV's pressure setting (the head minus its outlet's elevation).
    """
    plan = result.prv
    s = plan.settings
    elevations = [float(z) for z in s.get("outlet_elevation_m", [])]
    over_day = _head_range(result)
    if plan.mode == "fixed":
        head = float(s["outlet_head_m"])
        text = f"outlet head {head:.2f} m at every hour"
        pressures = [head - z for z in elevations]
    elif plan.mode == "time":
        hours = s.get("night_hours", [])
        night = f"{min(hours):02d}:00–{max(hours) + 1:02d}:00" if hours else "night"
        day_head, night_head = float(s["day_head_m"]), float(s["night_head_m"])
        text = f"outlet head {day_head:.2f} m by day, {night_head:.2f} m at night ({night})"
        pressures = [day_head - z for z in elevations]
    elif plan.mode == "flow":
        a, b = float(s["a_m"]), float(s["b_m_per_m3s2"])
        text = (f"outlet head H = a + b Q² with a = {a:.2f} m, b = {b:,.4g} m per (m3/s)² "
                f"(Q the zone's inflow, m3/s); {over_day} over the day")
        heads = result.after.hourly["outlet_head_m"].dropna()
        pressures = [float(heads.max()) - z for z in elevations] if len(heads) else []
    else:
        text = (f"outlet head moved at each step so that the critical node keeps {float(s['target_m']):g} m; "
                f"{over_day} over the day")
        heads = result.after.hourly["outlet_head_m"].dropna()
        pressures = [float(heads.max()) - z for z in elevations] if len(heads) else []
    if pressures:
        settings = ", ".join(f"{prv} {p:.1f} m" for prv, p in zip(plan.links, pressures, strict=False))
        peak = " at the highest head" if plan.mode in ("flow", "critical", "time") else ""
        text += f"; pressure setting{peak}: {settings}"
    return MODE_NAMES.get(plan.mode, plan.mode), text


def _settings_short(result: ScenarioResult) -> str:
    """Return the mode's settings in a few words (outlet heads in m), for its card."""
    s = result.prv.settings
    if result.prv.mode == "fixed":
        return f"outlet head {float(s['outlet_head_m']):.1f} m"
    if result.prv.mode == "time":
        return f"outlet head {float(s['day_head_m']):.1f} m by day, {float(s['night_head_m']):.1f} m at night"
    over_day = _head_range(result)
    if result.prv.mode == "flow":
        return (f"H = {float(s['a_m']):.2f} + {float(s['b_m_per_m3s2']):,.4g} Q² m (Q in m3/s); "
                f"{over_day} over the day")
    return f"outlet head {over_day} over the day, for {float(s['target_m']):g} m at the critical node"


def _prv_rows(result: ScenarioResult) -> pd.DataFrame:
    """Return a row per PRV: its inlet, outlet elevation, outlet head and setting over the day, m."""
    heads = result.after.hourly["outlet_head_m"].dropna()
    low, high = (float(heads.min()), float(heads.max())) if len(heads) else (np.nan, np.nan)
    elevations = [float(z) for z in result.prv.settings.get("outlet_elevation_m", [])]
    rows = []
    for k, prv in enumerate(result.prv.links):
        z = elevations[k] if k < len(elevations) else np.nan
        inlet = result.zone.inlets[k] if k < len(result.zone.inlets) else ""
        rows.append({"PRV": prv, "inlet": inlet, "outlet elevation (m)": z,
                     "lowest outlet head (m)": low, "highest outlet head (m)": high,
                     "lowest setting (m)": low - z, "highest setting (m)": high - z})
    return pd.DataFrame(rows)


def _cards(wn: wntr.network.WaterNetworkModel, result: ScenarioResult) -> list[Card]:
    before, after = result.before, result.after
    saved_m3_per_year = (before.leakage_m3_per_day - after.leakage_m3_per_day) * DAYS_PER_YEAR
    reduction = result.leakage_reduction_percent
    bursts = result.burst_reduction_percent
    low, high = BURST_FREQUENCY_FACTOR["low"], BURST_FREQUENCY_FACTOR["high"]
    mode, _ = prv_in_words(result)
    critical_ok = after.critical_pressure_m >= result.target_m - 0.5
    moved = "" if before.critical_node == after.critical_node else f" (at {before.critical_node})"
    cards = [
        Card("zone leakage, before → after (m3/day)",
             f"{_volume(before.leakage_m3_per_day)} → {_volume(after.leakage_m3_per_day)}",
             "ok" if reduction > 0 else "warning",
             detail=f"{_volume(saved_m3_per_year)} m3/year saved"),
        Card("leakage reduction (%)", f"{reduction:.1f} %", "ok" if reduction > 0 else "warning",
             detail=f"FAVAD, N1 = {result.leakage.n1:g}"),
        Card("average zone pressure, AZP (m)", f"{before.azp_m:.1f} → {after.azp_m:.1f}",
             detail=f"at night (AZNP): {before.aznp_m:.1f} → {after.aznp_m:.1f} m"),
        Card("maximum pressure (m)", f"{before.max_pressure_m:.1f} → {after.max_pressure_m:.1f}",
             detail="highest at a zone junction over the day"),
        Card("fewer new bursts (%)", f"{bursts['central']:.0f} %", "ok" if bursts["central"] > 0 else "",
             detail=f"BFF {BURST_FREQUENCY_FACTOR['central']:g}; range {bursts['low']:.0f}–"
                    f"{bursts['high']:.0f} % (BFF {low:g}–{high:g})"),
        Card("critical node, lowest pressure after (m)",
             f"{after.critical_node}: {after.critical_pressure_m:.1f}", "ok" if critical_ok else "error",
             detail=f"target {result.target_m:g} m; before {before.critical_pressure_m:.1f} m"
                    + moved),
        Card(f"PRV mode ({_names(result.prv.links)})", _SHORT_MODES.get(result.prv.mode, mode),
             detail=_settings_short(result)),
    ]
    if result.value_saved_per_year is not None:
        cards.append(Card("value of the water saved, per year", f"{result.value_saved_per_year:,.0f}",
                          detail="leakage saved times the variable production cost"))
    if result.service_violations:
        cards.append(Card("junctions below the service pressure", str(len(result.service_violations)),
                          "error"))
    fire = result.fire_flow
    if fire is not None:
        cards.append(Card(f"fire flow {fire['flow_lps']:g} l/s at {fire['node']}, lowest pressure (m)",
                          f"{fire['before_min_pressure_m']:.1f} → {fire['after_min_pressure_m']:.1f}",
                          "ok" if fire["passes"] else "error",
                          detail=f"for {fire['duration_h']:g} h from the peak, before → with the PRV; "
                                 f"{fire['residual_m']:g} m needed"))
    return cards


# --------------------------------------------------------------------------- map
def zone_map(wn: wntr.network.WaterNetworkModel, result: ScenarioResult, *, height: int = 560) -> Any:
    """Return a Bokeh map of the network with the zone, its PRV(s) and its critical node marked.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (without the scenario's PRVs).
    result : ScenarioResult
        The scenario.
    height : int
        Height of the map in pixels (it stretches to the page's width).

    Returns
    -------
    bokeh.plotting.figure
        :func:`~nrwkit.report.maps.network_map` with the zone's pipes and junctions in blue,
        the PRVs at the inlets and the critical node; the view opens on the zone.
    """
    from bokeh.models import ColumnDataSource, HoverTool

    zone = result.zone
    fig = network_map(wn, height=height)
    inside = set(zone.junctions)
    pipes = [n for n, p in wn.pipes() if p.start_node_name in inside and p.end_node_name in inside]
    coords = [link_coordinates(wn.get_link(n)) for n in pipes]
    lines = fig.multi_line([[c[0] for c in cs] for cs in coords], [[c[1] for c in cs] for cs in coords],
                           line_color=_ZONE_COLOUR, line_width=3.0, line_alpha=0.9,
                           legend_label=f"Zone {zone.name}: pipes")
    xy = np.array([wn.get_node(j).coordinates for j in zone.junctions], dtype=float).reshape(-1, 2)
    points = fig.scatter("x", "y", source=ColumnDataSource({
        "x": xy[:, 0], "y": xy[:, 1], "id": list(zone.junctions),
        "elevation": [float(wn.get_node(j).elevation) for j in zone.junctions]}),
        size=9, fill_color=_ZONE_COLOUR, line_color="white", legend_label=f"Zone {zone.name}: junctions")
    fig.add_tools(HoverTool(renderers=[points], tooltips=[("zone junction", "@id"),
                                                          ("elevation (m)", "@elevation{0.0}")]))
    mids = np.array([link_midpoint(wn.get_link(n)) for n in zone.inlets], dtype=float).reshape(-1, 2)
    prv_names = list(result.prv.links) if len(result.prv.links) == len(zone.inlets) else list(zone.inlets)
    prvs = fig.scatter("x", "y", source=ColumnDataSource({
        "x": mids[:, 0], "y": mids[:, 1], "inlet": list(zone.inlets), "prv": prv_names,
        "end": list(zone.inlet_ends)}), marker="inverted_triangle", size=18, fill_color=_PRV_COLOUR,
        line_color="white", line_width=1.5, legend_label="PRV at an inlet")
    fig.add_tools(HoverTool(renderers=[prvs], tooltips=[("PRV", "@prv"), ("inlet", "@inlet"),
                                                        ("zone end", "@end")]))
    node = result.after.critical_node
    cx, cy = wn.get_node(node).coordinates
    star = fig.scatter("x", "y", source=ColumnDataSource({
        "x": [float(cx)], "y": [float(cy)], "id": [node],
        "before": [result.before.critical_pressure_m], "after": [result.after.critical_pressure_m]}),
        marker="star", size=22, fill_color=_CRITICAL_COLOUR, line_color="white", line_width=1.5,
        legend_label="Critical node")
    fig.add_tools(HoverTool(renderers=[star], tooltips=[
        ("critical node", "@id"), ("lowest pressure before (m)", "@before{0.0}"),
        ("lowest pressure after (m)", "@after{0.0}")]))
    # the view opens on the zone (wheel zoom or pan for the rest of the network)
    for axis_range in (fig.x_range, fig.y_range):
        axis_range.renderers = [lines, points, prvs, star]
        axis_range.range_padding = 0.25
    return fig


# --------------------------------------------------------------------------- charts
def _hours(frame: pd.DataFrame, start_clock_s: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Return the hour of the day of each row (sorted from midnight) and the rows in that order."""
    hours = ((frame.index.to_numpy(dtype=float) + start_clock_s) % DAY_S) / HOUR_S
    order = np.argsort(hours, kind="stable")
    return hours[order], frame.iloc[order]


def day_figure(result: ScenarioResult, *, start_clock_s: int = 0) -> Any:
    """Return the day before and after as a matplotlib figure: pressures (top), leakage (bottom).

    Parameters
    ----------
    result : ScenarioResult
        The scenario.
    start_clock_s : int
        Clock time of the runs' start, s after midnight (the model's start clock time).

    Returns
    -------
    matplotlib.figure.Figure
        AZP and the lowest zone pressure before (grey) and after (blue), with the target,
        in m; the zone's leakage rate before and after, m3/h; x in hours of the day.
    """
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.4), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    for state, colour, when in ((result.before, _BEFORE_COLOUR, "before"),
                                (result.after, _AFTER_COLOUR, "after")):
        hours, rows = _hours(state.hourly, start_clock_s)
        top.plot(hours, rows["azp_m"], color=colour, linewidth=2.2, label=f"AZP {when}")
        top.plot(hours, rows["min_pressure_m"], color=colour, linewidth=1.6, linestyle="--",
                 label=f"lowest pressure {when}")
        bottom.plot(hours, rows["leakage_m3h"], color=colour, linewidth=2.0, label=f"leakage {when}")
    _, rows_before = _hours(result.before.hourly, start_clock_s)
    hours, rows_after = _hours(result.after.hourly, start_clock_s)
    if len(rows_before) == len(rows_after):
        bottom.fill_between(hours, rows_after["leakage_m3h"].to_numpy(),
                            rows_before["leakage_m3h"].to_numpy(), color=_AFTER_COLOUR, alpha=0.12,
                            linewidth=0, label="water saved")
    top.axhline(result.target_m, color=_TARGET_COLOUR, linestyle=":", linewidth=1.6,
                label=f"target {result.target_m:g} m")
    top.set_ylabel("pressure (m)")
    bottom.set_ylabel("leakage (m3/h)")
    bottom.set_xlabel("hour of the day (h)")
    bottom.set_xlim(0, 24)
    bottom.set_xticks(range(0, 25, 2))
    bottom.set_ylim(bottom=0)
    top.set_ylim(bottom=0)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=9)
    top.set_title(f"Zone {result.zone.name}: pressure and leakage over the day", loc="left", fontsize=11)
    fig.tight_layout()
    return fig


def modes_figure(comparison: pd.DataFrame, *, chosen: str | None = None) -> Any:
    """Return a bar chart of the zone's daily leakage for each mode (before first), m3/day.

    Parameters
    ----------
    comparison : pandas.DataFrame
        From :func:`nrwkit.pressure.compare_modes`.
    chosen : str, optional
        The mode of the scenario, outlined.

    Returns
    -------
    matplotlib.figure.Figure
        Each bar labelled with its leakage and its reduction from before, %.
    """
    import matplotlib.pyplot as plt

    rows = list(comparison.index)
    leakage = comparison["leakage_m3_per_day"].astype(float).to_numpy()
    reduction = comparison["leakage_reduction_percent"].astype(float).to_numpy()
    fig, ax = plt.subplots(figsize=(10, 3.8))
    bars = ax.bar(range(len(rows)), leakage, color=[_MODE_COLOURS.get(r, _AFTER_COLOUR) for r in rows],
                  edgecolor=["#1c2833" if r == chosen else "white" for r in rows],
                  linewidth=[2.0 if r == chosen else 0.5 for r in rows], width=0.62)
    top = float(np.nanmax(leakage)) if len(leakage) else 1.0
    for bar, row, value, cut in zip(bars, rows, leakage, reduction, strict=True):
        label = f"{_volume(value)} m3/day" + ("" if row == "before" else f"\n−{cut:.1f} %")
        ax.text(bar.get_x() + bar.get_width() / 2, value + 0.02 * top, label, ha="center", va="bottom",
                fontsize=9)
    ax.set_xticks(range(len(rows)), [MODE_NAMES.get(r, r) for r in rows])
    ax.set_ylabel("zone leakage (m3/day)")
    ax.set_ylim(0, top * 1.25 if top > 0 else 1.0)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Daily leakage of the zone for each PRV mode", loc="left", fontsize=11)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- tables and text
def _comparison_body(comparison: pd.DataFrame, chosen: str) -> str:
    columns = {"azp_m": "AZP (m)", "aznp_m": "AZNP (m)", "max_pressure_m": "max pressure (m)",
               "critical_pressure_m": "lowest pressure at the critical node (m)",
               "leakage_m3_per_day": "leakage (m3/day)", "ndf_hours": "night-day factor (h)",
               "leakage_reduction_percent": "leakage reduction (%)",
               "burst_reduction_percent": f"fewer new bursts, BFF {BURST_FREQUENCY_FACTOR['central']:g} (%)"}
    shown = [c for c in columns if c in comparison.columns]
    table = comparison[shown].astype(float).rename(columns=columns)
    table.insert(0, "mode", [MODE_NAMES.get(r, r) + (" (this scenario)" if r == chosen else "")
                             for r in comparison.index])
    chart = figure_svg(modes_figure(comparison, chosen=chosen), caption=(
        "The zone's leakage over the day for each mode, m3/day, with its reduction from before (%); "
        "the scenario's mode is outlined."))
    return table_html(table, numeric_format="{:,.2f}") + chart


def _violations(violations: list[dict[str, Any]], start_clock_s: int) -> pd.DataFrame:
    return pd.DataFrame({
        "junction": [str(v["junction"]) for v in violations],
        "lowest pressure after (m)": [float(v["min_pressure_m"]) for v in violations],
        "at (hh:mm)": [clock_hhmm(int(v["time_s"]), start_clock_s) for v in violations],
    })


def _method(result: ScenarioResult) -> str:
    n1 = result.leakage.n1
    low, central, high = (BURST_FREQUENCY_FACTOR[k] for k in ("low", "central", "high"))
    night = html.escape(result.leakage.source)
    items = [
        f"<b>Leakage follows pressure (FAVAD).</b> A zone's leakage L varies with its pressure P as "
        f"L1/L0 = (P1/P0)<sup>N1</sup>; here N1 = {n1:g} (0.5 a fixed orifice, about 1 a large mixed "
        "system, 1.5 background leakage).",
        f"<b>Leakage as emitters.</b> The zone's background leakage is spread over its junctions in "
        f"proportion to the pipe length they serve and modelled as EPANET emitters q = C p<sup>N1</sup>, "
        f"calibrated so that the zone leaks {result.leakage.night_leakage_m3h:.4g} m3/h at the night hour "
        f"(the hour of least demand) of the network as it is: {night}.",
        "<b>Before and after.</b> Each is a 24-hour run at 15-minute steps; leakage in m3/day is the "
        "mean rate over the day (m3/h) times 24 h. AZP and AZNP are connection-weighted average zone "
        "pressures over the day and at the night hour, in m.",
        f"<b>The PRV modes.</b> Critical-point control is run first: at every step the PRVs' outlet "
        f"head is moved until the lowest pressure at a zone junction with demand is "
        f"{result.target_m:g} m. The other modes are derived from the heads it needed, at their "
        "lowest settings: fixed outlet (the highest head of the day), time-modulated (the highest "
        "head by day and by night, night 00:00–06:00) and flow-modulated (H = a + b Q², Q the "
        "zone's inflow, fitted above every step). So each mode keeps the target at every step, and "
        "leakage orders fixed ≥ time ≥ flow ≥ critical.",
        f"<b>New bursts.</b> The % reduction of new bursts is the burst frequency factor (BFF "
        f"{central:g}, range {low:g}–{high:g}) times the % cut of the zone's maximum pressure "
        "(Thornton &amp; Lambert 2007, 112 systems).",
    ]
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"
