"""The name and unit of every water balance figure: the one table the CLI, JSON and HTML read.

Each volume and indicator of :class:`~nrwkit.balance.BalanceResult` has a key (as in the JSON
output: ``carl``, ``ili``, ...), its IWA/AWWA name ("Current Annual Real Losses (CARL)"), its
unit in the balance's own units ("m3/year", "litres/connection/day", "dimensionless") and the
number of decimals it is shown with. :class:`Figure` carries one figure with its 95 %
confidence limits in the one convention nrwkit shows everywhere: the value, the absolute
lower and upper bounds in the figure's unit, and the relative limit (± % of the value).
Because the terminal table, the JSON and the HTML report all format through :class:`Figure`,
they cannot diverge.

Part of :mod:`nrwkit.balance`; it imports nothing else from nrwkit but the schema and units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..units import DAYS_PER_YEAR
from .schema import Units

__all__ = ["Figure", "FigureLabel", "INDICATOR_ORDER", "VOLUME_NAMES", "figure_labels", "input_name"]

#: IWA/AWWA names of the volumes of the balance, in the order of the IWA table.
VOLUME_NAMES = {
    "system_input": "System input volume",
    "water_supplied": "Water supplied",
    "billed_authorized": "Billed authorized consumption",
    "unbilled_authorized": "Unbilled authorized consumption",
    "authorized_consumption": "Authorized consumption",
    "water_losses": "Water losses",
    "unauthorized_consumption": "Unauthorized consumption",
    "customer_metering_inaccuracies": "Customer metering inaccuracies",
    "data_handling_errors": "Systematic data handling errors",
    "apparent_losses": "Apparent losses",
    "real_losses": "Real losses",
    "revenue_water": "Revenue water",
    "non_revenue_water": "Non-revenue water",
}

#: Indicators in the order they are shown (those a balance lacks are skipped).
INDICATOR_ORDER = (
    "nrw_percent_of_system_input", "nrw_percent_of_water_supplied", "nrw_percent_by_cost",
    "real_losses_per_connection_per_day", "real_losses_per_km_per_day",
    "real_losses_per_connection_per_day_per_pressure", "apparent_losses_per_connection_per_day",
    "carl", "uarl", "ili",
)

#: Decimals of a volume, by volume unit (millions of gallons and megalitres are large units).
_VOLUME_DECIMALS = {"m3": 0, "ML": 2, "MG": 2, "acre-ft": 1}


@dataclass(frozen=True)
class FigureLabel:
    """The name, unit and display precision of one balance figure.

    Attributes
    ----------
    key : str
        The key in :attr:`BalanceResult.volumes` / ``indicators`` and in the JSON.
    name : str
        The IWA/AWWA name, e.g. ``"Current Annual Real Losses (CARL)"``.
    unit : str
        The unit, e.g. ``"m3/year"``, ``"% of system input volume"``, ``"dimensionless"``.
    decimals : int
        Decimals shown in tables and reports.
    """

    key: str
    name: str
    unit: str
    decimals: int

    @property
    def title(self) -> str:
        """Return ``"name, unit"``, the heading of the figure wherever it is read."""
        return f"{self.name}, {self.unit}"


@dataclass(frozen=True)
class Figure:
    """One balance figure with its name, unit and 95 % confidence limits.

    Attributes
    ----------
    label : FigureLabel
        Name, unit and decimals.
    value : float
        The figure, in ``label.unit``.
    low, high : float
        The 95 % confidence bounds, in ``label.unit`` (value -/+ 1.96 standard deviations).
    ci95_percent : float
        The 95 % limit relative to the value, in percent (0 for a value of 0).
    """

    label: FigureLabel
    value: float
    low: float
    high: float
    ci95_percent: float

    @property
    def key(self) -> str:
        """Return the figure's key."""
        return self.label.key

    def _number(self, x: float) -> str:
        return f"{x:,.{self.label.decimals}f}"

    def value_text(self) -> str:
        """Return the value as shown in tables (thousands separated, the figure's decimals)."""
        return self._number(self.value)

    def range_text(self) -> str:
        """Return the 95 % range as shown, ``"low to high"`` in the figure's unit."""
        return f"{self._number(self.low)} to {self._number(self.high)}"

    def limit_text(self) -> str:
        """Return the relative 95 % limit as shown, ``"± 5.8 %"`` (of the value)."""
        return f"± {self.ci95_percent:.1f} %"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape: name, unit, value, low, high and ci95_percent."""
        return {"name": self.label.name, "unit": self.label.unit, "value": self.value,
                "low": self.low, "high": self.high, "ci95_percent": self.ci95_percent}


def _volume_unit(units: Units, period_days: float) -> str:
    if period_days == DAYS_PER_YEAR:
        return f"{units.volume}/year"
    return f"{units.volume} per {period_days:g} days"


def figure_labels(units: Units, period_days: float) -> dict[str, FigureLabel]:
    """Return the label of every balance figure for a balance's units and period.

    Parameters
    ----------
    units : Units
        The balance's units (volume, length, pressure).
    period_days : float
        The balance's period; volumes, CARL and UARL are for the period ("m3/year" for 365
        days, else e.g. "m3 per 90 days").

    Returns
    -------
    dict of str to FigureLabel
        Volumes in the IWA table's order, then the indicators in :data:`INDICATOR_ORDER`.

    Examples
    --------
    >>> labels = figure_labels(Units(), 365)
    >>> labels["carl"].title
    'Current Annual Real Losses (CARL), m3/year'
    >>> labels["ili"].title
    'Infrastructure Leakage Index (ILI), dimensionless'
    """
    volume = _volume_unit(units, period_days)
    decimals = _VOLUME_DECIMALS.get(units.volume, 0)
    small = "litres" if units.metric else "gallons"
    per_length = "m3/km of mains/day" if units.metric else "gallons/mile of mains/day"
    out = {k: FigureLabel(k, name, volume, decimals) for k, name in VOLUME_NAMES.items()}
    indicators = [
        ("nrw_percent_of_system_input", "Non-revenue water by volume (IWA)", "% of system input volume", 2),
        ("nrw_percent_of_water_supplied", "Non-revenue water by volume (AWWA)", "% of water supplied", 2),
        ("nrw_percent_by_cost", "Non-revenue water by cost", "% of annual operating cost", 2),
        ("real_losses_per_connection_per_day", "Real losses per service connection",
         f"{small}/connection/day", 1),
        ("real_losses_per_km_per_day", "Real losses per length of mains", per_length, 2),
        ("real_losses_per_connection_per_day_per_pressure",
         f"Real losses per service connection per {'metre' if units.metric else 'psi'} of pressure",
         f"{small}/connection/day/{units.pressure}", 2),
        ("apparent_losses_per_connection_per_day", "Apparent losses per service connection",
         f"{small}/connection/day", 1),
        ("carl", "Current Annual Real Losses (CARL)", volume, decimals),
        ("uarl", "Unavoidable Annual Real Losses (UARL)", volume, decimals),
        ("ili", "Infrastructure Leakage Index (ILI)", "dimensionless", 2),
    ]
    out.update({k: FigureLabel(k, name, unit, d) for k, name, unit, d in indicators})
    return out


_INPUT_NAMES = {
    "billed_metered": "Billed metered consumption",
    "billed_unmetered": "Billed unmetered consumption",
    "unbilled_metered": "Unbilled metered consumption",
    "unbilled_unmetered": "Unbilled unmetered consumption",
    "unauthorized": "Unauthorized consumption",
    "customer_metering_inaccuracies": "Customer metering inaccuracies",
    "data_handling_errors": "Systematic data handling errors",
    "own": "Own source",
    "imported": "Water imported",
    "exported": "Water exported",
    "network": "Network data",
}


def input_name(key: str) -> str:
    """Return a readable name of an independent input of the balance.

    Examples
    --------
    >>> input_name("own:WTP-1"), input_name("network:average_pressure"), input_name("unauthorized")
    ('Own source WTP-1', 'Network data: average pressure', 'Unauthorized consumption')
    """
    kind, _, name = key.partition(":")
    if not name:
        return _INPUT_NAMES.get(key, key.replace("_", " "))
    if kind == "network":
        return f"{_INPUT_NAMES[kind]}: {name.replace('_', ' ')}"
    return f"{_INPUT_NAMES.get(kind, kind)} {name}"
