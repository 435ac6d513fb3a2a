"""The named stages of a DMA design run, timed and summarised for the report and ``--json``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..outputs import reproducible

__all__ = ["STAGE_NAMES", "Progress", "Stage", "StageLog"]

#: ``progress(stage, done, total)``: called by long work so that a front end can draw a bar.
Progress = Callable[[str, int, int], None]

#: The stages of :func:`nrwkit.dma.design`, in order.
STAGE_NAMES = ("graph and supply", "transmission", "partition", "boundary choice", "hydraulic verification",
               "repair", "final check")


@dataclass
class Stage:
    """One stage of a design run.

    Attributes
    ----------
    name : str
        One of :data:`STAGE_NAMES`.
    seconds : float
        Wall time the stage took (left out of written outputs when they must be the same
        bytes every run: :attr:`reported_seconds`).
    summary : str
        One line for the engineer.
    figures : dict
        The stage's numbers (JSON-ready).
    """

    name: str
    seconds: float = 0.0
    summary: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def reported_seconds(self) -> float | None:
        """The wall time for outputs, to the millisecond; None with ``SOURCE_DATE_EPOCH`` set.

        A wall time differs from run to run: outputs that must be reproducible
        (:func:`nrwkit.outputs.reproducible`) leave it out.
        """
        return None if reproducible() else round(self.seconds, 3)

    def to_dict(self) -> dict[str, Any]:
        """Return the stage as JSON-ready data (``seconds`` is :attr:`reported_seconds`)."""
        return {"name": self.name, "seconds": self.reported_seconds, "summary": self.summary,
                **self.figures}


class StageLog:
    """Collect the stages of a run, timing each and telling ``progress`` when one starts and ends."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.stages: list[Stage] = []
        self.progress = progress

    @contextmanager
    def stage(self, name: str) -> Iterator[Stage]:
        """Time a stage; the caller fills in its ``summary`` and ``figures``."""
        record = Stage(name)
        if self.progress is not None:
            self.progress(name, 0, 1)
        start = time.perf_counter()
        try:
            yield record
        finally:
            record.seconds = time.perf_counter() - start
            self.stages.append(record)
        if self.progress is not None:
            self.progress(name, 1, 1)
