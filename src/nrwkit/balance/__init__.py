"""The IWA/AWWA water balance: input files, the tree, indicators and their uncertainty."""

from . import compute as compute
from . import schema as schema
from . import trend as trend
from .compute import (
    AWWA_DEFAULTS,
    BalanceResult,
    Quantity,
    compute_balance,
    evaluate,
    monte_carlo,
    wbi_band,
)
from .night_flow import NightFlowInput, NightFlowResult, night_flow
from .schema import BalanceInput, load_balance
from .trend import TREND_INDICATORS, trend_figure, trend_table

__all__ = [
    "AWWA_DEFAULTS",
    "BalanceInput",
    "BalanceResult",
    "Quantity",
    "compute",
    "compute_balance",
    "evaluate",
    "load_balance",
    "monte_carlo",
    "night_flow",
    "NightFlowInput",
    "NightFlowResult",
    "schema",
    "trend",
    "trend_figure",
    "trend_table",
    "TREND_INDICATORS",
    "wbi_band",
]
