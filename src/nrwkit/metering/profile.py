"""A consumption profile from a logged flow series, the usual way utilities get one.

A customer's meter is logged for a few weeks (a pulse logger on the meter, or a smart meter's
interval data); the share of the logged volume in each flow band is the customer's consumption
profile, in the layout of ``profiles.csv`` (:mod:`nrwkit.metering.inputs`).

The log (CSV, UTF-8, a header row; other columns are ignored):

- ``time``: ISO 8601 date-times (``2024-03-01T00:15:00``), strictly increasing; all with a UTC
  offset (``+01:00``, ``Z``; a change of offset at daylight saving time is then fine) or all
  without.
- exactly one of:

  - ``volume_l``: the litres registered in the interval that *ends* at the row's time (a pulse
    logger's count x litres per pulse, stamped at the end of its interval, as loggers record
    it). The interval's flow is its volume / its length. The first row only opens the log: its
    volume is not counted (leave it blank).
  - ``flow_l_per_h``: the flow at the row's time, held until the next row's time. The
    interval's volume is its flow x its length. The last row only closes the log: its flow is
    not counted (leave it blank).

Intervals may be irregular: each counts with its own length. An interval longer than
:data:`GAP_FACTOR` times the median interval is a gap (the logger stopped, rows were lost), and
so is an interval whose value is blank: neither is counted, both are reported
(:attr:`FlowLog.gaps`); the volume of a gap cannot be put in a band.

The profile: each counted interval's volume goes to the band ``low <= flow < high`` of its
flow; intervals of zero flow carry no volume; a band's share is its volume / the counted volume.

Limits: an interval's flow is its average flow. A log of 15-minute volumes spreads a 2-minute
toilet fill at 600 l/h into 80 l/h, so coarse intervals move volume from the high bands to the
middle ones, and a pulse resolution of 1 litre per 15 minutes cannot see flows below 4 l/h: log
at the finest interval the logger allows (a minute or less). A log that records only on a
change of flow has long regular intervals that this reading would call gaps: export it at a
fixed interval.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..units import SECONDS_PER_HOUR
from .inputs import _read

__all__ = ["DEFAULT_BANDS", "GAP_FACTOR", "FlowLog", "profile_from_log", "read_flow_log"]

#: Flow band limits, l/h, of the default profile: narrow at the low flows where a meter's error
#: changes fastest, wide above. Bands of this kind are typical of residential consumption profiles
#: (e.g. Arregui, Cabrera and Cobacho, *Integrated Water Meter Management*, IWA Publishing, 2006);
#: they are not copied from one table. The open last band's upper limit becomes the largest logged
#: flow rounded up on a two-significant-figure grid (2345 -> 2400 l/h) and the band is left out
#: when no flow reached it.
DEFAULT_BANDS: tuple[float, ...] = (0.0, 12.0, 24.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, math.inf)
#: An interval longer than this many times the log's median interval is a gap.
GAP_FACTOR = 3.0
#: The value columns a log may have.
VALUE_COLUMNS = ("volume_l", "flow_l_per_h")

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
_TIME_FIX = "write every time as an ISO date-time such as 2024-03-01T00:15:00"


@dataclass(frozen=True)
class FlowLog:
    """A logged flow series cut into intervals.

    Attributes
    ----------
    intervals : pandas.DataFrame
        One row per interval between two consecutive log rows: ``start``, ``end`` (timestamps),
        ``duration_s``, ``row`` (the 1-based data row whose value the interval takes),
        ``flow_l_per_h``, ``volume_l`` (NaN where the value is blank) and ``counted`` (False for
        the gaps).
    gaps : pandas.DataFrame
        The intervals not counted: ``start``, ``end``, ``duration_s``, ``row``, ``reason``
        (``"longer than 3 x the median interval"`` or ``"no value"``) and ``volume_l`` (the
        volume a volume log gives over the gap, NaN otherwise).
    source : str
        The value column the log gives: ``"volume_l"`` or ``"flow_l_per_h"``.
    where : str
        The file read (or ``"the flow log frame"``), for messages.
    median_interval_s : float
        The median interval length.
    """

    intervals: pd.DataFrame
    gaps: pd.DataFrame
    source: str
    where: str
    median_interval_s: float

    @property
    def counted_s(self) -> float:
        """The length of the counted intervals, s."""
        return float(self.intervals.loc[self.intervals["counted"], "duration_s"].sum())

    @property
    def gap_s(self) -> float:
        """The length of the gaps, s."""
        return float(self.gaps["duration_s"].sum())

    @property
    def counted_volume_l(self) -> float:
        """The volume of the counted intervals, litres."""
        return float(self.intervals.loc[self.intervals["counted"], "volume_l"].sum())


def read_flow_log(path: str | Path | pd.DataFrame) -> FlowLog:
    """Read and check a logged flow series (see the module's description for the layout).

    Parameters
    ----------
    path : str, Path or pandas.DataFrame
        The CSV file, or a frame with the same columns (``time`` may then be datetime64).

    Returns
    -------
    FlowLog
        The intervals with their flow and volume, and the gaps.

    Raises
    ------
    InputError
        For a missing file, no ``time`` column, neither or both of ``volume_l`` and
        ``flow_l_per_h``, fewer than two rows, a time that is blank or not an ISO date-time,
        times mixing UTC offsets and none, a time not after the row before, or a value that is
        not a number or is negative; the message names the file, the row and the fix.
    """
    if isinstance(path, pd.DataFrame):
        where = "the flow log frame"
        frame = path.copy()
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        if "time" not in frame.columns:
            raise InputError(f"{where}: no column time; fix: the flow log table needs time")
    else:
        where = str(path)
        frame = _read(path, ["time"], "flow log")
    source = _value_column(frame, where)
    if len(frame) < 2:
        raise InputError(
            f"{where}: one row makes no interval; fix: give at least two rows (an interval runs "
            "from one row's time to the next)"
        )
    times = _parse_times(frame["time"], where)
    values = _parse_values(frame[source], source, where)
    return _intervals(times, values, source, where)


def _value_column(frame: pd.DataFrame, where: str) -> str:
    present = [c for c in VALUE_COLUMNS if c in frame.columns]
    if not present:
        raise InputError(
            f"{where}: no column volume_l or flow_l_per_h; fix: give the litres per interval as "
            "volume_l (stamped at the interval's end) or the flow as flow_l_per_h (held to the next row)"
        )
    if len(present) == 2:
        raise InputError(
            f"{where}: both volume_l and flow_l_per_h are given; fix: keep one of them (volume_l "
            "when the logger counts pulses)"
        )
    return present[0]


def _parse_times(column: pd.Series, where: str) -> pd.Series:
    """Return the times as timestamps (UTC when they carry offsets), refusing bad or unsorted ones."""
    if pd.api.types.is_datetime64_any_dtype(column):
        times = pd.Series(column).reset_index(drop=True)
    else:
        text = pd.Series(column).reset_index(drop=True)
        blank = text.isna() | (text.astype(str).str.strip() == "")
        if blank.any():
            row = int(np.flatnonzero(blank.to_numpy())[0])
            raise InputError(f"{where}, row {row + 1}: no time; fix: {_TIME_FIX}")
        text = text.astype(str).str.strip()
        offset = text.str.contains(_OFFSET).to_numpy()
        if offset.any() and not offset.all():
            row = int(np.flatnonzero(offset != offset[0])[0])
            raise InputError(
                f"{where}, row {row + 1}: time {text.iloc[row]!r} "
                f"{'has no' if offset[0] else 'has a'} UTC offset and row 1 "
                f"{'has one' if offset[0] else 'has none'}; fix: give every time with its offset "
                "(e.g. +01:00) or none"
            )
        times = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=bool(offset[0]))
        if times.isna().any():
            row = int(np.flatnonzero(times.isna().to_numpy())[0])
            raise InputError(
                f"{where}, row {row + 1}: time {text.iloc[row]!r} is not an ISO date-time; fix: {_TIME_FIX}"
            )
    if times.isna().any():
        row = int(np.flatnonzero(times.isna().to_numpy())[0])
        raise InputError(f"{where}, row {row + 1}: no time; fix: {_TIME_FIX}")
    back = np.flatnonzero((times.diff().iloc[1:] <= pd.Timedelta(0)).to_numpy())
    if len(back):
        row = int(back[0]) + 1
        raise InputError(
            f"{where}, row {row + 1}: time {times.iloc[row]} is not after the row before "
            f"({times.iloc[row - 1]}); fix: sort the rows by time and remove repeated times (local "
            "times that repeat when the clocks go back need their UTC offset, e.g. +01:00)"
        )
    return times


def _parse_values(column: pd.Series, source: str, where: str) -> np.ndarray:
    """Return the values as floats (NaN where blank), refusing text, infinities and negatives."""
    column = pd.Series(column).reset_index(drop=True)
    blank = column.isna() | (column.astype(str).str.strip() == "")
    values = pd.to_numeric(column.where(~blank), errors="coerce").astype(float)
    bad = (values.isna() & ~blank) | np.isinf(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        what = "litres" if source == "volume_l" else "a flow in l/h"
        raise InputError(
            f"{where}, row {row + 1}: {source} = {_shown(column.iloc[row])}; fix: give {what} of 0 or more "
            "(or leave it blank to leave the interval out; reverse flow is not consumption)"
        )
    return values.to_numpy()


def _shown(value: object) -> str:
    """Return a cell as a message shows it: text quoted, a number as written (-2, not np.int64(-2))."""
    return repr(value) if isinstance(value, str) else f"{value}"


def _intervals(times: pd.Series, values: np.ndarray, source: str, where: str) -> FlowLog:
    """Cut the log into intervals, give each its flow and volume, and find the gaps."""
    seconds = (times - times.iloc[0]).dt.total_seconds().to_numpy()
    duration_s = np.diff(seconds)
    hours = duration_s / SECONDS_PER_HOUR
    if source == "volume_l":
        # the volume of row i + 1 is registered in the interval ending at its time
        volume_l = values[1:]
        flow_l_per_h = volume_l / hours
        rows = np.arange(2, len(values) + 1)
    else:
        # the flow of row i is held until the next row's time
        flow_l_per_h = values[:-1]
        volume_l = flow_l_per_h * hours
        rows = np.arange(1, len(values))
    median_s = float(np.median(duration_s))
    long = duration_s > GAP_FACTOR * median_s
    blank = np.isnan(values[1:] if source == "volume_l" else values[:-1])
    intervals = pd.DataFrame(
        {
            "start": times.iloc[:-1].reset_index(drop=True),
            "end": times.iloc[1:].reset_index(drop=True),
            "duration_s": duration_s,
            "row": rows,
            "flow_l_per_h": flow_l_per_h,
            "volume_l": volume_l,
            "counted": ~(long | blank),
        }
    )
    gaps = intervals.loc[~intervals["counted"], ["start", "end", "duration_s", "row", "volume_l"]].copy()
    gaps.insert(
        4,
        "reason",
        np.where(
            long[~intervals["counted"]], f"longer than {GAP_FACTOR:g} x the median interval", "no value"
        ),
    )
    if source == "flow_l_per_h":
        gaps["volume_l"] = np.nan
    return FlowLog(intervals, gaps.reset_index(drop=True), source, where, median_s)


def _check_bands(bands_l_per_h: Sequence[float]) -> np.ndarray:
    edges = np.asarray(bands_l_per_h, dtype=float)
    fix = "give increasing band limits in l/h from 0, e.g. (0, 12, 24, 50, 100, 200, 500, 1000, 2000, inf)"
    if edges.ndim != 1 or len(edges) < 2 or np.isnan(edges).any():
        raise InputError(f"bands_l_per_h {list(bands_l_per_h)}: not a list of two or more limits; fix: {fix}")
    if edges[0] != 0.0:
        raise InputError(
            f"bands_l_per_h: the first limit is {edges[0]:g}, so lower flows have no band; fix: {fix}"
        )
    if np.any(np.diff(edges) <= 0) or np.isinf(edges[:-1]).any():
        raise InputError(f"bands_l_per_h {list(bands_l_per_h)}: not increasing; fix: {fix}")
    return edges


def _round_up(flow_l_per_h: float) -> float:
    """Return the next value above a flow on a two-significant-figure grid (2345 -> 2400, 2000 -> 2100)."""
    step = 10.0 ** (math.floor(math.log10(flow_l_per_h)) - 1)
    return (math.floor(flow_l_per_h / step) + 1) * step


def profile_from_log(
    path_or_frame: str | Path | pd.DataFrame | FlowLog,
    *,
    name: str = "logged",
    bands_l_per_h: Sequence[float] = DEFAULT_BANDS,
) -> pd.DataFrame:
    """Derive a consumption profile from a logged flow series.

    Parameters
    ----------
    path_or_frame : str, Path, pandas.DataFrame or FlowLog
        The log's CSV file or frame (read by :func:`read_flow_log`), or a log already read.
    name : str
        The profile's name (the ``profile`` column).
    bands_l_per_h : sequence of float
        The band limits, l/h, increasing from 0; the last may be ``inf`` (see
        :data:`DEFAULT_BANDS` for how its upper limit is set).

    Returns
    -------
    pandas.DataFrame
        ``profile, flow_low_l_per_h, flow_high_l_per_h, volume_share, customers_logged``: one row
        per band (every finite band, even with a share of 0), shares summing to 1, in the layout
        :func:`nrwkit.metering.read_profiles` reads. ``customers_logged`` is 1: one log, one
        customer (when you average the profiles of several customers, give their number).

    Raises
    ------
    InputError
        For a bad log (:func:`read_flow_log`), bad band limits, a flow at or above the last
        finite limit (the row is named), or a log with no counted volume.
    """
    log = path_or_frame if isinstance(path_or_frame, FlowLog) else read_flow_log(path_or_frame)
    if not str(name).strip():
        raise InputError("the profile's name is empty; fix: give a name such as 'residential'")
    edges = _check_bands(bands_l_per_h)
    counted = log.intervals[log.intervals["counted"]]
    flow = counted["flow_l_per_h"].to_numpy()
    above = np.flatnonzero(flow >= edges[-1])
    if len(above):
        first = counted.iloc[int(above[0])]
        raise InputError(
            f"{log.where}, row {int(first['row'])}: a flow of {first['flow_l_per_h']:g} l/h, above the "
            f"last band limit {edges[-1]:g} l/h; fix: end the band limits with inf or a higher limit"
        )
    band = np.searchsorted(edges, flow, side="right") - 1
    volume = np.bincount(band, weights=counted["volume_l"].to_numpy(), minlength=len(edges) - 1)
    total = float(volume.sum())
    if not total > 0:
        raise InputError(
            f"{log.where}: no volume was counted (every counted interval has zero flow, or the log is "
            "all gaps); fix: give a log of the customer's use over days, without gaps"
        )
    low, high = edges[:-1].copy(), edges[1:].copy()
    if math.isinf(high[-1]):
        if volume[-1] > 0:
            high[-1] = _round_up(float(flow.max()))
        else:
            low, high, volume = low[:-1], high[:-1], volume[:-1]
    return pd.DataFrame(
        {
            "profile": str(name).strip(),
            "flow_low_l_per_h": low,
            "flow_high_l_per_h": high,
            "volume_share": volume / total,
            "customers_logged": 1,
        }
    )
