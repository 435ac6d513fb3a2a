"""Logger readings: read from CSV, then checked against the network before localisation.

:func:`read_readings` reads a CSV of logger readings (``time`` and one column per logger);
:func:`usable_readings` keeps the readings inside the model's run and the loggers that can
be used, saying why each other one was dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from ..errors import InputError

__all__ = ["Readings", "read_readings", "usable_readings"]


@dataclass(frozen=True)
class Readings:
    """Logger readings, SI, indexed by seconds from the model's start.

    Attributes
    ----------
    values : pandas.DataFrame
        Index = time in s, one column per logger; NaN where a reading is missing.
    findings : list of str
        What was odd in the file (gaps, unsorted or repeated times).
    """

    values: pd.DataFrame
    findings: list[str] = field(default_factory=list)


def read_readings(path: str | Path, *, start: str | None = None, unit: str = "m") -> Readings:
    """Read a CSV of readings: a ``time`` column and one column per logger.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    start : str, optional
        The model's start as an ISO date-time, when ``time`` holds date-times.
    unit : {"m", "m3/h"}
        Pressure head in m (kept), or flow in m3/h (converted to m3/s).

    Returns
    -------
    Readings
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path)
    except Exception as exc:
        raise InputError(f"{path}: cannot be read as CSV ({exc})") from exc
    if "time" not in frame.columns:
        raise InputError(f"{path}: no 'time' column; the first row must name the columns "
                         "(time, then one logger id per column)")
    findings: list[str] = []
    times = frame.pop("time")
    numeric = pd.to_numeric(times, errors="coerce")
    if numeric.notna().all():
        seconds = numeric.astype(float)
    else:
        stamps = pd.to_datetime(times, errors="coerce")
        bad = stamps.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise InputError(f"{path}: row {row}: time {times.iloc[row - 2]!r} is neither seconds nor an "
                             "ISO date-time")
        if start is None:
            raise InputError(f"{path}: times are date-times: give the model's start (--start ISO)")
        seconds = (stamps - pd.Timestamp(start)).dt.total_seconds()
    values = frame.apply(pd.to_numeric, errors="coerce")
    for column in frame.columns:
        wrong = values[column].isna() & frame[column].notna()
        if wrong.any():
            row = int(np.flatnonzero(wrong.to_numpy())[0]) + 2
            raise InputError(f"{path}: row {row}, column {column!r}: {frame[column].iloc[row - 2]!r} is not "
                             "a number")
    values.index = pd.Index(seconds.to_numpy().round().astype(np.int64), name="time_s")
    values.columns = [str(c) for c in values.columns]
    if not values.index.is_monotonic_increasing:
        findings.append(f"{path.name}: times are not in order; sorted")
        values = values.sort_index()
    if values.index.duplicated().any():
        findings.append(f"{path.name}: {int(values.index.duplicated().sum())} repeated times; the first kept")
        values = values[~values.index.duplicated()]
    gaps = int(values.isna().sum().sum())
    if gaps:
        findings.append(f"{path.name}: {gaps} missing readings; those are left out")
    if unit == "m3/h":
        values = values / 3600.0
    return Readings(values=values.astype(float), findings=findings)


def usable_readings(wn: wntr.network.WaterNetworkModel, readings: pd.DataFrame | Readings,
                    sensors: Sequence[str] | None = None, *, window: tuple[int, int] | None = None,
                    ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Return the readings and loggers a localisation can use, and what was left out and why.

    Returns
    -------
    (values, sensors, warnings)
        The readings of the usable loggers inside the model's run and the window, their
        names, and the notes on everything dropped.

    Raises
    ------
    InputError
        When no reading or no logger is left.
    """
    findings: list[str] = []
    if isinstance(readings, Readings):
        findings += readings.findings
        values = readings.values
    else:
        values = readings
        gaps = int(values.isna().sum().sum())
        if gaps:
            findings.append(f"{gaps} missing readings; those are left out")
    if sensors is not None:
        values = values[[s for s in sensors if s in values.columns]]
    warnings: list[str] = list(findings)
    duration = int(wn.options.time.duration)
    outside = (values.index < 0) | (values.index > max(duration, 0))
    if outside.any():
        n = int(outside.sum())
        warnings.append(f"{n} reading time{'s lie' if n != 1 else ' lies'} outside the model's run "
                        f"(0..{duration} s): left out")
        values = values[~outside]
    if window is not None:
        values = values.loc[window[0]:window[1]]
    if values.empty:
        raise InputError("no readings are left inside the model's run and the window")
    use = _usable_sensors(wn, values, warnings)
    if not use:
        raise InputError("no usable logger: every logger was dropped (" + "; ".join(warnings[-3:]) + ")")
    return values[use], use, warnings


def _usable_sensors(wn: wntr.network.WaterNetworkModel, values: pd.DataFrame,
                    warnings: list[str]) -> list[str]:
    junctions = set(wn.junction_name_list)
    sensors = []
    for name in values.columns:
        column = values[name].dropna()
        if name not in junctions:
            warnings.append(f"logger {name} is not a junction of the network: dropped")
        elif len(column) < 2:
            warnings.append(f"logger {name} has fewer than 2 readings: dropped")
        elif float(column.max() - column.min()) < 1e-6:
            warnings.append(f"logger {name} reads a constant {float(column.iloc[0]):g} m (dead logger): "
                            "dropped")
        else:
            sensors.append(name)
    return sensors
