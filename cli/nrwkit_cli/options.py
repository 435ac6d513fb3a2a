"""Options, arguments and error handling shared by every nrwkit command."""

from __future__ import annotations

import functools
import json
import logging
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from nrwkit.errors import InputError, NrwkitError, OutputExistsError

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes, documented in `nrwkit --help` and docs/DESIGN.md.
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_RUNTIME = 3
EXIT_BUG = 4
#: Ctrl-C (SIGINT): 128 + the signal's number, as shells report it.
EXIT_INTERRUPTED = 130


class FiniteRange(click.FloatRange):
    """A float option within a range that also refuses nan and inf (click's FloatRange lets nan by)."""

    name = "float range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number: give a number such as 10 or 0.5", param, ctx)
        return number


#: A length, a distance, a tolerance or a pressure in m: 0 or more.
NON_NEGATIVE = FiniteRange(min=0.0)
#: A quantity that must be more than 0 (a noise, a diameter threshold, a flow).
POSITIVE = FiniteRange(min=0.0, min_open=True)
#: Any finite number.
FINITE = FiniteRange()

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON on stdout (nothing else)."
)
overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace output files that already exist."
)
crs_option = click.option(
    "--crs", metavar="CRS",
    help="CRS of the network's coordinates, e.g. EPSG:32633 (an .inp file carries none).",
)
network_argument = click.argument("network", metavar="NETWORK")
scheduler_option = click.option(
    "--scheduler",
    metavar="local[:N]|tcp://HOST:PORT",
    help="Run on Dask: a local cluster of N worker processes, or an existing cluster's scheduler "
    "[default: a process pool on this machine].",
)


def dashboard_printer(quiet: bool) -> Any:
    """Return the ``on_start`` callback that prints a Dask cluster's dashboard address (stderr)."""

    def started(link: str) -> None:
        if not quiet:
            click.echo(f"Dask dashboard: {link}", err=True)

    return started


def check_options(func: F) -> F:
    """Options of the validation checks, shared by every command that runs them."""
    options = [
        click.option("--min-pressure", "min_pressure_m", default=10.0, show_default=True,
                     type=NON_NEGATIVE, metavar="M",
                     help="Minimum service pressure (m) at junctions with demand."),
        click.option("--simulation/--no-simulation", "simulate", default=True, show_default=True,
                     help="Run the baseline steady-state simulation checks (at peak demand)."),
        click.option("--snap-tolerance", "snap_tolerance_m", default=0.5, show_default=True,
                     type=NON_NEGATIVE, metavar="M",
                     help="A dead end this close (m) to a node it is not linked to is reported."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def verbosity(ctx: click.Context) -> int:
    """Return the -v/-q level of the root command (0 normal, >0 verbose, <0 quiet)."""
    root = ctx.find_root()
    return int((root.obj or {}).get("verbosity", 0))


def _change_verbosity(ctx: click.Context, param: click.Parameter, value: int) -> None:
    """Add a subcommand's -v/-q to the root's level (so `nrwkit inspect net3 -v` works)."""
    if not value or ctx.resilient_parsing:
        return
    root = ctx.find_root()
    obj = root.ensure_object(dict)
    obj["verbosity"] = int(obj.get("verbosity", 0)) + (value if param.name == "verbose" else -value)
    setup_logging(obj["verbosity"])


def verbosity_options(func: F) -> F:
    """Add -v/--verbose and -q/--quiet to a subcommand (the root group has them too)."""
    func = click.option("-q", "--quiet", count=True, expose_value=False, callback=_change_verbosity,
                        help="Less output: only errors.")(func)
    return click.option("-v", "--verbose", count=True, expose_value=False, callback=_change_verbosity,
                        help="More detail; -v also shows tracebacks on errors (exit codes unchanged).")(func)


def add_verbosity_options(command: click.Command) -> None:
    """Give ``command`` (and every subcommand of a group) the -v/-q options, once."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_verbosity_options(sub)
        return
    if any(p.name == "verbose" for p in command.params):
        return
    holder = click.command()(verbosity_options(_nothing))
    command.params.extend(holder.params)


def _nothing() -> None:
    """The callback of the command that only carries the shared -v/-q options."""


def exit_code(exc: BaseException) -> tuple[int, str]:
    """Return the exit code and the message for an error a command raised.

    The one mapping of errors to exit codes (documented in `nrwkit --help`): input errors and
    files that cannot be read or written are 2, failed simulations and analyses 3, anything
    else is an nrwkit bug, 4.
    """
    if isinstance(exc, OutputExistsError):
        return EXIT_INPUT, (f"{exc.path} already exists; nrwkit never overwrites earlier work\n"
                            "  fix: choose another output name, or pass --overwrite to replace it")
    if isinstance(exc, InputError):
        return EXIT_INPUT, str(exc)
    if isinstance(exc, NrwkitError):
        return EXIT_RUNTIME, str(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        where = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
        return EXIT_INPUT, (f"{where}: cannot be read or written ({exc.strerror or type(exc).__name__})\n"
                            "  fix: check the path; write outputs to a folder you can write to, and give "
                            "inputs you can read")
    return EXIT_BUG, (f"internal error: {type(exc).__name__}: {exc}\n"
                      "Run again with -v for the traceback, and report it with the output of "
                      "`nrwkit --show-versions`.")


def fail(ctx: click.Context, exc: Exception) -> NoReturn:
    """Print the error (its traceback too with -v) and exit with its documented code."""
    code, message = exit_code(exc)
    if verbosity(ctx) > 0:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"nrwkit: error: {message}" if code != EXIT_BUG else f"nrwkit: {message}", err=True)
    ctx.exit(code)


def handle_errors(func: F) -> F:
    """Map errors to exit codes for a command run outside the nrwkit group (a test's own group).

    Under ``nrwkit`` the root group maps them (:func:`exit_code`, once); this wrapper then only
    calls the command.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if getattr(ctx.find_root().command, "maps_errors", False):
            return func(*args, **kwargs)
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            fail(ctx, exc)

    return wrapper  # type: ignore[return-value]


def number_pair(value: str | None, *, shape: str, example: str, param_hint: str | None = None
                ) -> tuple[float, float] | None:
    """Parse ``A:B`` into two numbers, or None; a usage error (exit 2) names the shape and an example."""
    if value is None:
        return None
    try:
        first, second = (float(part) for part in value.split(":"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give {shape}, e.g. {example}", param_hint=param_hint) from None
    return first, second


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, allow_nan=False))


#: Unit suffixes of the library's column names, and how a table header writes them.
_UNITS = {"m3h": "m3/h", "m3s": "m3/s", "lps": "l/s", "m3d": "m3/day", "m3_per_day": "m3/day", "km": "km",
          "mm": "mm", "m": "m", "s": "s", "h": "h", "pct": "%"}


def column_label(name: str) -> str:
    """Return a table header for a library column name: ``leak_flow_m3h`` -> ``leak flow (m3/h)``.

    Names that are already words (with a space, or without an underscore) are kept.
    """
    if " " in name or "_" not in name:
        return name
    for suffix, unit in sorted(_UNITS.items(), key=lambda item: -len(item[0])):
        if name.endswith("_" + suffix) and len(name) > len(suffix) + 1:
            return f"{name[:-len(suffix) - 1].replace('_', ' ')} ({unit})"
    return name.replace("_", " ")


def format_table(rows: Sequence[Sequence[Any]], headers: Sequence[str] | None = None) -> str:
    """Format rows as a plain-text table with aligned columns (headers as words with units)."""
    cells = [[str(c) for c in row] for row in rows]
    if headers:
        cells.insert(0, [column_label(str(h)) for h in headers])
    if not cells:
        return ""
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    if headers:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def setup_logging(level: int) -> None:
    """Send nrwkit's log records to stderr at the level chosen with -v/-q.

    Python warnings raised inside WNTR (deprecations, unused curves) are shown only with
    -v: they concern WNTR's reading of the file, and nrwkit reports what matters as findings.
    """
    if level <= 0:
        warnings.filterwarnings("ignore", module=r"wntr(\.|$)")
    else:
        warnings.filterwarnings("default", module=r"wntr(\.|$)")
    logger = logging.getLogger("nrwkit")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel({-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(
        max(min(level, 2), -1), logging.DEBUG))


#: Findings of one code printed in full before the rest are counted.
MAX_PER_CODE = 5


def findings_lines(findings: Sequence[Any], *, max_per_code: int = MAX_PER_CODE) -> list[str]:
    """Format findings for the terminal: severity, code and wrapped message, at most
    ``max_per_code`` of each code, then a count of the rest."""
    import textwrap

    lines: list[str] = []
    shown: dict[str, int] = {}
    for f in findings:
        shown[f.code] = shown.get(f.code, 0) + 1
        if shown[f.code] > max_per_code:
            continue
        lines.append(f"{f.severity.value.upper():<8}{f.code}")
        lines.append(textwrap.fill(f.message, width=96, initial_indent="    ",
                                   subsequent_indent="    "))
        if getattr(f, "fix", ""):
            lines.append(textwrap.fill(f"fix: {f.fix}", width=96, initial_indent="    ",
                                       subsequent_indent="         "))
    for code, n in shown.items():
        if n > max_per_code:
            lines.append(f"... and {n - max_per_code} more {code} findings "
                         "(all of them in --json and the findings files)")
    return lines


def refuse_output_on_input(outputs: Sequence[Path | None], inputs: Sequence[Path | str | None]) -> None:
    """Exit 2 when an output file would replace one of the command's inputs."""
    sources = {Path(p).resolve() for p in inputs if p is not None and Path(p).exists()}
    for out in outputs:
        if out is not None and Path(out).resolve() in sources:
            raise click.UsageError(f"{out} is also an input of this command: write to another file")


class ProgressBars:
    """Turn a library ``progress(stage, done, total)`` callback into tqdm bars on stderr.

    One bar per stage, drawn only once a stage has run for ``delay`` seconds (quick runs stay
    quiet), and never with ``-q`` or when stderr is not a terminal (a log file, a pipe).
    """

    def __init__(self, *, enabled: bool = True, delay: float = 2.0) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.delay = delay
        self.bar: Any = None
        self.stage: str | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit="step", leave=False, delay=self.delay,
                            file=sys.stderr, dynamic_ncols=True)
        if self.bar is not None:
            self.bar.total = total
            self.bar.update(max(done - self.bar.n, 0))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
