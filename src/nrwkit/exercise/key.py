"""The answer key of a leak-detection exercise: the hidden truth, kept apart from the trainees.

``answer-key.json``::

    {"network": "trainee/network.inp",              # relative to the key
     "period": {"start": "2026-01-01 00:00", "end": "2026-01-03 00:00"},
     "leaks": [{"id": "L1", "pipe": "p123", "position": 0.4,
                "start": "2026-01-01 07:00", "end": "2026-01-03 00:00",
                "flow_m3_per_h": 3.2}],               # or hourly flows for a growing leak
     "model_changes": {...},                          # how the true network differs
     "seed": 7}

Times are "YYYY-MM-DD HH:MM"; a leak is active from ``start`` (included) to ``end`` (excluded).
``flow_m3_per_h`` is the leak's mean flow while active (its flow follows the pressure a little
over the day), or a list of its hourly mean flows from ``start`` for a growing leak.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..units import SECONDS_PER_HOUR

__all__ = ["TIME_FORMAT", "AnswerKey", "KeyLeak", "format_time", "parse_time", "read_answer_key"]

#: The fix of a damaged key.
_RESTORE = "restore the answer key written by nrwkit exercise create"
#: How times are written in keys, briefs and answers.
TIME_FORMAT = "%Y-%m-%d %H:%M"


def parse_time(text: str, where: str) -> datetime.datetime:
    """Return a "YYYY-MM-DD HH:MM" time, or raise InputError naming ``where``."""
    try:
        return datetime.datetime.strptime(str(text).strip(), TIME_FORMAT)
    except ValueError:
        raise InputError(f"{where}: {text!r} is not a time as YYYY-MM-DD HH:MM") from None


def format_time(time: datetime.datetime) -> str:
    """Return a time as "YYYY-MM-DD HH:MM"."""
    return time.strftime(TIME_FORMAT)


@dataclass(frozen=True)
class KeyLeak:
    """One hidden leak.

    Attributes
    ----------
    id : str
        Its label in the key (never shown to trainees).
    pipe : str
        The pipe it is on.
    position : float
        Where along the pipe, as a fraction of its length from its start node (0-1).
    start, end : datetime.datetime
        Active from ``start`` (included) to ``end`` (excluded).
    flow_m3_per_h : float or tuple of float
        Mean flow while active, m3/h, or hourly mean flows from ``start`` (a growing leak).
    """

    id: str
    pipe: str
    position: float
    start: datetime.datetime
    end: datetime.datetime
    flow_m3_per_h: float | tuple[float, ...]

    def volume_m3(self, since: datetime.datetime | None = None) -> float:
        """Volume lost from ``since`` (default ``start``) to ``end``, m3."""
        begin = max(since or self.start, self.start)
        if begin >= self.end:
            return 0.0
        if isinstance(self.flow_m3_per_h, float | int):
            return float(self.flow_m3_per_h) * (self.end - begin).total_seconds() / SECONDS_PER_HOUR
        total = 0.0
        for hour, flow in enumerate(self.flow_m3_per_h):
            lo = self.start + datetime.timedelta(hours=hour)
            hi = min(lo + datetime.timedelta(hours=1), self.end)
            overlap = (hi - max(lo, begin)).total_seconds()
            if overlap > 0:
                total += float(flow) * overlap / SECONDS_PER_HOUR
        return total

    def to_dict(self) -> dict[str, Any]:
        """Return the leak as the key's JSON."""
        flow = self.flow_m3_per_h if isinstance(self.flow_m3_per_h, float | int) else list(self.flow_m3_per_h)
        return {"id": self.id, "pipe": self.pipe, "position": self.position, "start": format_time(self.start),
                "end": format_time(self.end), "flow_m3_per_h": flow}


@dataclass(frozen=True)
class AnswerKey:
    """The truth of an exercise.

    Attributes
    ----------
    path : Path or None
        Where the key was read from (None for a key not yet written).
    network : str
        The trainees' network file, relative to the key.
    start, end : datetime.datetime
        The exercise's period.
    leaks : tuple of KeyLeak
    model_changes : dict
        How the true network differs from the trainees' (demand and roughness errors...).
    seed : int
    """

    path: Path | None
    network: str
    start: datetime.datetime
    end: datetime.datetime
    leaks: tuple[KeyLeak, ...]
    model_changes: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    @property
    def network_path(self) -> Path:
        """The trainees' network file."""
        base = self.path.parent if self.path is not None else Path()
        return base / self.network

    def to_dict(self) -> dict[str, Any]:
        """Return the key as JSON-ready data (the shape of ``answer-key.json``)."""
        period = {"start": format_time(self.start), "end": format_time(self.end)}
        return {"network": self.network, "period": period,
                "leaks": [leak.to_dict() for leak in self.leaks], "model_changes": self.model_changes,
                "seed": self.seed}


def _leak(item: Any, k: int, where: str, period: tuple[datetime.datetime, datetime.datetime]) -> KeyLeak:
    here = f"{where}: leaks[{k}]"
    if not isinstance(item, dict):
        raise InputError(f"{here} is not an object; fix: {_RESTORE}")
    fields = ("id", "pipe", "position", "start", "end", "flow_m3_per_h")
    missing = [name for name in fields if name not in item]
    if missing:
        raise InputError(f"{here} lacks {', '.join(missing)}; fix: {_RESTORE}")
    position = item["position"]
    if not isinstance(position, int | float) or not 0.0 <= float(position) <= 1.0:
        raise InputError(f"{here}.position = {position!r}: give a fraction of the pipe's length, 0 to 1")
    start, end = parse_time(item["start"], f"{here}.start"), parse_time(item["end"], f"{here}.end")
    if not (period[0] <= start < end <= period[1]):
        raise InputError(f"{here}: active {item['start']} to {item['end']}, not inside the exercise's period")
    flow = item["flow_m3_per_h"]
    flows = [flow] if isinstance(flow, int | float) else flow
    if not isinstance(flows, list) or not flows or not all(
            isinstance(q, int | float) and math.isfinite(q) and q >= 0 for q in flows):
        raise InputError(f"{here}.flow_m3_per_h = {flow!r}: give a flow of 0 or more (m3/h), or a list")
    value: float | tuple[float, ...] = (float(flow) if isinstance(flow, int | float)
                                        else tuple(map(float, flows)))
    return KeyLeak(str(item["id"]), str(item["pipe"]), float(position), start, end, value)


def read_answer_key(path: str | Path) -> AnswerKey:
    """Read and check an answer key.

    Parameters
    ----------
    path : str or Path
        ``answer-key.json``.

    Returns
    -------
    AnswerKey

    Raises
    ------
    InputError
        For a missing, malformed or tampered key: the message names the file and the field.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such answer key; fix: give the exercise's answer-key.json") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a JSON answer key ({exc}); fix: {_RESTORE}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not an answer key (a JSON object); fix: restore it from the exercise")
    for name in ("network", "period", "leaks", "seed"):
        if name not in data:
            raise InputError(f"{path}: the key lacks {name!r}; fix: restore it from the exercise")
    period = data["period"]
    if not isinstance(period, dict) or "start" not in period or "end" not in period:
        raise InputError(f"{path}: period must have start and end; fix: restore it from the exercise")
    start = parse_time(period["start"], f"{path}: period.start")
    end = parse_time(period["end"], f"{path}: period.end")
    if end <= start:
        raise InputError(f"{path}: the period ends before it starts")
    if not isinstance(data["leaks"], list):
        raise InputError(f"{path}: leaks must be a list; fix: restore it from the exercise")
    leaks = tuple(_leak(item, k, str(path), (start, end)) for k, item in enumerate(data["leaks"]))
    if len({leak.id for leak in leaks}) != len(leaks):
        raise InputError(f"{path}: two leaks share an id; fix: restore the key from the exercise")
    network = str(data["network"])
    changes = dict(data.get("model_changes") or {})
    key = AnswerKey(path, network, start, end, leaks, changes, int(data["seed"]))
    if not key.network_path.is_file():
        raise InputError(f"{path}: its network {network} is not beside it; fix: keep the exercise whole")
    return key
