"""A CSV table of times and readings: the reading steps shared by logger readings and inlet flows.

Both files hold a ``time`` column and one column per logger (or meter). The steps here read
the file as text, drop blank lines while keeping the number an editor shows (the header
being 1), find the ``time`` column, refuse unnamed columns, and parse the times and the
readings. Every refusal is an :class:`~nrwkit.errors.InputError` naming the file, the row
(or line), the column and the fix; the words that differ between the two files are given
by a :class:`Words`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

#: Cell texts read as a missing reading.
MISSING = {"", "nan", "na", "n/a", "null", "none"}


@dataclass(frozen=True)
class Words:
    """The wording of one kind of table in its messages.

    Attributes
    ----------
    place : str
        What a line of the file is called: "row" or "line".
    column : str
        What a reading column is called: "logger" or "meter".
    file_fix : str
        The fix when the file does not exist.
    empty_fix : str
        The fix when the file is empty.
    no_time : str
        The problem when there is no ``time`` column, before the list of columns.
    no_time_fix : str
        The fix when there is no ``time`` column.
    unnamed_fix : str
        The fix when a column has no name.
    no_column_fix : str
        The fix when there is no reading column.
    no_rows_fix : str
        The fix when there is no row below the header.
    """

    place: str
    column: str
    file_fix: str
    empty_fix: str
    no_time: str
    no_time_fix: str
    unnamed_fix: str
    no_column_fix: str
    no_rows_fix: str


def bad(where: str, problem: str, fix: str, *, place: str = "row", at: int | None = None,
        column: str | None = None) -> InputError:
    """Return the error naming where (file, row or line, column), the problem and the fix."""
    if at is not None:
        where += f", {place} {at}"
    if column is not None:
        where += f", column {column!r}"
    return InputError(f"{where}: {problem}\n  fix: {fix}")


def _read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet table (as ``nrwkit ensemble leaks`` writes) as the text cells a CSV would give."""
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises its own error types for a damaged file
        raise bad(str(path), f"this is not a readable Parquet file ({str(exc).strip()})",
                  "write it again, or give the readings as CSV") from None
    frame.columns = [str(c) for c in frame.columns]
    return frame.astype(object).where(frame.notna(), "").astype(str)


def _read_csv(path: Path, words: Words) -> pd.DataFrame:
    if not path.exists():
        raise bad(str(path), "no such file", words.file_fix)
    if path.is_dir():
        raise bad(str(path), "this is a folder, not a file", "give the path of the CSV file")
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except FileNotFoundError:
        raise bad(str(path), "no such file", words.file_fix) from None
    except IsADirectoryError:
        raise bad(str(path), "this is a folder, not a file", "give the path of the CSV file") from None
    except pd.errors.EmptyDataError:
        raise bad(str(path), "the file is empty", words.empty_fix) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise bad(str(path), f"this is not a readable CSV file ({str(exc).strip()})",
                  "save it as CSV (comma separated, UTF-8) with the same number of fields on every "
                  f"{words.place}") from None


def read_table(path: Path, words: Words) -> tuple[pd.DataFrame, np.ndarray, str, list[str]]:
    """Read the CSV as text, without blank lines, and find its time and reading columns.

    Parameters
    ----------
    path : Path
        The CSV file (or a ``.parquet`` table with the same columns).
    words : Words
        The wording of the messages.

    Returns
    -------
    (raw, rows, time_col, columns)
        The cells as text (blank lines dropped), the row number an editor shows for each
        (the header being 1), the name of the time column and the names of the reading columns
        (a trailing separator's empty column left out).

    Raises
    ------
    InputError
        The file is missing, a folder, empty or not a CSV; it has no ``time`` column, an
        unnamed column holding cells, no reading column or no row below the header.
    """
    raw = _read_csv(path, words)
    raw.columns = [str(c).strip() for c in raw.columns]
    rows = np.arange(len(raw)) + 2  # the header is row 1
    blank = (raw.apply(lambda col: col.str.strip()) == "").all(axis=1).to_numpy() if len(raw) else \
        np.zeros(0, dtype=bool)
    raw, rows = raw.loc[~blank].reset_index(drop=True), rows[~blank]
    time_col = next((c for c in raw.columns if c.lower() == "time"), None)
    if time_col is None:
        raise bad(str(path), f"{words.no_time} (the columns are: {', '.join(raw.columns)})",
                  words.no_time_fix)
    columns = [c for c in raw.columns if c != time_col]
    for c in list(columns):
        if c.startswith("Unnamed: "):
            if (raw[c].str.strip() == "").all():  # a trailing separator
                columns.remove(c)
            else:
                raise bad(str(path), f"column {int(c.split(': ')[1]) + 1} has no name in the header "
                          f"{words.place}", words.unnamed_fix)
    if not columns:
        raise bad(str(path), f"there is no {words.column} column, only times", words.no_column_fix)
    if len(raw) == 0:
        raise bad(str(path), f"there are no readings below the header {words.place}", words.no_rows_fix)
    return raw, rows, time_col, columns


def numeric_times(path: Path, text: pd.Series, rows: np.ndarray, place: str, *, label: str,
                  fix: str) -> tuple[pd.Series, np.ndarray | None]:
    """Return the times stripped, and as seconds when the first one is a number (else None).

    Parameters
    ----------
    path : Path
        The file, named in the messages.
    text : pandas.Series
        The time cells.
    rows : numpy.ndarray
        The row number of each cell.
    place : str
        What a line of the file is called: "row" or "line".
    label : str
        The words before a time quoted in a message ("time " or "").
    fix : str
        The fix when a later time is not a number while the first one is.

    Returns
    -------
    (text, seconds)
        The stripped cells, and the times as floats (None when the first is not a number).

    Raises
    ------
    InputError
        A time is missing, or is not a number while the first one is.
    """
    text = text.str.strip()
    empty = np.flatnonzero((text == "").to_numpy())
    if len(empty):
        raise bad(str(path), "the time is missing", f"give a time on every {place}", place=place,
                  at=int(rows[empty[0]]), column="time")
    numeric = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(numeric[0]):
        return text, None
    wrong = np.flatnonzero(~np.isfinite(numeric))
    if len(wrong):
        raise bad(str(path), f"{label}{text.iloc[wrong[0]]!r} is not a number of seconds like the first time",
                  fix, place=place, at=int(rows[wrong[0]]), column="time")
    return text, numeric


def date_times(path: Path, text: pd.Series, rows: np.ndarray, place: str, *, problem: str,
               fix: str) -> tuple[pd.Series, bool]:
    """Return the times read as ISO date-times, and whether their UTC offsets differ.

    Parameters
    ----------
    path : Path
        The file, named in the messages.
    text : pandas.Series
        The stripped time cells.
    rows : numpy.ndarray
        The row number of each cell.
    place : str
        What a line of the file is called: "row" or "line".
    problem : str
        The problem when a time is not a date-time, with ``{time}`` for the quoted time.
    fix : str
        The fix when a time is not a date-time.

    Returns
    -------
    (stamps, mixed)
        The date-times (converted to UTC when the offsets differ) and whether they differ.

    Raises
    ------
    InputError
        A time is not an ISO date-time.
    """
    mixed = False
    try:
        stamps = pd.to_datetime(text, errors="coerce", format="ISO8601")
    except ValueError:  # different UTC offsets, e.g. across a daylight-saving change
        stamps = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
        mixed = True
    wrong = np.flatnonzero(stamps.isna().to_numpy())
    if len(wrong):
        raise bad(str(path), problem.format(time=repr(text.iloc[wrong[0]])), fix, place=place,
                  at=int(rows[wrong[0]]), column="time")
    return stamps, mixed


def parse_values(path: Path, raw: pd.DataFrame, rows: np.ndarray, place: str, *, noun: str,
                 fix: str) -> np.ndarray:
    """Return the readings as floats, NaN where a cell is missing.

    Parameters
    ----------
    path : Path
        The file, named in the messages.
    raw : pandas.DataFrame
        The reading cells as text.
    rows : numpy.ndarray
        The row number of each cell.
    place : str
        What a line of the file is called: "row" or "line".
    noun : str
        What a cell should be ("a number", "a flow").
    fix : str
        The fix when a cell is not a number.

    Returns
    -------
    numpy.ndarray
        The readings, one column per column of ``raw``.

    Raises
    ------
    InputError
        A cell is neither a number nor missing (the first such one is named).
    """
    out = np.empty(raw.shape, dtype=float)
    wrong: list[tuple[int, int]] = []
    for j, col in enumerate(raw.columns):
        text = raw[col].str.strip()
        missing = text.str.lower().isin(MISSING).to_numpy()
        numbers = pd.to_numeric(text.where(~missing, "nan"), errors="coerce").to_numpy(dtype=float)
        wrong += [(int(i), j) for i in np.flatnonzero(~missing & ~np.isfinite(numbers))]
        out[:, j] = numbers
    if wrong:
        i, j = min(wrong)
        more = f" (and {len(wrong) - 1} more cells that are not numbers)" if len(wrong) > 1 else ""
        raise bad(str(path), f"{raw.iloc[i, j].strip()!r} is not {noun}{more}", fix, place=place,
                  at=int(rows[i]), column=str(raw.columns[j]))
    return out
