"""DMA maps: compact polygons, named DMAs, a legend and plain axes.

The oracles are computed here with shapely from the model's coordinates: the drawn pipes, the
buffer around them (with and without its holes, the blocks enclosed by a DMA's pipes) and the
old Voronoi cells (as ``dma_polygons`` drew them before it hugged the pipes). L-Town is designed
once for the module.
"""

from __future__ import annotations

import copy
import itertools
import re

import matplotlib
import numpy as np
import pytest
import shapely

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from bokeh.models import (
    BasicTickFormatter,
    GlyphRenderer,
    LabelSet,
    NumeralTickFormatter,
    Text,
)

from nrwkit import dma
from nrwkit.networks import load
from nrwkit.plot import plot_dma_design
from nrwkit.report.dma import dma_map

#: UTM-like coordinates: large enough for matplotlib and Bokeh to reach for 1e6 or an offset
SHIFT = (500_000.0, 6_000_000.0)


@pytest.fixture(scope="module")
def ltown():
    wn = load("l-town")
    design, evaluation = dma.design(wn, size=(50, 200), size_by="nodes", exclude_diameter_above_m=0.3,
                                    water_age=False, seed=1)
    return wn, design, evaluation


@pytest.fixture(scope="module")
def polygons(ltown):
    wn, design, _ = ltown
    frame = dma.dma_polygons(wn, design)
    return dict(zip(frame.dma, frame.geometry, strict=True))


@pytest.fixture(scope="module")
def shifted(ltown):
    """L-Town moved to UTM-like coordinates (same design: it goes by names)."""
    wn = copy.deepcopy(ltown[0])
    dx, dy = SHIFT
    for _, node in wn.nodes():
        x, y = node.coordinates
        node.coordinates = (x + dx, y + dy)
    for _, link in wn.links():
        link.vertices = [(x + dx, y + dy) for x, y in link.vertices]
    return wn


def drawn_line(pipe) -> shapely.LineString:
    points = [pipe.start_node.coordinates, *pipe.vertices, pipe.end_node.coordinates]
    return shapely.LineString([(float(x), float(y)) for x, y in points])


def node_xy(wn, name: str) -> tuple[float, float]:
    x, y = wn.get_node(name).coordinates
    return float(x), float(y)


def buffered_pipes(wn, design) -> dict[str, shapely.Geometry]:
    """DMA -> its pipes (both ends in it) and junctions, buffered by half the median drawn pipe."""
    lines = {name: drawn_line(pipe) for name, pipe in wn.pipes()}
    xy = np.array([node_xy(wn, n) for n in wn.node_name_list])
    distance = max(0.5 * float(np.median([g.length for g in lines.values()])),
                   0.004 * float(np.ptp(xy, axis=0).max()))
    label = design.assignment.to_dict()
    out = {}
    for d in design.dma_ids:
        shapes = [lines[name] for name, pipe in wn.pipes()
                  if label.get(pipe.start_node_name) == d and label.get(pipe.end_node_name) == d]
        shapes += [shapely.Point(node_xy(wn, j)) for j in design.junctions(d)]
        out[d] = shapely.union_all([g.buffer(distance) for g in shapes])
    return out


def filled(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry with its holes filled: the union of its parts' exterior rings."""
    return shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(geom)])


def holes(geom: shapely.Geometry) -> list[shapely.Polygon]:
    """The holes (interior rings) of a (multi)polygon, as polygons."""
    return [shapely.Polygon(ring) for p in shapely.get_parts(geom) for ring in p.interiors]


def old_cells(wn, design) -> dict[str, shapely.Geometry]:
    """DMA -> Voronoi cells of its junctions, dissolved, clipped to the convex hull + 3 % of the span."""
    names = list(wn.node_name_list)
    xy = np.array([node_xy(wn, n) for n in names])
    _, first = np.unique(xy, axis=0, return_index=True)
    first = np.sort(first)
    points = shapely.MultiPoint(xy[first])
    span = max(float(np.ptp(xy[:, 0])), float(np.ptp(xy[:, 1])), 1.0)
    clip = points.convex_hull.buffer(0.03 * span)
    cells = list(shapely.get_parts(shapely.voronoi_polygons(points, extend_to=clip, ordered=True)))
    label = design.assignment.to_dict()
    out: dict[str, list[shapely.Geometry]] = {d: [] for d in design.dma_ids}
    for k, i in enumerate(first):
        if names[i] in label:
            out[label[names[i]]].append(cells[k].intersection(clip))
    return {d: shapely.union_all(parts) for d, parts in out.items()}


# --- polygons ----------------------------------------------------------------------------------

def test_polygons_are_compact_disjoint_and_hold_their_junctions(ltown, polygons):
    wn, design, _ = ltown
    assert sorted(polygons) == design.dma_ids
    for a, b in itertools.combinations(polygons, 2):
        smaller = min(polygons[a].area, polygons[b].area)
        assert polygons[a].intersection(polygons[b]).area < 1e-6 * smaller, (a, b)
    for d in design.dma_ids:
        for j in design.junctions(d):
            assert polygons[d].contains(shapely.Point(node_xy(wn, j))), (d, j)
    before = old_cells(wn, design)
    hugged = {d: filled(g) for d, g in buffered_pipes(wn, design).items()}
    for d, geom in polygons.items():
        assert geom.geom_type in ("Polygon", "MultiPolygon") and geom.is_valid
        assert geom.area < before[d].area, d
        # at most the buffered union of its pipes with holes filled ...
        assert geom.area <= hugged[d].area * (1 + 1e-9), d
        # ... and nothing of the polygon lies outside it (farther from the pipes than the buffer)
        assert geom.difference(hugged[d]).area < 1e-6 * geom.area, d
    total_before = sum(g.area for g in before.values())
    assert sum(g.area for g in polygons.values()) < 0.8 * total_before


def test_polygons_take_in_the_blocks_their_pipes_enclose(ltown, polygons):
    """A customer in the middle of a block ringed by a DMA's pipes lies inside that DMA.

    The blocks are the holes of the buffered union of the DMA's pipes (as ``dma_polygons``
    left them before it filled them). A block's point is checked where it lies in the DMA's
    own Voronoi cell: elsewhere another DMA (or a transmission main) owns it.
    """
    wn, design, _ = ltown
    cells = old_cells(wn, design)
    checked = 0
    for d, buffered in buffered_pipes(wn, design).items():
        for block in holes(buffered):
            point = block.representative_point()
            if cells[d].contains(point):
                assert polygons[d].contains(point), (d, point.wkt)
                checked += 1
    assert checked >= 50  # L-Town's DMAs ring about a hundred blocks
    # what holes remain are where the DMA's Voronoi cell cuts into the filled area, none of them
    # inside the DMA's own cell
    for d, geom in polygons.items():
        for hole in holes(geom):
            assert hole.intersection(cells[d]).area <= 1e-6 * hole.area + 1e-9 * geom.area, d


def test_polygons_still_give_back_the_assignment(ltown):
    wn, design, _ = ltown
    assignment, _, findings = dma.assignment_from_polygons(wn, dma.dma_polygons(wn, design))
    assert assignment.sort_index().to_dict() == design.assignment.sort_index().to_dict()
    assert findings == []


# --- the interactive map -------------------------------------------------------------------------

def bokeh_labels(fig) -> list[tuple[str, float, float]]:
    out = []
    for model in fig.select({"type": LabelSet}):
        data = model.source.data
        out += list(zip(data[model.text], data[model.x], data[model.y], strict=True))
    for renderer in fig.select({"type": GlyphRenderer}):
        if isinstance(renderer.glyph, Text):
            data = renderer.data_source.data
            g = renderer.glyph
            out += list(zip(data[g.text], data[g.x], data[g.y], strict=True))
    return [(str(t), float(x), float(y)) for t, x, y in out]


def test_bokeh_map_names_each_dma_once_inside_its_polygon(ltown, polygons):
    wn, design, evaluation = ltown
    fig = dma_map(wn, design, evaluation)
    labels = bokeh_labels(fig)
    assert sorted(t for t, _, _ in labels) == design.dma_ids
    for text, x, y in labels:
        assert polygons[text].contains(shapely.Point(x, y)), text


def test_bokeh_map_has_plain_metre_axes_and_a_legend_for_every_layer(ltown, shifted):
    _, design, evaluation = ltown
    fig = dma_map(shifted, design, evaluation)
    for axis in (*fig.xaxis, *fig.yaxis):
        formatter = axis.formatter
        assert isinstance(formatter, BasicTickFormatter | NumeralTickFormatter), formatter
        if isinstance(formatter, BasicTickFormatter):
            assert formatter.use_scientific is False
        else:
            assert "e" not in formatter.format.lower()
    assert [a.axis_label for a in fig.xaxis] == ["x (m)"]
    assert [a.axis_label for a in fig.yaxis] == ["y (m)"]
    items = [item for legend in fig.legend for item in legend.items]
    in_legend = {id(r) for item in items for r in item.renderers}
    drawn = [r for r in fig.renderers if isinstance(r, GlyphRenderer)]
    assert drawn and all(id(r) in in_legend for r in drawn)
    labels = [item.label.value for item in items]
    assert all(labels) and len(labels) == len(set(labels))
    assert {"DMA areas", "Meters", "Boundary valves (close)", "DMA names"} <= set(labels)


# --- the static map -----------------------------------------------------------------------------

def test_static_map_names_each_dma_once_with_a_legend(ltown, polygons):
    wn, design, _ = ltown
    ax = plot_dma_design(wn, design)
    try:
        texts = [t for t in ax.texts if t.get_text() in design.dma_ids]
        assert sorted(t.get_text() for t in texts) == design.dma_ids
        for t in texts:
            assert polygons[t.get_text()].contains(shapely.Point(*t.get_position())), t.get_text()
        legend = ax.get_legend()
        assert legend is not None
        entries = [t.get_text() for t in legend.get_texts()]
        assert {"DMA areas", "meters", "boundary valves (close)", "transmission mains"} <= set(entries)
    finally:
        plt.close(ax.figure)


def test_static_map_has_plain_axis_numbers(ltown, shifted):
    _, design, _ = ltown
    ax = plot_dma_design(shifted, design)
    try:
        ax.figure.canvas.draw()
        ticks = [t.get_text() for t in (*ax.get_xticklabels(), *ax.get_yticklabels())]
        assert ticks and all(ticks)
        assert not any(re.search(r"e[+-]?\d|×|\^", t) for t in ticks), ticks
        assert ax.xaxis.get_offset_text().get_text() == ""
        assert ax.yaxis.get_offset_text().get_text() == ""
        # the numbers are the coordinates themselves
        y_values = [float(t.replace("−", "-").replace(",", "")) for t in
                    (x.get_text() for x in ax.get_yticklabels())]
        assert min(y_values) > SHIFT[1] - 1000
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("x (m)", "y (m)")
    finally:
        plt.close(ax.figure)
