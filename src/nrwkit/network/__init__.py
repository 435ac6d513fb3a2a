"""Networks: reading ``.inp`` files, summaries and validation checks."""

from . import checks as checks
from . import io as io
from . import summary as summary
from .checks import (
    CHECKS,
    Check,
    CheckContext,
    register,
    run_checks,
)
from .inspection import Inspection, inspect_network
from .io import lint_inp, read_inp, write_inp
from .summary import NetworkSummary, summarize

__all__ = [
    "CHECKS",
    "Check",
    "CheckContext",
    "Inspection",
    "NetworkSummary",
    "checks",
    "inspect_network",
    "io",
    "lint_inp",
    "read_inp",
    "register",
    "run_checks",
    "summarize",
    "summary",
    "write_inp",
]
