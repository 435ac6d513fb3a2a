"""Where elements are drawn: a link's line and its middle, from the model's coordinates."""

from __future__ import annotations

import wntr

__all__ = ["link_coordinates", "link_midpoint"]


def link_coordinates(link: wntr.network.Link) -> list[tuple[float, float]]:
    """Return the drawn line of a link: start node, vertices, end node."""
    points = [link.start_node.coordinates, *link.vertices, link.end_node.coordinates]
    return [(float(x), float(y)) for x, y in points]


def link_midpoint(link: wntr.network.Link) -> tuple[float, float]:
    """Return the point halfway between a link's end nodes (where a device is marked)."""
    (x0, y0), (x1, y1) = link.start_node.coordinates, link.end_node.coordinates
    return ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
