"""Writing output files safely: atomically, and never over earlier work by accident.

A half-written file is worse than none: a GIS team may open it in QGIS and trust it.
Every writer in nrwkit goes through :func:`atomic_output`, which writes to a temporary
file in the destination folder and renames it into place only when writing succeeded (an
error or Ctrl-C leaves nothing behind, not even the folders it created). A destination that
cannot be written (read-only folder, a file where a folder should be) is an
:class:`~nrwkit.errors.OutputError` naming the path and the fix.

Creation stamps written into outputs come from :func:`creation_time`, which honours the
``SOURCE_DATE_EPOCH`` environment variable (https://reproducible-builds.org/specs/source-date-epoch/),
so that two runs with the same inputs give identical bytes.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InputError, OutputError, OutputExistsError

__all__ = ["atomic_output", "check_writable", "creation_time", "reproducible", "write_json", "write_text"]

#: The environment variable of reproducible builds: a creation time in seconds since 1970 UTC.
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"


def creation_time() -> datetime.datetime:
    """Return the time to stamp on outputs: ``SOURCE_DATE_EPOCH`` (UTC) when set, else now.

    Returns
    -------
    datetime.datetime
        A timezone-aware time, to the second.

    Raises
    ------
    InputError
        If ``SOURCE_DATE_EPOCH`` is set but is not a whole number of seconds.

    Examples
    --------
    >>> import os
    >>> os.environ["SOURCE_DATE_EPOCH"] = "86400"
    >>> creation_time().isoformat()
    '1970-01-02T00:00:00+00:00'
    >>> del os.environ["SOURCE_DATE_EPOCH"]
    """
    value = os.environ.get(SOURCE_DATE_EPOCH, "").strip()
    if not value:
        return datetime.datetime.now().astimezone().replace(microsecond=0)
    try:
        seconds = int(value)
    except ValueError:
        msg = (f"the environment variable {SOURCE_DATE_EPOCH}={value!r} is not a whole number of seconds "
               f"since 1970-01-01 UTC; set it to one (e.g. $(git log -1 --format=%ct)) or unset it")
        raise InputError(msg) from None
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


def reproducible() -> bool:
    """Return True when ``SOURCE_DATE_EPOCH`` is set: outputs must then be the same bytes every run.

    In that mode creation stamps come from the variable (:func:`creation_time`) and wall-clock
    measurements (how long a stage took) are left out of the outputs.

    Returns
    -------
    bool
        Whether ``SOURCE_DATE_EPOCH`` is set to a non-empty value.
    """
    return bool(os.environ.get(SOURCE_DATE_EPOCH, "").strip())


def _unwritable(path: Path, exc: OSError) -> OutputError:
    """Return the OutputError for an operating-system error while writing ``path``."""
    reason = exc.strerror or type(exc).__name__
    where = Path(exc.filename) if exc.filename else path
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(path, f"no permission to write in {where} ({reason})",
                           "write to a folder you can write to, or change the folder's permissions")
    if isinstance(exc, NotADirectoryError) or exc.errno == errno.ENOTDIR or (
            exc.errno == errno.EEXIST and where.is_file()):  # a folder to make is a file already
        return OutputError(path, f"a part of the path is a file, not a folder ({reason})",
                           "correct the output path")
    if isinstance(exc, IsADirectoryError) or exc.errno == errno.EISDIR:
        return OutputError(path, "it is a folder", "give a file name, not a folder")
    if exc.errno == errno.ENOSPC:
        return OutputError(path, "the disk is full", "free some space or write to another disk")
    return OutputError(path, f"{reason} ({where})", "check the output path and the folder's permissions")


def _make_parents(folder: Path, target: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created (deepest last)."""
    missing: list[Path] = []
    cur = folder
    while not cur.exists() and cur != cur.parent:
        missing.append(cur)
        cur = cur.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_folders(missing)
        raise _unwritable(target, exc) from None
    return list(reversed(missing))


def _remove_folders(created: list[Path]) -> None:
    """Remove folders created for an output that was not written (deepest first, if empty)."""
    for folder in sorted(created, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()


def check_writable(path: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse an output path that exists unless ``overwrite`` is true.

    Parameters
    ----------
    path : str or Path
        The file about to be written.
    overwrite : bool, default False
        Allow replacing an existing file.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputExistsError
        If the file exists and ``overwrite`` is false.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputExistsError(target)
    return target


@contextlib.contextmanager
def atomic_output(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path that replaces ``path`` when the block succeeds.

    The temporary file lives in the destination folder (so the final rename is atomic on
    the same file system) and keeps the destination's suffix (so drivers that choose the
    format by extension, such as GDAL's GeoPackage driver, work). If the block raises, the
    temporary file is removed and ``path`` is left untouched.

    Parameters
    ----------
    path : str or Path
        Final destination.
    overwrite : bool, default False
        Allow replacing an existing file.

    Yields
    ------
    Path
        Where to write.
    """
    target = check_writable(path, overwrite=overwrite)
    if target.is_dir():
        raise OutputError(target, "it is a folder", "give a file name, not a folder")
    created = _make_parents(target.parent, target)
    done = False
    try:
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix,
                                            dir=target.parent)
        except OSError as exc:
            raise _unwritable(target, exc) from None
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()  # let the writer create it (some drivers refuse an existing empty file)
        try:
            yield tmp
            if not tmp.exists():
                msg = f"nothing was written for {target}"
                raise OSError(msg)
            # re-check just before the rename: another process may have written meanwhile
            check_writable(target, overwrite=overwrite)
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise _unwritable(target, exc) from None
            done = True
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    finally:
        if not done:
            _remove_folders(created)


def write_text(path: str | Path, text: str, *, overwrite: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any, *, overwrite: bool = False) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically; return the path."""
    return write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n", overwrite=overwrite)
