"""``nrwkit``: the root command group."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

import click

import nrwkit

from . import balance, dma, ensemble, exercise, gis, inspect, leaks, metering, networks, pressure, workspace
from .options import EXIT_INTERRUPTED, add_verbosity_options, fail, setup_logging


class NrwkitGroup(click.Group):
    """The root group: every subcommand gets -v/-q, and every error one exit code, here."""

    #: Tells :func:`nrwkit_cli.options.handle_errors` that errors are mapped here.
    maps_errors = True

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        add_verbosity_options(cmd)
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except (KeyboardInterrupt, click.Abort):
            click.echo("\nnrwkit: interrupted; no output was left half-written", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:  # `nrwkit ... | head`: the reader left; nothing is wrong
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except Exception as exc:
            fail(ctx, exc)


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
    cls=NrwkitGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=(
        "Exit codes: 0 success; 1 findings at or above --fail-on; 2 invalid input, usage, an "
        "output that exists without --overwrite or that cannot be written; 3 a simulation or "
        "analysis failed; 4 an internal error (please report it with --show-versions); 130 "
        "interrupted (Ctrl-C), leaving no partial output. -v and -q may follow the subcommand; "
        "-v adds tracebacks and keeps these codes."
    ),
)
@click.version_option(nrwkit.__version__, "--version", prog_name="nrwkit")
@click.option("--show-versions", is_flag=True, expose_value=False, is_eager=True,
              callback=_show_versions, help="Show versions of nrwkit and its dependencies, for bug reports.")
@click.option("-v", "--verbose", count=True,
              help="More detail; -v also shows tracebacks on errors (exit codes unchanged).")
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
cli.add_command(pressure.pressure_group)
cli.add_command(exercise.exercise_group)
cli.add_command(metering.metering_group)
cli.add_command(ensemble.ensemble_group)
