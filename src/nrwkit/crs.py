"""Coordinate reference systems: parsing a user's CRS and naming a local one.

Part of the foundation: it imports nothing else from nrwkit but :mod:`nrwkit.errors`.
"""

from __future__ import annotations

from typing import Any

from .errors import CRSError

__all__ = ["parse_crs"]


def parse_crs(crs: str) -> Any:
    """Return a :class:`pyproj.CRS`, or raise :class:`~nrwkit.errors.CRSError` naming the fix.

    Parameters
    ----------
    crs : str
        Anything :meth:`pyproj.CRS.from_user_input` accepts (``"EPSG:32633"``, WKT, PROJ).

    Returns
    -------
    pyproj.CRS
        The parsed CRS.

    Examples
    --------
    >>> parse_crs("EPSG:32633").name
    'WGS 84 / UTM zone 33N'
    """
    import pyproj

    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        msg = f"unknown CRS {crs!r}: give an EPSG code such as EPSG:32633 ({exc})"
        raise CRSError(msg) from exc
