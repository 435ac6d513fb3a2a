"""One EPANET project kept open in memory for fast re-solves.

A :class:`HydraulicSession` writes the model once, opens it with WNTR's
:class:`wntr.epanet.toolkit.ENepanet` (the EPANET 2.2 toolkit that WNTR ships) and then
re-solves it as often as needed with link statuses or extra demands changed, without
writing or reading files again. On BWSN Network 2 (12,523 junctions) a peak-hour re-solve
takes about 25 ms against about 1.5 s for a new :class:`wntr.sim.EpanetSimulator` run (see
``benchmarks/bench_dma.py``).

Values are read in the units of the file the session writes (LPS, so pressures in m and
flows in l/s) and returned in SI like WNTR: m, m3/s.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
import wntr
from wntr.epanet.exceptions import EpanetException
from wntr.epanet.toolkit import ENepanet

from ..errors import InputError, SimulationError
from ..units import DAY_S, HOUR_S
from .options import changed_options

__all__ = ["ExtendedPeriod", "HydraulicSession", "HydraulicState", "SessionState", "StepControl",
           "StepReading"]

# EPANET 2.2 toolkit codes (epanet2_enums.h)
_EN_BASEDEMAND = 1
_EN_EMITTER = 3
_EN_HTIME = 11  # EN_gettimeparam: the current hydraulic time
_EN_DEMAND = 9
_EN_HEAD = 10
_EN_PRESSURE = 11
_EN_QUALITY = 12
_EN_DEMANDDEFICIT = 27
_EN_FLOW = 8
_EN_INITSTATUS = 4
_EN_TANKLEVEL = 8  # EN_setnodevalue: a tank's initial level
_EN_PIPE, _EN_PUMP = 1, 2
_EN_DURATION = 0
_EN_PATTERNSTART = 4
_EN_ELEVATION = 0
_EN_REPORTSTART = 6
_EN_STATUS = 11
_EN_SETTING = 12
_EN_PRV, _EN_PSV, _EN_FCV = 3, 4, 6
_EN_REPORTSTEP = 5
_EN_NODECOUNT = 0
_EN_LINKCOUNT = 2
_EN_JUNCTION = 0
_EN_TANK = 2
_EN_DEMANDMULT = 4  # EN_getoption
_EN_INITFLOW = 10  # ENinitH: start every solve from EPANET's initial flows, not the last solve's
_LPS_TO_M3S = 1e-3
#: EPANET's quality tolerance for water-age runs, h (see _write_session_inp).
AGE_TOLERANCE_H = 0.1


@dataclass(frozen=True)
class SessionState:
    """One solved state of a session (junction values and, optionally, link flows).

    Attributes
    ----------
    time_s : int
        Pattern time of the state, s from the model's start.
    pressure_m, head_m : pandas.Series
        Per junction, m.
    demand_m3s : pandas.Series
        Delivered demand per junction, m3/s.
    deficit_m3s : pandas.Series
        Demand not delivered because pressure was too low (pressure-dependent demand), m3/s.
    flowrate_m3s : pandas.Series or None
        Flow per link, m3/s, positive from start to end node (``full=True``).
    node_head_m, node_demand_m3s : pandas.Series or None
        Head and demand of every node, tanks and reservoirs included (``full=True``); a
        source's demand is negative when it supplies the network.
    converged : bool
        False when EPANET reported the system unbalanced.
    """

    time_s: int
    pressure_m: pd.Series
    head_m: pd.Series
    demand_m3s: pd.Series
    deficit_m3s: pd.Series
    flowrate_m3s: pd.Series | None
    converged: bool
    node_head_m: pd.Series | None = None
    node_demand_m3s: pd.Series | None = None

    @property
    def required_m3s(self) -> pd.Series:
        """Demand the customers asked for: delivered plus deficit, m3/s."""
        return self.demand_m3s + self.deficit_m3s


@dataclass(frozen=True)
class HydraulicState:
    """The full solved state at one time, as arrays in the session's node and link order.

    Everything :func:`nrwkit.hydraulics.linear.linear_system` needs to linearise the network.

    Attributes
    ----------
    time_s : int
        Time from the model's start, s.
    node_names, link_names : tuple of str
        Order of the node and link arrays (EPANET's).
    head_m, pressure_m, demand_m3s, deficit_m3s : numpy.ndarray
        Per node (tanks and reservoirs included): head, pressure (m), delivered demand and
        pressure-dependent deficit (m3/s).
    flow_m3s : numpy.ndarray
        Per link, m3/s, positive from start to end node.
    open_ : numpy.ndarray of bool
        Per link: EPANET's status is open (EN_STATUS).
    active : numpy.ndarray of bool
        Per link: a PRV, PSV or FCV that controls (inferred from the heads, flows and the
        setting, as EPANET decides it); False for every other link.
    setting : numpy.ndarray
        Per link, a valve's EN_SETTING in SI (pressure m, FCV flow m3/s); 0 for other links.
    demand_model : str
        "DDA" or "PDA".
    minimum_pressure_m, required_pressure_m, pressure_exponent : float
        EPANET's pressure-dependent demand parameters.
    converged : bool
        False when EPANET reported the step unbalanced.
    """

    time_s: int
    node_names: tuple[str, ...]
    link_names: tuple[str, ...]
    head_m: np.ndarray
    pressure_m: np.ndarray
    demand_m3s: np.ndarray
    deficit_m3s: np.ndarray
    flow_m3s: np.ndarray
    open_: np.ndarray
    active: np.ndarray
    setting: np.ndarray
    demand_model: str
    minimum_pressure_m: float
    required_pressure_m: float
    pressure_exponent: float
    converged: bool


@dataclass(frozen=True)
class ExtendedPeriod:
    """Junction values over an extended-period run, one row per reporting time.

    Attributes
    ----------
    pressure_m, demand_m3s, deficit_m3s : pandas.DataFrame
        Index = time in s, columns = junctions.
    flowrate_m3s : pandas.DataFrame or None
        Index = time in s, columns = the links asked for.
    converged : bool
        False when any step was unbalanced.
    unbalanced_s : tuple of int
        Hydraulic times (s) of the steps EPANET reported unbalanced (empty when converged).
    """

    pressure_m: pd.DataFrame
    demand_m3s: pd.DataFrame
    deficit_m3s: pd.DataFrame
    flowrate_m3s: pd.DataFrame | None
    converged: bool
    unbalanced_s: tuple[int, ...] = ()

    @property
    def delivered_fraction(self) -> float:
        """Volume delivered over volume required across the run (1.0 if nothing required).

        Junction-times with a negative demand (inflows) are left out.
        """
        demand = self.demand_m3s.to_numpy()
        deficit = self.deficit_m3s.to_numpy()
        # junctions with a negative demand are inflows, not customers: leave them out
        customers = (demand + deficit) > 0
        delivered = float(np.clip(demand[customers], 0.0, None).sum())
        required = float((demand + deficit)[customers].sum())
        return delivered / required if required > 0 else 1.0


@dataclass(frozen=True)
class StepReading:
    """What a :class:`StepControl` sees of one solved hydraulic step.

    Attributes
    ----------
    time_s : int
        Hydraulic time of the step, s from the start of the run.
    pressure_m : numpy.ndarray
        Pressure at the control's ``nodes``, m, in their order.
    flow_m3s : numpy.ndarray
        Flow in the control's ``links``, m3/s, in their order.
    iteration : int
        0 for the step's first solve, then 1, 2, ... after each change of settings.
    """

    time_s: int
    pressure_m: np.ndarray
    flow_m3s: np.ndarray
    iteration: int


class StepControl(Protocol):
    """A controller of link settings, asked after every solve of :meth:`HydraulicSession.run`.

    It names the ``nodes`` whose pressure and the ``links`` whose flow it reads, and returns
    new settings (``{link: setting}``; for a PRV, PSV or PBV the pressure in m, for an FCV
    the flow in m3/s, for a TCV the loss coefficient) to solve the same step again, or None
    when the step is as it wants it. Settings it gives stay for the following steps.
    """

    nodes: Sequence[str]
    links: Sequence[str]

    def __call__(self, reading: StepReading) -> dict[str, float] | None:
        """Return new settings for the step, or None to accept it."""
        ...


@dataclass
class _Steer:
    """A :class:`StepControl` in a run, with the EPANET indices it reads and the settings it changed."""

    control: StepControl
    node_idx: list[int]
    link_idx: list[int]
    max_iterations: int
    saved: dict[int, float]


@dataclass
class _Extra:
    """An extra demand added by :meth:`HydraulicSession.extra_demand` (EPANET indices, LPS)."""

    node: int
    demand: int
    base: float
    start_s: int
    current: float | None = None


#: EPANET's input errors that a model can carry, with what they mean and the fix (EPANET 2.2 manual).
_INPUT_ERRORS = {
    223: ("the network has too few nodes for EPANET to solve",
          "give the model at least one junction and one reservoir or tank, linked by a pipe"),
    224: ("the network has no tank or reservoir, so EPANET has no fixed head to solve from",
          "add a reservoir (a [RESERVOIRS] line 'ID Head') or a tank linked to the network by a pipe, "
          "at the point where the water enters it"),
    233: ("a node is not connected to any link",
          "link every node to the network with a pipe, or delete the nodes that stand alone"),
}


def _open_error(name: str, exc: EpanetException) -> InputError | SimulationError:
    """Return the nrwkit error for EPANET refusing to open a model.

    EPANET's input errors (codes 200-299) are an :class:`InputError` naming the network and the
    fix; other failures are a :class:`SimulationError`.
    """
    text = str(exc).replace(" %s", "").replace("'%s'", "").strip()
    found = re.match(r"\(Error (\d+)\)\s*(.*)", text, re.S)
    code = int(found.group(1)) if found else 0
    where = name or "the network"
    if code in _INPUT_ERRORS:
        problem, fix = _INPUT_ERRORS[code]
        return InputError(f"{where}: {problem} (EPANET error {code})\n  fix: {fix}")
    if 200 <= code < 300:
        return InputError(f"{where}: EPANET refuses the model: {text}\n  fix: correct the model where "
                          "EPANET's message points (inspecting the network lists its faults)")
    return SimulationError(f"EPANET could not open the network {where}: {text}")


class HydraulicSession:
    """An EPANET project open in memory: change statuses or demands, re-solve, read back.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network. It is written once when the session opens; later changes to ``wn`` do
        not reach the session.
    demand_model : {"DD", "PDD"}, optional
        Demand-driven or pressure-dependent demand (EPANET 2.2 PDA); default the model's.
    required_pressure_m, minimum_pressure_m, pressure_exponent : float, optional
        PDA parameters (demand in full at the required pressure, none at the minimum);
        default the model's.
    water_age : bool
        Set the model's quality parameter to water age (for :meth:`water_age`).
    hydraulic_step_s : int, optional
        The hydraulic time step of the session's runs (default: the model's). EPANET still
        stops at every pattern step, control time and tank that fills or empties in between.

    Notes
    -----
    The session's file always says ``Unbalanced Continue 10``: a step that does not converge
    is reported (``converged`` is False) instead of ending an extended-period run early, as
    ``Unbalanced Stop`` in the model would.

    Examples
    --------
    >>> from nrwkit.networks import load
    >>> with HydraulicSession(load("net1")) as session:
    ...     before = session.solve(0).pressure_m["11"]
    ...     session.set_status(["10"], open_=False)
    ...     after = session.solve(0).pressure_m["11"]
    >>> bool(after < before)
    True
    """

    def __init__(
        self,
        wn: wntr.network.WaterNetworkModel,
        *,
        demand_model: Literal["DD", "PDD"] | None = None,
        required_pressure_m: float | None = None,
        minimum_pressure_m: float | None = None,
        pressure_exponent: float | None = None,
        water_age: bool = False,
        hydraulic_step_s: int | None = None,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="nrwkit-session-")
        inp = Path(self._tmp.name) / "session.inp"
        _write_session_inp(
            wn, inp, demand_model=demand_model, required=required_pressure_m,
            minimum=minimum_pressure_m, exponent=pressure_exponent, water_age=water_age,
            hydraulic_step_s=hydraulic_step_s,
        )
        self._start(inp, wn.name or "", duration_s=int(wn.options.time.duration))

    @classmethod
    def from_file(cls, inp: str | Path, *, duration_s: int | None = None) -> HydraulicSession:
        """Open a session on an input file written by another session (:attr:`inp_path`).

        Used to run a second solve in another process (e.g. the two water-age runs of a DMA
        check in parallel) without passing the model between processes.
        """
        self = cls.__new__(cls)
        self._tmp = tempfile.TemporaryDirectory(prefix="nrwkit-session-")
        copy = Path(self._tmp.name) / "session.inp"
        copy.write_bytes(Path(inp).read_bytes())
        self._start(copy, Path(inp).name, duration_s=duration_s)
        return self

    def _start(self, inp: Path, name: str, *, duration_s: int | None) -> None:
        self.inp_path = inp
        self._en = ENepanet()
        self._open = False
        try:
            with _c_stdout_silenced():  # EPANET 2.2 echoes an option line of some files to stdout
                self._en.ENopen(str(inp), str(inp.with_suffix(".rpt")), "")
            self._en.ENopenH()
        except EpanetException as exc:
            self.close()
            raise _open_error(name, exc) from exc
        self._open = True
        self._lib = self._en.ENlib
        self._project = self._en._project
        self.duration_s = int(self._en.ENgettimeparam(_EN_DURATION) if duration_s is None else duration_s)
        self.report_step_s = max(int(self._en.ENgettimeparam(_EN_REPORTSTEP) or HOUR_S), 1)
        self._pattern_start = int(self._en.ENgettimeparam(_EN_PATTERNSTART))
        n_nodes = self._en.ENgetcount(_EN_NODECOUNT)
        n_links = self._en.ENgetcount(_EN_LINKCOUNT)
        self.node_names = [self._en.ENgetnodeid(i) for i in range(1, n_nodes + 1)]
        self.link_names = [self._link_id(i) for i in range(1, n_links + 1)]
        self._node_index = {name: i + 1 for i, name in enumerate(self.node_names)}
        self._link_index = {name: i + 1 for i, name in enumerate(self.link_names)}
        self.junction_names = [n for n in self.node_names
                               if self._en.ENgetnodetype(self._node_index[n]) == _EN_JUNCTION]
        self._junction_idx = [self._node_index[n] for n in self.junction_names]
        self._initial_status: dict[str, float] = {}
        self._extras: list[_Extra] = []
        self._elevation: np.ndarray | None = None
        self._valves: list[int] = []
        self._link_types = np.array([self._en.ENgetlinktype(i) for i in range(1, n_links + 1)], dtype=int)
        self._link_ends = np.zeros((n_links, 2), dtype=int)
        n1, n2 = ctypes.c_int(), ctypes.c_int()
        for i in range(n_links):
            self._lib.EN_getlinknodes(self._project, ctypes.c_int(i + 1), ctypes.byref(n1), ctypes.byref(n2))
            self._link_ends[i] = (n1.value - 1, n2.value - 1)

    # --- life cycle -------------------------------------------------------------------
    def close(self) -> None:
        """Close the EPANET project and delete its files (also on ``with`` exit)."""
        if getattr(self, "_open", False):
            with contextlib.suppress(Exception):
                self._en.ENcloseH()
            with contextlib.suppress(Exception):
                self._en.ENclose()
            self._open = False
        self._tmp.cleanup()

    def __enter__(self) -> HydraulicSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- low-level access -------------------------------------------------------------
    def _link_id(self, index: int) -> str:
        buf = ctypes.create_string_buffer(64)
        self._lib.EN_getlinkid(self._project, ctypes.c_int(index), buf)
        return buf.value.decode("utf-8")

    def _values(self, get: Any, code: int, indices: list[int]) -> np.ndarray:
        """Read one value per element through a toolkit getter (ints go to C as they are)."""
        value = ctypes.c_double()
        project, ref, ccode = self._project, ctypes.byref(value), ctypes.c_int(code)
        out = np.empty(len(indices))
        for k, i in enumerate(indices):
            get(project, i, ccode, ref)
            out[k] = value.value
        return out

    def _node_values(self, code: int, indices: list[int]) -> np.ndarray:
        return self._values(self._lib.EN_getnodevalue, code, indices)

    def _link_values(self, code: int, indices: list[int]) -> np.ndarray:
        return self._values(self._lib.EN_getlinkvalue, code, indices)

    def link_value(self, link: str, code: int) -> float:
        """One EPANET link value by toolkit code (units of the session file)."""
        return float(self._en.ENgetlinkvalue(self._index(link, self._link_index, "link"), code))

    @staticmethod
    def _index(name: str, table: dict[str, int], kind: str) -> int:
        try:
            return table[name]
        except KeyError:
            msg = f"no {kind} named {name!r} in the network"
            raise InputError(msg) from None

    # --- changes ----------------------------------------------------------------------
    def set_status(self, links: Iterable[str], *, open_: bool) -> None:
        """Open or close links (their initial status, so every later solve uses it).

        Raises
        ------
        SimulationError
            For a check-valve pipe or a general-purpose valve, whose status EPANET does not
            let anyone set (error 207).
        """
        for name in links:
            index = self._index(name, self._link_index, "link")
            if name not in self._initial_status:
                self._initial_status[name] = float(self._en.ENgetlinkvalue(index, _EN_INITSTATUS))
            try:
                self._en.ENsetlinkvalue(index, _EN_INITSTATUS, 1.0 if open_ else 0.0)
            except EpanetException as exc:
                msg = f"EPANET cannot open or close link {name} (a check valve or GPV): {exc}"
                raise SimulationError(msg) from exc

    def reset_status(self) -> None:
        """Give every link whose status was set back the status it had in the model."""
        for name, status in self._initial_status.items():
            self._en.ENsetlinkvalue(self._link_index[name], _EN_INITSTATUS, status)

    @contextlib.contextmanager
    def extra_demand(self, node: str, flow_m3s: float, *, start_s: int = 0) -> Iterator[None]:
        """Add a constant demand (no pattern) at a node for the solves inside the block.

        Used for fire flows and leaks. The global demand multiplier is compensated so that
        exactly ``flow_m3s`` is asked for.

        Parameters
        ----------
        node : str
            The node.
        flow_m3s : float
            The extra demand, m3/s.
        start_s : int
            Time from which it is drawn (s from the model's start): in :meth:`run` and
            :meth:`states` the demand is zero before it and switched on at the first
            hydraulic step at or after it (a reporting time always is one); :meth:`solve` at
            an earlier time leaves it out.
        """
        index = self._index(node, self._node_index, "node")
        mult = ctypes.c_double()
        self._lib.EN_getoption(self._project, ctypes.c_int(_EN_DEMANDMULT), ctypes.byref(mult))
        base = flow_m3s / _LPS_TO_M3S / (mult.value or 1.0)
        code = self._lib.EN_adddemand(self._project, ctypes.c_int(index), ctypes.c_double(base),
                                      b"", b"nrwkit-extra")
        if code:
            msg = f"EPANET could not add a demand at {node} (error {code})"
            raise SimulationError(msg)
        count = ctypes.c_int()
        self._lib.EN_getnumdemands(self._project, ctypes.c_int(index), ctypes.byref(count))
        extra = _Extra(index, count.value, base, int(start_s))
        self._extras.append(extra)
        try:
            yield
        finally:
            self._extras.remove(extra)
            self._lib.EN_deletedemand(self._project, ctypes.c_int(index), count)

    @contextlib.contextmanager
    def hold(self, state: HydraulicState) -> Iterator[None]:
        """Solve steady states at the operating point of a state of the extended period.

        Inside the block, every tank starts at its level in ``state`` and every pipe and pump
        at its status in ``state`` (valves keep their own logic), so that :meth:`solve` and
        :meth:`pressures` at the state's time see what the extended period saw then, not the
        model's initial levels and statuses. Restored on leaving.
        """
        saved_levels: dict[int, float] = {}
        saved_status: dict[int, float] = {}
        try:
            for k, name in enumerate(state.node_names):
                index = self._node_index.get(name)
                if index is None or self._en.ENgetnodetype(index) != _EN_TANK:
                    continue
                level = float(state.head_m[k]) - float(self._en.ENgetnodevalue(index, _EN_ELEVATION))
                saved_levels[index] = float(self._en.ENgetnodevalue(index, _EN_TANKLEVEL))
                self._en.ENsetnodevalue(index, _EN_TANKLEVEL, level)
            for k, name in enumerate(state.link_names):
                index = self._link_index.get(name)
                if index is None or self._link_types[index - 1] not in (_EN_PIPE, _EN_PUMP):
                    continue
                saved_status[index] = float(self._en.ENgetlinkvalue(index, _EN_INITSTATUS))
                try:
                    self._en.ENsetlinkvalue(index, _EN_INITSTATUS, 1.0 if state.open_[k] else 0.0)
                except EpanetException:  # a check valve: EPANET decides
                    del saved_status[index]
            yield
        finally:
            for index, level in saved_levels.items():
                self._en.ENsetnodevalue(index, _EN_TANKLEVEL, level)
            for index, status in saved_status.items():
                self._en.ENsetlinkvalue(index, _EN_INITSTATUS, status)

    def _switch_extras(self, time_s: int) -> None:
        """Draw each extra demand from its start time on (zero before it)."""
        for extra in self._extras:
            value = extra.base if time_s >= extra.start_s else 0.0
            if extra.current != value:
                self._lib.EN_setbasedemand(self._project, ctypes.c_int(extra.node),
                                           ctypes.c_int(extra.demand), ctypes.c_double(value))
                extra.current = value

    # --- solves -----------------------------------------------------------------------
    def _set_time(self, *, duration: int, pattern_start: int) -> None:
        self._en.ENsettimeparam(_EN_DURATION, int(duration))
        self._en.ENsettimeparam(_EN_PATTERNSTART, int(pattern_start))

    def _run_step(self) -> tuple[int, bool]:
        before = len(self._en.errcodelist)
        try:
            t = int(self._en.ENrunH())
        except EpanetException as exc:
            msg = f"EPANET could not solve the network: {exc}".replace(" %s", "")
            raise SimulationError(msg) from exc
        new = self._en.errcodelist[before:]
        return t, not any("unbalanced" in str(m).lower() for m in new)

    def solve(self, time_s: int = 0, *, full: bool = False) -> SessionState:
        """Solve one steady state at pattern time ``time_s`` (tanks at initial levels).

        Parameters
        ----------
        time_s : int
            Pattern time in s from the model's start.
        full : bool
            Also read every link's flow and every node's head and demand.

        Returns
        -------
        SessionState
        """
        return self._state(int(time_s), self._solve_steady(int(time_s)), full=full)

    def pressures(self, time_s: int, junctions: Sequence[str]) -> np.ndarray:
        """Solve one steady state as :meth:`solve` does and read the pressure at a few junctions.

        For loops of many solves that look at a few loggers: reading every junction's
        values takes longer than the solve on large networks. NaN when the solve does not
        converge.
        """
        indices = [self._index(j, self._node_index, "node") for j in junctions]
        if not self._solve_steady(int(time_s)):
            return np.full(len(indices), np.nan)
        return self._node_values(_EN_PRESSURE, indices)

    def steady_state(self, time_s: int = 0) -> HydraulicState:
        """Solve one steady state as :meth:`solve` does and return its full state.

        The state to linearise a steady solve at (:func:`nrwkit.hydraulics.linear.linear_system`),
        e.g. to compare the linear and the non-linear response at the same operating point.
        """
        return self._full_state(int(time_s), self._solve_steady(int(time_s)))

    def _solve_steady(self, time_s: int) -> bool:
        self._set_time(duration=0, pattern_start=self._pattern_start + time_s)
        self._en.ENinitH(_EN_INITFLOW)
        self._switch_extras(time_s)
        _, converged = self._run_step()
        return converged

    def _state(self, time_s: int, converged: bool, *, full: bool) -> SessionState:
        idx = pd.Index(self.junction_names, name="junction")
        pressure = self._node_values(_EN_PRESSURE, self._junction_idx)
        head = self._node_values(_EN_HEAD, self._junction_idx)
        demand = self._node_values(_EN_DEMAND, self._junction_idx) * _LPS_TO_M3S
        deficit = self._node_values(_EN_DEMANDDEFICIT, self._junction_idx) * _LPS_TO_M3S
        flow = node_head = node_demand = None
        if full:
            flow = pd.Series(
                self._link_values(_EN_FLOW, list(range(1, len(self.link_names) + 1))) * _LPS_TO_M3S,
                index=pd.Index(self.link_names, name="link"), name="flowrate_m3s")
            every = list(range(1, len(self.node_names) + 1))
            nodes = pd.Index(self.node_names, name="node")
            node_head = pd.Series(self._node_values(_EN_HEAD, every), index=nodes, name="head_m")
            node_demand = pd.Series(self._node_values(_EN_DEMAND, every) * _LPS_TO_M3S, index=nodes,
                                    name="demand_m3s")
        return SessionState(
            time_s=time_s,
            pressure_m=pd.Series(pressure, index=idx, name="pressure_m"),
            head_m=pd.Series(head, index=idx, name="head_m"),
            demand_m3s=pd.Series(demand, index=idx, name="demand_m3s"),
            deficit_m3s=pd.Series(np.maximum(deficit, 0.0) * 1.0, index=idx, name="deficit_m3s"),
            flowrate_m3s=flow,
            converged=converged,
            node_head_m=node_head,
            node_demand_m3s=node_demand,
        )

    @contextlib.contextmanager
    def scaled_demands(self, factors: Mapping[str, float]) -> Iterator[None]:
        """Multiply junctions' base demands (every demand category) for the solves inside the block.

        Used for Monte Carlo over uncertain demands: one open session, a draw of factors per
        scenario, the model's own demands restored after the block.

        Parameters
        ----------
        factors : mapping of str to float
            Junction name to factor (>= 0); junctions not named keep their demands, and so do
            the demands :meth:`extra_demand` adds.
        """
        extras = {(extra.node, extra.demand) for extra in self._extras}
        saved: list[tuple[int, int, float]] = []
        value = ctypes.c_double()
        count = ctypes.c_int()
        try:
            for node, factor in factors.items():
                if not factor >= 0:
                    msg = f"demand factor {factor} at {node}: give a factor of 0 or more"
                    raise SimulationError(msg)
                index = self._index(node, self._node_index, "node")
                self._lib.EN_getnumdemands(self._project, ctypes.c_int(index), ctypes.byref(count))
                for category in range(1, count.value + 1):
                    if (index, category) in extras:
                        continue
                    self._lib.EN_getbasedemand(self._project, ctypes.c_int(index), ctypes.c_int(category),
                                               ctypes.byref(value))
                    saved.append((index, category, value.value))
                    self._lib.EN_setbasedemand(self._project, ctypes.c_int(index), ctypes.c_int(category),
                                               ctypes.c_double(value.value * float(factor)))
            yield
        finally:
            for index, category, base in reversed(saved):
                self._lib.EN_setbasedemand(self._project, ctypes.c_int(index), ctypes.c_int(category),
                                           ctypes.c_double(base))

    def run(self, *, duration_s: int | None = None, report_step_s: int | None = None,
            links: Iterable[str] = (), pressure_only: bool = False,
            emitters: Callable[[int], dict[str, float]] | None = None,
            junctions: Sequence[str] | None = None, control: StepControl | None = None,
            max_control_iterations: int = 30) -> ExtendedPeriod:
        """Run an extended-period simulation and keep junction values at each reporting time.

        Parameters
        ----------
        duration_s : int, optional
            Default the model's duration (24 h when the model is a single period).
        report_step_s : int, optional
            Default the model's reporting step.
        links : iterable of str
            Links whose flows to keep.
        pressure_only : bool
            Read pressures only (demand and deficit come back as zeros): a third of the
            reading time on large networks, for loops that look at pressure alone.
        emitters : callable, optional
            ``emitters(t) -> {junction: C}``: emitter coefficients (SI, m3/s per m^N with the
            model's emitter exponent) to use from time ``t`` s, set before every hydraulic
            step (leaks that start, grow or end during the run; EPANET has no emitter
            patterns). Changes take effect at hydraulic steps.
        junctions : sequence of str, optional
            Read only these junctions (default every junction): a loop of runs that looks
            at a few loggers.
        control : StepControl, optional
            Asked after every solve of every hydraulic step; the settings it returns are set
            and the same step is solved again (at most ``max_control_iterations`` times), so
            a valve can be driven by what the network does (critical-point or flow-modulated
            pressure control). The model's own settings are restored after the run.
        max_control_iterations : int
            Re-solves allowed per step for ``control``.

        Returns
        -------
        ExtendedPeriod
        """
        duration = int(duration_s if duration_s is not None else (self.duration_s or DAY_S))
        step = int(report_step_s or self.report_step_s)
        link_names = list(links)
        link_idx = [self._index(n, self._link_index, "link") for n in link_names]
        read = list(self.junction_names) if junctions is None else [str(j) for j in junctions]
        read_idx = (self._junction_idx if junctions is None
                    else [self._index(j, self._node_index, "node") for j in read])
        saved_step = int(self._en.ENgettimeparam(_EN_REPORTSTEP))
        saved_start = int(self._en.ENgettimeparam(_EN_REPORTSTART))
        rows: dict[str, list[np.ndarray]] = {"p": [], "d": [], "x": [], "q": []}
        times: list[int] = []
        unbalanced: list[int] = []
        original: dict[int, float] = {}
        settings: dict[int, float] = {}
        steer = None if control is None else _Steer(
            control, [self._index(n, self._node_index, "node") for n in control.nodes],
            [self._index(n, self._link_index, "link") for n in control.links], max_control_iterations,
            settings)
        try:
            # EPANET stops at every reporting time: so every step asked for is solved, not
            # carried over from the last hydraulic step
            self._en.ENsettimeparam(_EN_REPORTSTEP, step)
            self._en.ENsettimeparam(_EN_REPORTSTART, 0)
            self._set_time(duration=duration, pattern_start=self._pattern_start)
            self._step_through(duration, step, emitters, original, rows, times, unbalanced, link_idx,
                               read_idx, pressure_only, steer)
        finally:  # the model's own emitters, settings and reporting times back for the next run
            for index, value in original.items():
                self._en.ENsetnodevalue(index, _EN_EMITTER, value)
            for index, value in settings.items():
                self._en.ENsetlinkvalue(index, _EN_SETTING, value)
            self._en.ENsettimeparam(_EN_REPORTSTEP, saved_step)
            self._en.ENsettimeparam(_EN_REPORTSTART, saved_start)
        converged = not unbalanced
        index = pd.Index(times, name="time_s")
        cols = pd.Index(read, name="junction")
        return ExtendedPeriod(
            pressure_m=pd.DataFrame(np.array(rows["p"]), index=index, columns=cols),
            demand_m3s=pd.DataFrame(np.array(rows["d"]), index=index, columns=cols),
            deficit_m3s=pd.DataFrame(np.array(rows["x"]), index=index, columns=cols),
            flowrate_m3s=(pd.DataFrame(np.array(rows["q"]), index=index,
                                       columns=pd.Index(link_names, name="link"))
                          if link_idx else None),
            converged=converged,
            unbalanced_s=tuple(unbalanced),
        )

    def _step_through(self, duration: int, step: int, emitters: Callable[[int], dict[str, float]] | None,
                      original: dict[int, float], rows: dict[str, list[np.ndarray]], times: list[int],
                      unbalanced: list[int], link_idx: list[int], read_idx: list[int], pressure_only: bool,
                      steer: _Steer | None = None) -> None:
        """Step the extended period of :meth:`run`, filling ``rows``, ``times`` and ``unbalanced``.

        ``original`` receives each node's emitter coefficient before ``emitters`` first set it.
        """
        current: dict[str, float] = {}
        if emitters is not None:
            # known before EPANET initialises its flows: a node whose emitter is set only after
            # ENinitH starts from a zero emitter flow, and an exponent above 1 then divides 0 by 0
            self._set_emitters(emitters(0), current, original)
        self._en.ENinitH(_EN_INITFLOW)
        while True:
            now = int(self._en.ENgettimeparam(_EN_HTIME))
            self._switch_extras(now)
            if emitters is not None:
                self._set_emitters(emitters(now), current, original)
            t, ok = self._run_step()
            if steer is not None:
                t, ok = self._steer_step(steer, t, ok)
            if not ok:
                unbalanced.append(t)
            if t % step == 0 and t <= duration and (not times or times[-1] != t):
                times.append(t)
                rows["p"].append(self._node_values(_EN_PRESSURE, read_idx))
                if pressure_only:
                    rows["d"].append(np.zeros(len(read_idx)))
                    rows["x"].append(np.zeros(len(read_idx)))
                else:
                    rows["d"].append(self._node_values(_EN_DEMAND, read_idx) * _LPS_TO_M3S)
                    rows["x"].append(np.maximum(
                        self._node_values(_EN_DEMANDDEFICIT, read_idx), 0.0) * _LPS_TO_M3S)
                if link_idx:
                    rows["q"].append(self._link_values(_EN_FLOW, link_idx) * _LPS_TO_M3S)
            if self._en.ENnextH() <= 0:
                break

    def _set_emitters(self, coefficients: dict[str, float], current: dict[str, float],
                      original: dict[int, float]) -> None:
        """Set emitter coefficients (SI) that changed; keep each node's own in ``original``."""
        for node, coef in coefficients.items():
            if current.get(node) != coef:
                index = self._index(node, self._node_index, "node")
                if index not in original:
                    original[index] = float(self._en.ENgetnodevalue(index, _EN_EMITTER))
                self._en.ENsetnodevalue(index, _EN_EMITTER, coef / _LPS_TO_M3S)
                current[node] = coef

    def _steer_step(self, steer: _Steer, t: int, ok: bool) -> tuple[int, bool]:
        """Ask ``steer``'s control about the step just solved; set its settings and solve again."""
        for iteration in range(steer.max_iterations + 1):
            reading = StepReading(
                time_s=t, pressure_m=self._node_values(_EN_PRESSURE, steer.node_idx),
                flow_m3s=self._link_values(_EN_FLOW, steer.link_idx) * _LPS_TO_M3S, iteration=iteration)
            new = steer.control(reading)
            if not new or iteration == steer.max_iterations:
                break
            for name, value in new.items():
                index = self._index(name, self._link_index, "link")
                if index not in steer.saved:
                    steer.saved[index] = float(self._en.ENgetlinkvalue(index, _EN_SETTING))
                kind = int(self._link_types[index - 1])
                self._en.ENsetlinkvalue(index, _EN_SETTING, value / _LPS_TO_M3S if kind == _EN_FCV else value)
            t, ok = self._run_step()
        return t, ok

    def states(self, times_s: Iterable[int]) -> dict[int, HydraulicState]:
        """Run the extended period once in memory and return the full state at each time.

        Parameters
        ----------
        times_s : iterable of int
            Times in s from the model's start (any multiple of 1 s; the run's reporting step
            is set so that EPANET stops at each of them).

        Returns
        -------
        dict
            time -> :class:`HydraulicState`.

        Raises
        ------
        InputError
            For a negative time.
        """
        asked = sorted({int(t) for t in times_s})
        if not asked or asked[0] < 0:
            raise InputError("give one or more times >= 0 s")
        step = 0
        for t in asked:
            step = int(np.gcd(step, t))
        step = int(np.gcd(step, self.report_step_s)) if step else self.report_step_s
        saved_step = int(self._en.ENgettimeparam(_EN_REPORTSTEP))
        saved_start = int(self._en.ENgettimeparam(_EN_REPORTSTART))
        out: dict[int, HydraulicState] = {}
        try:
            self._en.ENsettimeparam(_EN_REPORTSTEP, max(step, 1))
            self._en.ENsettimeparam(_EN_REPORTSTART, 0)
            self._set_time(duration=asked[-1], pattern_start=self._pattern_start)
            self._en.ENinitH(_EN_INITFLOW)
            wanted = set(asked)
            while True:
                self._switch_extras(int(self._en.ENgettimeparam(_EN_HTIME)))
                t, ok = self._run_step()
                if t in wanted and t not in out:
                    out[t] = self._full_state(t, ok)
                if len(out) == len(wanted) or self._en.ENnextH() <= 0:
                    break
        finally:
            self._en.ENsettimeparam(_EN_REPORTSTEP, saved_step)
            self._en.ENsettimeparam(_EN_REPORTSTART, saved_start)
        missing = [t for t in asked if t not in out]
        if missing:
            raise InputError(f"EPANET did not stop at times {missing[:5]} s")
        return {t: out[t] for t in asked}

    def state(self, time_s: int = 0) -> HydraulicState:
        """Return the full state at one time of the extended period (see :meth:`states`)."""
        return self.states([int(time_s)])[int(time_s)]

    def _full_state(self, time_s: int, converged: bool) -> HydraulicState:
        nodes = list(range(1, len(self.node_names) + 1))
        links = list(range(1, len(self.link_names) + 1))
        if self._elevation is None:
            self._elevation = self._node_values(_EN_ELEVATION, nodes)
            self._valves = [int(i) + 1 for i in np.flatnonzero(self._link_types >= _EN_PRV)]
        model, pmin, preq, pexp = ctypes.c_int(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        self._lib.EN_getdemandmodel(self._project, ctypes.byref(model), ctypes.byref(pmin),
                                    ctypes.byref(preq), ctypes.byref(pexp))
        head = self._node_values(_EN_HEAD, nodes)
        pressure = head - self._elevation
        demand = self._node_values(_EN_DEMAND, nodes) * _LPS_TO_M3S
        deficit = (np.maximum(self._node_values(_EN_DEMANDDEFICIT, nodes), 0.0) * _LPS_TO_M3S
                   if model.value == 1 else np.zeros(len(nodes)))
        flow = self._link_values(_EN_FLOW, links) * _LPS_TO_M3S
        open_ = self._link_values(_EN_STATUS, links) > 0.5
        setting = np.zeros(len(links))
        if self._valves:
            setting[np.array(self._valves) - 1] = self._link_values(_EN_SETTING, self._valves)
        kinds = self._link_types
        setting = np.where(kinds == _EN_FCV, setting * _LPS_TO_M3S, setting)
        a, b = self._link_ends[:, 0], self._link_ends[:, 1]
        tol = np.maximum(1e-3, 1e-4 * np.abs(setting))
        prv = (kinds == _EN_PRV) & open_ & (np.abs(pressure[b] - setting) < tol) & (head[a] > head[b])
        psv = (kinds == _EN_PSV) & open_ & (np.abs(pressure[a] - setting) < tol) & (head[a] > head[b])
        at_setting = np.abs(flow - setting) < np.maximum(1e-6, 1e-4 * np.abs(setting))
        fcv = (kinds == _EN_FCV) & open_ & at_setting & (head[a] > head[b])
        return HydraulicState(
            time_s=int(time_s), node_names=tuple(self.node_names), link_names=tuple(self.link_names),
            head_m=head, pressure_m=pressure, demand_m3s=demand, deficit_m3s=deficit, flow_m3s=flow,
            open_=open_, active=prv | psv | fcv, setting=setting,
            demand_model="PDA" if model.value == 1 else "DDA", minimum_pressure_m=pmin.value,
            required_pressure_m=preq.value, pressure_exponent=pexp.value, converged=converged,
        )

    def water_age(self, *, duration_s: int, average_last_s: int = DAY_S) -> pd.Series:
        """Mean water age per junction over the last ``average_last_s`` of a run, hours.

        Needs a session opened with ``water_age=True``. The run starts from age 0
        everywhere, so ``duration_s`` should be a few days for age to settle.
        """
        # hydraulics and quality stepped together: EPANET keeps the hydraulics in memory and
        # writes no scratch file (ENsolveH would write one into the working directory)
        self._set_time(duration=duration_s, pattern_start=self._pattern_start)
        total = np.zeros(len(self._junction_idx))
        count = 0
        start = max(duration_s - average_last_s, 0)
        try:
            self._en.ENopenQ()
            self._en.ENinitH(_EN_INITFLOW)
            self._en.ENinitQ(0)
            while True:
                t = int(self._en.ENrunH())
                self._en.ENrunQ()
                if t >= start and t % self.report_step_s == 0:
                    total += self._node_values(_EN_QUALITY, self._junction_idx)
                    count += 1
                step = self._en.ENnextH()
                self._en.ENnextQ()
                if step <= 0:
                    break
        except EpanetException as exc:
            msg = f"EPANET could not run the water-age simulation: {exc}".replace(" %s", "")
            raise SimulationError(msg) from exc
        finally:
            with contextlib.suppress(Exception):
                self._en.ENcloseQ()
        return pd.Series(total / max(count, 1), index=pd.Index(self.junction_names, name="junction"),
                         name="water_age_h")


@contextlib.contextmanager
def _c_stdout_silenced() -> Iterator[None]:
    """Send what C code writes to the process's stdout to /dev/null for the block.

    The library never prints; EPANET 2.2's reader writes a report line to stdout for some
    input files (e.g. BWSN Network 2 with water quality on).
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (e.g. captured): nothing to guard
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def _write_session_inp(
    wn: wntr.network.WaterNetworkModel, path: Path, *, demand_model: str | None,
    required: float | None, minimum: float | None, exponent: float | None, water_age: bool,
    hydraulic_step_s: int | None = None,
) -> None:
    """Write ``wn`` for the session (LPS units, the asked demand model), restoring ``wn``."""
    changes: dict[str, Any] = {
        "hydraulic_step_s": hydraulic_step_s, "demand_model": demand_model,
        "required_pressure_m": None if required is None else float(required),
        "minimum_pressure_m": None if minimum is None else float(minimum),
        "pressure_exponent": None if exponent is None else float(exponent),
        # "Unbalanced Stop" would end an extended-period run at the first step that does not
        # converge, silently short: carry on (10 more trials, then the last solution) and
        # report the step as unbalanced instead
        "unbalanced": "CONTINUE", "unbalanced_trials": 10,
    }
    if water_age:
        times = wn.options.time
        step_s = int(hydraulic_step_s or times.hydraulic_timestep or HOUR_S)
        changes |= {
            "quality_parameter": "AGE",
            # segments whose ages differ by less than this merge: 0.1 h keeps ages within
            # 0.05 h of EPANET's default 0.01 h on BWSN Network 2 with 50 pipes closed, and
            # runs three times faster (stagnant pipes otherwise breed segments)
            "quality_tolerance": max(float(wn.options.quality.tolerance or 0.0), AGE_TOLERANCE_H),
            # EPANET skips water quality altogether for a file whose duration is 0
            "duration_s": max(int(times.duration), step_s),
        }
    with changed_options(wn, **changes):
        wntr.network.write_inpfile(wn, str(path), units="LPS")


def epanet_version() -> str:
    """Return the version of the EPANET toolkit library WNTR ships (e.g. ``"2.2.0"``).

    Returns
    -------
    str
        ``major.minor.patch``, or ``"unknown"`` when the library cannot be asked.
    """
    number = ctypes.c_int()
    try:
        ENepanet().ENlib.EN_getversion(ctypes.byref(number))
    except (AttributeError, OSError):  # pragma: no cover - a WNTR without the toolkit library
        return "unknown"
    major, rest = divmod(number.value, 10000)
    return f"{major}.{rest // 100}.{rest % 100}"
