"""Findings: the one shape of every warning and check result in nrwkit.

A :class:`Finding` has a stable ``code`` (what kind of problem), a :class:`Severity`, the ids
of the elements concerned, a message saying what is wrong and a ``fix`` saying what to do.
Checks, the GIS importer, DMA design, leak localisation and the water balance all report
through it, and the CLI, the JSON output and the HTML reports all show it the same way.
This module is part of the foundation: it imports nothing else from nrwkit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandas as pd

__all__ = ["Finding", "Severity", "findings_frame", "list_ids", "warning"]


class Severity(StrEnum):
    """How bad a finding is: errors make results untrustworthy, warnings may, infos inform."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for infos (for sorting)."""
        return ("error", "warning", "info").index(self.value)


@dataclass(frozen=True)
class Finding:
    """One problem found in a network, its GIS layers, a design or an analysis.

    Attributes
    ----------
    severity : Severity
        error, warning or info.
    code : str
        Stable identifier of the check (e.g. ``"no-source"``).
    elements : tuple of str
        Ids of the nodes or links concerned (may be empty for network-wide findings).
    message : str
        What is wrong (and, in older findings, what to do about it).
    element_type : str
        ``"node"``, ``"link"`` or ``"network"``.
    location : tuple of float, optional
        Where it is, in the coordinates of its source (used by findings from GIS layers,
        whose elements may not exist in any network).
    fix : str
        What to do about it, when that is not already in the message.
    """

    severity: Severity
    code: str
    elements: tuple[str, ...]
    message: str
    element_type: str = "node"
    location: tuple[float, float] | None = None
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.message} ({self.fix})" if self.fix else self.message

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as JSON-ready plain data."""
        return {
            "severity": self.severity.value,
            "code": self.code,
            "elements": list(self.elements),
            "message": self.message,
            "element_type": self.element_type,
            **({"location": list(self.location)} if self.location is not None else {}),
            **({"fix": self.fix} if self.fix else {}),
        }


def warning(code: str, message: str, *, fix: str = "", elements: Iterable[str] = (),
            element_type: str = "network") -> Finding:
    """Build a warning finding (the shape of every warning an analysis returns).

    Parameters
    ----------
    code : str
        Stable identifier, e.g. ``"dma-outside"``.
    message : str
        What is wrong.
    fix : str, optional
        What to do about it.
    elements : iterable of str, optional
        Ids of the elements concerned.
    element_type : str, default "network"
        ``"node"``, ``"link"``, ``"dma"`` or ``"network"``.

    Returns
    -------
    Finding
        A finding of severity warning.
    """
    return Finding(Severity.WARNING, code, tuple(elements), message, element_type, fix=fix)


def list_ids(names: Iterable[str], limit: int = 5) -> str:
    """Return ids for a message: the first ``limit`` and how many more."""
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")




def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """Tabulate findings.

    Returns
    -------
    pandas.DataFrame
        One row per finding with columns severity, code, element_type, n_elements,
        elements (comma-separated), message and fix (empty when the message says it all).
    """
    rows = [
        {"severity": f.severity.value, "code": f.code, "element_type": f.element_type,
         "n_elements": len(f.elements), "elements": ",".join(f.elements), "message": f.message,
         "fix": f.fix}
        for f in findings
    ]
    columns = ["severity", "code", "element_type", "n_elements", "elements", "message", "fix"]
    return pd.DataFrame(rows, columns=columns)
