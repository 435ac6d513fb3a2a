"""The metering inputs: error curves, consumption profiles and the meter population (CSV).

- ``curves.csv``: ``meter_type, age_years, flow_l_per_h, error_percent`` (bench-test error
  curves, error = (registered - true) / true x 100), one curve per meter type and age; optional
  ``sd_percent`` (repeatability of the bench test, percentage points) and ``meters_tested``.
- ``profiles.csv``: ``profile, flow_low_l_per_h, flow_high_l_per_h, volume_share``: the share of
  a customer category's true volume consumed in each flow band; a profile's shares sum to 1
  within 0.5 %. A band's representative flow is the geometric mean of its limits (half the
  upper limit when the lower one is 0). Optional ``customers_logged`` (how many logged
  customers the profile comes from).
- ``meters.csv``: ``meter_id, meter_type, profile, install_year, annual_registered_m3``;
  optional ``size_mm, category, tariff_per_m3``.

Every reader names the file, the row and the fix of what it refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["ErrorCurves", "Profiles", "read_curves", "read_meters", "read_profiles"]

#: A profile's shares must sum to 1 within this.
SHARE_TOLERANCE = 0.005
#: Default bench-test repeatability of a curve point, percentage points.
DEFAULT_SD_PERCENT = 1.0
#: Default number of meters a curve was measured on.
DEFAULT_METERS_TESTED = 10
#: Default number of logged customers behind a profile.
DEFAULT_CUSTOMERS_LOGGED = 50


def _read(path: str | Path, required: Sequence[str], what: str) -> pd.DataFrame:
    path = Path(path)
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", skipinitialspace=True)
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what} file; fix: check the path") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"{path}: not a CSV {what} table ({str(exc).splitlines()[0]}); fix: save it as "
            "comma-separated UTF-8 with a header row"
        ) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: no column {', '.join(missing)}; fix: the {what} table needs {', '.join(required)}"
        )
    if frame.empty:
        raise InputError(f"{path}: no rows; fix: give at least one {what} row")
    return frame


def _numbers(
    frame: pd.DataFrame,
    path: Path,
    columns: Sequence[str],
    *,
    positive: Sequence[str] = (),
    non_negative: Sequence[str] = (),
) -> None:
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values)
        if column in positive:
            bad |= values <= 0
        if column in non_negative:
            bad |= values < 0
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            rule = (
                "a number above 0"
                if column in positive
                else ("a number of 0 or more" if column in non_negative else "a number")
            )
            raise InputError(
                f"{path}, row {row + 1}: {column} = {frame[column].iloc[row]!r}; fix: give {rule}"
            )
        frame[column] = values.astype(float)


@dataclass(frozen=True)
class ErrorCurves:
    """Bench-test error curves by meter type and age.

    Attributes
    ----------
    table : pandas.DataFrame
        ``meter_type, age_years, flow_l_per_h, error_percent, sd_percent, meters_tested``,
        sorted by type, age and flow.
    """

    table: pd.DataFrame

    @property
    def types(self) -> list[str]:
        """The meter types."""
        return sorted(self.table["meter_type"].unique())


def read_curves(path: str | Path) -> ErrorCurves:
    """Read and check ``curves.csv`` (see the module's description).

    Raises
    ------
    InputError
        For a missing column, a non-numeric or negative value, a flow of 0 or less, a curve
        with one point, or one flow given twice in a curve.
    """
    path = Path(path)
    frame = _read(path, ["meter_type", "age_years", "flow_l_per_h", "error_percent"], "error curves")
    frame["meter_type"] = frame["meter_type"].astype(str).str.strip()
    if "sd_percent" not in frame.columns:
        frame["sd_percent"] = DEFAULT_SD_PERCENT
    if "meters_tested" not in frame.columns:
        frame["meters_tested"] = DEFAULT_METERS_TESTED
    _numbers(
        frame,
        path,
        ["age_years", "flow_l_per_h", "error_percent", "sd_percent", "meters_tested"],
        positive=["flow_l_per_h", "meters_tested"],
        non_negative=["age_years", "sd_percent"],
    )
    if (frame["error_percent"] <= -100).any():
        row = int(np.flatnonzero((frame["error_percent"] <= -100).to_numpy())[0])
        raise InputError(
            f"{path}, row {row + 1}: error_percent {frame['error_percent'].iloc[row]:g}: a meter "
            "that registers nothing or less; fix: give an error above -100 %"
        )
    for (meter_type, age), curve in frame.groupby(["meter_type", "age_years"]):
        if len(curve) < 2:
            raise InputError(
                f"{path}: the curve of {meter_type} at {age:g} years has one point; fix: give "
                "at least two flows per curve"
            )
        if curve["flow_l_per_h"].duplicated().any():
            raise InputError(
                f"{path}: the curve of {meter_type} at {age:g} years gives a flow twice; fix: one "
                "error per flow"
            )
    table = frame.sort_values(["meter_type", "age_years", "flow_l_per_h"]).reset_index(drop=True)
    cols = ["meter_type", "age_years", "flow_l_per_h", "error_percent", "sd_percent", "meters_tested"]
    return ErrorCurves(table[cols])


@dataclass(frozen=True)
class Profiles:
    """Consumption profiles: the share of true volume in each flow band.

    Attributes
    ----------
    table : pandas.DataFrame
        ``profile, flow_low_l_per_h, flow_high_l_per_h, volume_share, flow_l_per_h`` (the
        band's representative flow), ``customers_logged``.
    """

    table: pd.DataFrame

    @property
    def names(self) -> list[str]:
        """The profiles."""
        return sorted(self.table["profile"].unique())


def representative_flow(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Return a band's representative flow: the geometric mean of its limits, half the upper one from 0."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return np.where(low > 0, np.sqrt(np.clip(low, 1e-300, None) * high), high / 2.0)


def read_profiles(path: str | Path) -> Profiles:
    """Read and check ``profiles.csv`` (see the module's description).

    Raises
    ------
    InputError
        For a band whose upper limit is not above its lower one, a negative share, or a
        profile whose shares do not sum to 1 within 0.5 %.
    """
    path = Path(path)
    frame = _read(path, ["profile", "flow_low_l_per_h", "flow_high_l_per_h", "volume_share"], "profiles")
    frame["profile"] = frame["profile"].astype(str).str.strip()
    if "customers_logged" not in frame.columns:
        frame["customers_logged"] = DEFAULT_CUSTOMERS_LOGGED
    _numbers(
        frame,
        path,
        ["flow_low_l_per_h", "flow_high_l_per_h", "volume_share", "customers_logged"],
        positive=["flow_high_l_per_h", "customers_logged"],
        non_negative=["flow_low_l_per_h", "volume_share"],
    )
    bad = frame["flow_high_l_per_h"] <= frame["flow_low_l_per_h"]
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{path}, row {row + 1}: the band's upper flow is not above its lower flow; fix: give "
            "flow_low_l_per_h < flow_high_l_per_h"
        )
    sums = frame.groupby("profile")["volume_share"].sum()
    off = sums[(sums - 1.0).abs() > SHARE_TOLERANCE]
    if len(off):
        name = off.index[0]
        raise InputError(
            f"{path}: the shares of profile {name!r} sum to {off.iloc[0]:.4f}; fix: make each "
            "profile's volume_share add up to 1"
        )
    frame["flow_l_per_h"] = representative_flow(
        frame["flow_low_l_per_h"].to_numpy(), frame["flow_high_l_per_h"].to_numpy()
    )
    cols = [
        "profile",
        "flow_low_l_per_h",
        "flow_high_l_per_h",
        "volume_share",
        "flow_l_per_h",
        "customers_logged",
    ]
    return Profiles(frame[cols].reset_index(drop=True))


def read_meters(
    path: str | Path, curves: ErrorCurves | None = None, profiles: Profiles | None = None
) -> pd.DataFrame:
    """Read and check ``meters.csv``; with ``curves`` and ``profiles``, check that their types exist.

    Returns
    -------
    pandas.DataFrame
        One row per meter (``meter_id`` unique).

    Raises
    ------
    InputError
        For a missing column, a bad number, a meter id given twice, or a meter type or profile
        that the curves or profiles do not have (the row is named).
    """
    path = Path(path)
    frame = _read(
        path, ["meter_id", "meter_type", "profile", "install_year", "annual_registered_m3"], "meters"
    )
    for column in ("meter_id", "meter_type", "profile"):
        frame[column] = frame[column].astype(str).str.strip()
    numeric = [
        "install_year",
        "annual_registered_m3",
        *[c for c in ("size_mm", "tariff_per_m3") if c in frame],
    ]
    _numbers(
        frame, path, numeric, non_negative=["annual_registered_m3", "tariff_per_m3"], positive=["size_mm"]
    )
    twice = frame["meter_id"].duplicated()
    if twice.any():
        row = int(np.flatnonzero(twice.to_numpy())[0])
        raise InputError(
            f"{path}, row {row + 1}: meter {frame['meter_id'].iloc[row]} is listed twice; fix: one "
            "row per meter"
        )
    for column, known, what in (
        ("meter_type", curves.types if curves else None, "error curves"),
        ("profile", profiles.names if profiles else None, "profiles"),
    ):
        if known is None:
            continue
        unknown = ~frame[column].isin(known)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputError(
                f"{path}, row {row + 1}: {column} {frame[column].iloc[row]!r} has no {what} (known: "
                f"{', '.join(known[:8])}); fix: add it to the {what} file or correct the meter"
            )
    return frame.reset_index(drop=True)
