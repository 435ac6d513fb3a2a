"""Static network maps for print and notebooks (matplotlib), with a legend and a scale bar.

The scale bar needs the coordinates' scale: from the CRS when given, else inferred from the
pipes (:attr:`nrwkit.network.checks.CheckContext.scale`); schematic coordinates get no bar
and a "not to scale" note instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import wntr

from .network.checks import CheckContext
from .network.layout import link_coordinates, link_midpoint

__all__ = ["nice_length", "plot_network"]


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
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

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
    scale = CheckContext(wn, crs=crs).scale
    if scale.metres_per_unit:
        xmin, xmax = ax.get_xlim()
        metres = nice_length((xmax - xmin) * scale.metres_per_unit / 5)
        label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
        ax.add_artist(AnchoredSizeBar(ax.transData, metres / scale.metres_per_unit, label,
                                      "lower right", frameon=False, size_vertical=0, pad=0.6))
    else:
        ax.text(0.99, 0.01, "not to scale (schematic coordinates)", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=8, color="#5b6b78")
    if title:
        ax.set_title(title)
    return ax
