"""Leak detection from flow records: minimum night flow (MNF) trends and tabular CUSUM.

- **Flow records** (:func:`read_flows`): a CSV file with a ``time`` column (seconds from the
  model's start, or ISO dates) and one column per meter in m3/h (or l/s, m3/s), read into
  m3/s. What is odd but usable (unsorted or repeated times, gaps, empty cells, negative
  readings, a meter stuck on one value) is reported as findings; what cannot be read is an
  :class:`~nrwkit.errors.InputError` naming the file, the line and the column.
- **Minimum night flow** (:func:`minimum_night_flow`): per night, the lowest mean flow over a
  rolling window (UKWIR: the minimum rolling hour) inside the night period, 02:00-04:00 by
  default. With the zone's average night pressure (AZNP) the MNF can be corrected to a
  reference pressure with FAVAD's power law ``L1 / L0 = (P1 / P0)^N1`` (May 1994; Lambert),
  applied to the leakage part (MNF minus legitimate night use), so that a change of pressure
  is not taken for a new leak.
- **MNF trend** (:func:`mnf_alarms`): a night alarms when its MNF exceeds the minimum (or the
  median) of the previous nights by more than a threshold, by default 1.6 m3/h (a service
  connection burst at 50 m) or 10 % of that baseline, whichever is larger.
- **CUSUM** (:func:`cusum`): the tabular CUSUM ``C_k = max(0, C_{k-1} + x_k - mu - delta
  sigma / 2)``, alarm at ``C_k > h sigma`` then restart from 0 (Page 1954; Montgomery,
  *Introduction to Statistical Quality Control*, ch. 9). ``mu`` and ``sigma`` come from a
  baseline period when not given (median and 1.4826 x MAD). With ``h = 5, delta = 1`` and
  known ``mu, sigma``, one side raises a false alarm every 930 samples or so (465 for both
  sides) and detects a shift of 2 sigma after about 4 samples.
- **Both per meter** (:func:`detect`): the MNF table of every meter, the MNF trend alarms,
  and a CUSUM over the nightly MNF series (one value per night: the diurnal pattern of the
  raw flows would make a CUSUM on them alarm every morning).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InputError
from ..findings import Finding, Severity
from ..units import DAY_S, SECONDS_PER_HOUR
from .flows import _EPOCH, FlowSeries, _abs_seconds, _fmt_duration, read_flows

__all__ = [
    "CusumResult",
    "DetectionResult",
    "FlowSeries",
    "cusum",
    "detect",
    "minimum_night_flow",
    "mnf_alarms",
    "read_flows",
]

#: Factor from the median absolute deviation to the standard deviation of a normal sample.
MAD_TO_SIGMA = 1.4826
#: Default MNF alarm threshold, m3/h: a service connection burst at 50 m (DOMAIN.md section 5).
SERVICE_BURST_M3H = 1.6

Night = tuple[str, str]


@dataclass(frozen=True)
class CusumResult:
    """A tabular CUSUM run.

    Attributes
    ----------
    statistic : pandas.DataFrame
        ``C_k`` in the units of ``x`` (index = the index of ``x``, columns ``"up"`` and/or
        ``"down"``); at an alarm it holds the value that crossed the threshold (the run
        restarts from 0 after it); NaN where ``x`` is NaN.
    alarms : pandas.DataFrame
        One row per alarm, in time order: ``time`` (index label of the alarm), ``side``
        ("up" or "down"), ``statistic`` (``C_k``), ``onset`` (index label where the run that
        alarmed began: the estimated change point) and ``shift`` (estimated change of the
        mean, ``+-(delta sigma / 2 + C_k / N)`` over the ``N`` samples of the run).
    mu, sigma : float
        Target mean and standard deviation (given, or estimated from the baseline).
    k : float
        Reference value (allowance) ``delta sigma / 2``.
    threshold : float
        Decision interval ``h sigma``.
    """

    statistic: pd.DataFrame
    alarms: pd.DataFrame
    mu: float
    sigma: float
    k: float
    threshold: float

    @property
    def alarm_times(self) -> list[Any]:
        """Index labels of the alarms, in time order."""
        return list(self.alarms["time"])


@dataclass(frozen=True)
class DetectionResult:
    """Leak alarms of every meter and their night flows.

    Attributes
    ----------
    alarms : pandas.DataFrame
        One row per alarm, ordered by night and meter: ``meter``; ``method`` ("mnf" for the
        MNF trend, "cusum" for the CUSUM of the nightly MNF); ``night`` (the date of the
        night, or its day number for times in seconds); ``time`` (start of that night's
        minimum window); ``value`` (what was compared with the threshold, m3/h: the MNF, or
        the CUSUM statistic); ``threshold`` (m3/h: baseline plus allowed excess, or ``h
        sigma``); ``excess_m3h`` (MNF above its baseline, or the CUSUM estimate of the
        shift); ``onset`` (the night the increase began: the alarm night for "mnf", the start
        of the CUSUM run for "cusum").
    mnf : pandas.DataFrame
        The MNF table of every meter (one row per meter and night): ``meter``, ``night`` and
        the columns of :func:`minimum_night_flow`.
    findings : list of Finding
        Findings of the flow file (when a :class:`FlowSeries` was given) and of the
        detection (meters skipped, too few nights for a baseline).
    cusum : dict of str to CusumResult
        The CUSUM of each meter's nightly MNF (meters with enough nights).
    """

    alarms: pd.DataFrame
    mnf: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)
    cusum: dict[str, CusumResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return alarms, MNF table and findings as JSON-ready plain data (NaN as None)."""
        return {
            "alarms": _records(self.alarms),
            "mnf": _records(self.mnf),
            "findings": [f.to_dict() for f in self.findings],
        }


# --------------------------------------------------------------------------- reading


# --------------------------------------------------------------------------- times


def _clock(text: str) -> float:
    """Seconds after midnight of "HH:MM"."""
    parts = str(text).strip().split(":")
    try:
        hours, minutes = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        hours, minutes = -1, 0
    if len(parts) > 2 or not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 1440:
        msg = f"night time {text!r} is not a clock time: give HH:MM, e.g. 02:00"
        raise InputError(msg)
    return float(hours * SECONDS_PER_HOUR + minutes * 60)


def _night_bounds(night: Sequence[str]) -> tuple[float, float]:
    """Start (s after midnight) and length (s) of the night period."""
    if isinstance(night, str) or len(night) != 2:
        msg = f"night must be a (start, end) pair of clock times such as ('02:00', '04:00'), not {night!r}"
        raise InputError(msg)
    begin, end = _clock(night[0]), _clock(night[1])
    length = (end - begin) % DAY_S
    if length == 0:
        msg = f"the night period {night[0]}-{night[1]} is empty: give a start and an end that differ"
        raise InputError(msg)
    return begin % DAY_S, length


def _seconds_of(window: str | pd.Timedelta, what: str) -> float:
    try:
        seconds = pd.Timedelta(window).total_seconds()
    except (ValueError, TypeError):
        msg = f"{what} {window!r} is not a duration: give e.g. '1h' or '30min'"
        raise InputError(msg) from None
    if not seconds > 0:
        msg = f"{what} {window!r} must be longer than 0"
        raise InputError(msg)
    return seconds


# --------------------------------------------------------------------------- night flow


def minimum_night_flow(
    flows: pd.Series,
    *,
    night: Night = ("02:00", "04:00"),
    window: str | pd.Timedelta = "1h",
    min_coverage: float = 0.75,
    aznp_m: pd.Series | None = None,
    reference_pressure_m: float | None = None,
    n1: float = 1.0,
    night_use_m3h: float = 0.0,
) -> pd.DataFrame:
    """Minimum night flow (MNF) of one meter, night by night.

    The MNF of a night is the lowest mean flow over ``window`` among the windows that start
    at a reading and end inside the night period (UKWIR: the minimum rolling hour). A window
    ``[t, t + window)`` averages the readings it holds.

    With the average zone night pressure ``aznp_m``, the MNF is also corrected to a reference
    pressure P0 with FAVAD's power law ``L0 = L1 (P0 / P1)^N1``, applied to the leakage:
    ``MNF_ref = U + (MNF - U) (P0 / AZNP)^N1`` with ``U`` the legitimate night use and AZNP
    the mean pressure over the night's minimum window.

    Parameters
    ----------
    flows : pandas.Series
        Flows of one meter in m3/s (index = times: dates, or seconds from the model's start
        at 00:00 of day 0), as in a column of :func:`read_flows`.
    night : (str, str)
        Start and end of the night period, clock times ``"HH:MM"``. A period across midnight
        (``("23:00", "05:00")``) belongs to the date on which it ends.
    window : str or pandas.Timedelta
        Length of the averaging window.
    min_coverage : float
        Nights with fewer readings than this share of the night period (at the series' usual
        step) get no MNF (NaN): a partial night's minimum is not comparable.
    aznp_m : pandas.Series, optional
        Average zone pressure, m (index = times of the same kind as ``flows``).
    reference_pressure_m : float, optional
        P0 of the correction; default the median AZNP of the nights.
    n1 : float
        FAVAD exponent N1 (0.5 rigid pipes and fixed orifices; about 1 for large mixed
        systems; up to 1.5 and more for background leakage and plastic pipes).
    night_use_m3h : float
        Legitimate night use ``U`` left out of the correction, m3/h.

    Returns
    -------
    pandas.DataFrame
        One row per night from the first to the last the record touches (index ``night``:
        the date, or the day number for times in seconds), columns: ``mnf_m3h``, ``mnf_time``
        (start of the minimum window), ``samples`` (readings in the night period),
        ``coverage`` (their share of the expected number); with ``aznp_m`` also ``aznp_m``
        and ``mnf_ref_m3h``. ``attrs["reference_pressure_m"]`` holds P0.

    Examples
    --------
    Readings every 15 min in m3/s over one night; the lowest hour is 02:30-03:30:

    >>> import pandas as pd
    >>> q = pd.Series([8, 6, 4, 4, 4, 4, 8, 8], index=range(7200, 14400, 900)) / 3600
    >>> table = minimum_night_flow(q)
    >>> float(table.loc[0, "mnf_m3h"]), int(table.loc[0, "mnf_time"])
    (4.0, 9000)
    """
    if not isinstance(flows, pd.Series):
        msg = f"flows must be one meter's pandas Series (index = times), not {type(flows).__name__}"
        raise InputError(msg)
    begin, length = _night_bounds(night)
    w = _seconds_of(window, "window")
    if w > length:
        msg = (f"the window ({_fmt_duration(w)}) is longer than the night period {night[0]}-{night[1]}: "
               "give a shorter window or a longer night")
        raise InputError(msg)
    if not 0.0 <= min_coverage <= 1.0:
        msg = f"min_coverage must be between 0 and 1, not {min_coverage}"
        raise InputError(msg)
    dates = isinstance(flows.index, pd.DatetimeIndex)
    series = flows if flows.index.is_monotonic_increasing else flows.sort_index(kind="stable")
    t = _abs_seconds(series.index)
    q = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float) * SECONDS_PER_HOUR
    columns = ["mnf_m3h", "mnf_time", "samples", "coverage"]
    step = float(np.median(np.diff(t))) if len(t) > 1 else float("nan")
    inside = ((t - begin) % DAY_S) < length
    if not inside.any():
        table = pd.DataFrame(columns=columns, index=pd.Index([], name="night"))
        return _with_pressure(table, aznp_m, w, dates, reference_pressure_m, n1, night_use_m3h)
    numbers = np.floor((t[inside] - begin) / DAY_S)
    rows = []
    for number in np.arange(numbers.min(), numbers.max() + 1):
        night_start = number * DAY_S + begin
        lo, hi = np.searchsorted(t, [night_start, night_start + length], side="left")
        ok = np.flatnonzero(np.isfinite(q[lo:hi])) + lo
        tt, qq = t[ok], q[ok]
        expected = length / step if step > 0 else 1.0
        coverage = min(1.0, len(ok) / expected) if expected > 0 else 0.0
        mnf, when = float("nan"), None
        if len(ok) and coverage >= min_coverage:
            sums = np.concatenate([[0.0], np.cumsum(qq)])
            ends = np.searchsorted(tt, tt + w, side="left")
            eligible = np.flatnonzero(tt + w <= night_start + length + 1e-6)
            if len(eligible):
                means = (sums[ends[eligible]] - sums[eligible]) / (ends[eligible] - eligible)
                best = int(np.argmin(means))
                mnf, when = float(means[best]), series.index[ok[eligible[best]]]
        label_day = math.floor((night_start + length - 1e-6) / DAY_S)
        label = _EPOCH + pd.Timedelta(days=label_day) if dates else label_day
        rows.append((label, mnf, when, len(ok), coverage))
    table = pd.DataFrame(rows, columns=["night", *columns]).set_index("night")
    return _with_pressure(table, aznp_m, w, dates, reference_pressure_m, n1, night_use_m3h)


def _with_pressure(table: pd.DataFrame, aznp_m: pd.Series | None, w: float, dates: bool,
                   reference_pressure_m: float | None, n1: float, night_use_m3h: float) -> pd.DataFrame:
    """Add AZNP over each night's minimum window and the FAVAD-corrected MNF."""
    if aznp_m is None:
        return table
    if not 0.0 < n1 <= 3.0:
        msg = f"the FAVAD exponent N1 = {n1} is outside (0, 3]"
        raise InputError(msg)
    if isinstance(aznp_m.index, pd.DatetimeIndex) != dates:
        msg = "the pressures and the flows must both be indexed by dates, or both by seconds"
        raise InputError(msg)
    pressure = aznp_m.sort_index(kind="stable")
    tp = _abs_seconds(pressure.index)
    p = pd.to_numeric(pressure, errors="coerce").to_numpy(dtype=float)
    aznp = []
    for when in table["mnf_time"]:
        if when is None or pd.isna(when):
            aznp.append(float("nan"))
            continue
        start = float(_abs_seconds(pd.DatetimeIndex([when]) if dates else pd.Index([when]))[0])
        lo, hi = np.searchsorted(tp, [start, start + w], side="left")
        values = p[lo:hi][np.isfinite(p[lo:hi])]
        aznp.append(float(values.mean()) if len(values) else float("nan"))
    table = table.assign(aznp_m=aznp)
    low = table.index[table["aznp_m"] <= 0]
    if len(low):
        msg = (f"the average zone night pressure on night {_fmt_night(low[0])} is "
               f"{table.loc[low[0], 'aznp_m']:g} m: FAVAD needs pressures above 0 (are they in m?)")
        raise InputError(msg)
    reference = reference_pressure_m
    if reference is None:
        reference = float(table["aznp_m"].median())
    if not reference > 0:
        msg = f"the reference pressure must be above 0 m, not {reference}"
        raise InputError(msg)
    leakage = table["mnf_m3h"] - night_use_m3h
    table["mnf_ref_m3h"] = night_use_m3h + leakage * _favad_ratio(table["aznp_m"], reference, n1)
    table.attrs["reference_pressure_m"] = reference
    return table


def _favad_ratio(pressure_m: pd.Series, reference_m: float, n1: float) -> pd.Series:
    """FAVAD power law: leakage at ``reference_m`` over leakage at ``pressure_m``, (P0 / P1)^N1.

    The same law as the night-day factor of :func:`nrwkit.balance.night_flow.night_flow`
    (``sum of (AZP_h / AZNP)^N1``), there for one hour against the night, here for a
    night against the reference.
    """
    return (reference_m / pressure_m) ** n1


def _fmt_night(label: Any) -> str:
    return label.strftime("%Y-%m-%d") if isinstance(label, pd.Timestamp) else f"day {label}"


def mnf_alarms(
    mnf_table: pd.DataFrame,
    *,
    baseline_nights: int = 7,
    threshold_m3h: float = SERVICE_BURST_M3H,
    threshold_fraction: float = 0.1,
    baseline: Literal["min", "median"] = "min",
    column: str = "mnf_m3h",
) -> pd.DataFrame:
    """Nights whose MNF exceeds the recent minimum (or median) by more than a threshold.

    Night ``k`` alarms when ``MNF_k - B_k > max(threshold_m3h, threshold_fraction B_k)``,
    with ``B_k`` the minimum (or median) MNF of the ``baseline_nights`` nights before it,
    over the nights that have an MNF; at least half of them must have one, else the night is
    not judged. A lasting increase alarms every night until it enters the baseline (after
    ``baseline_nights`` nights with ``baseline="min"``).

    Parameters
    ----------
    mnf_table : pandas.DataFrame
        One row per night in order, as returned by :func:`minimum_night_flow`.
    baseline_nights : int
        How many previous nights make the baseline.
    threshold_m3h : float
        Smallest excess that alarms, m3/h (default 1.6 m3/h: a service connection burst at
        50 m).
    threshold_fraction : float
        Smallest excess that alarms as a share of the baseline (the larger of the two
        thresholds applies; 0 to use the absolute one only).
    baseline : {"min", "median"}
        The recent minimum (DOMAIN practice), or the more robust median.
    column : str
        Column to judge: ``"mnf_m3h"``, or ``"mnf_ref_m3h"`` for the pressure-corrected MNF.

    Returns
    -------
    pandas.DataFrame
        One row per alarm: ``night``, ``mnf_m3h`` (the value judged), ``baseline_m3h``,
        ``threshold_m3h`` (the excess allowed that night) and ``excess_m3h``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"mnf_m3h": [10.0, 10.5, 10.2, 13.0]}).rename_axis("night")
    >>> mnf_alarms(table, baseline_nights=3)[["night", "excess_m3h"]].to_dict("records")
    [{'night': 3, 'excess_m3h': 3.0}]
    """
    if column not in mnf_table.columns:
        msg = f"the MNF table has no column {column!r} (columns: {', '.join(map(str, mnf_table.columns))})"
        raise InputError(msg)
    if int(baseline_nights) != baseline_nights or baseline_nights < 1:
        msg = f"baseline_nights must be a whole number of nights, 1 or more, not {baseline_nights}"
        raise InputError(msg)
    if threshold_m3h < 0 or threshold_fraction < 0:
        msg = "the thresholds must be 0 or more"
        raise InputError(msg)
    if baseline not in ("min", "median"):
        msg = f"baseline is 'min' or 'median', not {baseline!r}"
        raise InputError(msg)
    x = pd.to_numeric(mnf_table[column], errors="coerce").to_numpy(dtype=float)
    needed = math.ceil(baseline_nights / 2)
    rows = []
    for k in range(len(x)):
        if not np.isfinite(x[k]):
            continue
        previous = x[max(0, k - baseline_nights):k]
        previous = previous[np.isfinite(previous)]
        if len(previous) < needed:
            continue
        base = float(previous.min() if baseline == "min" else np.median(previous))
        allowed = max(threshold_m3h, threshold_fraction * base)
        excess = float(x[k]) - base
        if excess > allowed:
            rows.append((mnf_table.index[k], float(x[k]), base, allowed, excess))
    return pd.DataFrame(rows, columns=["night", "mnf_m3h", "baseline_m3h", "threshold_m3h", "excess_m3h"])


# --------------------------------------------------------------------------- CUSUM


def cusum(
    x: pd.Series,
    *,
    mu: float | None = None,
    sigma: float | None = None,
    delta: float = 1.0,
    h: float = 5.0,
    baseline: int | slice | None = None,
    direction: Literal["up", "down", "both"] = "up",
) -> CusumResult:
    """Tabular CUSUM of a series, with restart after each alarm.

    Upward: ``C+_k = max(0, C+_{k-1} + x_k - mu - k)``; downward: ``C-_k = max(0, C-_{k-1} -
    x_k + mu - k)``; ``k = delta sigma / 2``; an alarm when ``C_k > h sigma``, after which
    the statistic restarts from 0. Missing values (NaN) leave the statistic unchanged.
    Use "up" for flows (a leak raises them) and "down" or "both" for pressure residuals (a
    leak lowers pressures). With ``h = 5, delta = 1`` and the true ``mu, sigma`` of normal
    observations, the average run length between false alarms is 465 samples for both sides
    (Montgomery, *Introduction to Statistical Quality Control*, table 9.3), about 930 for one
    side (Siegmund's approximation), and a shift of 2 sigma is detected after about 4 samples.
    Estimated ``mu, sigma`` give more false alarms: from a baseline of 14 values, roughly one
    every 100 samples on one side.

    Parameters
    ----------
    x : pandas.Series
        The observations, in time order (any index).
    mu, sigma : float, optional
        Target mean and standard deviation; default estimated from the baseline: the median
        and 1.4826 times the median absolute deviation (the standard deviation if over half
        the baseline values are equal).
    delta : float
        Shift to detect, in sigmas (``k = delta sigma / 2``).
    h : float
        Decision interval, in sigmas.
    baseline : int or slice, optional
        The period that estimates ``mu`` and ``sigma``: the first ``n`` observations, or a
        slice of index labels; default all of ``x`` (robust to a change over a small part of
        it; give a period without leaks otherwise).
    direction : {"up", "down", "both"}
        Which changes to detect.

    Returns
    -------
    CusumResult
        The statistic, the alarms (time, side, statistic, onset, estimated shift) and the
        parameters used.

    Raises
    ------
    InputError
        ``sigma`` cannot be estimated (fewer than 2 baseline values, or all equal), or a
        parameter is out of range.

    Examples
    --------
    >>> import pandas as pd
    >>> r = cusum(pd.Series([0.0, 1, 3, 2, 4, -1, 5]), mu=0, sigma=1, delta=1, h=2)
    >>> r.statistic["up"].tolist()
    [0.0, 0.5, 3.0, 1.5, 5.0, 0.0, 4.5]
    >>> r.alarm_times, r.alarms["shift"].tolist()
    ([2, 4, 6], [2.0, 3.0, 5.0])
    """
    if not isinstance(x, pd.Series):
        msg = f"x must be a pandas Series, not {type(x).__name__}"
        raise InputError(msg)
    if direction not in ("up", "down", "both"):
        msg = f"direction is 'up', 'down' or 'both', not {direction!r}"
        raise InputError(msg)
    if not (h > 0 and delta >= 0):
        msg = f"h must be above 0 and delta 0 or more (h = {h}, delta = {delta})"
        raise InputError(msg)
    values = pd.to_numeric(x, errors="coerce").to_numpy(dtype=float)
    if mu is None or sigma is None:
        mu, sigma = _baseline_mu_sigma(x, values, baseline, mu, sigma)
    if not (math.isfinite(mu) and math.isfinite(sigma) and sigma > 0):
        msg = f"mu must be finite and sigma above 0 (mu = {mu}, sigma = {sigma})"
        raise InputError(msg)
    k, threshold = delta * sigma / 2.0, h * sigma
    signs = {"up": 1.0, "down": -1.0}
    sides = signs if direction == "both" else {direction: signs[direction]}
    statistic = np.full((len(values), len(sides)), np.nan)
    alarms = []
    for col, (side, sign) in enumerate(sides.items()):
        found = _one_sided_cusum(values, sign * (values - mu), k, threshold, statistic[:, col])
        for i, c, onset, shift in found:
            alarms.append((i, x.index[i], side, c, x.index[onset], sign * shift))
    alarms.sort(key=lambda a: (a[0], a[2]))
    table = pd.DataFrame([a[1:] for a in alarms], columns=["time", "side", "statistic", "onset", "shift"])
    return CusumResult(pd.DataFrame(statistic, index=x.index, columns=list(sides)), table,
                       float(mu), float(sigma), k, threshold)


def _baseline_mu_sigma(x: pd.Series, values: np.ndarray, baseline: int | slice | None,
                       mu: float | None, sigma: float | None) -> tuple[float, float]:
    """Estimate the missing of ``mu`` and ``sigma`` from the baseline (median and scaled MAD)."""
    if baseline is None:
        base = values
    elif isinstance(baseline, slice):
        base = pd.to_numeric(x.loc[baseline], errors="coerce").to_numpy(dtype=float)
    else:
        base = values[: int(baseline)]
    base = base[np.isfinite(base)]
    if mu is None:
        if not len(base):
            msg = "the CUSUM baseline has no values to estimate mu from: give mu, or another baseline"
            raise InputError(msg)
        mu = float(np.median(base))
    if sigma is None:
        sigma = MAD_TO_SIGMA * float(np.median(np.abs(base - np.median(base)))) if len(base) else 0.0
        if sigma == 0 and len(base) > 1:
            sigma = float(np.std(base, ddof=1))
        if not sigma > 0:
            msg = (f"the CUSUM baseline ({len(base)} values) has no spread to estimate sigma from "
                   "(a constant meter?): give sigma, or a longer baseline")
            raise InputError(msg)
    return mu, sigma


def _one_sided_cusum(values: np.ndarray, excess: np.ndarray, k: float, threshold: float,
                     statistic: np.ndarray) -> list[tuple[int, float, int, float]]:
    """Run one side of the CUSUM on ``excess`` (signed deviations), filling ``statistic`` in place.

    Returns the alarms as (position, statistic, onset position, estimated shift magnitude).
    """
    alarms = []
    c, onset, n = 0.0, -1, 0
    for i, v in enumerate(values):
        if not np.isfinite(v):
            continue
        c = max(0.0, c + float(excess[i]) - k)
        statistic[i] = c
        if c == 0.0:
            onset, n = -1, 0
            continue
        if onset < 0:
            onset = i
        n += 1
        if c > threshold:
            alarms.append((i, c, onset, k + c / n))
            c, onset, n = 0.0, -1, 0
    return alarms


# --------------------------------------------------------------------------- both


def detect(
    flows: pd.DataFrame | FlowSeries,
    *,
    night: Night = ("02:00", "04:00"),
    window: str | pd.Timedelta = "1h",
    min_coverage: float = 0.75,
    baseline_nights: int = 7,
    threshold_m3h: float = SERVICE_BURST_M3H,
    threshold_fraction: float = 0.1,
    cusum_baseline_nights: int = 14,
    cusum_h: float = 5.0,
    cusum_delta: float = 1.0,
    aznp_m: pd.DataFrame | None = None,
    reference_pressure_m: float | None = None,
    n1: float = 1.0,
) -> DetectionResult:
    """Detect leaks on every meter: the MNF trend and a CUSUM of the nightly MNF.

    For each meter: its MNF per night (:func:`minimum_night_flow`), the nights whose MNF
    exceeds the recent minimum by more than the threshold (:func:`mnf_alarms`), and an upward
    CUSUM (:func:`cusum`) of the nightly MNF with ``mu`` and ``sigma`` from the first
    ``cusum_baseline_nights`` nights with an MNF, which must be free of new leaks (a shorter
    baseline estimates sigma poorly and gives more false alarms: about one in 40 nights from
    7 nights of normal noise, one in 100 from 14, one in 300 from 28). With ``aznp_m`` both
    judge the MNF corrected to a reference pressure (``mnf_ref_m3h``).

    Parameters
    ----------
    flows : pandas.DataFrame or FlowSeries
        Flows in m3/s (index = times, columns = meter names), or what :func:`read_flows`
        returns (its findings are passed on).
    night, window, min_coverage
        The night period, averaging window and least coverage of :func:`minimum_night_flow`.
    baseline_nights : int
        Nights of the MNF trend's baseline.
    threshold_m3h, threshold_fraction : float
        Thresholds of :func:`mnf_alarms`.
    cusum_baseline_nights : int
        First nights with an MNF that estimate the CUSUM's ``mu`` and ``sigma``.
    cusum_h, cusum_delta : float
        ``h`` and ``delta`` of the CUSUM, in sigmas of the baseline nights' MNF.
    aznp_m : pandas.DataFrame, optional
        Average zone pressure of the zone each meter feeds, m (index = times, columns = meter
        names; meters without a column are not corrected).
    reference_pressure_m, n1 : float
        Reference pressure and FAVAD exponent of the correction.

    Returns
    -------
    DetectionResult
        Alarms, the MNF table of every meter, findings and the CUSUM of each meter.

    Examples
    --------
    Two weeks at 2 m3/h at night (with a little noise), then 6 m3/h:

    >>> import numpy as np, pandas as pd
    >>> times = pd.date_range("2024-03-01", periods=20 * 96, freq="15min")
    >>> night = np.where(times.hour < 6, 2.0, 20.0) + np.random.default_rng(0).normal(0, 0.1, len(times))
    >>> q = pd.Series(night + 4.0 * (times >= "2024-03-17"), index=times) / 3600
    >>> result = detect(pd.DataFrame({"inlet": q}))
    >>> result.alarms.groupby("method")["night"].min().dt.strftime("%Y-%m-%d").to_dict()
    {'cusum': '2024-03-17', 'mnf': '2024-03-17'}
    """
    findings: list[Finding] = []
    if isinstance(flows, FlowSeries):
        findings += flows.findings
        frame = flows.flows
    else:
        frame = flows
    if not isinstance(frame, pd.DataFrame):
        msg = f"flows must be a DataFrame (index = times, columns = meters), not {type(frame).__name__}"
        raise InputError(msg)
    alarm_columns = ["meter", "method", "night", "time", "value", "threshold", "excess_m3h", "onset"]
    alarms: list[tuple[Any, ...]] = []
    tables = []
    cusums: dict[str, CusumResult] = {}
    for meter in frame.columns:
        name = str(meter)
        series = pd.to_numeric(frame[meter], errors="coerce")
        valid = series.dropna()
        if valid.empty or (len(valid) > 1 and valid.nunique() == 1):
            dead = ("meter-empty", "meter-constant")
            if not any(f.elements == (name,) and f.code in dead for f in findings):
                findings.append(Finding(Severity.WARNING, "meter-skipped", (name,), f"{name}: no readings, "
                                        "or one value throughout: no detection", "meter"))
            continue
        pressure = aznp_m[meter] if aznp_m is not None and meter in aznp_m.columns else None
        table = minimum_night_flow(series, night=night, window=window, min_coverage=min_coverage,
                                   aznp_m=pressure, reference_pressure_m=reference_pressure_m, n1=n1)
        column = "mnf_ref_m3h" if "mnf_ref_m3h" in table.columns else "mnf_m3h"
        if len(table):
            tables.append(table.reset_index().assign(meter=name))
        judged = mnf_alarms(table, baseline_nights=baseline_nights, threshold_m3h=threshold_m3h,
                            threshold_fraction=threshold_fraction, column=column)
        for row in judged.itertuples(index=False):
            alarms.append((name, "mnf", row.night, table.loc[row.night, "mnf_time"], row.mnf_m3h,
                           row.baseline_m3h + row.threshold_m3h, row.excess_m3h, row.night))
        nightly = table[column].dropna()
        if len(nightly) <= cusum_baseline_nights:
            findings.append(Finding(Severity.INFO, "too-few-nights", (name,),
                                    f"{name}: {len(nightly)} nights with an MNF; the CUSUM needs more than "
                                    f"its {cusum_baseline_nights} baseline nights", "meter"))
            continue
        try:
            result = cusum(nightly, delta=cusum_delta, h=cusum_h, baseline=cusum_baseline_nights)
        except InputError as exc:
            findings.append(Finding(Severity.WARNING, "cusum-skipped", (name,), f"{name}: {exc}", "meter"))
            continue
        cusums[name] = result
        for row in result.alarms.itertuples(index=False):
            alarms.append((name, "cusum", row.time, table.loc[row.time, "mnf_time"], row.statistic,
                           result.threshold, row.shift, row.onset))
    alarm_table = pd.DataFrame(alarms, columns=alarm_columns)
    if len(alarm_table):
        alarm_table = alarm_table.sort_values(["night", "meter", "method"], kind="stable", ignore_index=True)
    mnf = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["meter", "night"])
    mnf = mnf[["meter", *[c for c in mnf.columns if c != "meter"]]]
    return DetectionResult(alarm_table, mnf, findings, cusums)


# --------------------------------------------------------------------------- output


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: nights as dates, times as ISO text, NaN as None."""
    records = []
    for row in frame.to_dict("records"):
        records.append({str(k): _plain(v, date_only=k in ("night", "onset")) for k, v in row.items()})
    return records


def _plain(value: Any, *, date_only: bool = False) -> Any:
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return None
        return value.date().isoformat() if date_only else value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value
