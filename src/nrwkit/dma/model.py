"""The DMA design: which junction is in which DMA, and what happens at each boundary pipe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from ..findings import Finding, Severity, warning
from .divide import TRANSMISSION
from .network import ON_MAIN

__all__ = ["DmaDesign", "LEGACY_CODE", "ROLES", "as_findings"]

#: What a boundary pipe becomes.
ROLES = ("meter", "valve", "existing valve")
#: The code of a warning saved as plain text (designs saved before warnings were findings).
LEGACY_CODE = "dma-legacy"


def as_findings(items: Iterable[Finding | Mapping[str, Any] | str]) -> list[Finding]:
    """Return warnings as findings, whatever form they were saved or given in.

    Parameters
    ----------
    items : iterable of Finding, dict or str
        Findings; their JSON form (:meth:`nrwkit.findings.Finding.to_dict`, as ``design_json``
        writes them); or plain text, as older saved designs hold them (code ``dma-legacy``).

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> [f.code for f in as_findings(["DMA-01: too small", {"code": "dma-outside", "message": "x"}])]
    ['dma-legacy', 'dma-outside']
    """
    out = []
    for item in items:
        if isinstance(item, Finding):
            out.append(item)
        elif isinstance(item, Mapping):
            location = item.get("location")
            out.append(Finding(Severity(str(item.get("severity", "warning"))),
                               str(item.get("code") or LEGACY_CODE),
                               tuple(str(e) for e in item.get("elements") or ()),
                               str(item.get("message", "")),
                               str(item.get("element_type", "network")),
                               (float(location[0]), float(location[1])) if location else None,
                               str(item.get("fix") or "")))
        else:
            out.append(warning(LEGACY_CODE, str(item)))
    return out


@dataclass(frozen=True)
class DmaDesign:
    """A partition of a network into DMAs with its boundary meters and valves.

    Attributes
    ----------
    assignment : pandas.Series
        Junction -> DMA id, for every junction inside a DMA.
    boundary : pandas.DataFrame
        Index ``pipe``; ``dma_start``/``dma_end`` (DMA id or ``"transmission"`` at the
        pipe's start and end node), ``diameter_m``, ``length_m``, ``existing`` (closed in
        the model already), ``role``: ``"meter"``, ``"valve"`` (a boundary valve to close)
        or ``"existing valve"``, and ``feeds``: the DMA a meter is the inlet of (a meter
        between two DMAs is an outlet meter of the other).
    transmission_junctions : pandas.Series
        Junction -> why it is left in the transmission system.
    transmission_links : pandas.Series
        Link -> why it is a transmission link (never closed).
    size : pandas.Series
        Each junction's size in the measure ``size_by``.
    size_by : str
        ``connections``, ``demand``, ``nodes`` or ``length``.
    size_band : tuple of float
        The (min, max) band asked for.
    changes : list of str
        What the repairs changed, in order.
    warnings : list of Finding
        Everything the engineer should know (sizes outside the band, failures that could
        not be repaired, junctions left out), each with a stable ``dma-...`` code
        (:class:`nrwkit.findings.Finding`).
    settings : dict
        The options the design was made with (JSON-ready).
    stages : list of Stage
        The named stages of the run that made it (:mod:`nrwkit.dma.stages`), each timed.
    verdicts : dict
        DMA id -> its final verdict (``"passes"``, ``"fails: ..."``, ``"not verified: ..."``).
    internal_links : pandas.Series
        Valves and pumps inside DMAs (both ends in one DMA, never closed) -> reason.
    """

    assignment: pd.Series
    boundary: pd.DataFrame
    transmission_junctions: pd.Series
    transmission_links: pd.Series
    size: pd.Series
    size_by: str
    size_band: tuple[float, float]
    changes: list[str] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    stages: list[Any] = field(default_factory=list)
    verdicts: dict[str, str] = field(default_factory=dict)
    internal_links: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))

    @property
    def unassigned(self) -> pd.Series:
        """Junctions in no DMA and not on a transmission link, with the reason (e.g. too small a group)."""
        reasons = self.transmission_junctions.astype(str)
        return reasons[~reasons.str.startswith(ON_MAIN)]

    @property
    def on_transmission(self) -> pd.Series:
        """Junctions at an end of a transmission link, with the link and its reason."""
        reasons = self.transmission_junctions.astype(str)
        return reasons[reasons.str.startswith(ON_MAIN)]

    @property
    def dma_ids(self) -> list[str]:
        """DMA ids in order."""
        return sorted(set(self.assignment.to_numpy()))

    @property
    def meters(self) -> list[str]:
        """Metered boundary pipes."""
        return sorted(self.boundary.index[self.boundary.role == "meter"])

    @property
    def boundary_valves(self) -> list[str]:
        """Boundary pipes to close (new and existing)."""
        return sorted(self.boundary.index[self.boundary.role != "meter"])

    @property
    def new_valves(self) -> list[str]:
        """Boundary pipes the design closes (not closed in the model already)."""
        return sorted(self.boundary.index[self.boundary.role == "valve"])

    def junctions(self, dma: str) -> list[str]:
        """Junctions of one DMA."""
        return sorted(self.assignment.index[self.assignment == dma])

    def boundary_of(self, dma: str) -> pd.DataFrame:
        """Boundary pipes of one DMA."""
        b = self.boundary
        return b[(b.dma_start == dma) | (b.dma_end == dma)]

    def dma_size(self) -> pd.Series:
        """Size of each DMA in the design's measure."""
        return self.size.reindex(self.assignment.index).groupby(self.assignment.to_numpy()).sum()

    def inlets(self, dma: str) -> list[str]:
        """Meters that feed a DMA."""
        b = self.boundary
        return sorted(b.index[(b.role == "meter") & (b.feeds == dma)])

    def outlets(self, dma: str) -> list[str]:
        """Meters through which a DMA feeds a neighbouring DMA."""
        b = self.boundary_of(dma)
        return sorted(b.index[(b.role == "meter") & (b.feeds != dma)])

    def with_meter(self, pipe: str, feeds: str) -> DmaDesign:
        """Return a copy with a meter on ``pipe`` as the inlet of ``feeds``."""
        boundary = self.boundary.copy()
        boundary.loc[pipe, ["role", "feeds"]] = ["meter", feeds]
        return replace(self, boundary=boundary)

    def with_valves(self, pipes: list[str]) -> DmaDesign:
        """Return a copy with boundary valves (closed) on ``pipes``."""
        boundary = self.boundary.copy()
        boundary.loc[pipes, ["role", "feeds"]] = ["valve", ""]
        return replace(self, boundary=boundary)

    def other_side(self, pipe: str, dma: str) -> str:
        """Return the DMA (or ``"transmission"``) across a boundary pipe from ``dma``."""
        row = self.boundary.loc[pipe]
        return str(row.dma_start if row.dma_end == dma else row.dma_end)

    def is_transmission(self, side: str) -> bool:
        """Return True for the transmission side of a boundary pipe."""
        return side == TRANSMISSION
