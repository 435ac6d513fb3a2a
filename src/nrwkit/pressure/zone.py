"""Pressure zones: the junctions a PRV would serve, and the pipes that feed them.

A zone is given by the DMA a design tagged (``dma=ID`` on its junctions, ``meter=ID`` on its
inlets; see :func:`nrwkit.dma.tag_network`) or by its inlet pipes: the zone is then every
junction that loses its supply when those pipes are closed (:func:`nrwkit.network.supply`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import wntr

from ..dma.io import dma_tags
from ..errors import InputError
from ..findings import list_ids
from ..network.supply import permanently_closed_links, supplied_nodes

__all__ = ["Zone", "zone_from_dma", "zone_from_inlets"]


@dataclass(frozen=True)
class Zone:
    """A pressure zone.

    Attributes
    ----------
    name : str
        The DMA id, or the inlet pipes joined by ``+``.
    junctions : tuple of str
        The zone's junctions, in the model's order.
    inlets : tuple of str
        The links that feed it.
    inlet_ends : tuple of str
        For each inlet, its end inside the zone.
    downstream : tuple of str
        Junctions outside the DMA that it alone feeds (another DMA fed only through it): a
        PRV at its inlets serves them too, so they are in ``junctions``.
    outlets : tuple of str
        Open links that carry water from the zone to junctions it does not hold (the meters of
        DMAs fed through it that have inlets of their own): the PRV lowers their pressure too.
    """

    name: str
    junctions: tuple[str, ...]
    inlets: tuple[str, ...]
    inlet_ends: tuple[str, ...]
    downstream: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()


def _inlet_ends(wn: wntr.network.WaterNetworkModel, inlets: Sequence[str],
                inside: set[str]) -> tuple[str, ...]:
    ends = []
    for name in inlets:
        link = wn.get_link(name)
        a, b = link.start_node_name, link.end_node_name
        if (a in inside) == (b in inside):
            msg = (f"link {name} does not cross the zone's boundary (both its ends are "
                   f"{'inside' if a in inside else 'outside'}): give the pipes that feed the zone")
            raise InputError(msg)
        ends.append(a if a in inside else b)
    return tuple(ends)


def zone_from_inlets(wn: wntr.network.WaterNetworkModel, inlets: Sequence[str]) -> Zone:
    """Return the zone fed by ``inlets``: the junctions that lose their supply without them.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network.
    inlets : sequence of str
        Every pipe (or valve) that feeds the zone.

    Returns
    -------
    Zone

    Raises
    ------
    InputError
        For an unknown link, or inlets whose closure cuts no junction off (the zone has
        other inlets: name them all, or give the DMA).
    """
    if not inlets:
        raise InputError("no inlet given: name the pipe(s) that feed the zone")
    unknown = [name for name in inlets if name not in wn.link_name_list]
    if unknown:
        msg = f"no link named {list_ids(unknown)} in the network: give the zone's inlet pipe(s) by their ids"
        raise InputError(msg)
    closed = permanently_closed_links(wn) & set(inlets)
    if closed:
        msg = f"inlet {list_ids(sorted(closed))} is closed in the model: a closed pipe feeds no zone"
        raise InputError(msg)
    cut = supplied_nodes(wn) - supplied_nodes(wn, closed=inlets)
    junctions = tuple(n for n in wn.junction_name_list if n in cut)
    if not junctions:
        msg = (f"closing {list_ids(list(inlets))} cuts no junction off from its supply: the zone has "
               "other inlets; name every inlet pipe, or give the DMA id of a designed network")
        raise InputError(msg)
    return Zone("+".join(inlets), junctions, tuple(inlets), _inlet_ends(wn, inlets, set(junctions)))


def zone_from_dma(wn: wntr.network.WaterNetworkModel, dma_id: str) -> Zone:
    """Return the zone of DMA ``dma_id`` in a network tagged by a DMA design.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        A network read from the ``.inp`` a DMA design wrote (``dma=ID`` tags).
    dma_id : str
        The DMA.

    Returns
    -------
    Zone
        Its junctions, and as inlets its metered pipes (``meter=ID``), else every open link
        that crosses its boundary.

    Raises
    ------
    InputError
        For a network without DMA tags, an unknown DMA (the known ones are listed) or a DMA
        with no inlet.
    """
    labels, meters, _ = dma_tags(wn)
    if not labels:
        msg = (f"{wn.name or 'the network'}: no junction carries a dma= tag; give the .inp written by "
               "a DMA design, or give the zone by its inlet pipe(s)")
        raise InputError(msg)
    junctions = tuple(n for n in wn.junction_name_list if labels.get(n) == dma_id)
    if not junctions:
        known = sorted(set(labels.values()))
        raise InputError(f"no DMA {dma_id!r} in the network: its DMAs are {list_ids(known, 12)}")
    inside = set(junctions)
    shut = permanently_closed_links(wn)
    crossing = [name for name, link in wn.links() if name not in shut
                and (link.start_node_name in inside) != (link.end_node_name in inside)]
    inlets = [name for name, feeds in meters.items() if feeds == dma_id] or crossing
    if not inlets:
        raise InputError(f"DMA {dma_id} has no open inlet: nothing feeds it, so no PRV can serve it")
    ends = _inlet_ends(wn, inlets, inside)
    served = (supplied_nodes(wn) - supplied_nodes(wn, closed=inlets)) & set(wn.junction_name_list)
    downstream = tuple(n for n in wn.junction_name_list if n in served - inside)
    held = inside | set(downstream)
    outlets = tuple(name for name in crossing if name not in inlets and name in meters
                    and not {wn.get_link(name).start_node_name, wn.get_link(name).end_node_name} <= held)
    return Zone(str(dma_id), tuple(n for n in wn.junction_name_list if n in held), tuple(inlets), ends,
                downstream, outlets)
