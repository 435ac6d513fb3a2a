"""The design's rules that import-linter cannot see (run by ``make lint`` too).

- Engines are called only in :mod:`nrwkit.hydraulics`: no ``EpanetSimulator``,
  ``WNTRSimulator``, ``ENepanet`` or ``wntr.epanet.toolkit`` anywhere else, as a name or an
  attribute (``wntr.sim.EpanetSimulator(wn)`` is an attribute access, not an import).
- ``wn.options`` is assigned only there (:func:`nrwkit.hydraulics.set_options`).
- The library never prints and never exits.
- Public signatures carry their units: a parameter named for a physical quantity ends in its
  unit (``min_pressure_m``, ``fire_flow_m3s``), as in the engineer's vocabulary.
- Library messages speak of parameters, not of the CLI's flags (no ``--snap`` in a message).
- Conversion factors live in :mod:`nrwkit.units` only (no literal ``3600`` or ``0.3048`` elsewhere).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "src" / "nrwkit"
CLI = ROOT / "cli" / "nrwkit_cli"
HYDRAULICS = LIBRARY / "hydraulics"
ENGINE_NAMES = {"EpanetSimulator", "WNTRSimulator", "ENepanet"}
ENGINE_MODULES = ("wntr.epanet.toolkit", "wntr.sim.epanet", "wntr.sim.core", "wntr.epanet.io.BinFile")


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def engine_calls(source: str) -> list[str]:
    """Return the engine names and modules a piece of source code uses."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in ENGINE_NAMES:
            found.append(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in ENGINE_NAMES:
            found.append(_dotted(node))
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {alias.name for alias in node.names}
            if node.module.startswith(ENGINE_MODULES) or names & ENGINE_NAMES:
                found.append(f"from {node.module} import {', '.join(sorted(names))}")
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith(ENGINE_MODULES)]
    return found


def option_assignments(source: str) -> list[str]:
    """Return the ``....options.<section>.<name> = ...`` assignments in source code."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else [])
        for target in targets:
            name = _dotted(target) if isinstance(target, ast.Attribute) else ""
            if ".options." in f".{name}" and name.count(".") >= 2:
                found.append(name)
    return found


#: Words of parameter names that are physical quantities, and the unit suffixes that complete them.
PHYSICAL_WORDS = {"pressure", "diameter", "length", "distance", "tolerance", "elevation", "duration",
                  "velocity", "head", "flow", "volume", "snap", "radius", "level", "headloss"}
UNIT_SUFFIXES = {"m", "m3s", "m3h", "m3d", "m3", "lps", "s", "h", "km", "mm", "ms", "m2", "kpa", "year",
                 "years", "day", "days", "hour", "hours", "fraction", "pct", "percent", "si"}
#: Parameters named for a quantity that are not one.
NOT_QUANTITIES = {"pressure_only"}


def unitless_parameters(source: str) -> list[str]:
    """Return ``function(parameter)`` for public parameters named for a quantity without a unit."""
    found = []
    tree = ast.parse(source)
    private_methods = {id(f) for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and c.name.startswith("_")
                       for f in c.body if isinstance(f, ast.FunctionDef)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_") or id(node) in private_methods:
            continue
        for arg in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
            words = arg.arg.split("_")
            quantity = set(words) & PHYSICAL_WORDS and arg.arg not in NOT_QUANTITIES
            if quantity and words[-1] not in UNIT_SUFFIXES:
                found.append(f"{node.name}({arg.arg})")
    return found


#: Flags of other tools a message may quote (``git log -1 --format=%ct``).
OTHER_TOOLS_FLAGS = {"--format"}


def flags_in_messages(source: str) -> list[str]:
    """Return the string constants outside docstrings that name a CLI flag (``--crs``)."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and set(re.findall(r"(?:^|[\s(`'\"])(--[a-z][a-z-]+)", node.value)) - OTHER_TOOLS_FLAGS]


#: Numbers that are unit conversions: named in nrwkit.units, nowhere else in the library.
CONVERSION_FACTORS = {60.0 * 60.0, 24.0 * 3600.0, 0.3048, 0.0254, 1609.344, 3.785411784e-3, 745.699872,
                      0.70324961490, 0.0283168466, 1.0 / 3600.0, 1.0 / 86400.0}


def literal_factors(source: str) -> list[float]:
    """Return the numeric literals of source code that are unit conversion factors."""
    return [node.value for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, int | float)
            and not isinstance(node.value, bool) and float(node.value) in CONVERSION_FACTORS]


def _outside_hydraulics() -> list[Path]:
    files = sorted(LIBRARY.rglob("*.py")) + sorted(CLI.rglob("*.py"))
    return [f for f in files if HYDRAULICS not in f.parents]


def test_the_scanners_see_what_they_look_for() -> None:
    # the oracle is hand-written source, so a scanner that sees nothing fails here
    assert engine_calls("import wntr\nwntr.sim.EpanetSimulator(wn).run_sim()") == ["wntr.sim.EpanetSimulator"]
    assert engine_calls("from wntr.epanet.toolkit import ENepanet") != []
    assert engine_calls("sim = WNTRSimulator(wn)") == ["WNTRSimulator"]
    assert engine_calls("results: wntr.sim.SimulationResults") == []
    assert option_assignments("wn.options.time.duration = 0") == ["wn.options.time.duration"]
    assert option_assignments("model.options.hydraulic.emitter_exponent += 1") != []
    assert option_assignments("report.options = {}") == []
    assert unitless_parameters("def f(wn, *, min_pressure=15.0, fire_flow_m3s=None): pass") == [
        "f(min_pressure)"]
    assert unitless_parameters("class _B:\n    def metres(self, distance): pass") == []
    assert flags_in_messages('"""Use --crs."""\nraise InputError("give --crs")') == ["give --crs"]
    assert flags_in_messages('x = "a -- b; 1--2"') == []
    assert literal_factors("t = seconds / 3600\nft = 0.3048 * x\nn = 3601") == [3600, 0.3048]


@pytest.mark.parametrize("path", _outside_hydraulics(), ids=lambda p: str(p.relative_to(ROOT)))
def test_engines_and_options_only_through_hydraulics(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    calls = engine_calls(source)
    assert not calls, f"{path.relative_to(ROOT)} calls an engine ({calls}): go through nrwkit.hydraulics"
    assigned = option_assignments(source)
    assert not assigned, (f"{path.relative_to(ROOT)} assigns {assigned}: use "
                          "nrwkit.hydraulics.set_options or changed_options")


#: The one exit the library may call: an ensemble's hard stop ends a worker process of nrwkit's own
#: pool or Dask worker (never the caller's process) when a task is stuck in C past its timeout.
WORKER_PROCESS_EXITS = {"src/nrwkit/ensemble/core.py": {"os._exit"}}


@pytest.mark.parametrize("path", sorted(LIBRARY.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_never_prints_or_exits(path: Path) -> None:
    calls = [_dotted(node.func) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call)]
    allowed = WORKER_PROCESS_EXITS.get(str(path.relative_to(ROOT)), set())
    bad = [c for c in calls
           if c in {"print", "sys.exit", "exit", "quit", "os._exit", "click.echo"} and c not in allowed]
    assert not bad, f"{path.relative_to(ROOT)} calls {bad}: return data and let the CLI speak"


@pytest.mark.parametrize("path", sorted(LIBRARY.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_public_signatures_carry_units(path: Path) -> None:
    bad = unitless_parameters(path.read_text(encoding="utf-8"))
    assert not bad, f"{path.relative_to(ROOT)}: {bad} name a quantity without its unit (e.g. min_pressure_m)"


@pytest.mark.parametrize("path", sorted(LIBRARY.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_library_messages_name_parameters_not_flags(path: Path) -> None:
    bad = flags_in_messages(path.read_text(encoding="utf-8"))
    assert not bad, f"{path.relative_to(ROOT)}: messages name CLI flags: {bad}"


@pytest.mark.parametrize("path", [p for p in sorted(LIBRARY.rglob("*.py")) if p.name != "units.py"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_conversion_factors_only_in_units(path: Path) -> None:
    found = literal_factors(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)} converts with literals {found}: use nrwkit.units"
