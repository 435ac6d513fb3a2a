"""One self-contained HTML file per report: header, key figures, sections, no network access.

Every script, style and image is inside the file: the interactive map's JavaScript (BokehJS)
is inlined, figures are inline SVG, tables are HTML. A mentor can open the file on a laptop
on site with no connection.

The same inputs give the same bytes: the creation stamp honours ``SOURCE_DATE_EPOCH``
(https://reproducible-builds.org/specs/source-date-epoch/), SVG figures carry no date and
salted (not random) clip ids, and the ids Bokeh draws at random for a map are renumbered in
order. Column headers are made readable in one place (:func:`readable_header`), and findings
are shown in one way (:func:`findings_html`).
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from ..findings import Finding
from ..outputs import creation_time, write_text

__all__ = ["Card", "Report", "Section", "created_stamp", "figure_svg", "file_checksum",
           "findings_html", "readable_header", "table_html"]

#: The salt of matplotlib's SVG ids (random without one), so figures are the same bytes each run.
SVG_HASH_SALT = "nrwkit"

#: Unit suffixes of column names (``leak_flow_m3h``) and how a header shows them.
_SUFFIX_UNITS = {
    "m3h": "m3/h", "m3s": "m3/s", "m3d": "m3/day", "m3_per_day": "m3/day", "lps": "l/s",
    "m3": "m3", "km": "km", "mm": "mm", "m": "m", "s": "s", "h": "h", "kpa": "kPa",
    "pct": "%", "percent": "%", "psi": "psi",
}
_MODEL_ID = re.compile(r'"id":"(p\d+)"')
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def created_stamp() -> str:
    """Return the creation stamp of a report: ``SOURCE_DATE_EPOCH`` (UTC) when set, else now.

    Returns
    -------
    str
        ISO 8601 to the second, with the UTC offset.
    """
    return creation_time().isoformat(timespec="seconds")


def readable_header(name: str) -> str:
    """Return a column name as a table header: words, with its unit suffix in brackets.

    Names that are already headers (with a space, or no underscore) are kept.

    Examples
    --------
    >>> readable_header("leak_flow_m3h"), readable_header("min_pressure_m")
    ('leak flow (m3/h)', 'min pressure (m)')
    >>> readable_header("n_elements"), readable_header("demand (m3/day)")
    ('n elements', 'demand (m3/day)')
    """
    if " " in name or "_" not in name:
        return name
    words = name.split("_")
    for size in (3, 2, 1):  # the longest unit suffix first (``m3_per_day``)
        suffix = "_".join(words[-size:])
        if len(words) > size and suffix in _SUFFIX_UNITS:
            return f"{' '.join(words[:-size])} ({_SUFFIX_UNITS[suffix]})"
    return " ".join(words)


def findings_html(findings: Iterable[Finding | str]) -> str:
    """Return findings as an HTML list: severity badge, code, message and fix.

    Plain strings (notes from analyses that do not make findings) are listed as they are.
    """
    items = []
    for f in findings:
        if isinstance(f, Finding):
            fix = f" <em>Fix: {html.escape(f.fix)}</em>" if f.fix else ""
            items.append(f'<li><span class="sev {f.severity.value}">{f.severity.value}</span> '
                         f"<code>{html.escape(f.code)}</code> {html.escape(f.message)}.{fix}</li>")
        else:
            items.append(f"<li>{html.escape(str(f))}</li>")
    return f'<ul class="findings">{"".join(items)}</ul>'


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
    with plt.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg}{cap}</figure>"


def table_html(frame: pd.DataFrame, *, numeric_format: str = "{:,.2f}", index: bool = False,
               raw_columns: tuple[str, ...] = (), nowrap_columns: tuple[str, ...] = ()) -> str:
    """Return a DataFrame as a styled HTML table; numbers right-aligned and formatted.

    Column names are shown through :func:`readable_header` (``leak_flow_m3h`` reads
    "leak flow (m3/h)"). Columns named in ``raw_columns`` hold HTML already (not escaped); those
    in ``nowrap_columns`` (figures as text, e.g. "1,920 to 5,760") are not broken across lines.
    """
    data = frame.reset_index() if index else frame
    head = "".join(
        f'<th class="num">{html.escape(readable_header(str(c)))}</th>'
        if pd.api.types.is_numeric_dtype(data[c])
        else f"<th>{html.escape(readable_header(str(c)))}</th>" for c in data.columns)
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
            elif column in nowrap_columns:
                cells.append(f'<td class="nowrap">{html.escape(str(value))}</td>')
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
    detail: str = ""        # a second line under the label (e.g. the 95 % range)


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
    maps: int = 0
    created: str = field(default_factory=created_stamp)

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

        self.maps += 1
        _number_models(network_map, self.maps)
        script, div = components(network_map)
        ids: dict[str, str] = {}

        def stable(match: re.Match[str]) -> str:  # Bokeh's random document and element ids
            return ids.setdefault(match.group(0), f"nrwkit-map{self.maps}-{len(ids) + 1}")

        script, div = _UUID.sub(stable, script), _UUID.sub(stable, div)
        # models the document adds itself (its config), numbered from Bokeh's counter
        def model(match: re.Match[str]) -> str:
            return f'"id":"{ids.setdefault(match.group(1), f"m{self.maps}d{len(ids) + 1}")}"'

        script = _MODEL_ID.sub(model, script)
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


def _number_models(layout: Any, index: int) -> None:
    """Give the Bokeh models of a map ids numbered in creation order, unique in the report.

    Bokeh numbers models from a process-wide counter, so the same map made twice in one
    process gets other ids; renumbered, it is the same bytes.
    """
    models = sorted(layout.references(), key=lambda m: (len(m.id), m.id))
    for k, model in enumerate(models, start=1):
        model._id = f"m{index}p{k}"  # Bokeh has no public way to set an id


def _environment() -> jinja2.Environment:
    folder = resources.files("nrwkit.report") / "templates"
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True)
