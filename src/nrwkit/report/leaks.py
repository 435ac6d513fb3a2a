"""The report of a leak localisation: the probability map, the candidates, the search area."""

from __future__ import annotations

import html
from pathlib import Path

import wntr

from ..leaks.locate import Localisation
from .html import Card, Report, table_html
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
    report = Report(title=f"Leak localisation: {name}", kicker="Leaks",
                    subtitle=f"{result.method}, {len(result.sensors)} loggers; search area "
                             f"{area['length_km']:.2f} km holding {area['probability']:.0%}")
    for role, path in (("Network", network_path), ("Readings", readings_path)):
        if path is not None and Path(path).is_file():
            report.add_input(role, path)
    best = result.candidates.iloc[0]
    report.cards = [
        Card("most probable junction", str(best.node)),
        Card("its probability", f"{best.probability:.1%}"),
        Card("leak estimate", f"{best.leak_flow_m3h:.2f} m3/h"),
        Card("search area", f"{area['length_km']:.2f} km"),
        Card("loggers used", str(len(result.sensors))),
    ]
    probability = result.candidates.set_index("node")["probability"]
    report.add_map("Probability of the leak at each junction",
                   network_map(wn, node_values=probability, node_label="probability"),
                   lead="Hover a junction for its probability. The search area is the pipes around "
                        "the most probable junctions up to the stated probability.")
    table = result.candidates.head(top).assign(rank=range(1, min(top, len(result.candidates)) + 1))
    report.add_section("Candidates", table_html(table[["rank", "node", "probability", "score",
                                                        "leak_flow_m3h"]], numeric_format="{:,.4g}"))
    pipes = ", ".join(html.escape(p) for p in area["pipes"]) or "none"
    report.add_section("Search area", f"<p>{pipes}</p>",
                       lead=f"{len(area['pipes'])} pipes, {area['length_km']:.2f} km: the pipes touching "
                            "the most probable junctions.")
    if result.warnings:
        report.add_section("Warnings", "<ul>" + "".join(f"<li>{html.escape(w)}</li>"
                                                       for w in result.warnings) + "</ul>")
    return report
