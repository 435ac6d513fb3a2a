"""``nrwkit metering``: customer meter accuracy, apparent losses and replacement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from nrwkit.outputs import check_writable, write_json
from nrwkit.units import SECONDS_PER_HOUR

from .options import (
    echo_json,
    findings_lines,
    format_table,
    handle_errors,
    json_option,
    overwrite_option,
    verbosity,
)

_PATH = click.Path(dir_okay=False, path_type=Path)


@click.group("metering")
def metering_group() -> None:
    """Customer meters: their accuracy from bench-test error curves and consumption profiles, the
    apparent losses they cause (`assess`), and when to replace them."""


def _population_options(func: Any) -> Any:
    """The three inputs every population command reads: meters, error curves, profiles."""
    options = [
        click.option(
            "--meters",
            "meters_path",
            type=_PATH,
            required=True,
            metavar="METERS.csv",
            help="meter_id, meter_type, profile, install_year, annual_registered_m3 [, size_mm, "
            "category, tariff_per_m3].",
        ),
        click.option(
            "--curves",
            "curves_path",
            type=_PATH,
            required=True,
            metavar="CURVES.csv",
            help="meter_type, age_years, flow_l_per_h, error_percent [, sd_percent, meters_tested].",
        ),
        click.option(
            "--profiles",
            "profiles_path",
            type=_PATH,
            required=True,
            metavar="PROFILES.csv",
            help="profile, flow_low_l_per_h, flow_high_l_per_h, volume_share [, customers_logged].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _inputs(meters: Path, curves: Path, profiles: Path):  # type: ignore[no-untyped-def]
    from nrwkit.metering import read_curves, read_meters, read_profiles

    error_curves, consumption = read_curves(curves), read_profiles(profiles)
    return read_meters(meters, error_curves, consumption), error_curves, consumption


@metering_group.command("assess")
@_population_options
@click.option(
    "--year", type=click.IntRange(1900, 2200), required=True, help="The year assessed (meters' ages)."
)
@click.option(
    "--monte-carlo",
    "samples",
    type=click.IntRange(0, 100_000),
    default=500,
    show_default=True,
    metavar="N",
    help="Draws for the 95 % limits of the under-registration (0: none).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draws.")
@click.option(
    "--out",
    "out_path",
    type=_PATH,
    metavar="FILE",
    help="Also write the JSON to FILE (a balance can take its under-registration from it).",
)
@click.option("--report", "report_path", type=_PATH, metavar="FILE", help="Also write an HTML report.")
@overwrite_option
@json_option
@handle_errors
def assess_command(
    meters_path: Path,
    curves_path: Path,
    profiles_path: Path,
    year: int,
    samples: int,
    seed: int,
    out_path: Path | None,
    report_path: Path | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Assess the accuracy of a meter population and the apparent losses it causes.

    Each meter's weighted error E = sum over its profile's flow bands of share x error at the
    band's flow (error curves interpolated in log flow and in age); its true volume is
    registered / (1 + E). Prints the population's weighted error, the under-registration
    fraction the water balance takes (with its 95 % limit), and the groups by meter type,
    profile and 5-year age band.
    """
    from nrwkit.metering import assess

    for path in (out_path, report_path):
        if path is not None:
            check_writable(path, overwrite=overwrite)
    meters, curves, profiles = _inputs(meters_path, curves_path, profiles_path)
    result = assess(meters, curves, profiles, year=year, samples=samples, seed=seed)
    data = result.to_dict()
    written = []
    if out_path is not None:
        written.append(write_json(out_path, data, overwrite=overwrite))
    if report_path is not None:
        from nrwkit.report.metering import metering_report

        written.append(
            metering_report(result, curves, profiles, year=year).write(report_path, overwrite=overwrite)
        )
    if as_json:
        echo_json(data)
        return
    if verbosity(click.get_current_context()) >= 0:
        u = data["under_registration"]
        click.echo(
            f"{data['meters']:,} meters, {year}: registered {data['registered_m3_per_year']:,.0f} m3/year, "
            f"true use {data['true_m3_per_year']:,.0f} m3/year, apparent losses "
            f"{data['apparent_losses_m3_per_year']:,.0f} m3/year"
        )
        click.echo(
            f"weighted error {data['weighted_error_percent']:.2f} %; under-registration "
            f"{u['fraction']:.4f} ± {u['ci95'] * 100:.0f} % (95 %, {samples} draws)"
        )
        rows = [
            (
                g["meter_type"],
                g["profile"],
                g["age_band"],
                g["meters"],
                f"{g['weighted_error_percent']:.2f}",
                f"{g['apparent_losses_m3_per_year']:,.0f}",
            )
            for g in data["groups"]
        ]
        click.echo(
            format_table(
                rows,
                [
                    "meter type",
                    "profile",
                    "age (years)",
                    "meters",
                    "weighted error (%)",
                    "apparent losses (m3/year)",
                ],
            )
        )
        for path in written:
            click.echo(f"wrote {path}")
    if result.warnings:
        click.echo("\n".join(findings_lines(result.warnings)), err=True)


@metering_group.command("profile")
@click.argument("log_path", metavar="LOG.csv", type=_PATH)
@click.option("--name", default="logged", show_default=True, help="The profile's name in the output.")
@click.option(
    "--out",
    "out_path",
    type=_PATH,
    metavar="PROFILES.csv",
    help="Write the profile as a profiles file (the layout `metering assess` reads).",
)
@overwrite_option
@json_option
@handle_errors
def profile_command(log_path: Path, name: str, out_path: Path | None, overwrite: bool, as_json: bool) -> None:
    """Derive a consumption profile from a customer's logged flows (LOG.csv).

    LOG.csv has a `time` column (ISO date-times) and either `volume_l` (litres in the interval
    ending at that time, as pulse loggers record) or `flow_l_per_h` (the flow held until the next
    row). The share of the volume consumed in each flow band is the profile; gaps (intervals longer
    than 3 times the median, or blank values) are left out and reported.
    """
    from nrwkit.metering.profile import profile_from_log, read_flow_log
    from nrwkit.outputs import write_text

    if out_path is not None:
        check_writable(out_path, overwrite=overwrite)
    log = read_flow_log(log_path)
    table = profile_from_log(log, name=name)
    if out_path is not None:
        write_text(out_path, table.to_csv(index=False, lineterminator="\n"), overwrite=overwrite)
    if as_json:
        echo_json(
            {
                "profile": name,
                "bands": table.to_dict("records"),
                "gaps": len(log.gaps),
                "counted_hours": round(log.counted_s / SECONDS_PER_HOUR, 3),
            }
        )
        return
    if verbosity(click.get_current_context()) >= 0:
        rows = [
            (f"{r.flow_low_l_per_h:g} - {r.flow_high_l_per_h:g}", f"{r.volume_share * 100:.1f}")
            for r in table.itertuples()
        ]
        click.echo(format_table(rows, ["flow band (l/h)", "share of volume (%)"]))
        click.echo(f"{len(log.gaps)} gap(s) left out; {log.counted_volume_l:,.0f} l counted")
        if out_path is not None:
            click.echo(f"wrote {out_path}")


@metering_group.command("replacement")
@_population_options
@click.option("--year", type=click.IntRange(1900, 2200), required=True, help="The year of the programme.")
@click.option(
    "--meter-cost",
    "meter_cost",
    type=click.FloatRange(min=0.0, min_open=True),
    required=True,
    metavar="C",
    help="Cost of replacing a meter (supply and fitting), in the tariff's currency.",
)
@click.option(
    "--discount-rate",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True, max_open=True),
    required=True,
    metavar="r",
    help="Discount rate, a fraction (0.05 for 5 %).",
)
@click.option(
    "--tariff",
    "tariff_per_m3",
    type=click.FloatRange(min=0.0),
    metavar="P",
    help="Tariff per m3 for meters without their own tariff_per_m3.",
)
@click.option("--budget", type=click.FloatRange(min=0.0), metavar="B", help="Budget of the programme.")
@click.option(
    "--report",
    "report_path",
    type=_PATH,
    metavar="FILE",
    help="Also write an HTML report (cost curves against the replacement age, the programme).",
)
@overwrite_option
@json_option
@handle_errors
def replacement_command(
    meters_path: Path,
    curves_path: Path,
    profiles_path: Path,
    year: int,
    meter_cost: float,
    discount_rate: float,
    tariff_per_m3: float | None,
    budget: float | None,
    report_path: Path | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """When to replace customer meters, and which to replace first within a budget.

    For each group (meter type and profile), the revenue lost in year t of a meter's life is its
    apparent loss at age t times the tariff (the customers' true use held fixed); the optimal
    replacement age T* minimises the equivalent annual cost
    EAC(T) = (C + sum_{t=1..T} L(t) / (1+r)^t) x r / (1 - (1+r)^-T) over T = 1..30 years.
    """
    from nrwkit.metering.replacement import replacement_plan

    if report_path is not None:
        check_writable(report_path, overwrite=overwrite)
    meters, curves, profiles = _inputs(meters_path, curves_path, profiles_path)
    plan = replacement_plan(
        meters,
        curves,
        profiles,
        year=year,
        meter_cost=meter_cost,
        discount_rate=discount_rate,
        tariff_per_m3=tariff_per_m3,
        budget=budget,
    )
    data = plan.to_dict()
    if report_path is not None:
        from nrwkit.report.metering import replacement_report

        replacement_report(plan, year=year).write(report_path, overwrite=overwrite)
    if as_json:
        echo_json(data)
        return
    if verbosity(click.get_current_context()) >= 0:
        rows = [
            (
                g["meter_type"],
                g["profile"],
                g["meters"],
                f"{g['mean_age_years']:.1f}",
                g["optimal_replacement_age_years"],
                f"{g['min_eac']:,.2f}",
                "never" if g["payback_years"] is None else f"{g['payback_years']:.1f}",
            )
            for g in data["groups"]
        ]
        click.echo(
            format_table(
                rows,
                [
                    "meter type",
                    "profile",
                    "meters",
                    "mean age (years)",
                    "replace at (years)",
                    "least EAC per meter",
                    "payback now (years)",
                ],
            )
        )
        p = data["programme"]
        click.echo(
            f"programme: {p['meters_replaced']} of {p['candidates']} meters due for replacement, cost "
            f"{p['cost']:,.0f}, avoided revenue loss {p['avoided_revenue_per_year']:,.0f} per year"
            + (f" ({p['deferred']} deferred by the budget)" if p.get("deferred") else "")
        )
    if plan.warnings:
        click.echo("\n".join(findings_lines(plan.warnings)), err=True)


@metering_group.command("sizing")
@_population_options
@click.option("--year", type=click.IntRange(1900, 2200), required=True, help="The year assessed.")
@click.option(
    "--ratio",
    "ratio_r",
    type=click.FloatRange(min=1.6, min_open=True),
    default=100.0,
    show_default=True,
    metavar="R",
    help="The meters' ratio R = Q3/Q1 (ISO 4064 / OIML R49).",
)
@click.option(
    "--threshold",
    "threshold_fraction",
    type=click.FloatRange(0.0, 1.0),
    default=0.3,
    show_default=True,
    help="Share of the volume below Q1 that makes a meter oversized.",
)
@json_option
@handle_errors
def sizing_command(
    meters_path: Path,
    curves_path: Path,
    profiles_path: Path,
    year: int,
    ratio_r: float,
    threshold_fraction: float,
    as_json: bool,
) -> None:
    """Flag oversized meters: most of their customer's volume below the meter's lower range.

    ISO 4064 / OIML R49 flows of each size (Q1 = Q3/R, Q2 = 1.6 Q1, Q4 = 1.25 Q3; maximum
    permissible error 5 % from Q1 to Q2, 2 % from Q2 to Q4); reports what one size smaller would
    recover.
    """
    from nrwkit.metering import oversized

    meters, curves, profiles = _inputs(meters_path, curves_path, profiles_path)
    result = oversized(
        meters, curves, profiles, year=year, ratio_r=ratio_r, threshold_fraction=threshold_fraction
    )
    data = result.to_dict()
    if as_json:
        echo_json(data)
        return
    if verbosity(click.get_current_context()) >= 0:
        click.echo(
            f"{data['oversized']} of {data['meters_checked']} meters oversized (ratio R {ratio_r:g}); "
            f"one size smaller would recover {data['recoverable_m3_per_year']:,.0f} m3/year"
        )
    if result.warnings:
        click.echo("\n".join(findings_lines(result.warnings)), err=True)
