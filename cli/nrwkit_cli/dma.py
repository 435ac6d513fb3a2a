"""``nrwkit dma``: design district metered areas, load user-drawn DMAs, check a design."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from nrwkit import dma as nrwdma
from nrwkit.dma.polygons import read_polygons
from nrwkit.findings import Finding
from nrwkit.networks import load, resolve
from nrwkit.outputs import check_writable, write_json
from nrwkit.units import LITRES_PER_M3
from nrwkit.workspace import is_workspace, open_workspace, save_run

from .options import (
    EXIT_FINDINGS,
    MAX_PER_CODE,
    NON_NEGATIVE,
    POSITIVE,
    ProgressBars,
    crs_option,
    echo_json,
    findings_lines,
    format_table,
    handle_errors,
    json_option,
    network_argument,
    number_pair,
    overwrite_option,
    refuse_output_on_input,
    verbosity,
)


@click.group("dma")
def dma_group() -> None:
    """District metered areas: design them automatically (`design`), take DMAs drawn by the
    GIS team as polygons (`from-polygons`), or re-check a saved design (`check`)."""


def _size_band(value: str | None) -> tuple[float, float] | None:
    return number_pair(value, shape="the band as MIN:MAX", example="500:3000")


def _check_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options every DMA command shares: service criteria, transmission, outputs."""
    options = [
        click.option("--size-by", type=click.Choice(["connections", "demand", "nodes", "length"]),
                     help="Measure of DMA size: service connections (from `nrwkit gis "
                          "allocate-customers` or [TAGS]), average demand (m3/day), junctions, or km "
                          "of mains [design: connections when the model has them, else nodes; check: "
                          "the design's own, else the same rule]."),
        click.option("--max-inlets", type=click.IntRange(1, 10), default=2, show_default=True,
                     help="Inlet meters allowed per DMA (one is tried first)."),
        click.option("--min-pressure", "min_pressure_m", type=NON_NEGATIVE, default=15.0, show_default=True,
                     metavar="M",
                     help="Service pressure after closure at every hour of the run, m (0 m at junctions "
                          "without demand; full demand at this pressure, none at 0 m: EPANET's "
                          "pressure-dependent demand)."),
        click.option("--fire-flow", "fire_flow_lps", type=NON_NEGATIVE, metavar="L/S",
                     help="Also draw this fire flow at each DMA's critical node at peak."),
        click.option("--fire-residual", type=NON_NEGATIVE, default=14.0, show_default=True, metavar="M",
                     help="Residual pressure the fire flow must leave, m."),
        click.option("--exclude-diameter-above", "exclude_diameter_above_m", type=POSITIVE, metavar="M",
                     help="Pipes wider than this (m) are transmission mains and stay outside DMAs "
                          "[design: none: the trunk mains are found from the flows at peak, relative "
                          "to the network; from-polygons and check: none]."),
        click.option("--transmission", multiple=True, metavar="LINK",
                     help="A link to keep as a transmission main (repeat for more)."),
        click.option("--no-water-age", is_flag=True,
                     help="Skip the two 72-hour water-age runs at new dead ends."),
        crs_option,
        click.option("--out", type=click.Path(path_type=Path), metavar="WORKSPACE_OR_GPKG",
                     help="Write the design: into a workspace's outputs (dated GeoPackage, .inp, "
                          "HTML and JSON), or to a .gpkg with the tagged .inp beside it."),
        click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
                     metavar="FILE", help="Write the HTML report (map, before/after, field schedule)."),
        overwrite_option,
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


class _Run:
    """What a DMA command needs: the network, its file, the workspace and the output paths."""

    def __init__(self, network: str, out: Path | None, report_path: Path | None, overwrite: bool,
                 crs: str | None) -> None:
        self.workspace = open_workspace(network) if is_workspace(network) else None
        if self.workspace is not None:
            network, crs = str(self.workspace.network), crs or self.workspace.crs
        self.network = network
        self.crs = crs
        self.overwrite = overwrite
        self.report_path = report_path
        self.out_workspace = None
        self.gpkg: Path | None = None
        if out is not None and is_workspace(out):
            self.out_workspace = open_workspace(out)
        elif out is not None:
            if out.suffix.lower() != ".gpkg":
                raise click.UsageError(f"--out {out}: give a workspace folder or a .gpkg file name")
            self.gpkg = out
        elif self.workspace is not None:
            self.out_workspace = self.workspace
        planned = [p for p in (self.gpkg, self.gpkg.with_suffix(".inp") if self.gpkg else None,
                               report_path) if p is not None]
        refuse_output_on_input(planned, [resolve(network)])
        for path in planned:
            check_writable(path, overwrite=overwrite)
        self.wn = load(network)

    def write(self, design: nrwdma.DmaDesign, evaluation: nrwdma.DmaEvaluation, *, analysis: str,
              title: str) -> list[Path]:
        saved: list[Path] = []
        notes: list[Finding] = []
        report = None
        if self.report_path is not None or self.out_workspace is not None:
            from nrwkit.report.dma import dma_report

            kicker = self.workspace.name if self.workspace is not None else title
            report = dma_report(self.wn, design, evaluation, network_path=resolve(self.network),
                                kicker=kicker, crs=self.crs)
        if self.gpkg is not None:
            path, notes = nrwdma.write_design_geopackage(self.wn, design, evaluation, self.gpkg,
                                                         crs=self.crs, overwrite=self.overwrite)
            saved += [path, nrwdma.write_design_inp(self.wn, design, self.gpkg.with_suffix(".inp"),
                                                    overwrite=self.overwrite)]
        if self.out_workspace is not None:
            assert report is not None
            layers: list[list[Finding]] = []
            saved += save_run(self.out_workspace, analysis, {
                ".html": report.write,
                ".gpkg": lambda p: layers.append(nrwdma.write_design_geopackage(
                    self.wn, design, evaluation, p, crs=self.crs)[1]),
                ".inp": lambda p: nrwdma.write_design_inp(self.wn, design, p),
                ".json": lambda p: write_json(p, nrwdma.design_json(design, evaluation)),
            }, title=title)
            notes = layers[0]
        if self.report_path is not None:
            assert report is not None
            saved.append(report.write(self.report_path, overwrite=self.overwrite))
        self.notes = notes
        return saved


_STATUS = {"passes": "ok", "fails": "FAILS", "not verified": "NOT VERIFIED"}


def _m(value: Any, fmt: str = ".1f", unit: str = "") -> str:
    """A figure, or 'n/a' where the run could not give a trustworthy one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if number != number else f"{number:{fmt}}{unit}"


def _print(design: nrwdma.DmaDesign, evaluation: nrwdma.DmaEvaluation, saved: list[Path],
           notes: list[Finding], as_json: bool) -> None:
    ctx = click.get_current_context()
    m = evaluation.metrics
    if as_json:
        data = nrwdma.design_json(design, evaluation)
        data["warnings"] = data["warnings"] + [note.to_dict() for note in notes]
        data["outputs"] = [str(p) for p in saved]
        echo_json(data)
    elif verbosity(ctx) >= 0:
        for stage in design.stages:
            click.echo(f"{stage.name}: {stage.summary} ({stage.seconds:.1f} s)")
        if design.stages:
            click.echo("")
        t = evaluation.dmas
        rows = [(dma, int(r.junctions), f"{r['size']:g}", ", ".join(r.inlets) or "-",
                 ", ".join(r.outlets) or "-", len(r.boundary_valves),
                 f"{_m(r.min_pressure_before_m)} -> {_m(r.min_pressure_m)}", _m(r.aznp_m),
                 r.critical_node, _STATUS.get(r.status, r.status))
                for dma, r in t.iterrows()]
        if m.get("transmission_problems"):
            rows.append(("transmission", len(design.on_transmission), "-", "-", "-", "-", "-", "-", "-",
                         "FAILS"))
        unit = nrwdma.SIZE_UNITS.get(design.size_by, design.size_by)
        headers = ["DMA", "junctions", f"size ({unit})", "inlet meters", "outlet meters", "valves",
                   "min p at peak (m)", "AZNP (m)", "critical node", "checks"]
        click.echo(format_table(rows, headers))
        click.echo("")
        unassigned = len(design.unassigned)
        click.echo(f"{m['n_dmas']} DMAs, {m['n_meters']} meters, {m['n_boundary_valves']} boundary "
                   f"valves to close ({m['n_existing_valves']} existing reused), "
                   f"{len(design.on_transmission)} junctions on transmission mains, {unassigned} in no DMA"
                   + (f"; demand junctions in DMAs {m['coverage']:.0%}" if "coverage" in m else ""))
        click.echo(f"minimum pressure at peak {_m(m['min_pressure_before_m'])} -> "
                   f"{_m(m['min_pressure_after_m'])} m; "
                   f"demand delivered {m['delivered_demand_fraction_before']:.1%} -> "
                   f"{m['delivered_demand_fraction']:.1%}; Todini {_m(m['todini_before'], '.3f')} -> "
                   f"{_m(m['todini_after'], '.3f')}; modularity {m['modularity']:.3f}; "
                   f"size CV {m['size_cv']:.2f}")
        cut = m.get("baseline_cut")
        if cut:
            click.echo(f"meters and valves {cut['design_meters_and_valves']}; a {cut['method']} partition "
                       f"into {cut['parts']} parts cuts {cut['cut']} pipes")
        if verbosity(ctx) > 0:
            for change in design.changes:
                click.echo(f"changed: {change}")
        elif design.changes:
            count = "1 repair" if len(design.changes) == 1 else f"{len(design.changes)} repairs"
            click.echo(f"{count} changed the design (-v lists them)")
        shown = len(design.warnings) + len(notes) if verbosity(ctx) > 0 else MAX_PER_CODE
        for line in findings_lines([*design.warnings, *notes], max_per_code=max(shown, 1)):
            click.echo(line, err=True)
        for path in saved:
            click.echo(f"wrote {path}")
        if m["passes"]:
            verdict = "pass"
        elif not m.get("verified", True):
            verdict = ("NOT VERIFIED: the run with the valves closed did not converge at hour(s) "
                       + ", ".join(f"{h:g}" for h in m.get("unconverged_hours", [])) + " (see the warnings)")
        else:
            verdict = "FAIL (see the rows marked FAILS and the warnings)"
        click.echo(f"checks: {verdict}")
    if not m["passes"]:
        ctx.exit(EXIT_FINDINGS)


def _size_by(run: _Run, given: str | None, saved: dict[str, Any] | None = None) -> str:
    """The size measure: given, else the design's own, else connections if the model has them."""
    if given:
        return given
    if saved and saved.get("size_by"):
        return str(saved["size_by"])
    from nrwkit.gis import connections

    return "connections" if connections(run.wn).sum() > 0 else "nodes"


def _common(kwargs: dict[str, Any]) -> dict[str, Any]:
    fire = kwargs.get("fire_flow_lps")
    return {
        "size_by": kwargs["size_by"], "max_inlets": kwargs["max_inlets"],
        "min_pressure_m": kwargs["min_pressure_m"],
        "fire_flow_m3s": fire / LITRES_PER_M3 if fire else None, "fire_residual_m": kwargs["fire_residual"],
        "transmission": tuple(kwargs["transmission"]), "water_age": not kwargs["no_water_age"],
    }


def _with_run(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(network: str, **kwargs: Any) -> Any:
        run = _Run(network, kwargs.pop("out"), kwargs.pop("report_path"), kwargs.pop("overwrite"),
                   kwargs.pop("crs"))
        return func(run, **kwargs)

    return wrapper


@dma_group.command("design")
@network_argument
@click.option("--size", metavar="MIN:MAX",
              help="Size band per DMA in the --size-by unit [default: 500:3000 connections when the "
                   "model has at least 1,000; otherwise derived from the network's size].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the clustering.")
@_check_options
@handle_errors
@_with_run
def design_command(run: _Run, size: str | None, seed: int, exclude_diameter_above_m: float | None,
                   as_json: bool, **kwargs: Any) -> None:
    """Partition NETWORK into DMAs, choose meters and boundary valves, and prove it still works.

    Runs in named stages (graph and supply, transmission, partition, boundary choice, hydraulic
    verification, repair, final check), one summary line each. Trunk mains (found from the
    flows at peak, relative to the network, unless --exclude-diameter-above is given) and the
    links of tanks and reservoirs stay outside the DMAs and are never closed; valves and pumps
    between two distribution junctions stay inside one DMA. With no --size-by and no service
    connections in the model, DMAs are sized by junction count in a band derived from the
    network's size. After the closures an extended-period run with pressure-dependent demand
    checks pressure at every hour and the demand delivered (and a fire flow with --fire-flow);
    failing DMAs are repaired (a meter instead of a valve, a moved inlet or boundary, a merge,
    a split; -v lists every change). A run that does not converge is reported as NOT VERIFIED,
    never as a pressure. Exit code 1 when the final design fails or could not be verified.
    """
    bars = ProgressBars(enabled=verbosity(click.get_current_context()) >= 0)
    try:
        design, evaluation = nrwdma.design(run.wn, size=_size_band(size), seed=seed,
                                           exclude_diameter_above_m=exclude_diameter_above_m, progress=bars,
                                           **_common(kwargs))
    finally:
        bars.close()
    saved = run.write(design, evaluation, analysis="dma-design", title="DMA design")
    _print(design, evaluation, saved, run.notes, as_json)


@dma_group.command("from-polygons")
@network_argument
@click.argument("polygons", metavar="DMAS.gpkg", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--layer", help="Layer of DMAS.gpkg holding the polygons [default: 'dmas', else the first].")
@click.option("--id-field", help="Field with the DMA id [default: dma, name or id].")
@_check_options
@handle_errors
@_with_run
def from_polygons_command(run: _Run, polygons: Path, layer: str | None, id_field: str | None,
                          exclude_diameter_above_m: float | None, as_json: bool, **kwargs: Any) -> None:
    """Take DMAs drawn as polygons in DMAS.gpkg, derive their boundary pipes and check them.

    A junction belongs to the DMA whose polygon holds it; boundary pipes are those whose ends
    lie in different DMAs. Meters are chosen as in `nrwkit dma design` and repaired with
    meters only (DMAs drawn by the GIS team are never merged). Overlaps that share a junction
    are an error; junctions outside every polygon are reported and left in transmission.
    """
    kwargs["size_by"] = _size_by(run, kwargs["size_by"])
    frame = read_polygons(polygons, layer, crs=run.crs)
    assignment, left_out, findings = nrwdma.assignment_from_polygons(run.wn, frame, id_field=id_field,
                                                                     source=polygons.name)
    design, evaluation = nrwdma.from_assignment(run.wn, assignment, left_out=left_out, findings=findings,
                                                exclude_diameter_above_m=exclude_diameter_above_m,
                                                **_common(kwargs))
    saved = run.write(design, evaluation, analysis="dma-from-polygons", title="DMAs from polygons")
    _print(design, evaluation, saved, run.notes, as_json)


@dma_group.command("check")
@network_argument
@click.argument("design_path", metavar="DESIGN", type=click.Path(dir_okay=False, path_type=Path))
@_check_options
@handle_errors
@_with_run
def check_command(run: _Run, design_path: Path, exclude_diameter_above_m: float | None, as_json: bool,
                  **kwargs: Any) -> None:
    """Re-check a saved DESIGN (the .gpkg or tagged .inp of `nrwkit dma design`) on NETWORK.

    Meters and valves are taken as they are (edit the 'role' field of the boundary layer in
    QGIS to try another choice); nothing is repaired. A GeoPackage remembers its size measure
    and transmission threshold; options given here override them.
    """
    saved = nrwdma.read_settings(design_path)
    kwargs["size_by"] = _size_by(run, kwargs["size_by"], saved)
    if exclude_diameter_above_m is None:  # the design's own transmission threshold
        exclude_diameter_above_m = saved.get("exclude_diameter_above_m")
    band = saved.get("size")
    design, evaluation = nrwdma.read_design(run.wn, design_path,
                                            exclude_diameter_above_m=exclude_diameter_above_m,
                                            size_band=tuple(band) if band else None, **_common(kwargs))
    saved = run.write(design, evaluation, analysis="dma-check", title="DMA design check")
    _print(design, evaluation, saved, run.notes, as_json)
