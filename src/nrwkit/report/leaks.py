"""The report of a leak localisation: the probability map, the candidates, the search area."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import wntr
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.ops import unary_union

from ..leaks.locate import Localisation
from ..network.layout import link_coordinates
from .html import Card, Report, findings_html, table_html
from .maps import network_map

__all__ = ["locate_report"]


def locate_report(wn: wntr.network.WaterNetworkModel, result: Localisation, *,
                  network_path: str | Path | None = None, readings_path: str | Path | None = None,
                  top: int = 10) -> Report:
    """Build the HTML report of :func:`nrwkit.leaks.locate`.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    result : Localisation
        The localisation.
    network_path, readings_path : str or Path, optional
        Inputs named in the header with their SHA-256.
    top : int
        Candidates listed.
    """
    area = result.search_area
    name = Path(network_path).name if network_path else (wn.name or "network")
    answer = (f"search area {area['length_km']:.2f} km holding {area['probability']:.0%}" if result.separable
              else "NO ANSWER: the data cannot separate the candidates (see the warnings)")
    report = Report(title=f"Leak localisation: {name}", kicker="Leaks",
                    subtitle=f"{result.method}, {len(result.sensors)} loggers; {answer}")
    for role, path in (("Network", network_path), ("Readings", readings_path)):
        if path is not None and Path(path).is_file():
            report.add_input(role, path)
    best = result.candidates.iloc[0]
    if result.separable:
        report.cards = [
            Card("most probable junction", str(best.node)),
            Card("its probability", f"{best.probability:.1%}"),
            Card("leak estimate", f"{best.leak_flow_m3h:.2f} m3/h"),
            Card("search area", f"{area['length_km']:.2f} km"),
            Card("loggers used", str(len(result.sensors))),
        ]
    else:  # never a headline figure a crew could act on
        report.cards = [Card("answer", "none: do not send a crew on this ranking", kind="error"),
                        Card("why", f"{len(result.warnings)} warning(s) below", kind="warning"),
                        Card("loggers used", str(len(result.sensors)))]
        report.add_section("No answer", findings_html(result.warnings),
                           lead="The ranking and the map below are what the data would say if they "
                                "could separate the candidates; they cannot, for these reasons:")
    probability = result.candidates.set_index("node")["probability"]
    fig = network_map(wn, node_values=probability, node_label="probability")
    _leak_layers(fig, wn, result, top)
    report.add_map("Probability of the leak at each junction", fig,
                   lead="The shaded region is the search area (the pipes around the most probable "
                        "junctions up to the stated probability); triangles are the loggers; numbers "
                        "are the candidates' ranks. Hover for values; click a legend entry to hide it.")
    table = result.candidates.head(top).assign(rank=range(1, min(top, len(result.candidates)) + 1))
    report.add_section("Candidates", table_html(table[["rank", "node", "probability", "score",
                                                        "leak_flow_m3h"]], numeric_format="{:,.4g}"))
    pipes = ", ".join(html.escape(p) for p in area["pipes"]) or "none"
    report.add_section("Search area", f"<p>{pipes}</p>",
                       lead=f"{len(area['pipes'])} pipes, {area['length_km']:.2f} km: the pipes touching "
                            "the most probable junctions.")
    if result.warnings and result.separable:
        report.add_section("Warnings", findings_html(result.warnings))
    return report


def _leak_layers(fig: Any, wn: wntr.network.WaterNetworkModel, result: Localisation, top: int) -> None:
    """Add the search area (shaded), the loggers and the ranked candidates to a network map."""
    from bokeh.models import ColumnDataSource, HoverTool

    xy = np.array([wn.get_node(n).coordinates for n in wn.node_name_list], dtype=float)
    extent = float(np.hypot(*(xy.max(axis=0) - xy.min(axis=0)))) if len(xy) else 1.0
    lines = [LineString(link_coordinates(wn.get_link(p))) for p in result.search_area["pipes"]]
    if lines:
        region = unary_union([line.buffer(max(extent * 0.006, 1e-9)) for line in lines])
        polygons = list(region.geoms) if isinstance(region, MultiPolygon) else [region]
        xs = [[[list(poly.exterior.xy[0])]] for poly in polygons if isinstance(poly, Polygon)]
        ys = [[[list(poly.exterior.xy[1])]] for poly in polygons if isinstance(poly, Polygon)]
        area = result.search_area
        fig.multi_polygons(xs=xs, ys=ys, fill_color="#e74c3c", fill_alpha=0.25, line_color="#c0392b",
                           line_alpha=0.8,
                           legend_label=f"search area ({area['length_km']:.2f} km, "
                                        f"{area['probability']:.0%})")
    loggers = [wn.get_node(s).coordinates for s in result.sensors]
    if loggers:
        fig.scatter([x for x, _ in loggers], [y for _, y in loggers], marker="triangle", size=11,
                    fill_color="white", line_color="black", legend_label="loggers")
    best = result.candidates.head(top)
    source = ColumnDataSource({
        "x": [wn.get_node(n).coordinates[0] for n in best.node],
        "y": [wn.get_node(n).coordinates[1] for n in best.node],
        "rank": [str(k + 1) for k in range(len(best))],
        "label": [f"rank {k + 1}: {n}, probability {p:.1%}"
                  for k, (n, p) in enumerate(zip(best.node, best.probability, strict=True))],
    })
    label = f"top {len(best)} candidates"
    ranked = fig.scatter("x", "y", source=source, marker="circle", size=16, fill_color="#f39c12",
                         line_color="black", legend_label=label)
    fig.text("x", "y", text="rank", source=source, text_align="center", text_baseline="middle",
             text_font_size="8pt", legend_label=label)
    fig.add_tools(HoverTool(renderers=[ranked], tooltips=[("candidate", "@label")]))
