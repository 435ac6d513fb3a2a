"""Interactive network maps for reports (Bokeh, with its JavaScript inlined in the report).

Pan, wheel zoom, box zoom, hover for each element's id and values, a legend whose entries
switch layers on and off, and a colour bar for the attribute shown. Coordinates are drawn as
they are (a projected CRS, or an ``.inp`` file's local coordinates): no tiles, nothing
fetched, so the map works offline and for networks with no CRS.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import wntr

from ..findings import Finding
from ..network.layout import link_coordinates, link_midpoint
from ..units import MM_PER_M

__all__ = ["network_map"]

_SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#d68910", "info": "#2874a6"}


def _link_lines(wn: wntr.network.WaterNetworkModel, names: Iterable[str]) -> tuple[list, list]:
    xs, ys = [], []
    for name in names:
        pts = link_coordinates(wn.get_link(name))
        xs.append([p[0] for p in pts])
        ys.append([p[1] for p in pts])
    return xs, ys


def network_map(
    wn: wntr.network.WaterNetworkModel,
    *,
    node_values: pd.Series | None = None,
    node_label: str = "value",
    link_values: pd.Series | None = None,
    link_label: str = "value",
    findings: Iterable[Finding] = (),
    palette: str = "Viridis256",
    height: int = 620,
    units: str = "",
) -> Any:
    """Return a Bokeh figure of the network, optionally coloured by node or link values.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    node_values : pandas.Series, optional
        Values to colour junctions by (index = node names), e.g. pressure in m.
    node_label : str
        Name and unit of ``node_values`` for the colour bar and hover.
    link_values : pandas.Series, optional
        Values to colour pipes by (index = link names); used when ``node_values`` is None.
    link_label : str
        Name and unit of ``link_values``.
    findings : iterable of Finding
        Shown as a layer per severity, at their elements.
    palette : str
        A Bokeh palette name.
    height : int
        Height in pixels (the width follows the page).
    units : str
        Coordinate units for the axis labels ("" when unknown, e.g. an .inp without CRS).

    Returns
    -------
    bokeh.plotting.figure
        Ready for :meth:`nrwkit.report.Report.add_map`.
    """
    from bokeh import palettes
    from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper  # type: ignore[attr-defined]
    from bokeh.plotting import figure

    fig = figure(sizing_mode="stretch_width", height=height, match_aspect=True,
                 tools="pan,wheel_zoom,box_zoom,reset,save", active_scroll="wheel_zoom",
                 toolbar_location="above", output_backend="canvas")
    fig.xaxis.axis_label = f"x ({units})" if units else "x"
    fig.yaxis.axis_label = f"y ({units})" if units else "y"
    fig.grid.grid_line_alpha = 0.25
    fig.background_fill_color = "#fbfcfd"
    colours = getattr(palettes, palette)

    pipes = wn.pipe_name_list
    xs, ys = _link_lines(wn, pipes)
    diameter_mm = np.array([wn.get_link(n).diameter * MM_PER_M for n in pipes])
    width = np.clip(diameter_mm / 100.0, 0.8, 5.0)
    pipe_data: dict[str, Any] = {"xs": xs, "ys": ys, "id": pipes, "diameter_mm": diameter_mm,
                                 "length_m": [wn.get_link(n).length for n in pipes], "width": width}
    tooltips = [("pipe", "@id"), ("diameter (mm)", "@diameter_mm{0}"), ("length (m)", "@length_m{0.0}")]
    line_colour: Any = "#7f8c8d"
    mapper = None
    if link_values is not None and node_values is None:
        values = link_values.reindex(pipes).to_numpy(dtype=float)
        mapper = LinearColorMapper(palette=colours, low=np.nanmin(values), high=np.nanmax(values))
        pipe_data["value"] = values
        line_colour = {"field": "value", "transform": mapper}
        tooltips.append((link_label, "@value{0.00}"))
    source = ColumnDataSource(pipe_data)
    lines = fig.multi_line("xs", "ys", source=source, line_color=line_colour, line_width="width",
                           line_alpha=0.85, legend_label="Pipes")
    fig.add_tools(HoverTool(renderers=[lines], tooltips=tooltips, line_policy="interp"))

    junctions = wn.junction_name_list
    jxy = np.array([wn.get_node(n).coordinates for n in junctions], dtype=float).reshape(-1, 2)
    jdata: dict[str, Any] = {"x": jxy[:, 0], "y": jxy[:, 1], "id": junctions,
                             "elevation_m": [wn.get_node(n).elevation for n in junctions]}
    jtips = [("junction", "@id"), ("elevation (m)", "@elevation_m{0.0}")]
    fill: Any = "#34495e"
    if node_values is not None:
        values = node_values.reindex(junctions).to_numpy(dtype=float)
        mapper = LinearColorMapper(palette=colours, low=np.nanmin(values), high=np.nanmax(values))
        jdata["value"] = values
        fill = {"field": "value", "transform": mapper}
        jtips.append((node_label, "@value{0.00}"))
    size = 7 if len(junctions) < 2000 else 4
    points = fig.scatter("x", "y", source=ColumnDataSource(jdata), size=size, fill_color=fill,
                         line_color=None, legend_label="Junctions")
    fig.add_tools(HoverTool(renderers=[points], tooltips=jtips))

    for kind, names, marker, colour in (("Tanks", wn.tank_name_list, "square", "#16a085"),
                                        ("Reservoirs", wn.reservoir_name_list, "triangle", "#1f618d")):
        if not names:
            continue
        xy = np.array([wn.get_node(n).coordinates for n in names], dtype=float).reshape(-1, 2)
        source = ColumnDataSource({"x": xy[:, 0], "y": xy[:, 1], "id": names})
        glyph = fig.scatter("x", "y", source=source, marker=marker, size=16, fill_color=colour,
                            line_color="white", legend_label=kind)
        fig.add_tools(HoverTool(renderers=[glyph], tooltips=[(kind[:-1].lower(), "@id")]))
    pipe_set = set(pipes)
    devices = [n for n in wn.link_name_list if n not in pipe_set]
    if devices:
        mids = np.array([link_midpoint(wn.get_link(n)) for n in devices])
        kinds = [wn.get_link(n).link_type for n in devices]
        source = ColumnDataSource({"x": mids[:, 0], "y": mids[:, 1], "id": devices, "kind": kinds})
        glyph = fig.scatter("x", "y", source=source, marker="diamond", size=13, fill_color="#8e44ad",
                            line_color="white", legend_label="Pumps and valves")
        fig.add_tools(HoverTool(renderers=[glyph], tooltips=[("@kind", "@id")]))

    _add_findings(fig, wn, findings)
    if mapper is not None:
        bar = ColorBar(color_mapper=mapper, title=node_label if node_values is not None else link_label,
                       location=(0, 0), width=12)
        fig.add_layout(bar, "right")
    legend = fig.legend[0]
    legend.click_policy = "hide"
    legend.location = "top_left"
    legend.border_line_alpha = 0.0
    fig.add_layout(legend, "left")  # beside the map, so it hides none of the network
    return fig


def _add_findings(fig: Any, wn: wntr.network.WaterNetworkModel, findings: Iterable[Finding]) -> None:
    from bokeh.models import ColumnDataSource, HoverTool

    rows: dict[str, dict[str, list]] = {}
    nodes, links = set(wn.node_name_list), set(wn.link_name_list)
    for f in findings:
        for element in f.elements:
            if element in nodes:
                x, y = wn.get_node(element).coordinates
            elif element in links:
                x, y = link_midpoint(wn.get_link(element))
            elif f.location is not None:
                x, y = f.location
            else:
                continue
            data = rows.setdefault(f.severity.value, {"x": [], "y": [], "code": [], "id": [],
                                                       "message": []})
            data["x"].append(float(x))
            data["y"].append(float(y))
            data["code"].append(f.code)
            data["id"].append(element)
            data["message"].append(f.message[:160])
    for severity in ("error", "warning", "info"):
        if severity not in rows:
            continue
        many = len(rows[severity]["x"]) > 100
        glyph = fig.scatter("x", "y", source=ColumnDataSource(rows[severity]),
                            size=12 if severity == "info" else 18, fill_alpha=0.0, line_width=2.5,
                            line_color=_SEVERITY_COLOURS[severity],
                            legend_label=f"Findings: {severity}" + (" (click to show)" if many
                                                                    and severity == "info" else ""))
        # hundreds of info marks (e.g. every snapped pipe end) would hide the warnings: the
        # layer starts hidden and the legend shows it on a click
        glyph.visible = not (many and severity == "info")
        fig.add_tools(HoverTool(renderers=[glyph], tooltips=[
            ("finding", "@code"), ("element", "@id"), ("", "@message")]))
