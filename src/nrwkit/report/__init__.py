"""Reports: self-contained HTML files with interactive maps, figures and tables."""

from . import html as html
from . import maps as maps
from .exercise import debrief_report
from .html import Card, Report, Section, figure_svg, file_checksum, table_html
from .imported import import_report
from .index import index_report, write_index
from .inspection import inspection_report
from .maps import network_map
from .metering import metering_report
from .pressure import pressure_report

__all__ = [
    "Card",
    "Report",
    "Section",
    "debrief_report",
    "figure_svg",
    "file_checksum",
    "html",
    "import_report",
    "index_report",
    "write_index",
    "inspection_report",
    "maps",
    "metering_report",
    "network_map",
    "pressure_report",
    "table_html",
]
