"""The bundled benchmark networks, loadable by name.

``load("l-town")`` and ``load("path/to/model.inp")`` return the same kind of object, so
every function and command that takes a network accepts either. The files live in the
repository's ``networks/`` folder (provenance and licences in ``networks/README.md``) and
are shipped inside the wheel.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
import wntr

from .errors import InputError
from .network.io import read_inp

__all__ = ["BundledNetwork", "available", "is_bundled", "load", "path", "resolve"]


@dataclass(frozen=True)
class BundledNetwork:
    """A network shipped with nrwkit.

    Attributes
    ----------
    name : str
        The name ``load`` accepts (case-insensitive).
    filename : str
        File in ``networks/``.
    title : str
        What it is.
    good_for : str
        What it is used for in nrwkit's docs and tests.
    aliases : tuple of str
        Other accepted names.
    """

    name: str
    filename: str
    title: str
    good_for: str
    aliases: tuple[str, ...] = ()


BUNDLED: tuple[BundledNetwork, ...] = (
    BundledNetwork(
        "net1", "Net1.inp", "EPANET example network 1 (9 junctions, 1 tank, 1 pump)",
        "first steps, unit tests, hand checks", ("epanet-net1",),
    ),
    BundledNetwork(
        "net3", "Net3.inp", "EPANET example network 3 (two sources, tanks, pumps)",
        "multi-source systems, controls", ("epanet-net3",),
    ),
    BundledNetwork(
        "ky4", "ky4.inp", "Kentucky network KY4 (University of Kentucky WDST database)",
        "a real rural-suburban utility, gravity and pumped zones", ("kentucky-4",),
    ),
    BundledNetwork(
        "l-town", "L-TOWN.inp", "L-Town v1.2, BattLeDIM 2020 (KIOS Research Center)",
        "the demo utility: DMAs, PRVs, leak localisation benchmark", ("ltown", "battledim", "demo"),
    ),
)


def _by_name() -> dict[str, BundledNetwork]:
    table: dict[str, BundledNetwork] = {}
    for net in BUNDLED:
        for key in (net.name, *net.aliases):
            table[key.lower()] = net
    return table


def is_bundled(name: str) -> bool:
    """Return True if ``name`` is the name or alias of a bundled network."""
    return str(name).lower() in _by_name()


def path(name: str) -> Path:
    """Return the file of the bundled network ``name``.

    Parameters
    ----------
    name : str
        A name or alias from :func:`available` (case-insensitive).

    Returns
    -------
    Path
        The ``.inp`` file.

    Raises
    ------
    InputError
        If no bundled network has that name.
    """
    net = _by_name().get(str(name).lower())
    if net is None:
        names = ", ".join(n.name for n in BUNDLED)
        msg = f"no bundled network is called {name!r}: use one of {names}, or the path of an .inp file"
        raise InputError(msg)
    folder = resources.files("nrwkit._bundled_networks")
    return Path(str(folder.joinpath(net.filename)))


def resolve(network: str | Path) -> Path:
    """Return the file for a bundled network name or an ``.inp`` path.

    An existing file wins over a bundled name, so a local file called ``net1`` is read as is;
    a workspace folder (``nrwkit init``) stands for its network.
    """
    from .workspace import is_workspace, open_workspace

    candidate = Path(network)
    if candidate.is_dir() and is_workspace(candidate):
        return open_workspace(candidate).network
    if candidate.exists() or not is_bundled(str(network)):
        return candidate
    return path(str(network))


def load(network: str | Path) -> wntr.network.WaterNetworkModel:
    """Load a bundled network by name, or any ``.inp`` file by path.

    Parameters
    ----------
    network : str or Path
        A bundled name (``"net1"``, ``"net3"``, ``"ky4"``, ``"l-town"``; ``"demo"`` is
        L-Town) or the path of an EPANET ``.inp`` file.

    Returns
    -------
    wntr.network.WaterNetworkModel
        The model (SI units inside, as in WNTR).

    Raises
    ------
    NetworkFileError
        If the file is missing or malformed; the message names the line and the fix.

    Examples
    --------
    >>> wn = load("l-town")
    >>> wn.describe(level=1)["Nodes"]["Junctions"]
    782
    """
    return read_inp(resolve(network))


def available() -> pd.DataFrame:
    """List the bundled networks.

    Returns
    -------
    pandas.DataFrame
        (index = name) with columns ``file``, ``title``, ``good_for``, ``aliases``.
    """
    rows = [
        {"name": n.name, "file": n.filename, "title": n.title, "good_for": n.good_for,
         "aliases": ", ".join(n.aliases)}
        for n in BUNDLED
    ]
    return pd.DataFrame(rows).set_index("name")
