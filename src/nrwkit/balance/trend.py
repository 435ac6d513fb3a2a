"""Progress over a partnership: how NRW %, real losses per connection and ILI moved.

Each balance is independent (its own year's measurements), so the 95 % limit of a change from
the baseline is ``1.96 sqrt(var_year + var_baseline)``; a change larger than its limit is
marked significant. This is the table and chart a Water Operators' Partnership reviews at
each progress assessment.
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import InputError
from .compute import Z95, BalanceResult
from .labels import figure_labels
from .schema import Units

FIGURE_NAMES = {k: f.name for k, f in figure_labels(Units(), 365).items()}

__all__ = ["TREND_INDICATORS", "trend_table"]

#: Indicators followed over the partnership, and their names (units from
#: :func:`nrwkit.balance.labels.figure_labels`).
TREND_INDICATORS = {
    key: FIGURE_NAMES[key]
    for key in ("nrw_percent_of_system_input", "real_losses_per_connection_per_day", "ili")
}


def trend_table(results: list[BalanceResult]) -> pd.DataFrame:
    """Tabulate the followed indicators per balance, with limits and change from the first.

    Parameters
    ----------
    results : list of BalanceResult
        Balances in chronological order (the first is the baseline).

    Returns
    -------
    pandas.DataFrame
        One row per (balance, indicator): ``label`` (year or utility), ``indicator`` (its
        IWA name), ``unit``, ``value``, ``low``, ``high``, ``change`` from the baseline, ``change_ci95`` and
        ``significant`` (the change exceeds its 95 % limit).
    """
    if not results:
        msg = "no balances to compare"
        raise InputError(msg)
    units = {r.input.units for r in results}
    if len(units) > 1:
        msg = ("the balances are in different units "
               f"({', '.join(sorted(u.volume + '/' + u.length + '/' + u.pressure for u in units))}): "
               "give every year's balance in the same units")
        raise InputError(msg)
    rows = []
    base = results[0]
    labels = figure_labels(base.input.units, base.input.period_days)
    for k, result in enumerate(results):
        label = str(result.input.year) if result.input.year else f"balance {k + 1}"
        for key in TREND_INDICATORS:
            q = result.indicators.get(key)
            if q is None:
                continue
            b = base.indicators.get(key)
            change = q.value - b.value if b is not None else math.nan
            limit = Z95 * math.sqrt(q.variance + b.variance) if b is not None and k else 0.0
            rows.append({"label": label, "indicator": labels[key].name, "unit": labels[key].unit,
                         "value": q.value, "low": q.low,
                         "high": q.high, "change": change, "change_ci95": limit,
                         "significant": bool(k) and abs(change) > limit})
    return pd.DataFrame(rows)


def trend_figure(table: pd.DataFrame):
    """Return the trend as a matplotlib figure: one panel per indicator, 95 % bars."""
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(table["indicator"]))
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        part = table[table["indicator"] == name]
        x = range(len(part))
        ax.errorbar(list(x), part["value"], yerr=[part["value"] - part["low"],
                                                  part["high"] - part["value"]],
                    fmt="o-", color="#1b7fa6", ecolor="#8395a1", capsize=4)
        ax.set_xticks(list(x), list(part["label"]))
        unit = part["unit"].iloc[0] if "unit" in part else ""
        ax.set_title(f"{name}\n{unit}" if unit else name, fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
