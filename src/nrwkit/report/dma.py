"""The report of a DMA design: map, before/after table, per-DMA table, field schedule."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import wntr

from ..dma.evaluate import DmaEvaluation
from ..dma.model import DmaDesign
from ..dma.network import SIZE_UNITS
from ..dma.polygons import dma_polygons, label_points
from ..network.layout import link_coordinates, link_midpoint
from ..plot import (
    BOUNDARY_COLOUR,
    EXISTING_VALVE_COLOUR,
    METER_COLOUR,
    TRANSMISSION_COLOUR,
    VALVE_COLOUR,
    axis_labels,
    dma_colours,
)
from ..units import MM_PER_M
from .html import Card, Report, findings_html, table_html

__all__ = ["dma_map", "dma_report"]

def dma_map(wn: wntr.network.WaterNetworkModel, design: DmaDesign, evaluation: DmaEvaluation,
            *, height: int = 640, crs: str | None = None) -> Any:
    """Draw a Bokeh map: DMA areas and names, pipes by DMA, transmission mains, meters, valves.

    Each DMA's polygon (:func:`nrwkit.dma.dma_polygons`: its pipes, buffered) is filled lightly
    in the DMA's colour and its id written at a point inside it; pipes inside a DMA take its
    colour, transmission mains are dark grey and thicker, boundary pipes light grey. The
    colours are those of :func:`nrwkit.plot.plot_dma_design`. Every layer is a legend entry
    (beside the map) that hides or shows it; hover names the DMA, the pipe and the figures a
    field crew needs. The axes show plain coordinates, titled with their unit when known
    (:func:`nrwkit.plot.axis_labels`).

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    design, evaluation
        The design and its evaluation.
    height : int
        Height of the map in pixels (it stretches to the page's width).
    crs : str, optional
        CRS of the coordinates, for the axis titles.
    """
    from bokeh.models import BasicTickFormatter, CDSView, ColumnDataSource, HoverTool, IndexFilter
    from bokeh.plotting import figure

    fig = figure(sizing_mode="stretch_width", height=height, match_aspect=True,
                 tools="pan,wheel_zoom,box_zoom,reset,save", active_scroll="wheel_zoom",
                 toolbar_location="above", output_backend="canvas")
    fig.grid.grid_line_alpha = 0.25
    fig.background_fill_color = "#fbfcfd"
    xlabel, ylabel = axis_labels(wn, crs)
    fig.xaxis.axis_label, fig.yaxis.axis_label = xlabel, ylabel
    for axis in (*fig.xaxis, *fig.yaxis):
        axis.formatter = BasicTickFormatter(use_scientific=False)
        axis.axis_label_text_font_style = "normal"
        axis.axis_label_text_color = axis.major_label_text_color = "#5b6b78"
    colour = dma_colours(design.dma_ids)
    table = evaluation.dmas

    polygons = dma_polygons(wn, design, crs=crs)
    if len(polygons):
        xs: list[Any] = []
        ys: list[Any] = []
        names: list[str] = []
        for dma, geom in zip(polygons.dma, polygons.geometry, strict=True):
            parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
            if not parts:
                continue
            # one multi-polygon per DMA: its parts, each with its holes (blocks between pipes)
            rings = [(p.exterior, *p.interiors) for p in parts]
            xs.append([[[c[0] for c in ring.coords] for ring in part] for part in rings])
            ys.append([[[c[1] for c in ring.coords] for ring in part] for part in rings])
            names.append(dma)
        src = ColumnDataSource({
            "xs": xs, "ys": ys, "dma": names, "colour": [colour[n] for n in names],
            "junctions": [_figure(table, n, "junctions", int) for n in names],
            "pmin": [_figure(table, n, "min_pressure_m", float) for n in names],
            "aznp": [_figure(table, n, "aznp_m", float) for n in names],
        })
        areas = fig.multi_polygons("xs", "ys", source=src, fill_color="colour", fill_alpha=0.16,
                                   line_color=None, legend_label="DMA areas")
        # outlined along the outside only: the holes' outlines would double every street
        outside = [(dma, ring) for dma, geom in zip(polygons.dma, polygons.geometry, strict=True)
                   for part in shapely.get_parts(geom) if part.geom_type == "Polygon"
                   for ring in (part.exterior,) if not ring.is_empty]
        fig.patches([[c[0] for c in r.coords] for _, r in outside],
                    [[c[1] for c in r.coords] for _, r in outside], fill_color=None,
                    line_color=[colour[d] for d, _ in outside], line_alpha=0.6, line_width=1.0,
                    legend_label="DMA areas")  # same entry: hidden with the areas
        fig.add_tools(HoverTool(renderers=[areas], tooltips=[
            ("DMA", "@dma"), ("junctions", "@junctions"), ("min pressure at peak (m)", "@pmin{0.0}"),
            ("AZNP (m)", "@aznp{0.0}")]))

    # one source of every pipe, shown through three views: each class is a legend entry of
    # its own (hidden on a click) and its own width
    label = design.assignment.to_dict()
    rows: dict[str, list[Any]] = {"xs": [], "ys": [], "id": [], "dma": [], "colour": [], "dn": []}
    kinds: list[str] = []
    for name, pipe in wn.pipes():
        coords = link_coordinates(pipe)
        a, b = label.get(pipe.start_node_name), label.get(pipe.end_node_name)
        inside = a if a is not None and a == b else None
        kind = "dma" if inside else ("boundary" if name in design.boundary.index else "transmission")
        kinds.append(kind)
        rows["xs"].append([c[0] for c in coords])
        rows["ys"].append([c[1] for c in coords])
        rows["id"].append(name)
        rows["dma"].append(inside or kind)
        rows["colour"].append(colour[inside] if inside else
                              TRANSMISSION_COLOUR if kind == "transmission" else BOUNDARY_COLOUR)
        rows["dn"].append(pipe.diameter * MM_PER_M)
    pipes = ColumnDataSource(rows)
    for kind, width, legend in (("dma", 1.6, "Pipes in a DMA (its colour)"),
                                ("boundary", 2.0, "Boundary pipes"),
                                ("transmission", 3.0, "Transmission mains")):
        indices = [i for i, k in enumerate(kinds) if k == kind]
        if not indices:
            continue
        lines = fig.multi_line("xs", "ys", source=pipes, view=CDSView(filter=IndexFilter(indices=indices)),
                               line_color="colour", line_width=width, line_alpha=0.9, legend_label=legend)
        fig.add_tools(HoverTool(renderers=[lines], line_policy="interp", tooltips=[
            ("pipe", "@id"), ("in", "@dma"), ("diameter (mm)", "@dn{0}")]))

    schedule = evaluation.schedule
    for role, marker, fill, legend in (("meter", "square", METER_COLOUR, "Meters"),
                                       ("valve", "x", VALVE_COLOUR, "Boundary valves (close)"),
                                       ("existing valve", "circle_x", EXISTING_VALVE_COLOUR,
                                        "Existing closed valves")):
        chosen = design.boundary.index[design.boundary.role == role]
        if not len(chosen):
            continue
        mids = np.array([link_midpoint(wn.get_link(p)) for p in chosen])
        info = schedule.set_index("pipe").reindex(chosen) if len(schedule) else pd.DataFrame(index=chosen)
        src = ColumnDataSource({
            "x": mids[:, 0], "y": mids[:, 1], "id": list(chosen),
            "between": [f"{r.dma_start} / {r.dma_end}" for r in design.boundary.loc[chosen].itertuples()],
            "dn": design.boundary.loc[chosen, "diameter_m"].to_numpy() * MM_PER_M,
            "peak": info.get("peak_flow_lps", pd.Series(np.nan, index=chosen)).to_numpy(dtype=float),
            "night": info.get("night_flow_lps", pd.Series(np.nan, index=chosen)).to_numpy(dtype=float),
        })
        glyph = fig.scatter("x", "y", source=src, marker=marker, size=12 if role == "meter" else 11,
                            fill_color=fill, line_color=fill if marker == "x" else "white",
                            line_width=2.5 if marker == "x" else 1, legend_label=legend)
        fig.add_tools(HoverTool(renderers=[glyph], tooltips=[
            (legend.split(" (")[0].lower().rstrip("s"), "@id"), ("between", "@between"),
            ("diameter (mm)", "@dn{0}"), ("peak flow (l/s)", "@peak{0.0}"),
            ("night flow (l/s)", "@night{0.0}")]))

    devices = [n for n in wn.link_name_list if wn.get_link(n).link_type != "Pipe"]
    if devices:
        mids = np.array([link_midpoint(wn.get_link(n)) for n in devices]).reshape(-1, 2)
        glyph = fig.scatter("x", "y", marker="diamond", size=12, fill_color="#8e44ad",
                            line_color="white", legend_label="Pumps and valves",
                            source=ColumnDataSource({"x": mids[:, 0], "y": mids[:, 1], "id": devices}))
        fig.add_tools(HoverTool(renderers=[glyph], tooltips=[("link", "@id")]))
    for kind, nodes, marker, fill in (("Tanks", wn.tank_name_list, "square", "#16a085"),
                                      ("Reservoirs", wn.reservoir_name_list, "triangle", "#1f618d")):
        if nodes:
            xy = np.array([wn.get_node(n).coordinates for n in nodes], dtype=float).reshape(-1, 2)
            fig.scatter(xy[:, 0], xy[:, 1], marker=marker, size=16, fill_color=fill, line_color="white",
                        legend_label=kind)
    if len(polygons):
        where = [(str(d), p) for d, p in zip(polygons.dma, label_points(polygons), strict=True)
                 if not p.is_empty]
        # a text glyph draws nothing in the legend: a zero-size box under each name gives the
        # entry its symbol (markers in a legend take the legend's size, not the glyph's)
        fig.scatter(x=[p.x for _, p in where], y=[p.y for _, p in where], marker="square", size=0,
                    fill_color="white", line_color="#1c2833", line_width=1.2, legend_label="DMA names")
        # a white box in the DMA's colour behind each name (Bokeh's stubs lack these arguments)
        box: dict[str, Any] = {"background_fill_color": "white", "background_fill_alpha": 0.85,
                               "border_line_color": [colour[d] for d, _ in where],
                               "border_line_width": 1.5, "padding": 3, "border_radius": 3}
        fig.text(x=[p.x for _, p in where], y=[p.y for _, p in where], text=[d for d, _ in where],
                 text_align="center", text_baseline="middle", text_font_size="12px",
                 text_font_style="bold", text_color="#1c2833", legend_label="DMA names", **box)
    legend_obj = fig.legend[0]
    legend_obj.click_policy = "hide"
    legend_obj.location = "top_left"
    legend_obj.border_line_alpha = 0.0
    legend_obj.label_text_font_size = "12px"
    legend_obj.label_text_color = "#1c2833"
    legend_obj.spacing = 2
    fig.add_layout(legend_obj, "left")  # beside the map, so it hides none of it
    return fig


def _figure(table: pd.DataFrame, dma: str, column: str, kind: type) -> Any:
    """One DMA's figure from the evaluation's table (NaN when it has none)."""
    if dma in table.index and column in table.columns:
        return kind(table.loc[dma, column])
    return np.nan


def _fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:,.{digits}f}"


def dma_report(wn: wntr.network.WaterNetworkModel, design: DmaDesign, evaluation: DmaEvaluation, *,
               network_path: str | Path | None = None, kicker: str = "DMA design",
               title: str | None = None, crs: str | None = None) -> Report:
    """Build the HTML report of a DMA design.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network as it is (all boundary pipes open).
    design, evaluation
        From :func:`nrwkit.dma.design` (or ``from_assignment`` / ``read_design``).
    network_path : str or Path, optional
        The network file, named in the header with its SHA-256.
    kicker, title : str
        Header lines.
    crs : str, optional
        CRS of the coordinates, for the map's axis titles.
    """
    m = evaluation.metrics
    name = Path(network_path).name if network_path else (wn.name or "network")
    report = Report(title=title or f"DMA design: {name}", kicker=kicker,
                    subtitle=f"{m['n_dmas']} DMAs, {m['n_meters']} meters, {m['n_boundary_valves']} "
                             f"boundary valves to close; {'passes' if m['passes'] else 'FAILS'} the checks")
    if network_path is not None and Path(network_path).is_file():
        report.add_input("Network", network_path)
    report.options = {k: v for k, v in design.settings.items() if v is not None}
    report.cards = [
        Card("DMAs", str(m["n_dmas"])),
        Card("meters", str(m["n_meters"])),
        Card("valves to close", str(m["n_boundary_valves"])),
        Card("min pressure at peak",
             f"{_fmt(m['min_pressure_before_m'])} → {_fmt(m['min_pressure_after_m'])} m",
             "ok" if m["passes"] else "error"),
        Card("demand delivered", f"{m['delivered_demand_fraction']:.1%}",
             "ok" if m["delivered_demand_fraction"] >= m["delivered_demand_fraction_before"] - 0.001
             else "warning"),
        Card("checks", "pass" if m["passes"] else ("not verified" if not m.get("verified", True) else "fail"),
             "ok" if m["passes"] else "error"),
    ]
    if "coverage" in m:
        report.cards.append(Card("demand junctions in DMAs", f"{m['coverage']:.0%}",
                                 "ok" if m["coverage"] >= 0.9 else "warning"))
    report.add_map("The DMAs", dma_map(wn, design, evaluation, crs=crs),
                   lead="Each DMA is shaded around its pipes and named; pipes inside a DMA take "
                        "its colour, transmission mains are dark grey, boundary pipes light grey. "
                        "Green squares are meters, red crosses boundary valves to close. Hover for "
                        "figures; click a legend entry to hide a layer.")
    if design.stages:
        stages = pd.DataFrame({"stage": [s.name for s in design.stages],
                               "what it found": [s.summary for s in design.stages],
                               "seconds": ["–" if s.reported_seconds is None else f"{s.reported_seconds:.1f}"
                                           for s in design.stages]})
        report.add_section("How the design was made", table_html(stages, index=False),
                           lead="The stages of the run, in order, each with what it found.")
    report.add_section("Before and after", table_html(_before_after(m), index=False),
                       lead="The whole network at the peak-demand hour and over the checks' run (the "
                            "model's duration, up to three days), with pressure-dependent demand, "
                            "before and after the boundary valves are closed.")
    report.add_section("DMAs", table_html(_dma_rows(design, evaluation), index=False),
                       lead=f"Size in {SIZE_UNITS.get(design.size_by, design.size_by)}. Pressures at "
                            "the peak hour (minimum, connection-weighted average) and at night (AZNP); "
                            "the critical node has the lowest pressure at peak.")
    report.add_section("Field schedule", table_html(_schedule_rows(evaluation.schedule), index=False),
                       lead="What a crew does at each boundary pipe. A meter must register the night "
                            "flow and pass the peak (and fire) flow: for meters the flows are with the "
                            "valves closed; for valves, the flow the pipe carried at peak before closing.")
    if design.changes:
        items = "".join(f"<li>{html.escape(c)}</li>" for c in design.changes)
        report.add_section("What the checks changed", f"<ol>{items}</ol>",
                           lead="Each repair, in the order made, with the failure that caused it.")
    if len(evaluation.dead_ends):
        dead = evaluation.dead_ends.rename(columns={
            "junction": "junction", "dma": "DMA", "age_before_h": "water age before (h)",
            "age_after_h": "water age after (h)"})
        report.add_section("New dead ends", table_html(dead, index=False),
                           lead="Junctions the closures leave with one open pipe; water age (h) "
                                "averaged over hours 48-72 of a 72-hour run that starts from age 0. "
                                "48 h or more means water that is never renewed (warned).")
    if design.warnings:
        report.add_section("Warnings", findings_html(design.warnings))
    if len(design.transmission_junctions):
        reasons = design.transmission_junctions.groupby(design.transmission_junctions.to_numpy()).size()
        frame = pd.DataFrame({"reason": reasons.index, "junctions": reasons.to_numpy()}).sort_values(
            "junctions", ascending=False)
        report.add_section("Left in the transmission system", table_html(frame.head(40), index=False),
                           lead="Junctions outside every DMA, grouped by reason.")
    return report


def _before_after(m: dict[str, Any]) -> pd.DataFrame:
    rows = [
        ("Minimum pressure at peak (m)", _fmt(m["min_pressure_before_m"]), _fmt(m["min_pressure_after_m"])),
        ("Demand delivered over the run", f"{m['delivered_demand_fraction_before']:.2%}",
         f"{m['delivered_demand_fraction']:.2%}"),
        ("Todini resilience index (tanks as sources)", _fmt(m["todini_before"], 3),
         _fmt(m["todini_after"], 3)),
        ("Modularity of the DMAs", "", _fmt(m["modularity"], 3)),
        ("Size balance (coefficient of variation)", "", _fmt(m["size_cv"], 3)),
        ("Junctions left in transmission", "", str(m["n_transmission_junctions"])),
    ]
    return pd.DataFrame(rows, columns=["", "before", "after"])


def _dma_rows(design: DmaDesign, evaluation: DmaEvaluation) -> pd.DataFrame:
    t = evaluation.dmas
    frame = pd.DataFrame({
        "DMA": t.index,
        "junctions": t["junctions"].to_numpy(),
        "size": [f"{v:,.4g}" for v in t["size"]],
        "demand (m3/day)": t["demand_m3_per_day"].round(0).to_numpy(),
        "mains (km)": t["length_km"].round(2).to_numpy(),
        "inlets": [", ".join(v) for v in t["inlets"]],
        "valves": [len(v) for v in t["boundary_valves"]],
        "elevation range (m)": t["elevation_range_m"].round(1).to_numpy(),
        "min p before (m)": t["min_pressure_before_m"].round(1).to_numpy(),
        "min p after (m)": t["min_pressure_m"].round(1).to_numpy(),
        "AZNP (m)": t["aznp_m"].round(1).to_numpy(),
        "critical node": t["critical_node"].to_numpy(),
        "problems": t["problems"].to_numpy(),
    })
    if "fire_residual_m" in t:
        frame.insert(len(frame.columns) - 1, "fire residual (m)", t["fire_residual_m"].round(1).to_numpy())
    return frame


def _schedule_rows(schedule: pd.DataFrame) -> pd.DataFrame:
    if schedule.empty:
        return pd.DataFrame({"": ["no boundary pipes"]})
    def flow(column: str) -> list[str]:
        return ["" if not np.isfinite(v) else f"{v:,.2f}" for v in schedule[column].astype(float)]

    return pd.DataFrame({
        "pipe": schedule["pipe"],
        "action": schedule["action"],
        "between": schedule["dma_start"] + " / " + schedule["dma_end"],
        "nodes": schedule["start_node"] + " – " + schedule["end_node"],
        "DN (mm)": [f"{v:.0f}" for v in schedule["diameter_mm"]],
        "peak flow (l/s)": flow("peak_flow_lps"),
        "night flow (l/s)": flow("night_flow_lps"),
        "max flow (l/s)": flow("max_flow_lps"),
    })
