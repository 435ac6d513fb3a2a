"""The report of a customer meter assessment: accuracy, true use and apparent losses.

One self-contained HTML file (:class:`~nrwkit.report.html.Report`): the key figures (meters,
registered and true volumes, apparent losses, the weighted error and the under-registration
fraction with its 95 % limit); the bench-test error curves of each meter type, one line per
age, on a log-flow axis; the consumption profiles as histograms of volume share by flow band;
the weighted error by meter type, profile and age band (table and bar chart); the apparent
losses by age band; the warnings; and how the figures were computed, with the sources.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..metering import AGE_BAND_YEARS, Assessment, ErrorCurves, Profiles, ReplacementPlan
from ..metering.accuracy import band_start
from .html import Card, Report, figure_svg, findings_html, table_html

__all__ = ["metering_report"]

#: Colours of the curves' ages, from new (light) to old (dark).
_AGE_COLOURS = ("#85c1e9", "#2e86c1", "#1a5276", "#0b2a40", "#000000")
#: Colours of the meter types in the bar charts.
_TYPE_COLOURS = ("#1b7fa6", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#7f8c8d")
_PROFILE_COLOUR = "#2e86c1"
#: The lower edge drawn for a flow band that starts at 0 (a log axis has no 0), l/h.
_FLOOR_L_PER_H = 1.0


def _percent(fraction: Any) -> Any:
    """Return a fraction (a number, an array or a Series) in percent."""
    return fraction * 100.0


def _type_colours(types: list[str]) -> dict[str, str]:
    return {t: _TYPE_COLOURS[k % len(_TYPE_COLOURS)] for k, t in enumerate(types)}


def _plain_log_axis(ax: Any) -> None:
    """Put the x axis on a log scale labelled 1, 10, 100, 1000 (not powers of ten)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def curves_figure(curves: ErrorCurves) -> Any:
    """Return the error curves: one panel per meter type, error (%) against flow (log), one line per age.

    Parameters
    ----------
    curves : ErrorCurves

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    types = curves.types
    fig, axes = plt.subplots(1, len(types), figsize=(3.8 * len(types) + 0.6, 3.9), sharey=True, squeeze=False)
    table = curves.table
    for ax, meter_type in zip(axes[0], types, strict=True):
        rows = table[table["meter_type"] == meter_type]
        ages = sorted(rows["age_years"].unique())
        for k, age in enumerate(ages):
            curve = rows[rows["age_years"] == age]
            colour = _AGE_COLOURS[min(k, len(_AGE_COLOURS) - 1)]
            ax.plot(
                curve["flow_l_per_h"],
                curve["error_percent"],
                marker="o",
                markersize=3.5,
                linewidth=1.6,
                color=colour,
                label=f"{age:g} years",
            )
        ax.axhline(0.0, color="#7f8c8d", linewidth=0.8, linestyle="--")
        _plain_log_axis(ax)
        ax.set_title(meter_type, fontsize=10)
        ax.set_xlabel("flow (l/h)")
        ax.grid(True, which="major", color="#e5e8eb", linewidth=0.6)
        ax.legend(fontsize=8, loc="lower right", title="age", title_fontsize=8)
    axes[0][0].set_ylabel("error (%)")
    fig.tight_layout()
    return fig


def profiles_figure(profiles: Profiles) -> Any:
    """Return the consumption profiles: one panel per profile, volume share (%) by flow band (log).

    A band that starts at 0 l/h is drawn from 1 l/h (a log axis has no 0).

    Parameters
    ----------
    profiles : Profiles

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    names = profiles.names
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names) + 0.6, 3.4), sharey=True, squeeze=False)
    table = profiles.table
    for ax, name in zip(axes[0], names, strict=True):
        bands = table[table["profile"] == name]
        low = np.maximum(bands["flow_low_l_per_h"].to_numpy(), _FLOOR_L_PER_H)
        high = bands["flow_high_l_per_h"].to_numpy()
        share = _percent(bands["volume_share"].to_numpy())
        ax.bar(
            low,
            share,
            width=high - low,
            align="edge",
            color=_PROFILE_COLOUR,
            edgecolor="white",
            linewidth=1.0,
        )
        for q, s in zip(np.sqrt(low * high), share, strict=True):
            ax.text(q, s, f"{s:.0f}", ha="center", va="bottom", fontsize=7.5, color="#1d2b36")
        _plain_log_axis(ax)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("flow (l/h)")
        ax.grid(True, axis="y", color="#e5e8eb", linewidth=0.6)
        ax.set_axisbelow(True)
    axes[0][0].set_ylabel("share of true volume (%)")
    top = float(_percent(table["volume_share"].max()))
    axes[0][0].set_ylim(0, top * 1.15)
    fig.tight_layout()
    return fig


def groups_figure(groups: pd.DataFrame) -> Any:
    """Return the weighted error by group: one panel per profile, bars by age band and meter type.

    Parameters
    ----------
    groups : pandas.DataFrame
        :attr:`Assessment.groups`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    profiles = sorted(groups["profile"].unique())
    types = sorted(groups["meter_type"].unique())
    colours = _type_colours(types)
    bands = sorted(groups["age_band"].unique(), key=band_start)
    fig, axes = plt.subplots(
        len(profiles), 1, figsize=(10, 2.9 * len(profiles) + 0.4), sharex=True, sharey=True, squeeze=False
    )
    width = 0.8 / max(len(types), 1)
    x = np.arange(len(bands))
    for ax, profile in zip(axes[:, 0], profiles, strict=True):
        part = groups[groups["profile"] == profile].set_index(["meter_type", "age_band"])
        for k, meter_type in enumerate(types):
            values = [
                float(part.loc[(meter_type, b), "weighted_error_percent"])
                if (meter_type, b) in part.index
                else np.nan
                for b in bands
            ]
            ax.bar(
                x - 0.4 + width * (k + 0.5), values, width=width, color=colours[meter_type], label=meter_type
            )
        ax.axhline(0.0, color="#7f8c8d", linewidth=0.8)
        ax.set_title(profile, fontsize=10, loc="left")
        ax.set_ylabel("weighted error (%)")
        ax.grid(True, axis="y", color="#e5e8eb", linewidth=0.6)
        ax.set_axisbelow(True)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="upper center", ncol=len(types), frameon=False)
    axes[-1, 0].set_xticks(x, bands)
    axes[-1, 0].set_xlabel("meter age (years)")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def age_table(meters: pd.DataFrame) -> pd.DataFrame:
    """Return the meters' volumes by age band, sorted by age.

    Parameters
    ----------
    meters : pandas.DataFrame
        :attr:`Assessment.meters` (``age_band``, ``annual_registered_m3``, ``true_m3_per_year``,
        ``apparent_losses_m3_per_year``).

    Returns
    -------
    pandas.DataFrame
        ``age (years), meters, registered (m3/year), true use (m3/year), apparent losses
        (m3/year), weighted error (%), share of apparent losses (%)``.
    """
    grouped = meters.groupby("age_band").agg(
        meters=("meter_id", "size"),
        registered=("annual_registered_m3", "sum"),
        true=("true_m3_per_year", "sum"),
        losses=("apparent_losses_m3_per_year", "sum"),
    )
    grouped = grouped.loc[sorted(grouped.index, key=band_start)]
    true = grouped["true"].where(grouped["true"] > 0, 1.0)
    total_losses = float(grouped["losses"].sum())
    return pd.DataFrame(
        {
            "age (years)": grouped.index.astype(str),
            "meters": grouped["meters"].astype(int).to_numpy(),
            "registered (m3/year)": grouped["registered"].round().astype(int).to_numpy(),
            "true use (m3/year)": grouped["true"].round().astype(int).to_numpy(),
            "apparent losses (m3/year)": grouped["losses"].round().astype(int).to_numpy(),
            "weighted error (%)": _percent((grouped["registered"] - grouped["true"]) / true).to_numpy(),
            "share of apparent losses (%)": _percent(grouped["losses"] / total_losses).to_numpy()
            if total_losses
            else np.zeros(len(grouped)),
        }
    )


def age_figure(meters: pd.DataFrame) -> Any:
    """Return the apparent losses by age band, stacked by meter type.

    Parameters
    ----------
    meters : pandas.DataFrame
        :attr:`Assessment.meters`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    table = meters.pivot_table(
        index="age_band",
        columns="meter_type",
        values="apparent_losses_m3_per_year",
        aggfunc="sum",
        fill_value=0.0,
    )
    table = table.loc[sorted(table.index, key=band_start)]
    colours = _type_colours(sorted(table.columns))
    fig, ax = plt.subplots(figsize=(10, 3.6))
    bottom = np.zeros(len(table))
    x = np.arange(len(table))
    for meter_type in sorted(table.columns):
        values = table[meter_type].to_numpy(dtype=float)
        ax.bar(x, values, bottom=bottom, width=0.7, color=colours[meter_type], label=meter_type)
        bottom += values
    ax.set_xticks(x, list(table.index))
    ax.set_xlabel("meter age (years)")
    ax.set_ylabel("apparent losses (m3/year)")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(True, axis="y", color="#e5e8eb", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def _cards(a: Assessment) -> list[Card]:
    fraction = a.under_registration
    if a.samples > 0:
        half = a.under_registration_ci95 * fraction
        limit = (
            f"± {_percent(a.under_registration_ci95):.0f} % (95 %): {_percent(fraction - half):.2f} to "
            f"{_percent(fraction + half):.2f} %"
        )
    else:
        limit = "no 95 % limit (no Monte Carlo draws)"
    losses_detail = "true use - registered"
    if "tariff_per_m3" in a.meters.columns:
        revenue = float((a.meters["apparent_losses_m3_per_year"] * a.meters["tariff_per_m3"]).sum())
        losses_detail = f"{revenue:,.0f} a year not billed at the meters' tariffs"
    return [
        Card("customer meters", f"{len(a.meters):,}"),
        Card("registered (m3/year)", f"{a.registered_m3_per_year:,.0f}"),
        Card("true use (m3/year)", f"{a.true_m3_per_year:,.0f}", detail="registered / (1 + E), by meter"),
        Card(
            "apparent losses (m3/year)",
            f"{a.apparent_losses_m3_per_year:,.0f}",
            "warning" if a.apparent_losses_m3_per_year > 0 else "",
            detail=losses_detail,
        ),
        Card("weighted error", f"{a.weighted_error_percent:.2f} %", detail="(registered - true) / true"),
        Card(f"under-registration (fraction {fraction:.4f})", f"{_percent(fraction):.2f} %", detail=limit),
    ]


def _curves_table(curves: ErrorCurves) -> pd.DataFrame:
    """Return the curves as a wide table: one row per type and age, one column per flow."""
    wide = curves.table.pivot_table(
        index=["meter_type", "age_years"], columns="flow_l_per_h", values="error_percent"
    )
    wide.columns = [f"{q:g} l/h" for q in wide.columns]
    wide = wide.reset_index().rename(columns={"meter_type": "meter type", "age_years": "age (years)"})
    wide["age (years)"] = [f"{v:g}" for v in wide["age (years)"]]
    return wide


def _profiles_table(profiles: Profiles) -> pd.DataFrame:
    t = profiles.table
    return pd.DataFrame(
        {
            "profile": t["profile"],
            "flow band (l/h)": [
                f"{lo:g} to {hi:g}"
                for lo, hi in zip(t["flow_low_l_per_h"], t["flow_high_l_per_h"], strict=True)
            ],
            "representative flow (l/h)": t["flow_l_per_h"].to_numpy(),
            "volume share (%)": _percent(t["volume_share"].to_numpy()),
            "customers logged": t["customers_logged"].astype(int).to_numpy(),
        }
    )


_METHOD = f"""
<p>Each meter's <strong>weighted error</strong> is its error curve read at the flows its customers
use, weighted by the share of their true volume at those flows:
<code>E = &Sigma;<sub>b</sub> share<sub>b</sub> &times; error(q<sub>b</sub>)</code>, over the flow bands
<i>b</i> of the meter's consumption profile, with q<sub>b</sub> the band's representative flow (the
geometric mean of its limits; half the upper limit for a band from 0). E is signed: negative when
the meter under-registers.</p>
<p>The <strong>error at a flow</strong> is read from the bench-test curve of the meter's type,
linearly in log<sub>10</sub>(flow) between the curve's points and constant beyond its end points.
Between ages it is linear in age between the two nearest curves of the type; a meter younger or
older than every curve takes the youngest or oldest one (the report warns when meters are older
than their type's oldest curve: their error is then likely worse than shown). A meter's age is the
year assessed less its install year.</p>
<p>Its <strong>true volume</strong> is <code>true = registered / (1 + E)</code> and its
<strong>apparent loss</strong> <code>true &minus; registered</code>. Over the population, the weighted
error is <code>(registered &minus; true) / true</code> and the <strong>under-registration
fraction</strong> the water balance takes is <code>apparent losses / true use</code> (the meters
record 1 &minus; fraction of true use). Groups are by meter type, profile and {AGE_BAND_YEARS}-year
age band.</p>
<p>The <strong>95 % limit</strong> of the fraction comes from a Monte Carlo: in each draw every curve
is shifted by a normal error of standard deviation <code>sd_percent / &radic;meters_tested</code> (its
bench-test uncertainty) and every profile's shares are drawn from a Dirichlet distribution of
concentration <code>customers_logged</code>; the limit is half the 2.5&ndash;97.5 percentile range of
the draws, relative to the fraction. It covers the curves and the profiles, not the registered
volumes nor meters whose type or profile is misrecorded.</p>
<p><strong>Sources.</strong> AWWA Manual M6, <i>Water Meters: Selection, Installation, Testing and
Maintenance</i>, and Manual M36, <i>Water Audits and Loss Control Programs</i> (American Water Works
Association); F. Arregui, E. Cabrera Jr. and R. Cobacho, <i>Integrated Water Meter Management</i>,
IWA Publishing, London, 2006.</p>
"""


def metering_report(
    assessment: Assessment,
    curves: ErrorCurves,
    profiles: Profiles,
    *,
    year: int,
    kicker: str = "Customer metering",
) -> Report:
    """Build the HTML report of a customer meter assessment.

    Parameters
    ----------
    assessment : Assessment
        From :func:`nrwkit.metering.assess`.
    curves : ErrorCurves
        The error curves the assessment used.
    profiles : Profiles
        The consumption profiles the assessment used.
    year : int
        The year assessed.
    kicker : str
        The line above the title.

    Returns
    -------
    Report
        Key figures, error curves, profiles, weighted error by group, apparent losses by age
        band, warnings and the method with its sources.
    """
    a = assessment
    report = Report(
        title=f"Customer meter accuracy and apparent losses, {year}",
        kicker=kicker,
        subtitle=f"{len(a.meters):,} meters of {len(curves.types)} types and {len(profiles.names)} "
        "consumption profiles; bench-test error curves weighted by the flows customers use; "
        "volumes in m3/year",
    )
    report.options = {"year": year, "Monte Carlo draws": f"{a.samples:,}", "seed": a.seed}
    report.cards = _cards(a)
    report.add_section(
        "Error curves",
        figure_svg(
            curves_figure(curves),
            caption=(
                "Bench-test error of each meter type, one line per age; error = (registered - true) / "
                "true. Flow on a log axis; between the points the error is read linearly in log flow."
            ),
        )
        + table_html(_curves_table(curves), numeric_format="{:,.1f}"),
        lead="Error (%) of each meter type by flow and age, as given in the curves' file. Meters "
        "lose accuracy with age mostly at low flows.",
    )
    report.add_section(
        "Consumption profiles",
        figure_svg(
            profiles_figure(profiles),
            caption=(
                "Share of each profile's true volume in each flow band (the bar's width is the band). A "
                f"band from 0 l/h is drawn from {_FLOOR_L_PER_H:g} l/h (a log axis has no 0)."
            ),
        )
        + table_html(_profiles_table(profiles), numeric_format="{:,.1f}"),
        lead="How customers use water: the share of their true volume at each flow. The lower the "
        "flows, the more a meter's low-flow error weighs.",
    )
    groups = a.groups  # sorted by type, profile and age band
    shown = groups.rename(
        columns={
            "meter_type": "meter type",
            "age_band": "age (years)",
            "weighted_error_percent": "weighted error (%)",
            "apparent_losses_m3_per_year": "apparent losses (m3/year)",
        }
    )
    shown = shown[
        ["meter type", "profile", "age (years)", "meters", "weighted error (%)", "apparent losses (m3/year)"]
    ]
    shown["meters"] = shown["meters"].astype(int)
    shown["apparent losses (m3/year)"] = shown["apparent losses (m3/year)"].round().astype(int)
    report.add_section(
        "Weighted error by group",
        figure_svg(
            groups_figure(groups),
            caption=(
                "Weighted error of each meter type and age band, by profile; below 0 the meters "
                "under-register. A missing bar: no meter of that type in that band."
            ),
        )
        + table_html(shown),
        lead=f"Meters grouped by type, profile and {AGE_BAND_YEARS}-year age band.",
    )
    report.add_section(
        "Apparent losses by age",
        figure_svg(age_figure(a.meters), caption="Apparent losses of each age band, by meter type.")
        + table_html(age_table(a.meters)),
        lead="Where the apparent losses are: the volume the meters of each age band do not register.",
    )
    if a.warnings:
        report.add_section("Warnings", findings_html(a.warnings))
    report.add_section(
        "How this was computed",
        _METHOD,
        lead="Error curves x consumption profiles (AWWA M6/M36; Arregui, Cabrera & Cobacho 2006).",
    )
    return report


def cost_curve_figure(plan: ReplacementPlan) -> Any:
    """Return the equivalent annual cost against the replacement age, one line per group."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 4.2))
    for row in plan.groups.itertuples():
        eac = list(row.cost_curve)  # EAC(T) for T = 1, 2, ...
        line = ax.plot(np.arange(1, len(eac) + 1), eac, label=f"{row.meter_type} / {row.profile}")[0]
        best = int(row.optimal_replacement_age_years)
        ax.plot([best], [float(eac[best - 1])], "o", color=line.get_color())
    ax.set_xlabel("replacement age T (years)")
    ax.set_ylabel("equivalent annual cost per meter")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def replacement_report(plan: ReplacementPlan, *, year: int, kicker: str = "Customer metering") -> Report:
    """Build the HTML report of a meter replacement plan: cost curves, optimal ages, programme.

    Parameters
    ----------
    plan : ReplacementPlan
        From :func:`nrwkit.metering.replacement_plan`.
    year : int
        The year of the programme.
    kicker : str
        The line above the title.

    Returns
    -------
    Report
    """
    data = plan.to_dict()
    programme = data["programme"]
    report = Report(
        title=f"Customer meter replacement, {year}",
        kicker=kicker,
        subtitle=f"{len(plan.groups)} groups of meters; optimal replacement ages from the equivalent annual "
        f"cost; a programme of {programme['meters_replaced']} meters",
    )
    report.options = {
        "meter cost": plan.meter_cost,
        "discount rate": plan.discount_rate,
        "budget": "none" if plan.budget is None else plan.budget,
    }
    report.cards = [
        Card("meters due for replacement", f"{programme['candidates']:,}"),
        Card(
            "meters in the programme",
            f"{programme['meters_replaced']:,}",
            detail=f"{programme.get('deferred', 0):,} deferred by the budget",
        ),
        Card("cost of the programme", f"{programme['cost']:,.0f}"),
        Card("avoided revenue loss, per year", f"{programme['avoided_revenue_per_year']:,.0f}", "ok"),
    ]
    report.add_section(
        "Equivalent annual cost against the replacement age",
        figure_svg(
            cost_curve_figure(plan),
            caption="EAC(T) = (C + sum of L(t) / (1 + r)^t for t = 1..T) x "
            "r / (1 - (1 + r)^-T), per meter; the dot is the optimal age T*.",
        ),
        lead="L(t) is the revenue a meter loses in year t of its life (its apparent losses at age t "
        "times the tariff, the customer's true use held fixed); C is the cost of a new meter, r the "
        "discount rate.",
    )
    groups = plan.groups[
        [
            "meter_type",
            "profile",
            "meters",
            "mean_age_years",
            "optimal_replacement_age_years",
            "min_eac",
            "payback_years",
        ]
    ].rename(
        columns={
            "meter_type": "meter type",
            "mean_age_years": "mean age (years)",
            "optimal_replacement_age_years": "optimal age (years)",
            "min_eac": "least EAC per meter",
            "payback_years": "payback of replacing now (years)",
        }
    )
    payback = "payback of replacing now (years)"
    groups[payback] = [("never" if pd.isna(v) else f"{float(v):.2f}") for v in groups[payback]]
    report.add_section("Optimal replacement age by group", table_html(groups, index=False))
    meters = pd.DataFrame(programme["meters"])
    if not meters.empty:
        shown = (
            meters[
                [
                    "rank",
                    "meter_id",
                    "meter_type",
                    "profile",
                    "age_years",
                    "avoided_revenue_per_year",
                    "payback_years",
                ]
            ]
            .head(200)
            .rename(
                columns={
                    "meter_id": "meter",
                    "meter_type": "meter type",
                    "age_years": "age (years)",
                    "avoided_revenue_per_year": "avoided revenue loss per year",
                    "payback_years": "payback (years)",
                }
            )
        )
        report.add_section(
            "The programme",
            table_html(shown, index=False),
            lead="Meters that have reached their group's optimal age, ranked by the revenue "
            "their replacement saves next year (the first 200 shown).",
        )
    if plan.warnings:
        report.add_section("Warnings", findings_html(plan.warnings))
    return report
