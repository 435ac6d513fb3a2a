"""``nrwkit gis``: GIS layers of a network."""

from __future__ import annotations

from pathlib import Path

import click

from nrwkit import gis as nrwgis
from nrwkit.hydraulics import steady_state
from nrwkit.network import run_checks
from nrwkit.networks import load
from nrwkit.outputs import check_writable

from .options import (
    check_options,
    crs_option,
    echo_json,
    handle_errors,
    json_option,
    network_argument,
    overwrite_option,
)


@click.group("gis")
def gis_group() -> None:
    """GIS layers: export a network to a GeoPackage."""


@gis_group.command("export")
@network_argument
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@crs_option
@click.option("--findings/--no-findings", default=True, show_default=True,
              help="Add a 'findings' layer with the validation findings (runs the checks).")
@click.option("--results", is_flag=True,
              help="Add steady-state pressure, head, flow, velocity and unit headloss at peak "
                   "demand as attributes.")
@check_options
@overwrite_option
@json_option
@handle_errors
def export_command(
    network: str, out: Path, crs: str | None, findings: bool, results: bool,
    min_pressure_m: float, simulate: bool, snap_tolerance_m: float, overwrite: bool,
    as_json: bool,
) -> None:
    """Write NETWORK to the GeoPackage OUT.

    Layers junctions, tanks, reservoirs, pipes, pumps and valves (SI attributes, units in
    the field names, pipe vertices kept), and a findings layer unless --no-findings.
    """
    check_writable(out, overwrite=overwrite)
    wn = load(network)
    found = (run_checks(wn, crs=crs, min_pressure_m=min_pressure_m, simulate=simulate,
                        snap_tolerance_m=snap_tolerance_m) if findings else None)
    solved = steady_state(wn) if results else None
    nrwgis.write_geopackage(wn, out, crs=crs, findings=found, results=solved, overwrite=overwrite)
    layers = {name: int(info["features"]) for name, info in _layer_counts(out).items()
              if name != nrwgis.MODEL_TABLE}
    if as_json:
        echo_json({"output": str(out), "crs": crs, "layers": layers})
        return
    if crs is None:
        click.echo("note: the layers have no CRS (an .inp file carries none); pass --crs to set it.",
                   err=True)
    click.echo(f"wrote {out}: " + ", ".join(f"{name} {n}" for name, n in layers.items()))


def _layer_counts(path: Path) -> dict[str, dict]:
    import pyogrio

    return {name: pyogrio.read_info(path, layer=name) for name, _ in pyogrio.list_layers(path)}
