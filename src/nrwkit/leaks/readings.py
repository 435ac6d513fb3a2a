"""Logger readings: read from CSV, then checked against the network before localisation.

:func:`read_readings` reads a CSV of logger readings (``time`` and one column per logger);
:func:`usable_readings` keeps the readings inside the model's run and the loggers that can
be used, saying why each other one was dropped (each a :class:`~nrwkit.findings.Finding`
with a ``leaks-`` code). Every input that cannot be used is an
:class:`~nrwkit.errors.InputError` naming the file, the row (the line number an editor
shows, the header being row 1) or the logger column, and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from ..errors import InputError
from ..findings import Finding, warning
from ..units import FLOW_TO_M3S, SECONDS_PER_HOUR
from ._table import Words, bad, date_times, numeric_times, parse_values, read_table

__all__ = ["Readings", "read_readings", "usable_readings"]

#: The wording of the messages about a readings file.
_WORDS = Words(
    place="row", column="logger", file_fix="check the path of the readings file",
    empty_fix="write a header row (time, then one logger junction id per column) and one row per reading "
    "time",
    no_time="no 'time' column",
    no_time_fix="the first row must name the columns: 'time' (seconds from the model's start, or ISO "
    "date-times with the model's start given as start), then one logger junction id per column",
    unnamed_fix="name every logger column after the junction id the logger is on",
    no_column_fix="add one column per logger, named after the junction id it is on",
    no_rows_fix="add one row per reading time",
)


@dataclass(frozen=True)
class Readings:
    """Logger readings, SI, indexed by seconds from the model's start.

    Attributes
    ----------
    values : pandas.DataFrame
        Index = time in s, one column per logger; NaN where a reading is missing.
    findings : list of Finding
        What was odd in the file: ``leaks-readings-missing`` (gaps),
        ``leaks-readings-unsorted`` (times not in order), ``leaks-readings-repeated``
        (rows repeating an earlier row).
    source : str
        The file read ("" when the readings were not read from a file).
    """

    values: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)
    source: str = ""


def _bad(path: str | Path | None, problem: str, fix: str, *, row: int | None = None,
         column: str | None = None) -> InputError:
    return bad(str(path) if path else "readings", problem, fix, place="row", at=row, column=column)


def read_readings(path: str | Path, *, start: str | None = None, unit: str = "m") -> Readings:
    """Read a CSV of readings: a ``time`` column and one column per logger.

    Parameters
    ----------
    path : str or Path
        The CSV file. An empty cell (or NaN, NA, null) is a missing reading. A ``.parquet`` file
        with the same columns (as a library of ``nrwkit ensemble leaks`` holds) is read alike.
    start : str, optional
        The model's start as an ISO date-time, when ``time`` holds date-times.
    unit : {"m", "m3/h"}
        Pressure head in m (kept), or flow in m3/h (converted to m3/s).

    Returns
    -------
    Readings
        The readings sorted by time, and the findings: times not in order (sorted), rows
        repeating an earlier row (dropped), missing readings (left out).

    Raises
    ------
    InputError
        The file is missing, empty or holds only a header; it has no ``time`` column or no
        logger column; a time or a reading is not a number (named by row and column); the
        times are date-times and no start was given; a time is repeated with different
        readings (both rows named).
    """
    path = Path(path)
    raw, rows, time_col, loggers = read_table(path, _WORDS)
    seconds = _parse_times(path, raw[time_col], rows, start)
    values = pd.DataFrame(_parse_values(path, raw[loggers], rows, unit), columns=loggers)
    values.index = pd.Index(seconds, name="time_s")
    findings: list[Finding] = []
    values, rows = _order(path, values, rows, findings)
    missing = values.isna().to_numpy()
    if missing.any():
        i, j = (int(k[0]) for k in np.nonzero(missing))
        gappy = [str(c) for c in values.columns[missing.any(axis=0)]]
        findings.append(warning(
            "leaks-readings-missing", f"{path.name}: {int(missing.sum())} missing readings (first at row "
            f"{rows[i]}, column {values.columns[j]!r}); those are left out", elements=gappy,
            element_type="node"))
    if unit == "m3/h":
        values = values * FLOW_TO_M3S["m3/h"]
    return Readings(values=values.astype(float), findings=findings, source=str(path))


def _parse_times(path: Path, text: pd.Series, rows: np.ndarray, start: str | None) -> np.ndarray:
    """Return the times in whole seconds from the model's start."""
    text, numeric = numeric_times(path, text, rows, "row", label="time ",
                                  fix="give every time in seconds from the model's start, or every time as "
                                  "an ISO date-time (with the model's start given as start)")
    if numeric is not None:
        return np.round(numeric).astype(np.int64)
    stamps, _ = date_times(path, text, rows, "row",
                           problem="time {time} is neither seconds nor an ISO date-time",
                           fix="write times as seconds from the model's start, or as ISO date-times such as "
                           "2024-03-01 02:15 (with the model's start given as start)")
    if start is None:
        raise _bad(path, "the times are date-times, and the model's start is not known",
                   "give the model's start as an ISO date-time (start='2024-03-01T00:00')")
    try:
        origin = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise _bad(path, f"the start {start!r} is not a date-time",
                   "give start as an ISO date-time, e.g. '2024-03-01T00:00'") from None
    try:
        delta = (stamps - origin).dt.total_seconds().to_numpy(dtype=float)
    except TypeError:  # one of them has a UTC offset, the other not
        raise _bad(path, f"the times carry a UTC offset and the start {start!r} does not (or the reverse)",
                   "give start and the times both with an offset (e.g. +01:00) or both without") from None
    return np.round(delta).astype(np.int64)


def _parse_values(path: Path, raw: pd.DataFrame, rows: np.ndarray, unit: str) -> np.ndarray:
    what = "a pressure head in m" if unit == "m" else f"a flow in {unit}"
    return parse_values(path, raw, rows, "row", noun="a number",
                        fix=f"write {what} as a plain number with a dot for decimals, or leave the cell "
                        "empty for a missing reading")


def _order(path: Path, values: pd.DataFrame, rows: np.ndarray,
           findings: list[Finding]) -> tuple[pd.DataFrame, np.ndarray]:
    """Sort by time (a finding), drop exact repeats (a finding), refuse conflicting repeats."""
    times = values.index.to_numpy()
    if len(times) > 1 and np.any(np.diff(times) < 0):
        back = np.flatnonzero(np.diff(times) < 0)
        findings.append(warning(
            "leaks-readings-unsorted", f"{path.name}: {len(back)} time(s) earlier than the row before "
            f"(first at row {rows[back[0] + 1]}); the readings were sorted by time"))
        order = np.argsort(times, kind="stable")
        values, rows = values.iloc[order], rows[order]
    repeat = values.index.duplicated(keep="first")
    if not repeat.any():
        return values, rows
    arr = values.to_numpy()
    first_of: dict[int, int] = {}
    for k, t in enumerate(values.index):
        first_of.setdefault(int(t), k)
    for k in np.flatnonzero(repeat).tolist():
        f = first_of[int(values.index[k])]
        a, b = arr[f], arr[k]
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if not same.all():
            j = int(np.flatnonzero(~same)[0])
            lo, hi = sorted((int(rows[f]), int(rows[k])))
            raise _bad(path, f"rows {lo} and {hi} both give time {int(values.index[k])} s with different "
                       f"readings (column {values.columns[j]!r}: {a[j]:g} and {b[j]:g})",
                       "keep one row per time: delete or correct one of the two rows")
    first = int(np.flatnonzero(repeat)[0])
    copied = rows[first_of[int(values.index[first])]]
    findings.append(warning(
        "leaks-readings-repeated", f"{path.name}: {int(repeat.sum())} row(s) repeating an earlier time and "
        f"its readings (first at row {rows[first]}, a copy of row {copied}); the copies were dropped"))
    return values.loc[~repeat], rows[~repeat]


def usable_readings(wn: wntr.network.WaterNetworkModel, readings: pd.DataFrame | Readings,
                    sensors: Sequence[str] | None = None, *, window: tuple[int, int] | None = None,
                    source: str | Path | None = None) -> tuple[pd.DataFrame, list[str], list[Finding]]:
    """Return the readings and loggers a localisation can use, and what was left out and why.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network; its run must be an extended period (``[TIMES] Duration`` > 0).
    readings : pandas.DataFrame or Readings
        Readings indexed by seconds from the model's start, one column per logger.
    sensors : sequence of str, optional
        The loggers to use [default: every column].
    window : (int, int), optional
        First and last time to use, s.
    source : str or Path, optional
        The readings' file, named in the messages [default: the file a :class:`Readings`
        was read from].

    Returns
    -------
    (values, sensors, warnings)
        The readings of the usable loggers inside the model's run and the window, their
        names, and a warning :class:`~nrwkit.findings.Finding` on everything dropped: the
        file's findings, ``leaks-readings-missing``, ``leaks-readings-outside-run``,
        ``leaks-logger-not-junction``, ``leaks-logger-empty``, ``leaks-logger-one-reading``,
        ``leaks-logger-dead`` (the loggers named in ``elements``).

    Raises
    ------
    InputError
        When the model is a single steady state, or no reading or no logger is left; the
        message names the file, the loggers and the fix.
    """
    findings: list[Finding] = []
    if isinstance(readings, Readings):
        findings += readings.findings
        values = readings.values
        if source is None and readings.source:
            source = readings.source
    else:
        values = readings
        gaps = int(values.isna().sum().sum())
        if gaps:
            gappy = [str(c) for c in values.columns[values.isna().any().to_numpy()]]
            findings.append(warning("leaks-readings-missing", f"{gaps} missing readings; those are left out",
                                    elements=gappy, element_type="node"))
    readings_columns = list(values.columns)
    if sensors is not None:
        values = values[[s for s in sensors if s in values.columns]]
    warnings: list[Finding] = list(findings)
    duration = int(wn.options.time.duration)
    times = values.index.to_numpy()
    if duration <= 0:
        raise _bad(source, f"the network's model is a single steady state (duration 0 h), and the readings "
                   f"hold {len(np.unique(times))} time(s) from {_span(times)}; localising a leak needs an "
                   "extended-period model that runs over the readings",
                   "set [TIMES] Duration in the network's .inp file to cover the readings"
                   + (f" (at least {_hours(int(times.max()))})" if len(times) and times.max() > 0 else ""))
    outside = (times < 0) | (times > duration)
    if len(times) and outside.all():
        raise _bad(source, f"every reading lies outside the model's run: the model runs 0..{duration} s "
                   f"(0..{_hours(duration)}) and the readings span {_span(times)}",
                   "give start (the model's start date-time) so the readings' times count from it, or "
                   "lengthen [TIMES] Duration in the network's .inp file to cover the readings")
    if outside.any():
        n = int(outside.sum())
        warnings.append(warning(
            "leaks-readings-outside-run", f"{n} reading time{'s lie' if n != 1 else ' lies'} outside the "
            f"model's run (0..{duration} s): left out",
            fix="give start (the model's start date-time) so the readings' times count from it, or lengthen "
            "[TIMES] Duration in the network's .inp file to cover the readings"))
        values = values[~outside]
    if window is not None:
        values = values.loc[window[0]:window[1]]
    if values.shape[1] == 0:
        raise _bad(source, "none of the chosen loggers has a column in the readings",
                   "choose loggers among the file's columns: " + ", ".join(map(str, readings_columns)))
    if values.empty:
        raise _bad(source, f"no readings are left inside the model's run (0..{duration} s) and the window "
                   f"{window[0] if window else 0}..{window[1] if window else duration} s",
                   "widen the window to overlap the readings")
    dropped: list[Finding] = []
    use = _usable_sensors(wn, values, dropped)
    warnings += dropped
    if not use:
        junctions = set(wn.junction_name_list)
        unknown = [str(c) for c in values.columns if c not in junctions]
        if len(unknown) == values.shape[1]:
            raise _bad(source, "no logger column names a junction of the network: "
                       + ", ".join(repr(u) for u in unknown),
                       "name each logger column after the id of the junction the logger is on, as in the "
                       ".inp file's [JUNCTIONS]")
        raise _bad(source, "no usable logger: " + "; ".join(d.message for d in dropped),
                   "check those loggers (dead, unplugged or stuck?) and export their readings again; "
                   "localisation needs at least one junction logger whose pressure varies")
    return values[use], use, warnings


def _usable_sensors(wn: wntr.network.WaterNetworkModel, values: pd.DataFrame,
                    warnings: list[Finding]) -> list[str]:
    junctions = set(wn.junction_name_list)
    sensors = []
    for name in values.columns:
        column = values[name].dropna()
        if name not in junctions:
            warnings.append(warning(
                "leaks-logger-not-junction", f"logger {name} is not a junction of the network: dropped",
                fix="name the column after the junction id the logger is on", elements=[str(name)],
                element_type="node"))
        elif len(column) == 0:
            warnings.append(warning(
                "leaks-logger-empty", f"logger {name} has no readings (every cell empty in the model's run): "
                "dropped", fix="check the logger and export its readings again", elements=[str(name)],
                element_type="node"))
        elif len(column) < 2:
            warnings.append(warning(
                "leaks-logger-one-reading", f"logger {name} has only 1 reading in the model's run: dropped",
                fix="give the logger's readings over the model's run", elements=[str(name)],
                element_type="node"))
        elif float(column.max() - column.min()) < 1e-6:
            warnings.append(warning(
                "leaks-logger-dead", f"logger {name} reads a constant {float(column.iloc[0]):g} m (dead "
                "logger): dropped", fix="check the logger (dead, unplugged or stuck?)", elements=[str(name)],
                element_type="node"))
        else:
            sensors.append(name)
    return sensors


def _hours(seconds: float) -> str:
    return f"{seconds / SECONDS_PER_HOUR:g} h"


def _span(times: np.ndarray) -> str:
    if not len(times):
        return "nothing"
    lo, hi = int(times.min()), int(times.max())
    return f"{lo}..{hi} s ({_hours(lo)}..{_hours(hi)})"
