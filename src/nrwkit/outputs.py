"""Writing output files safely: atomically, and never over earlier work by accident.

A half-written file is worse than none: a GIS team may open it in QGIS and trust it.
Every writer in nrwkit goes through :func:`atomic_output`, which writes to a temporary
file in the destination folder and renames it into place only when writing succeeded.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import OutputExistsError

__all__ = ["atomic_output", "check_writable", "write_json", "write_text"]


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
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent
    )
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
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(path: str | Path, text: str, *, overwrite: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any, *, overwrite: bool = False) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically; return the path."""
    return write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n", overwrite=overwrite)
