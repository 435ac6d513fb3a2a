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
from ..network.checks import Finding, Severity

__all__ = ["DAY_S", "FLOW_UNITS", "FlowSeries", "read_flows"]

#: Seconds per day.
DAY_S = 86400.0
#: Flow units accepted in flow files, and their factor to m3/s.
FLOW_UNITS = {"m3/h": 1.0 / 3600.0, "l/s": 1.0e-3, "m3/s": 1.0}
#: Cell texts read as a missing reading.
_MISSING = {"", "nan", "na", "n/a", "null", "none"}
_EPOCH = pd.Timestamp("1970-01-01")
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
    raw = _read_csv(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    lines = np.arange(len(raw)) + 2  # the header is line 1
    blank = (raw.apply(lambda col: col.str.strip()) == "").all(axis=1).to_numpy()
    raw, lines = raw.loc[~blank].reset_index(drop=True), lines[~blank]
    time_col = next((c for c in raw.columns if c.lower() == "time"), None)
    if time_col is None:
        raise _bad(path, f"there is no 'time' column (the columns are: {', '.join(raw.columns)})",
                   "name the column of times 'time' (seconds from the model's start, or dates such as "
                   "2024-03-01 02:15)")
    meters = [c for c in raw.columns if c != time_col]
    for c in list(meters):
        if c.startswith("Unnamed: "):
            if (raw[c].str.strip() == "").all():  # a trailing separator
                meters.remove(c)
            else:
                raise _bad(path, f"column {int(c.split(': ')[1]) + 1} has no name in the header line",
                           "give every meter column a name")
    if not meters:
        raise _bad(path, "there is no meter column, only times", "add one column of flows per meter")
    if len(raw) == 0:
        raise _bad(path, "there are no readings below the header line", "add one line per time")
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
    where = str(path)
    if line is not None:
        where += f", line {line}"
    if column is not None:
        where += f", column {column!r}"
    return InputError(f"{where}: {problem}\n  fix: {fix}")


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except FileNotFoundError:
        raise _bad(path, "no such file", "check the path of the flow file") from None
    except IsADirectoryError:
        raise _bad(path, "this is a folder, not a file", "give the path of the CSV file") from None
    except pd.errors.EmptyDataError:
        raise _bad(path, "the file is empty", "write a header line (time, then meter names) and one "
                   "line per time") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise _bad(path, f"this is not a readable CSV file ({str(exc).strip()})",
                   "save it as CSV (comma separated, UTF-8) with the same number of fields on "
                   "every line") from None


def _parse_times(path: Path, text: pd.Series, lines: np.ndarray, start: str | pd.Timestamp | None,
                 findings: list[Finding]) -> tuple[pd.Index, str]:
    """Parse times as seconds (numeric index) or dates (DatetimeIndex), and say which."""
    text = text.str.strip()
    empty = np.flatnonzero((text == "").to_numpy())
    if len(empty):
        raise _bad(path, "the time is missing", "give a time on every line", line=int(lines[empty[0]]),
                   column="time")
    seconds = pd.to_numeric(text, errors="coerce")
    if np.isfinite(seconds.iloc[0]):
        bad = np.flatnonzero(~np.isfinite(seconds.to_numpy(dtype=float)))
        if len(bad):
            raise _bad(path, f"{text.iloc[bad[0]]!r} is not a number of seconds like the first time",
                       "give every time in seconds from the model's start, or every time as a date",
                       line=int(lines[bad[0]]), column="time")
        values = seconds.to_numpy(dtype=float)
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
    try:
        dates = pd.to_datetime(text, errors="coerce", format="ISO8601")
    except ValueError:  # different UTC offsets, e.g. across a daylight-saving change
        dates = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
        findings.append(Finding(Severity.WARNING, "mixed-utc-offsets", (), "the times have different UTC "
                                "offsets (a daylight-saving change?): they were converted to UTC, so the "
                                "night period is read in UTC", "file"))
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        raise _bad(path, f"{text.iloc[bad[0]]!r} is neither a number of seconds nor a date",
                   "write dates as ISO dates and times, e.g. 2024-03-01 02:15 (or give every time in "
                   "seconds)", line=int(lines[bad[0]]), column="time")
    return pd.DatetimeIndex(dates), "dates"


def _parse_values(path: Path, raw: pd.DataFrame, lines: np.ndarray, unit: str) -> np.ndarray:
    out = np.empty(raw.shape, dtype=float)
    bad: list[tuple[int, int]] = []
    for j, col in enumerate(raw.columns):
        text = raw[col].str.strip()
        missing = text.str.lower().isin(_MISSING).to_numpy()
        numbers = pd.to_numeric(text.where(~missing, "nan"), errors="coerce").to_numpy(dtype=float)
        wrong = ~missing & ~np.isfinite(numbers)
        bad += [(int(i), j) for i in np.flatnonzero(wrong)]
        out[:, j] = numbers
    if bad:
        i, j = min(bad)
        col = str(raw.columns[j])
        more = f" (and {len(bad) - 1} more cells that are not numbers)" if len(bad) > 1 else ""
        raise _bad(path, f"{raw.iloc[i, j].strip()!r} is not a flow{more}",
                   f"write flows as plain numbers in {unit} with a dot for decimals, or leave the cell "
                   "empty for a missing reading", line=int(lines[i]), column=col)
    return out


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
    return f"{seconds:g} s (day {int(day)}, {int(rest // 3600):02d}:{int(rest % 3600 // 60):02d})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _fmt_duration(seconds: float) -> str:
    if seconds >= 2 * DAY_S:
        return f"{seconds / DAY_S:.3g} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"
