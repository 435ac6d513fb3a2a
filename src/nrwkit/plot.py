"""Static network maps for print and notebooks (matplotlib), with a legend and a scale bar.

:func:`plot_network` draws a network coloured by an attribute; :func:`plot_dma_design` draws
a DMA design (areas, pipes by DMA, meters and valves, DMA names).

The scale bar needs the coordinates' scale: from the CRS when given, else inferred from the
pipes (:attr:`nrwkit.network.checks.CheckContext.scale`); schematic coordinates get no bar
and a "not to scale" note instead.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import wntr

from .crs import parse_crs
from .network.checks import CheckContext
from .network.layout import link_coordinates, link_midpoint
from .units import METRES_PER_FOOT, METRES_PER_KM

if TYPE_CHECKING:
    from .dma.model import DmaDesign

__all__ = ["axis_labels", "dma_colours", "nice_length", "plot_dma_design", "plot_network"]

#: Strong, distinct colours for DMAs, used by the static and the interactive map alike:
#: matplotlib's tab10 (Bokeh's Category10), then ColorBrewer Dark2 and Set1, without their
#: greys (the transmission and boundary pipes' colours), Set1's red and its pale yellow.
QUALITATIVE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf",
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
)
#: How the DMA maps draw what is not in a DMA, and the boundary pipes' fittings.
TRANSMISSION_COLOUR = "#3d4a52"
BOUNDARY_COLOUR = "#a3b1ba"
METER_COLOUR = "#1e8449"
VALVE_COLOUR = "#c0392b"
EXISTING_VALVE_COLOUR = "#7f8c8d"


def nice_length(target: float) -> float:
    """Return a round length (1, 2 or 5 times a power of ten) not above ``target``."""
    if target <= 0:
        return 0.0
    power = 10 ** math.floor(math.log10(target))
    return max(step * power for step in (1, 2, 5) if step * power <= target)


def plot_network(
    wn: wntr.network.WaterNetworkModel,
    *,
    node_values: pd.Series | None = None,
    node_label: str = "",
    link_values: pd.Series | None = None,
    link_label: str = "",
    ax: Any = None,
    title: str | None = None,
    cmap: str = "viridis",
    crs: str | None = None,
    categorical: bool = False,
) -> Any:
    """Draw the network, coloured by a node or link attribute, with a legend and a scale bar.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    node_values : pandas.Series, optional
        Values by junction (index = node names), e.g. pressure (m) or a DMA label.
    node_label : str
        Name and unit of ``node_values`` for the colour bar or legend.
    link_values : pandas.Series, optional
        Values by pipe (index = link names), e.g. velocity (m/s) or leak likelihood.
    link_label : str
        Name and unit of ``link_values``.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Title of the map.
    cmap : str
        Matplotlib colour map.
    crs : str, optional
        CRS of the coordinates, for the scale bar.
    categorical : bool
        Values are labels (e.g. DMA ids): one colour each, in a legend, not a colour bar.

    Returns
    -------
    matplotlib.axes.Axes
        The map.

    Examples
    --------
    >>> from nrwkit.networks import load
    >>> ax = plot_network(load("net1"), title="Net1")
    >>> ax.get_title()
    'Net1'
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 7))
    pipes = wn.pipe_name_list
    segments = [link_coordinates(wn.get_link(n)) for n in pipes]
    widths = np.clip(np.array([wn.get_link(n).diameter for n in pipes]) * 8.0, 0.5, 3.5)
    lines = LineCollection(segments, linewidths=widths, colors="#8395a1", zorder=1)
    handles: list[Any] = [Line2D([], [], color="#8395a1", lw=1.5, label="pipes")]
    if link_values is not None:
        values = link_values.reindex(pipes)
        if categorical:
            codes, labels = pd.factorize(values)
            palette = plt.get_cmap("tab20", max(len(labels), 1))
            lines.set_color([palette(c) if c >= 0 else "#cccccc" for c in codes])
            handles += [Line2D([], [], color=palette(k), lw=3, label=str(lab))
                        for k, lab in enumerate(labels)]
        else:
            lines.set_array(values.to_numpy(dtype=float))
            lines.set_cmap(cmap)
            plt.colorbar(lines, ax=ax, shrink=0.7, label=link_label)
    ax.add_collection(lines)
    junctions = wn.junction_name_list
    xy = np.array([wn.get_node(n).coordinates for n in junctions], dtype=float).reshape(-1, 2)
    size = 10 if len(junctions) < 2000 else 3
    if node_values is not None:
        values = node_values.reindex(junctions)
        if categorical:
            codes, labels = pd.factorize(values)
            palette = plt.get_cmap("tab20", max(len(labels), 1))
            ax.scatter(xy[:, 0], xy[:, 1], s=size * 1.5, c=[palette(c) if c >= 0 else "#cccccc"
                                                             for c in codes], zorder=2)
            handles += [Line2D([], [], marker="o", ls="", color=palette(k), label=str(lab))
                        for k, lab in enumerate(labels)]
        else:
            points = ax.scatter(xy[:, 0], xy[:, 1], s=size * 1.5, c=values.to_numpy(dtype=float),
                                cmap=cmap, zorder=2)
            plt.colorbar(points, ax=ax, shrink=0.7, label=node_label)
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=size / 2, color="#34495e", zorder=2)
    for names, marker, colour, label in ((wn.tank_name_list, "s", "#16a085", "tanks"),
                                         (wn.reservoir_name_list, "^", "#1f618d", "reservoirs")):
        if names:
            pts = np.array([wn.get_node(n).coordinates for n in names], dtype=float)
            ax.scatter(pts[:, 0], pts[:, 1], marker=marker, s=90, color=colour,
                       edgecolor="white", zorder=3)
            handles.append(Line2D([], [], marker=marker, ls="", color=colour, markersize=9,
                                  label=label))
    devices = [n for n in wn.link_name_list if wn.get_link(n).link_type != "Pipe"]
    if devices:
        mids = np.array([link_midpoint(wn.get_link(n)) for n in devices])
        ax.scatter(mids[:, 0], mids[:, 1], marker="D", s=45, color="#8e44ad", edgecolor="white",
                   zorder=3)
        handles.append(Line2D([], [], marker="D", ls="", color="#8e44ad", label="pumps and valves"))
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#d9e1e7")
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.9)
    _scale_bar(ax, wn, crs)
    if title:
        ax.set_title(title)
    return ax


def _scale_bar(ax: Any, wn: wntr.network.WaterNetworkModel, crs: str | None) -> None:
    """Add a scale bar at the lower right, or a "not to scale" note."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    scale = CheckContext(wn, crs=crs).scale
    if scale.metres_per_unit:
        xmin, xmax = ax.get_xlim()
        metres = nice_length((xmax - xmin) * scale.metres_per_unit / 5)
        label = (f"{metres / METRES_PER_KM:g} km" if metres >= METRES_PER_KM else f"{metres:g} m")
        ax.add_artist(AnchoredSizeBar(ax.transData, metres / scale.metres_per_unit, label,
                                      "lower right", frameon=False, size_vertical=0, pad=0.6))
    else:
        ax.text(0.99, 0.01, "not to scale (schematic coordinates)", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=8, color="#5b6b78")


def dma_colours(ids: list[str]) -> dict[str, str]:
    """Return a colour per DMA id, in order, from :data:`QUALITATIVE` (repeating after 22)."""
    return {dma: QUALITATIVE[k % len(QUALITATIVE)] for k, dma in enumerate(ids)}


_UNITS = {"metre": "m", "meter": "m", "kilometre": "km", "foot": "ft", "US survey foot": "US ft"}


def axis_labels(wn: wntr.network.WaterNetworkModel, crs: str | None = None) -> tuple[str, str]:
    """Return the axis titles of a map: ``"x (m)"``, ``"y (m)"`` when the unit is known.

    The unit comes from the CRS when given (longitude and latitude for a geographic CRS),
    else from the scale inferred from the pipes (1 unit = 1 m or 1 ft); schematic or
    unknown coordinates get plain ``"x"`` and ``"y"`` (coordinate units).

    Examples
    --------
    >>> from nrwkit.networks import load
    >>> axis_labels(load("net1"))   # drawn as a sketch
    ('x', 'y')
    >>> axis_labels(load("net1"), crs="EPSG:32633")
    ('x (m)', 'y (m)')
    >>> axis_labels(load("net1"), crs="EPSG:4326")
    ('longitude (°)', 'latitude (°)')
    """
    if crs:
        parsed = parse_crs(crs)
        if parsed.is_geographic:
            return "longitude (°)", "latitude (°)"
        unit = _UNITS.get(parsed.axis_info[0].unit_name, parsed.axis_info[0].unit_name)
        return f"x ({unit})", f"y ({unit})"
    factor = CheckContext(wn).scale.metres_per_unit
    if factor is not None and abs(factor - 1.0) < 0.02:
        return "x (m)", "y (m)"
    if factor is not None and abs(factor / METRES_PER_FOOT - 1.0) < 0.02:
        return "x (ft)", "y (ft)"
    return "x", "y"


def _pipe_classes(wn: wntr.network.WaterNetworkModel, design: DmaDesign) -> dict[str, str]:
    """Pipe -> its DMA id, ``"boundary"`` or ``"transmission"``."""
    label = design.assignment.to_dict()
    out = {}
    for name, pipe in wn.pipes():
        a, b = label.get(pipe.start_node_name), label.get(pipe.end_node_name)
        if a is not None and a == b:
            out[name] = a
        else:
            out[name] = "boundary" if name in design.boundary.index else "transmission"
    return out


def _polygon_path(geom: Any, *, holes: bool = True) -> Any:
    """Return a matplotlib Path of a (multi)polygon, with or without holes; None when empty."""
    import shapely
    from matplotlib.path import Path as MplPath

    vertices: list[Any] = []
    codes: list[Any] = []
    for part in shapely.get_parts(geom):
        for ring in (part.exterior, *part.interiors) if holes else (part.exterior,):
            xy = np.asarray(ring.coords)
            if len(xy) < 3:
                continue
            vertices.append(xy)
            codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY]
    if not vertices:
        return None
    return MplPath(np.concatenate(vertices), codes)


def _draw_dma_areas(ax: Any, polygons: Any, colour: dict[str, str], handles: list[Any]) -> None:
    """Fill each DMA's polygon lightly in its colour, outlined along the outside only."""
    from matplotlib.patches import Patch, PathPatch

    for dma, geom in zip(polygons.dma, polygons.geometry, strict=True):
        path = _polygon_path(geom)
        if path is not None:  # filled with its holes, outlined along the outside only
            ax.add_patch(PathPatch(path, facecolor=colour[dma], alpha=0.16, edgecolor="none", zorder=0))
            ax.add_patch(PathPatch(_polygon_path(geom, holes=False), facecolor="none",
                                   edgecolor=colour[dma], alpha=0.6, linewidth=0.7, zorder=0.5))
    if len(polygons):
        handles.append(Patch(facecolor="#8c9ba5", alpha=0.3, edgecolor="#8c9ba5", label="DMA areas"))


def _draw_dma_pipes(ax: Any, wn: wntr.network.WaterNetworkModel, design: DmaDesign,
                    colour: dict[str, str], handles: list[Any]) -> None:
    """Draw pipes in their DMA's colour, transmission mains and boundary pipes in grey."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    where = _pipe_classes(wn, design)
    segments, colours, widths = [], [], []
    for name, kind in where.items():
        segments.append(link_coordinates(wn.get_link(name)))
        colours.append(colour.get(kind, TRANSMISSION_COLOUR if kind == "transmission" else BOUNDARY_COLOUR))
        widths.append(2.4 if kind == "transmission" else 1.6 if kind == "boundary" else 1.0)
    order = np.argsort([{"transmission": 2, "boundary": 1}.get(k, 0) for k in where.values()], kind="stable")
    ax.add_collection(LineCollection([segments[i] for i in order], colors=[colours[i] for i in order],
                                     linewidths=[widths[i] for i in order], zorder=1, capstyle="round"))
    handles.append(Line2D([], [], color=QUALITATIVE[0], lw=1.5, label="pipes in a DMA (its colour)"))
    kinds = set(where.values())
    if "transmission" in kinds:
        handles.append(Line2D([], [], color=TRANSMISSION_COLOUR, lw=2.4, label="transmission mains"))
    if "boundary" in kinds:
        handles.append(Line2D([], [], color=BOUNDARY_COLOUR, lw=1.6, label="boundary pipes"))


def _draw_devices(ax: Any, wn: wntr.network.WaterNetworkModel, handles: list[Any]) -> None:
    """Draw pumps and valves as thick lines with a diamond at their middle."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    devices = [n for n in wn.link_name_list if wn.get_link(n).link_type != "Pipe"]
    if not devices:
        return
    ax.add_collection(LineCollection([link_coordinates(wn.get_link(n)) for n in devices],
                                     colors=TRANSMISSION_COLOUR, linewidths=2.4, zorder=1))
    mids = np.array([link_midpoint(wn.get_link(n)) for n in devices])
    ax.scatter(mids[:, 0], mids[:, 1], marker="D", s=40, color="#8e44ad", edgecolor="white", zorder=3)
    handles.append(Line2D([], [], marker="D", ls="", color="#8e44ad", label="pumps and valves"))


def _draw_boundary_fittings(ax: Any, wn: wntr.network.WaterNetworkModel, design: DmaDesign,
                            handles: list[Any]) -> None:
    """Draw meters (green squares), valves to close and existing closed valves (crosses)."""
    from matplotlib.lines import Line2D

    for role, marker, fill, size, label in (
            ("meter", "s", METER_COLOUR, 46, "meters"),
            ("valve", "x", VALVE_COLOUR, 50, "boundary valves (close)"),
            ("existing valve", "x", EXISTING_VALVE_COLOUR, 40, "existing closed valves")):
        chosen = design.boundary.index[design.boundary.role == role]
        if not len(chosen):
            continue
        mids = np.array([link_midpoint(wn.get_link(p)) for p in chosen]).reshape(-1, 2)
        if marker == "s":
            ax.scatter(mids[:, 0], mids[:, 1], marker=marker, s=size, color=fill, edgecolor="white",
                       linewidths=0.8, zorder=4)
            handles.append(Line2D([], [], marker=marker, ls="", color=fill, markeredgecolor="white",
                                  markersize=8, label=label))
        else:
            ax.scatter(mids[:, 0], mids[:, 1], marker=marker, s=size, color=fill, linewidths=2.2, zorder=4)
            handles.append(Line2D([], [], marker=marker, ls="", color=fill, markeredgewidth=2.2,
                                  markersize=8, label=label))


def _draw_sources(ax: Any, wn: wntr.network.WaterNetworkModel, handles: list[Any]) -> None:
    """Draw tanks and reservoirs."""
    from matplotlib.lines import Line2D

    for names, marker, fill, label in ((wn.tank_name_list, "s", "#16a085", "tanks"),
                                       (wn.reservoir_name_list, "^", "#1f618d", "reservoirs")):
        if names:
            pts = np.array([wn.get_node(n).coordinates for n in names], dtype=float).reshape(-1, 2)
            ax.scatter(pts[:, 0], pts[:, 1], marker=marker, s=110, color=fill, edgecolor="white", zorder=5)
            handles.append(Line2D([], [], marker=marker, ls="", color=fill, markersize=10, label=label))


def _draw_dma_ids(ax: Any, polygons: Any, colour: dict[str, str], handles: list[Any]) -> None:
    """Write each DMA's id at a point inside its polygon."""
    from matplotlib.lines import Line2D

    from .dma.polygons import label_points

    for dma, point in zip(polygons.dma, label_points(polygons), strict=True):
        if point.is_empty:
            continue
        ax.text(point.x, point.y, str(dma), ha="center", va="center", fontsize=9, fontweight="bold",
                color="#1c2833", zorder=6,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": colour[dma],
                      "linewidth": 1.2, "alpha": 0.85})
    if len(polygons):
        handles.append(Line2D([], [], marker="s", ls="", markerfacecolor="white",
                              markeredgecolor="#1c2833", markersize=9, label="DMA ids"))


def _finish_map(ax: Any, wn: wntr.network.WaterNetworkModel, crs: str | None, handles: list[Any]) -> None:
    """Set the aspect, plain axes titled with their unit, the legend outside, the scale bar."""
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.margins(0.02)
    ax.ticklabel_format(style="plain", useOffset=False)
    ax.tick_params(labelsize=8, colors="#5b6b78")
    xlabel, ylabel = axis_labels(wn, crs)
    ax.set_xlabel(xlabel, fontsize=9, color="#5b6b78")
    ax.set_ylabel(ylabel, fontsize=9, color="#5b6b78")
    for spine in ax.spines.values():
        spine.set_color("#d9e1e7")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              frameon=False, borderaxespad=0.0)
    _scale_bar(ax, wn, crs)


def plot_dma_design(
    wn: wntr.network.WaterNetworkModel,
    design: DmaDesign,
    ax: Any = None,
    *,
    crs: str | None = None,
    title: str | None = None,
) -> Any:
    """Draw a DMA design: areas, pipes by DMA, transmission mains, meters, valves, names.

    Each DMA's polygon (:func:`nrwkit.dma.dma_polygons`) is filled lightly in the DMA's
    colour (:func:`dma_colours`, as in the report's map) and its pipes are drawn in it;
    transmission mains are dark grey and thicker, boundary pipes light grey. Meters are green
    squares and boundary valves to close red crosses at the middle of their pipe; existing
    closed valves are grey crosses. The DMA's id is written at a point inside its polygon.
    The legend is outside the map, on the right, so it hides none of it; the axes show
    plain coordinates (no scientific notation or offset) titled with their unit
    (:func:`axis_labels`), and a scale bar is drawn as in :func:`plot_network`.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network, with coordinates.
    design : DmaDesign
        The design (from :func:`nrwkit.dma.design`, ``from_assignment`` or ``read_design``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    crs : str, optional
        CRS of the coordinates, for the axis units and the scale bar.
    title : str, optional
        Title of the map.

    Returns
    -------
    matplotlib.axes.Axes
        The map.
    """
    import matplotlib.pyplot as plt

    from .dma.polygons import dma_polygons

    if ax is None:
        _, ax = plt.subplots(figsize=(12, 8))
    colour = dma_colours(design.dma_ids)
    handles: list[Any] = []
    polygons = dma_polygons(wn, design, crs=crs)
    _draw_dma_areas(ax, polygons, colour, handles)
    _draw_dma_pipes(ax, wn, design, colour, handles)
    _draw_devices(ax, wn, handles)
    _draw_boundary_fittings(ax, wn, design, handles)
    _draw_sources(ax, wn, handles)
    _draw_dma_ids(ax, polygons, colour, handles)
    _finish_map(ax, wn, crs, handles)
    if title:
        ax.set_title(title)
    return ax
