"""Flow records for leak detection: reading a meter CSV into SI, with located findings.

:func:`read_flows` reads a CSV file with a ``time`` column (seconds from the model's start,
or ISO dates) and one column per meter in m3/h (or l/s, m3/s) into m3/s. What is odd but
usable (unsorted or repeated times, gaps, empty cells, negative readings, a meter stuck on
one value) is reported as findings; what cannot be read is an
:class:`~nrwkit.errors.InputError` naming the file, the line and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InputError
from ..findings import Finding, Severity
from ..units import DAY_S, FLOW_TO_M3S, HOUR_S, MINUTE_S
from ._table import Words, bad, date_times, numeric_times, parse_values, read_table

__all__ = ["DAY_S", "FLOW_UNITS", "FlowSeries", "read_flows"]

#: Flow units accepted in flow files, and their factor to m3/s.
FLOW_UNITS = {unit: FLOW_TO_M3S[unit] for unit in ("m3/h", "l/s", "m3/s")}
_EPOCH = pd.Timestamp("1970-01-01")
#: The wording of the messages about a flow file.
_WORDS = Words(
    place="line", column="meter", file_fix="check the path of the flow file",
    empty_fix="write a header line (time, then meter names) and one line per time",
    no_time="there is no 'time' column",
    no_time_fix="name the column of times 'time' (seconds from the model's start, or dates such as "
    "2024-03-01 02:15)",
    unnamed_fix="give every meter column a name",
    no_column_fix="add one column of flows per meter",
    no_rows_fix="add one line per time",
)
#: A run of identical readings at least this long is reported as a stuck meter.
_STUCK_S = DAY_S


@dataclass(frozen=True)
class FlowSeries:
    """Flow records read from a file.

    Attributes
    ----------
    flows : pandas.DataFrame
        Flows in m3/s (index = times, columns = meter names). The index is a DatetimeIndex
        when the file gives dates (or seconds and a start), else seconds from the model's
        start (00:00 of day 0).
    findings : list of Finding
        What is odd in the file and what was done about it (``element_type`` "meter" or
        "file").
    path : str
        The file read.
    """

    flows: pd.DataFrame
    findings: list[Finding]
    path: str = ""


def read_flows(
    path: str | Path,
    *,
    start: str | pd.Timestamp | None = None,
    unit: Literal["m3/h", "l/s", "m3/s"] = "m3/h",
) -> FlowSeries:
    r"""Read flow records (one column per meter) from a CSV file, in m3/s.

    Parameters
    ----------
    path : str or Path
        CSV file with a header line: a ``time`` column, then one column per meter. Times are
        seconds from the model's start (as EPANET reports them) or ISO dates such as
        ``2024-03-01 02:15``; an empty cell is a missing reading.
    start : str or pandas.Timestamp, optional
        Date and time of the model's start: times in seconds are turned into dates from it.
        Not allowed when the file gives dates.
    unit : {"m3/h", "l/s", "m3/s"}
        Unit of the flows in the file.

    Returns
    -------
    FlowSeries
        Flows in m3/s (index = times, sorted and unique; columns = meter names) and the
        findings: ``unsorted-times`` and ``duplicate-times`` (sorted; repeated times
        averaged), ``gap`` (steps longer than 1.5 times the usual one), ``missing-values``,
        ``negative-flow``, ``meter-constant`` (one value throughout: a dead meter),
        ``meter-stuck`` (one value for a day or more), ``mixed-utc-offsets`` (dates converted
        to UTC).

    Raises
    ------
    InputError
        The file is missing or empty, has no ``time`` column or no meter column, or holds a
        time or a flow that is not a number (or not a date), named by line and column.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "flows.csv"
    >>> _ = path.write_text("time,inlet\n0,36\n900,-3.6\n")
    >>> series = read_flows(path)
    >>> series.flows["inlet"].tolist()
    [0.01, -0.001]
    >>> [f.code for f in series.findings]
    ['negative-flow']
    """
    path = Path(path)
    if unit not in FLOW_UNITS:
        msg = f"unit {unit!r} is not one of {', '.join(FLOW_UNITS)}"
        raise InputError(msg)
    raw, lines, time_col, meters = read_table(path, _WORDS)
    findings: list[Finding] = []
    index, kind = _parse_times(path, raw[time_col], lines, start, findings)
    values = _parse_values(path, raw[meters], lines, unit)
    flows = pd.DataFrame(values * FLOW_UNITS[unit], index=index, columns=meters)
    flows.index.name = "time"
    findings += _value_findings(flows, lines, unit)
    flows = _order_times(flows, lines, findings, kind)
    findings += _gap_findings(flows)
    findings += _dead_meter_findings(flows, unit)
    return FlowSeries(flows, findings, str(path))


def _bad(path: Path, problem: str, fix: str, *, line: int | None = None,
         column: str | None = None) -> InputError:
    return bad(str(path), problem, fix, place="line", at=line, column=column)


def _parse_times(path: Path, text: pd.Series, lines: np.ndarray, start: str | pd.Timestamp | None,
                 findings: list[Finding]) -> tuple[pd.Index, str]:
    """Parse times as seconds (numeric index) or dates (DatetimeIndex), and say which."""
    text, values = numeric_times(path, text, lines, "line", label="",
                                 fix="give every time in seconds from the model's start, or every time as "
                                 "a date")
    if values is not None:
        if start is None:
            if np.all(values == np.round(values)):
                return pd.Index(values.astype(np.int64)), "seconds"
            return pd.Index(values), "seconds"
        try:
            origin = pd.Timestamp(start)
        except (ValueError, TypeError):
            raise _bad(path, f"the start {start!r} is not a date", "give the start as an ISO date and time, "
                       "e.g. 2024-03-01T00:00") from None
        return pd.DatetimeIndex(origin + pd.to_timedelta(values, unit="s")), "dates"
    if start is not None:
        raise _bad(path, "a start was given but the times are dates already",
                   "leave out the start (it only turns times in seconds into dates)")
    dates, mixed = date_times(path, text, lines, "line",
                              problem="{time} is neither a number of seconds nor a date",
                              fix="write dates as ISO dates and times, e.g. 2024-03-01 02:15 (or give every "
                              "time in seconds)")
    if mixed:
        findings.append(Finding(Severity.WARNING, "mixed-utc-offsets", (), "the times have different UTC "
                                "offsets (a daylight-saving change?): they were converted to UTC, so the "
                                "night period is read in UTC", "file"))
    return pd.DatetimeIndex(dates), "dates"


def _parse_values(path: Path, raw: pd.DataFrame, lines: np.ndarray, unit: str) -> np.ndarray:
    return parse_values(path, raw, lines, "line", noun="a flow",
                        fix=f"write flows as plain numbers in {unit} with a dot for decimals, or leave "
                        "the cell empty for a missing reading")


def _value_findings(flows: pd.DataFrame, lines: np.ndarray, unit: str) -> list[Finding]:
    findings = []
    factor = FLOW_UNITS[unit]
    for meter in flows.columns:
        v = flows[meter].to_numpy(dtype=float)
        missing = np.flatnonzero(np.isnan(v))
        if 0 < len(missing) < len(v):
            findings.append(Finding(Severity.WARNING, "missing-values", (meter,),
                                    f"{meter}: {_count(len(missing), 'reading')} missing (first at line "
                                    f"{lines[missing[0]]}); nights with less than their share of "
                                    "readings get no MNF", "meter"))
        negative = np.flatnonzero(v < 0)
        if len(negative):
            findings.append(Finding(Severity.WARNING, "negative-flow", (meter,),
                                    f"{meter}: {_count(len(negative), 'negative reading')} (lowest "
                                    f"{np.nanmin(v) / factor:g} {unit}, first at line "
                                    f"{lines[negative[0]]}): reverse flow through the meter, or an "
                                    "offset? They are used as read", "meter"))
    return findings


def _order_times(flows: pd.DataFrame, lines: np.ndarray, findings: list[Finding], kind: str) -> pd.DataFrame:
    if not flows.index.is_monotonic_increasing:
        back = np.flatnonzero(np.diff(_abs_seconds(flows.index)) < 0)
        first = int(lines[back[0] + 1])
        findings.append(Finding(Severity.WARNING, "unsorted-times", (),
                                f"{_count(len(back), 'time')} earlier than the line before (first at line "
                                f"{first}): the readings were sorted by time", "file"))
        flows = flows.sort_index(kind="stable")
    repeated = flows.index.duplicated(keep=False)
    if repeated.any():
        dup = flows.loc[repeated]
        conflicting = dup.groupby(level=0).nunique(dropna=False).gt(1).any(axis=None)
        when = _fmt_time(dup.index[0])
        n = int(flows.index.duplicated().sum())
        if conflicting:
            findings.append(Finding(Severity.WARNING, "duplicate-times", (),
                                    f"{_count(n, 'time')} repeated with different readings (first {when}): "
                                    "their readings were averaged"
                                    + (" (a daylight-saving change? give times in UTC or in seconds)"
                                       if kind == "dates" else ""), "file"))
        else:
            findings.append(Finding(Severity.INFO, "duplicate-times", (),
                                    f"{_count(n, 'line')} repeating an earlier time and its readings "
                                    f"(first {when}): the copies were dropped", "file"))
        flows = flows.groupby(level=0, sort=True).mean()
    return flows


def _gap_findings(flows: pd.DataFrame) -> list[Finding]:
    if len(flows) < 3:
        return []
    t = _abs_seconds(flows.index)
    steps = np.diff(t)
    step = float(np.median(steps))
    gaps = np.flatnonzero(steps > 1.5 * step)
    if not len(gaps):
        return []
    shown = "; ".join(f"{_fmt_time(flows.index[i])} to {_fmt_time(flows.index[i + 1])}" for i in gaps[:3])
    more = f" and {len(gaps) - 3} more" if len(gaps) > 3 else ""
    longest = float(steps[gaps].max())
    message = (f"{_count(len(gaps), 'gap')} in the record, longer than the usual {_fmt_duration(step)} step "
               f"(longest {_fmt_duration(longest)}): {shown}{more}; nights inside a gap get no MNF")
    return [Finding(Severity.WARNING, "gap", (), message, "file")]


def _dead_meter_findings(flows: pd.DataFrame, unit: str) -> list[Finding]:
    findings = []
    factor = FLOW_UNITS[unit]
    t = _abs_seconds(flows.index)
    for meter in flows.columns:
        v = flows[meter].to_numpy(dtype=float)
        ok = np.isfinite(v)
        if not ok.any():
            findings.append(Finding(Severity.WARNING, "meter-empty", (meter,),
                                    f"{meter}: no readings at all; it is left out of the detection", "meter"))
            continue
        tv, vv = t[ok], v[ok]
        if len(vv) > 1 and np.all(vv == vv[0]):
            findings.append(Finding(Severity.WARNING, "meter-constant", (meter,),
                                    f"{meter}: every reading is {vv[0] / factor:g} {unit}: a dead or stuck "
                                    "meter (or logger)? It is left out of the detection", "meter"))
            continue
        # runs of identical consecutive readings
        change = np.flatnonzero(np.diff(vv) != 0)
        starts = np.concatenate([[0], change + 1])
        ends = np.concatenate([change, [len(vv) - 1]])
        spans = tv[ends] - tv[starts]
        k = int(np.argmax(spans))
        if spans[k] >= _STUCK_S:
            findings.append(Finding(Severity.WARNING, "meter-stuck", (meter,),
                                    f"{meter}: reads {vv[starts[k]] / factor:g} {unit} without change from "
                                    f"{_fmt_time(flows.index[ok][starts[k]])} to "
                                    f"{_fmt_time(flows.index[ok][ends[k]])}: a stuck meter or logger? "
                                    "Check the MNF of those nights", "meter"))
    return findings


def _abs_seconds(index: pd.Index) -> np.ndarray:
    """Seconds since 1970-01-01 of wall-clock time (dates), or the seconds themselves."""
    if isinstance(index, pd.DatetimeIndex):
        wall = index.tz_localize(None) if index.tz is not None else index
        return np.asarray((wall - _EPOCH) / pd.Timedelta(seconds=1), dtype=float)
    if pd.api.types.is_numeric_dtype(index.dtype):
        return index.to_numpy(dtype=float)
    msg = (f"times must be dates (a DatetimeIndex) or seconds from the model's start (numbers), "
           f"not {index.dtype}")
    raise InputError(msg)


def _fmt_time(t: Any) -> str:
    if isinstance(t, pd.Timestamp):
        return t.strftime("%Y-%m-%d %H:%M:%S" if t.second else "%Y-%m-%d %H:%M")
    seconds = float(t)
    day, rest = divmod(seconds, DAY_S)
    hours, left_s = divmod(rest, HOUR_S)
    return f"{seconds:g} s (day {int(day)}, {int(hours):02d}:{int(left_s // MINUTE_S):02d})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _fmt_duration(seconds: float) -> str:
    if seconds >= 2 * DAY_S:
        return f"{seconds / DAY_S:.3g} days"
    if seconds >= HOUR_S:
        return f"{seconds / HOUR_S:.3g} h"
    if seconds >= MINUTE_S:
        return f"{seconds / MINUTE_S:.3g} min"
    return f"{seconds:.3g} s"
