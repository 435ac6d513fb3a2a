"""The design's rules that import-linter cannot see (run by ``make lint`` too).

- Engines are called only in :mod:`nrwkit.hydraulics`: no ``EpanetSimulator``,
  ``WNTRSimulator``, ``ENepanet`` or ``wntr.epanet.toolkit`` anywhere else, as a name or an
  attribute (``wntr.sim.EpanetSimulator(wn)`` is an attribute access, not an import).
- ``wn.options`` is assigned only there (:func:`nrwkit.hydraulics.set_options`).
- The library never prints and never exits.
"""

from __future__ import annotations

import ast
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


@pytest.mark.parametrize("path", _outside_hydraulics(), ids=lambda p: str(p.relative_to(ROOT)))
def test_engines_and_options_only_through_hydraulics(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    calls = engine_calls(source)
    assert not calls, f"{path.relative_to(ROOT)} calls an engine ({calls}): go through nrwkit.hydraulics"
    assigned = option_assignments(source)
    assert not assigned, (f"{path.relative_to(ROOT)} assigns {assigned}: use "
                          "nrwkit.hydraulics.set_options or changed_options")


@pytest.mark.parametrize("path", sorted(LIBRARY.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_never_prints_or_exits(path: Path) -> None:
    calls = [_dotted(node.func) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call)]
    bad = [c for c in calls if c in {"print", "sys.exit", "exit", "quit", "os._exit", "click.echo"}]
    assert not bad, f"{path.relative_to(ROOT)} calls {bad}: return data and let the CLI speak"
