"""The water balance input file: one YAML file per balance, validated with pydantic.

Every volume carries a 95 % confidence limit (``ci95``, a fraction); where a utility has no
data for unauthorized consumption, unbilled unmetered consumption or data handling errors,
the key may be omitted and the AWWA default is used and flagged in the output.

The customer meter under-registration may be typed in (``{fraction: 0.025, ci95: 0.3}``) or
taken from a meter-population assessment: ``{from: metering.json}`` reads the
``under_registration`` of the JSON that ``nrwkit metering assess --json`` prints (a path
relative to the balance file's folder, or absolute).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..errors import InputError
from ..inputs import format_validation_error, load_yaml_model
from .night_flow import NightFlowInput

__all__ = ["BalanceInput", "Costs", "Measured", "NetworkData", "Source", "Units", "load_balance"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _total(value: float | list[float]) -> float:
    if isinstance(value, list):
        if len(value) != 12:
            msg = f"a monthly list needs 12 volumes, got {len(value)}"
            raise ValueError(msg)
        return float(sum(value))
    return float(value)


class Measured(_Strict):
    """A volume for the period (or 12 monthly volumes) and its 95 % confidence limit."""

    volume: float | list[float]
    ci95: float = Field(0.0, ge=0.0, le=5.0)

    @field_validator("volume", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, bool) for v in values):
            msg = "a volume must be a number, not true/false"
            raise ValueError(msg)
        return value

    @field_validator("volume")
    @classmethod
    def _not_negative(cls, value: float | list[float]) -> float | list[float]:
        values = value if isinstance(value, list) else [value]
        if any(not math.isfinite(v) or v > 1e15 for v in values):
            msg = "volumes must be finite numbers (and below 1e15)"
            raise ValueError(msg)
        if any(v < 0 for v in values):
            msg = "volumes cannot be negative"
            raise ValueError(msg)
        _total(value)
        return value

    @property
    def total(self) -> float:
        """Return the volume for the period (monthly volumes summed)."""
        return _total(self.volume)


class Source(Measured):
    """A named own source, import or export; own sources may carry a known meter error."""

    name: str
    meter_error_pct: float = Field(0.0, gt=-100.0, lt=100.0)

    @property
    def corrected(self) -> float:
        """Return the volume corrected for a known meter error.

        A meter reading ``meter_error_pct`` % high has recorded ``V``, so the true volume is
        ``V / (1 + pct/100)`` (a meter reading 2 % low: ``V / 0.98``).
        """
        return self.total / (1.0 + self.meter_error_pct / 100.0)


class SystemInput(_Strict):
    """Own sources, imports and exports."""

    own_sources: list[Source] = Field(default_factory=list)
    imported: list[Source] = Field(default_factory=list)
    exported: list[Source] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> SystemInput:
        for kind in ("own_sources", "imported", "exported"):
            names = [s.name for s in getattr(self, kind)]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                msg = f"{kind}: the name(s) {', '.join(repeated)} appear twice: give each meter its own name"
                raise ValueError(msg)
        return self


class UnderRegistration(_Strict):
    """Customer meter under-registration: meters record ``1 - fraction`` of true use."""

    fraction: float = Field(ge=0.0, lt=1.0)
    ci95: float = Field(0.0, ge=0.0, le=5.0)


#: What a ``from:`` file is (library messages name no command-line flag).
_METERING_JSON = "the JSON of a metering assessment (`nrwkit metering assess` in JSON, Assessment.to_dict())"
_METERING_FIX = (f"save {_METERING_JSON} as FILE, or type `{{fraction: ..., ci95: ...}}` in place "
                 "of `from:`")


def _read_metering_json(target: Path, ref: str, where: str) -> Any:
    if not target.is_file():
        raise ValueError(f"{where} is not found; fix: check the path (relative to the balance "
                         f"file's folder) or {_METERING_FIX.replace('FILE', ref)}")
    try:
        raw = target.read_bytes()
    except OSError as exc:
        raise ValueError(f"{where} cannot be read ({exc.strerror}); fix: check its permissions") from None
    try:
        # a Windows PowerShell redirect (`>`) writes UTF-16 with a byte-order mark
        text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig")
        return json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        problem = f"line {exc.lineno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else "not text"
        raise ValueError(f"{where} is not JSON ({problem}); fix: {_METERING_FIX}") from None


def _metering_reference(value: Any, folder: Path | None) -> Any:
    """Replace ``{from: FILE}`` by the ``under_registration`` of a ``metering assess`` JSON.

    ``FILE`` is relative to ``folder`` (the balance file's), or to the current directory when
    ``folder`` is None.
    """
    if not isinstance(value, dict) or "from" not in value:
        return value
    others = sorted(str(k) for k in value if k != "from")
    if others:
        raise ValueError(f"`from:` is given with {', '.join(others)}: give either `from:` (a metering "
                         "JSON) or `fraction:` and `ci95:`, not both; fix: keep `from:` alone, or "
                         "remove it and type the figures")
    ref = value["from"]
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError(f"`from:` takes the path of {_METERING_JSON}, relative to the balance "
                         "file's folder; fix: give that path")
    target = Path(ref).expanduser()
    if not target.is_absolute() and folder is not None:
        target = folder / target
    where = f"the metering file {target} (from: {ref})"
    data = _read_metering_json(target, ref, where)
    if not isinstance(data, dict) or "under_registration" not in data:
        raise ValueError(f"{where} has no `under_registration`; fix: give {_METERING_JSON}, or "
                         "type `{fraction: ..., ci95: ...}` in place of `from:`")
    under = data["under_registration"]
    if not isinstance(under, dict):
        raise ValueError(f"{where}: `under_registration` is not a mapping of fraction and ci95; "
                         f"fix: {_METERING_FIX}")
    try:
        return UnderRegistration.model_validate(under, strict=True).model_dump()
    except ValidationError as exc:
        parts = format_validation_error(exc).split("; ")
        problems = "; ".join(f"under_registration.{part}" for part in parts)
        raise ValueError(f"{where}: {problems}; fix: check the assessment (a fraction from 0 to "
                         f"below 1, a ci95 from 0 to 5) or {_METERING_FIX}") from None


class Units(_Strict):
    """Units of the input and of the results."""

    volume: Literal["m3", "ML", "MG", "acre-ft"] = "m3"
    length: Literal["km", "mi"] = "km"
    pressure: Literal["m", "psi"] = "m"

    @model_validator(mode="after")
    def _consistent(self) -> Units:
        metric = (self.volume in ("m3", "ML"), self.length == "km", self.pressure == "m")
        if len(set(metric)) != 1:
            msg = ("units must be all metric (m3 or ML, km, m) or all US (MG or acre-ft, mi, "
                   "psi): the UARL formula differs")
            raise ValueError(msg)
        return self

    @property
    def metric(self) -> bool:
        """Return True for metric units."""
        return self.length == "km"


class NetworkData(_Strict):
    """What the UARL and the per-connection indicators need, each with a 95 % limit."""

    mains_length: float = Field(gt=0)
    connections: float = Field(gt=0)
    private_pipe_length: float = Field(0.0, ge=0)
    average_pressure: float = Field(gt=0)
    pressurised_fraction: float = Field(1.0, gt=0, le=1.0)
    mains_length_ci95: float = Field(0.05, ge=0)
    connections_ci95: float = Field(0.02, ge=0)
    private_pipe_length_ci95: float = Field(0.20, ge=0)
    average_pressure_ci95: float = Field(0.10, ge=0)


class Costs(_Strict):
    """Unit costs (in the same currency) for NRW % by cost."""

    retail_unit_cost: float = Field(ge=0)
    variable_production_cost: float = Field(ge=0)
    annual_operating_cost: float = Field(gt=0)
    real_losses_valued_at: Literal["variable_production_cost", "retail_unit_cost"] = \
        "variable_production_cost"


class BalanceInput(_Strict):
    """One water balance."""

    utility: str = ""
    year: int | None = None
    period_days: float = Field(gt=0)
    units: Units = Field(default_factory=Units)
    system_input: SystemInput
    billed_metered: Measured
    billed_unmetered: Measured = Field(default_factory=lambda: Measured(volume=0.0, ci95=0.0))
    unbilled_metered: Measured = Field(default_factory=lambda: Measured(volume=0.0, ci95=0.0))
    unbilled_unmetered: Measured | None = None
    unauthorized: Measured | None = None
    customer_meter_under_registration: UnderRegistration = Field(
        default_factory=lambda: UnderRegistration(fraction=0.0, ci95=0.0))
    data_handling_errors: Measured | None = None
    network: NetworkData | None = None
    costs: Costs | None = None
    night_flow: NightFlowInput | None = None

    @field_validator("customer_meter_under_registration", mode="before")
    @classmethod
    def _from_metering(cls, value: Any, info: ValidationInfo) -> Any:
        return _metering_reference(value, (info.context or {}).get("folder"))

    @model_validator(mode="after")
    def _authorized_within_input(self) -> BalanceInput:
        siv = sum(s.corrected for s in self.system_input.own_sources) + sum(
            s.corrected for s in self.system_input.imported)
        supplied = siv - sum(s.corrected for s in self.system_input.exported)
        if siv <= 0:
            msg = "system_input: no volume (give own_sources or imported with a volume above 0)"
            raise ValueError(msg)
        authorized = (self.billed_metered.total + self.billed_unmetered.total
                      + self.unbilled_metered.total
                      + (self.unbilled_unmetered.total if self.unbilled_unmetered else 0.0))
        if authorized > supplied:
            msg = (f"authorized consumption ({authorized:,.0f}) is above the water supplied "
                   f"({supplied:,.0f}): check the volumes' units and periods")
            raise ValueError(msg)
        return self


def _input_error(path: Path, problem: str, fix: str) -> InputError:
    return InputError(f"{path}: {problem}; {fix}")


def load_balance(path: str | Path) -> BalanceInput:
    """Read and validate a balance YAML file.

    ``customer_meter_under_registration: {from: metering.json}`` is read here: the path is
    relative to the balance file's folder (or absolute), and the JSON's ``under_registration``
    (``fraction`` and ``ci95``, as printed by ``nrwkit metering assess --json``) replaces it.

    Raises
    ------
    InputError
        Naming the file and the bad key: unknown keys, negative volumes, authorized
        consumption above the water supplied, a period of 0 days, inconsistent units; a
        ``from:`` metering file that is missing, not JSON, without ``under_registration`` or
        with bad values, or given together with ``fraction``.
    """
    path = Path(path)
    return load_yaml_model(path, BalanceInput, error=_input_error, what="balance file",
                           reference="docs/analysts.md", context={"folder": path.parent})
