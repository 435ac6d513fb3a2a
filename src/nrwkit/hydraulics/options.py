"""Changing a model's run options: the one place nrwkit writes ``wn.options``.

Simulation options decide what a run means (its duration, report step, emitter exponent).
Capabilities never assign them by hand: they call :func:`set_options` on a model of their
own (a copy they return) or :func:`changed_options` to change them for the length of a block
and restore them afterwards, even when the block raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import wntr

from ..errors import InputError

__all__ = ["OPTION_PATHS", "changed_options", "set_options"]

#: Option names accepted by :func:`set_options`, and where each lives in ``wn.options``.
OPTION_PATHS: dict[str, tuple[str, str]] = {
    "duration_s": ("time", "duration"),
    "report_step_s": ("time", "report_timestep"),
    "hydraulic_step_s": ("time", "hydraulic_timestep"),
    "pattern_step_s": ("time", "pattern_timestep"),
    "pattern_start_s": ("time", "pattern_start"),
    "report_start_s": ("time", "report_start"),
    "emitter_exponent": ("hydraulic", "emitter_exponent"),
    "headloss": ("hydraulic", "headloss"),
    "inpfile_units": ("hydraulic", "inpfile_units"),
    "demand_model": ("hydraulic", "demand_model"),
    "required_pressure_m": ("hydraulic", "required_pressure"),
    "minimum_pressure_m": ("hydraulic", "minimum_pressure"),
    "pressure_exponent": ("hydraulic", "pressure_exponent"),
    "unbalanced": ("hydraulic", "unbalanced"),
    "unbalanced_trials": ("hydraulic", "unbalanced_value"),
    "quality_parameter": ("quality", "parameter"),
    "quality_tolerance": ("quality", "tolerance"),
    "accuracy": ("hydraulic", "accuracy"),
}


def set_options(wn: wntr.network.WaterNetworkModel, **changes: Any) -> dict[str, Any]:
    """Set run options on a model and return their previous values.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The model to change (changed in place).
    **changes
        Any of :data:`OPTION_PATHS` (e.g. ``duration_s=86400, report_step_s=900``); a value of
        None leaves that option as it is. Times are whole seconds.

    Returns
    -------
    dict
        The previous value of every option changed (:func:`changed_options` restores them).

    Raises
    ------
    InputError
        For an option name not in :data:`OPTION_PATHS`.
    """
    previous: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in OPTION_PATHS:
            raise InputError(f"unknown run option {name!r}: use one of {', '.join(OPTION_PATHS)}")
        if value is None:
            continue
        section, attribute = OPTION_PATHS[name]
        group = getattr(wn.options, section)
        previous[name] = getattr(group, attribute)
        setattr(group, attribute, int(value) if name.endswith("_s") else value)
    return previous


@contextmanager
def changed_options(wn: wntr.network.WaterNetworkModel,
                    **changes: Any) -> Iterator[wntr.network.WaterNetworkModel]:
    """Change run options for the length of a ``with`` block, then restore them.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The model (changed inside the block only).
    **changes
        As :func:`set_options`.

    Yields
    ------
    wntr.network.WaterNetworkModel
        The same model, with the options changed.

    Examples
    --------
    >>> import wntr
    >>> wn = wntr.network.WaterNetworkModel()
    >>> with changed_options(wn, duration_s=3600):
    ...     wn.options.time.duration == 3600
    True
    >>> wn.options.time.duration == 0
    True
    """
    previous = set_options(wn, **changes)
    try:
        yield wn
    finally:
        for name, value in previous.items():  # directly: a previous value may be None
            section, attribute = OPTION_PATHS[name]
            setattr(getattr(wn.options, section), attribute, value)
