"""One self-contained HTML file per report: header, key figures, sections, no network access.

Every script, style and image is inside the file: the interactive map's JavaScript (BokehJS)
is inlined, figures are inline SVG, tables are HTML. A mentor can open the file on a laptop
on site with no connection.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from ..outputs import write_text

__all__ = ["Card", "Report", "Section", "figure_svg", "file_checksum", "table_html"]


def file_checksum(path: str | Path) -> str:
    """Return the SHA-256 of a file (hex), to name an input unambiguously."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def figure_svg(fig: Any, *, caption: str | None = None) -> str:
    """Return a matplotlib figure as an inline ``<figure>`` with SVG (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg}{cap}</figure>"


def table_html(frame: pd.DataFrame, *, numeric_format: str = "{:,.2f}", index: bool = False,
               raw_columns: tuple[str, ...] = ()) -> str:
    """Return a DataFrame as a styled HTML table; numbers right-aligned and formatted.

    Columns named in ``raw_columns`` hold HTML already (not escaped).
    """
    data = frame.reset_index() if index else frame
    head = "".join(
        f'<th class="num">{html.escape(str(c))}</th>' if pd.api.types.is_numeric_dtype(data[c])
        else f"<th>{html.escape(str(c))}</th>" for c in data.columns)
    rows = []
    for _, row in data.iterrows():
        cells = []
        for column in data.columns:
            value = row[column]
            if column in raw_columns:
                cells.append(f"<td>{value}</td>")
            elif isinstance(value, float):
                cells.append(f'<td class="num">{numeric_format.format(value)}</td>')
            elif isinstance(value, int) and not isinstance(value, bool):
                cells.append(f'<td class="num">{value:,}</td>')
            else:
                cells.append(f"<td>{html.escape(str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


@dataclass
class Card:
    """A key figure shown at the top of a report."""

    label: str
    value: str
    kind: str = ""          # "", "ok", "warning" or "error": the colour of its edge


@dataclass
class Section:
    """A titled part of a report; ``body`` is HTML."""

    title: str
    body: str
    lead: str = ""

    @property
    def anchor(self) -> str:
        """Return an id for links to this section."""
        return "".join(ch if ch.isalnum() else "-" for ch in self.title.lower()).strip("-")


@dataclass
class Report:
    """A self-contained HTML report.

    Parameters
    ----------
    title : str
        What the report is about (e.g. "Network inspection: L-TOWN.inp").
    kicker : str
        The line above the title (the analysis, or the improvement track).
    subtitle : str
        One line under the title.
    """

    title: str
    kicker: str = "nrwkit report"
    subtitle: str = ""
    inputs: list[tuple[str, str, str]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    cards: list[Card] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    needs_bokeh: bool = False
    created: str = field(default_factory=lambda: datetime.datetime.now().astimezone()
                         .isoformat(timespec="seconds"))

    def add_input(self, role: str, path: str | Path) -> None:
        """Record an input file with its SHA-256 checksum."""
        path = Path(path)
        self.inputs.append((role, path.name, file_checksum(path)))

    def add_section(self, title: str, body: str, *, lead: str = "") -> Section:
        """Append a section (``body`` is HTML) and return it."""
        section = Section(title, body, lead)
        self.sections.append(section)
        return section

    def add_map(self, title: str, network_map: Any, *, lead: str = "") -> Section:
        """Append an interactive map (a Bokeh layout, e.g. from :func:`network_map`)."""
        from bokeh.embed import components

        script, div = components(network_map)
        self.needs_bokeh = True
        return self.add_section(title, f'<div class="map">{div}</div>{script}', lead=lead)

    def to_html(self) -> str:
        """Return the whole report as one HTML string."""
        from .. import __version__

        meta = [("Created", self.created), ("nrwkit", __version__)]
        for role, name, digest in self.inputs:
            meta.append((role, f"{name} (SHA-256 {digest[:16]}…)"))
        if self.options:
            meta.append(("Options", ", ".join(f"{k} = {v}" for k, v in self.options.items())))
        bokeh_js = ""
        if self.needs_bokeh:
            from bokeh.resources import Resources

            bokeh_js = Resources(mode="inline", components=["bokeh"]).render_js()
        template = _environment().get_template("report.html")
        return template.render(
            title=self.title, kicker=self.kicker, subtitle=self.subtitle, meta=meta,
            cards=self.cards, sections=self.sections, bokeh_js=bokeh_js, version=__version__,
            created=self.created)

    def write(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the report atomically; return the path."""
        return write_text(path, self.to_html(), overwrite=overwrite)


def _environment() -> jinja2.Environment:
    folder = resources.files("nrwkit.report") / "templates"
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True)
