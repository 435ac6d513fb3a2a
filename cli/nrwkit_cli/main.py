"""``nrwkit``: the root command group."""

from __future__ import annotations

import platform
import sys

import click

import nrwkit

from . import balance, dma, gis, inspect, leaks, networks, workspace
from .options import setup_logging


def _show_versions(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version

    lines = [f"nrwkit        {nrwkit.__version__}", f"python        {sys.version.split()[0]}",
             f"platform      {platform.platform()}"]
    for package in ("wntr", "numpy", "scipy", "pandas", "networkx", "geopandas", "shapely",
                    "pyogrio", "pyproj", "matplotlib", "click", "pydantic", "bokeh", "jinja2",
                    "tomli-w", "rasterio"):
        try:
            lines.append(f"{package:<13} {version(package)}")
        except PackageNotFoundError:
            lines.append(f"{package:<13} not installed")
    try:
        import pyogrio
        import pyproj

        lines.append(f"GDAL          {pyogrio.__gdal_version_string__}")
        lines.append(f"PROJ          {pyproj.proj_version_str}")
    except ImportError:  # pragma: no cover
        pass
    from nrwkit.hydraulics import epanet_version

    lines.append(f"EPANET        {epanet_version()} (WNTR's toolkit library)")
    click.echo("\n".join(lines))
    ctx.exit(0)


@click.group(
    "nrwkit",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=(
        "Exit codes: 0 success; 1 findings at or above --fail-on; 2 invalid input, usage or an "
        "output that exists without --overwrite; 3 a simulation or analysis failed; 4 an "
        "internal error (please report it with --show-versions)."
    ),
)
@click.version_option(nrwkit.__version__, "--version", prog_name="nrwkit")
@click.option("--show-versions", is_flag=True, expose_value=False, is_eager=True,
              callback=_show_versions, help="Show versions of nrwkit and its dependencies, for bug reports.")
@click.option("-v", "--verbose", count=True, help="More detail; -v also shows tracebacks on errors.")
@click.option("-q", "--quiet", count=True, help="Less output: only errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """nrwkit: tools for reducing non-revenue water.

    NETWORK arguments take the name of a bundled network (see `nrwkit networks`), the path
    of an EPANET .inp file, or a workspace made by `nrwkit init` (its network, and outputs
    saved in it with dated names).
    """
    ctx.ensure_object(dict)
    ctx.obj["verbosity"] = verbose - quiet
    setup_logging(verbose - quiet)


cli.add_command(inspect.inspect_command)
cli.add_command(networks.networks_command)
cli.add_command(gis.gis_group)
cli.add_command(workspace.init_command)
cli.add_command(workspace.report_command)
cli.add_command(balance.balance_group)
cli.add_command(dma.dma_group)
cli.add_command(leaks.leaks_group)
