"""The repair loop: make a DMA design serve its customers, in a bounded, explainable way.

After the boundary valves are closed, an extended-period run with pressure-dependent demand
(one open EPANET project, :class:`nrwkit.hydraulics.HydraulicSession`) finds the DMAs (and
transmission junctions) the closures push below their service pressure, or whose run does
not converge. Each failure is offered to the repair strategies in this order, and the first
that changes the design wins the round:

For a failing DMA
  1. :class:`MeterInsteadOfValve`: an inlet meter on the closed boundary pipe that carried
     most water into the DMA at the failing hour before the design (then the one with most
     head pushing in), while the DMA has fewer than ``max_inlets`` meters;
  2. :class:`MoveInlet`: move the DMA's weakest inlet meter to a closed pipe that carried
     more water in before the design (at most twice per DMA, so that moves never cycle);
  3. :class:`MoveBoundary`: move the failing junctions behind a closed boundary pipe to the
     DMA across it (both DMAs stay connected, in the band and with an inlet; a junction moves
     once);
  4. :class:`MergeWithNeighbour`: merge with the neighbour across a boundary valve while the
     union stays in the size band (never a half of a split; never DMAs the engineer drew);
  5. :class:`Split`: a spectral bisection into two connected DMAs, each with its own inlet
     meter (both halves within the band; never a DMA a merge made, never across a valve or
     pump inside the DMA), kept only when the run made at once shows both halves serve;
  6. :class:`MergeAboveBand`: a merge up to 1.5 times the band's maximum, as a last resort,
     kept only when the run made at once shows the union serves (else undone).

For starved transmission junctions (a pump's suction, a PRV's inlet)
  1. :class:`OutletMeter`: an outlet meter on the closed boundary pipe with most head pushing
     towards them, kept only if it raises their lowest pressure.

When no strategy applies, the DMA is given up with a reason that says what to change. The
loop runs at most ``max_rounds`` rounds (each round one extended-period run) and a time
budget, and always ends with a verdict per DMA (:attr:`RepairOutcome.verdicts`).

Then :func:`rebalance` brings DMAs left outside the size band back into it where the
pressure allows: a DMA above the band bisected along another line, one below merged with a
neighbour, each change kept only when a run shows it serves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from ..findings import Finding, warning
from ..hydraulics import HydraulicSession
from ..units import HOUR_S, LITRES_PER_M3
from .divide import TRANSMISSION, boundary_pipes, inflow, inlets_per_dma, supplied, unfed_dmas
from .evaluate import (
    PRESSURE_TOLERANCE_M,
    PhysicalBounds,
    peak_hour,
    run_duration,
    service_pressure,
    suspect_hours,
)
from .model import DmaDesign
from .network import DistributionNetwork, link_ends
from .partition import OVERSIZE, bisect_graph, ordered_subgraph

__all__ = [
    "DEFAULT_MAX_ROUNDS",
    "DMA_STRATEGIES",
    "Failure",
    "MergeAboveBand",
    "MergeWithNeighbour",
    "MeterInsteadOfValve",
    "MoveBoundary",
    "MoveInlet",
    "OutletMeter",
    "RepairOutcome",
    "RepairState",
    "Split",
    "run_repairs",
]

#: Repair rounds (each one extended-period run): bounds the time on hard networks.
DEFAULT_MAX_ROUNDS = 25

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Failure:
    """One DMA (or the transmission system) failing its check.

    Attributes
    ----------
    key : str
        DMA id, or ``"transmission"``.
    kind : str
        ``"pressure"``, ``"not converged"`` or ``"fire"``.
    reason : str
        In words, with the element, the hour and the figures.
    heads : pandas.Series or None
        Heads at the failing hour with the valves closed (``name`` = the hour in s).
    nodes : list of str
        The junctions that fail.
    time_s : int or None
        The failing hour.
    lowest_m : float
        Lowest pressure at ``nodes`` over the run that failed (NaN when it did not converge).
    """

    key: str
    kind: str
    reason: str
    heads: pd.Series | None
    nodes: list[str] = field(default_factory=list)
    time_s: int | None = None
    lowest_m: float = float("nan")


@dataclass(frozen=True)
class RepairOutcome:
    """What the loop did.

    Attributes
    ----------
    rounds : int
        Extended-period runs the loop made.
    changes : list of str
        The changes, in order.
    verdicts : dict
        DMA id (or ``"transmission"``) -> ``"passed first time"``, ``"repaired"``,
        ``"gave up: ..."`` or ``"stopped after N rounds: ..."``.
    stopped : bool
        True when the loop hit ``max_rounds`` or its time budget with failures left.
    out_of_time : bool
        True when the time budget stopped it.
    """

    rounds: int
    changes: list[str]
    verdicts: dict[str, str]
    stopped: bool
    out_of_time: bool = False


class RepairState:
    """The design being repaired, its open session and the all-open run it is compared with."""

    def __init__(self, wn: wntr.network.WaterNetworkModel, design: DmaDesign, session: HydraulicSession,
                 *, min_pressure_m: float, max_inlets: int, band: tuple[float, float],
                 dist: DistributionNetwork, before_pressure: pd.DataFrame, before_flows: pd.DataFrame,
                 before_suspect: dict[int, list[str]] | None = None,
                 bounds: PhysicalBounds | None = None) -> None:
        self.wn = wn
        self.dist = dist
        self.design = design
        self.session = session
        self.min_pressure_m = min_pressure_m
        self.need = service_pressure(wn, min_pressure_m)
        self.max_inlets = max_inlets
        self.band = band
        self.user_drawn = band[1] <= 0
        self.before = before_pressure
        self.before_flows = before_flows
        self.before_suspect = before_suspect or {}
        # what a run may show and still be trusted, from the network as given
        self.bounds = bounds
        self.elevation = pd.Series({j: wn.get_node(j).elevation for j in session.junction_names})
        self.duration = run_duration(wn)
        self.gave_up: dict[str, Finding] = {}  # key -> the warning that says why
        self.swaps: dict[str, int] = {}
        self.splits = 0
        # a DMA made by a merge is never split, nor a half of a split merged: the loop never undoes itself
        self.merged: set[str] = set()
        self.split_off: set[str] = set()
        self.moved: set[str] = set()  # junctions a boundary move took to another DMA
        self.first_failing: set[str] = set()
        self.touched: set[str] = set()
        self.failing_now: set[str] = set()  # the keys the last run of failures() found failing

    # --- hydraulics -------------------------------------------------------------------
    def peak_flows(self) -> pd.Series:
        """Link flows at the run's peak hour with every pipe open, m3/s."""
        t = peak_hour(self.wn)
        flows = self.before_flows
        return flows.loc[t] if t in flows.index else flows.iloc[0]

    def close_valves(self, design: DmaDesign | None = None) -> None:
        """Set the session's statuses to a design's: every new boundary valve closed."""
        self.session.reset_status()
        self.session.set_status((design or self.design).new_valves, open_=False)

    def lowest(self, nodes: list[str], design: DmaDesign | None = None) -> float:
        """Lowest pressure over the run at ``nodes`` with a design's valves closed (unreliable hours out)."""
        self.close_valves(design)
        run = self.session.run(duration_s=self.duration, report_step_s=HOUR_S, pressure_only=True,
                               links=self.wn.pump_name_list)
        pressure = run.pressure_m[nodes].drop(index=list(suspect_hours(self.wn, run, self.bounds)),
                                             errors="ignore")
        return float(pressure.min().min()) if pressure.size else -np.inf

    def failures(self) -> list[Failure]:
        """Run the day with the valves closed: DMAs and transmission that fail, transmission first."""
        self.close_valves()
        run = self.session.run(duration_s=self.duration, report_step_s=HOUR_S, pressure_only=True,
                               links=self.wn.pump_name_list)
        after = run.pressure_m
        label = self.design.assignment.reindex(after.columns).fillna(TRANSMISSION)
        out: dict[str, Failure] = {}
        suspect = suspect_hours(self.wn, run, self.bounds)
        for t, elements in sorted(suspect.items()):
            if t in self.before_suspect:
                continue  # the network as given does not converge then: not the design's doing
            keys = sorted({str(label.get(e, TRANSMISSION)) for e in elements}) or [TRANSMISSION]
            named = ", ".join(elements[:5]) or "EPANET names no element"
            for key in keys:
                if key not in out:
                    nodes = [e for e in elements if str(label.get(e, TRANSMISSION)) == key]
                    # heads of an unconverged hour mean nothing: repairs go by the flows before
                    out[key] = Failure(key, "not converged",
                                       f"the run did not converge at hour {t / HOUR_S:g} ({named})",
                                       None, nodes, time_s=int(t))
        trusted = after.drop(index=list(suspect) + list(self.before_suspect), errors="ignore")
        before = self.before.reindex(index=trusted.index, columns=trusted.columns).fillna(np.inf)
        need = self.need.reindex(trusted.columns).to_numpy()
        bad = (trusted < need) & (trusted < before - PRESSURE_TOLERANCE_M)
        failing_nodes = bad.any(axis=0)
        for key, nodes in failing_nodes[failing_nodes].groupby(label[failing_nodes].to_numpy()):
            if str(key) in out:
                continue
            names = list(nodes.index)
            failing_p = trusted[names].where(bad[names])  # only the hours at which each one fails
            worst = str(failing_p.min().idxmin())
            t = int(failing_p[worst].idxmin())
            heads = (trusted.loc[t] + self.elevation).rename(t)
            reason = (f"{trusted.at[t, worst]:.1f} m at {worst} at {t / HOUR_S:g} h < {self.need[worst]:g} m "
                      f"(was {before.at[t, worst]:.1f} m)")
            out[str(key)] = Failure(str(key), "pressure", reason, heads, names, time_s=t,
                                    lowest_m=float(trusted[names].min().min()))
        self.failing_now = set(out)
        return sorted(out.values(), key=lambda f: (f.key != TRANSMISSION, f.key))

    def fire_failures(self, fire_flow_m3s: float, fire_residual_m: float) -> list[Failure]:
        """DMAs whose critical node keeps less than the residual pressure during a fire flow."""
        t = peak_hour(self.wn)
        out: list[Failure] = []
        self.close_valves()
        state = self.session.solve(t)
        for dma in self.design.dma_ids:
            nodes = self.design.junctions(dma)
            critical = str(state.pressure_m[nodes].idxmin())
            with self.session.extra_demand(critical, fire_flow_m3s):
                fire = self.session.solve(t)
            if fire.pressure_m[critical] >= fire_residual_m:
                continue
            self.session.reset_status()
            with self.session.extra_demand(critical, fire_flow_m3s):
                prior = self.session.solve(t).pressure_m[critical]
            self.close_valves()
            if fire.pressure_m[critical] < prior - PRESSURE_TOLERANCE_M:
                residual = fire.pressure_m[critical]
                out.append(Failure(dma, "fire", f"fire flow leaves {residual:.1f} m at {critical} "
                                                f"< {fire_residual_m:g} m (was {prior:.1f} m)",
                                   fire.head_m.rename(t), [critical], time_s=t))
        return out

    # --- bookkeeping ------------------------------------------------------------------
    def snapshot(self) -> tuple[Any, ...]:
        """Return what a trial change may alter (see :meth:`restore`)."""
        return (self.design, set(self.merged), set(self.touched), dict(self.swaps), set(self.failing_now),
                set(self.moved))

    def restore(self, saved: tuple[Any, ...]) -> None:
        """Undo a trial change (the design, its bookkeeping) taken with :meth:`snapshot`."""
        design, merged, touched, swaps, failing_now, moved = saved
        self.design, self.merged, self.touched = design, set(merged), set(touched)
        self.swaps, self.failing_now, self.moved = dict(swaps), set(failing_now), set(moved)

    def change(self, text: str, *keys: str) -> str:
        """Record a change of the design."""
        self.design = replace(self.design, changes=[*self.design.changes, text])
        self.touched.update(keys)
        return text

    def give_up(self, failure: Failure) -> None:
        """Say why a failure could not be repaired, and what the engineer can change."""
        key, reason = failure.key, failure.reason
        if key == TRANSMISSION:
            found = warning("dma-not-repaired",
                            f"transmission junctions: could not repair ({reason}): no outlet meter on a "
                            "closed boundary pipe next to them raises their pressure")
        elif self.user_drawn:
            found = warning("dma-not-repaired",
                            f"{key}: could not repair ({reason}): no boundary valve left to meter within "
                            f"{self.max_inlets} inlet meters",
                            fix="allow more inlets (max_inlets) or redraw the DMA",
                            elements=[key], element_type="dma")
        else:
            found = warning("dma-not-repaired",
                            f"{key}: could not repair ({reason}): no boundary valve left to meter within "
                            f"{self.max_inlets} inlet meters and no merge or split helped",
                            fix="allow more inlets (max_inlets), widen the size band (size), or keep this "
                                "area out of DMAs (transmission)",
                            elements=[key], element_type="dma")
        self.gave_up[key] = found

    def candidates(self, dma: str, heads: pd.Series | None, time_s: int | None = None
                   ) -> list[tuple[float, str, str]]:
        """Rank the closed boundary pipes of ``dma``, the most useful inlet first.

        Ranked by the flow each carried into the DMA at the failing hour before the design
        (what the closure took away), then by the head difference across it with the valves
        closed (what would push water in if it were opened). Each candidate's score is
        positive when opening it would feed the DMA.
        """
        rows = self.design.boundary_of(dma)
        rows = rows[rows.role == "valve"]
        t = time_s
        flows = self.before_flows
        lost = (inflow(rows, flows.loc[t], dma) if t in flows.index else pd.Series(0.0, index=rows.index))
        out = []
        for pipe, row in rows.iterrows():
            link = self.wn.get_link(pipe)
            inside = link.end_node_name if row.dma_end == dma else link.start_node_name
            outside = link.start_node_name if inside == link.end_node_name else link.end_node_name
            if heads is None:  # no trusted state: what it carried in before, then the widest pipe
                key = (max(float(lost[pipe]), 0.0), float(row.diameter_m))
            else:
                push = float(heads.get(outside, np.nan) - heads.get(inside, np.nan))
                key = (max(float(lost[pipe]), 0.0), -np.inf if np.isnan(push) else push)
            out.append((key, str(pipe), self.design.other_side(str(pipe), dma)))
        out.sort(key=lambda c: (-c[0][0], -c[0][1], c[1]))
        return [(k[0] if k[0] > 0 else k[1], pipe, other) for k, pipe, other in out]

    def reassigned(self, assignment: pd.Series, changed: tuple[str, ...]) -> DmaDesign | None:
        """Return the design with junctions moved between DMAs, its boundary and meters rebuilt.

        A meter still on the boundary stays a meter, feeding the DMA its inside junction now
        belongs to; each DMA in ``changed`` without an inlet gets one on the closed boundary pipe
        that carried most water into it at the peak hour before the design (None when one has
        no closed boundary pipe left).
        """
        old, before = self.design.boundary, self.design.assignment
        boundary = boundary_pipes(self.wn, assignment, self.dist)
        boundary["role"] = np.where(boundary.existing, "existing valve", "valve")
        boundary["feeds"] = ""
        for pipe in boundary.index.intersection(old.index[old.role == "meter"]):
            feeds = str(old.at[pipe, "feeds"])
            ends = (boundary.at[pipe, "dma_start"], boundary.at[pipe, "dma_end"])
            if feeds not in ends:  # its inside junction moved: it feeds that junction's DMA now
                inside = [n for n in link_ends(self.wn, pipe) if before.get(n) == feeds]
                feeds = str(assignment.get(inside[0], feeds)) if inside else feeds
            if feeds in ends:
                boundary.loc[pipe, ["role", "feeds"]] = ["meter", feeds]
        trial = replace(self.design, assignment=assignment, boundary=boundary)
        flows = self.peak_flows()
        for dma in changed:
            if trial.inlets(dma):
                continue
            rows = trial.boundary_of(dma)
            closed = rows[rows.role == "valve"]
            if closed.empty:
                return None
            trial = trial.with_meter(str(inflow(closed, flows, dma).idxmax()), dma)
        return trial

    def merge(self, dma: str, other: str, pipe: str, reason: str) -> str:
        """Merge two DMAs across ``pipe``; keep at most ``max_inlets`` meters (the least costly closed)."""
        keep, gone = sorted([dma, other])
        assignment = self.design.assignment.where(self.design.assignment != gone, keep)
        old = self.design.boundary
        boundary = old[~(((old.dma_start == keep) & (old.dma_end == gone))
                         | ((old.dma_start == gone) & (old.dma_end == keep)))].copy()
        boundary.loc[boundary.dma_start == gone, "dma_start"] = keep
        boundary.loc[boundary.dma_end == gone, "dma_end"] = keep
        boundary.loc[boundary.feeds == gone, "feeds"] = keep
        self.design = replace(self.design, assignment=assignment, boundary=boundary)
        text = self.change(f"{gone} merged into {keep} across {pipe}: {reason}", keep, gone)
        self.merged.add(keep)
        meters = boundary[(boundary.role == "meter") & (boundary.feeds == keep)]
        drop = self.least_used_inlets(meters, keep, len(meters) - self.max_inlets)
        if drop:
            self.design = self.design.with_valves(drop)
            kept_text = "1 inlet meter" if self.max_inlets == 1 else f"{self.max_inlets} inlet meters"
            self.change(f"{keep}: meters on {', '.join(drop)} closed instead, to keep {kept_text} after "
                        "the merge (those that carried the least water in before the design)", keep)
        return text

    def least_used_inlets(self, meters: pd.DataFrame, dma: str, n: int) -> list[str]:
        """Return the ``n`` meters of ``dma`` that carried the least water in before the design.

        Each meter's largest hourly inflow in the all-open run: a pipe that fed the area at
        any hour (e.g. while a tank filled) ranks above one that never did. Ties go by name.
        """
        if n <= 0:
            return []
        flows = self.before_flows.reindex(columns=meters.index).fillna(0.0)
        sign = np.where(meters.dma_end == dma, 1.0, -1.0)
        most_in = (flows * sign).max(axis=0)
        return sorted(most_in.index, key=lambda p: (float(most_in[p]), str(p)))[:n]


class Strategy:
    """One way to repair a failure: ``apply`` changes the design and says how, or returns None."""

    name: str = ""

    def apply(self, state: RepairState, failure: Failure) -> str | None:  # pragma: no cover - abstract
        """Change ``state.design`` to repair ``failure``; return the change in words, or None."""
        raise NotImplementedError


class MeterInsteadOfValve(Strategy):
    """An inlet meter instead of the boundary valve that fed the DMA most (within ``max_inlets``)."""

    name = "meter instead of valve"

    def apply(self, state: RepairState, failure: Failure) -> str | None:  # noqa: D102
        dma, heads = failure.key, failure.heads
        if int(inlets_per_dma(state.design.boundary).get(dma, 0)) >= state.max_inlets:
            return None
        fed = supplied(state.wn, set(state.design.new_valves)) if heads is None else set()
        for push, pipe, other in state.candidates(dma, heads, failure.time_s):
            if push <= 0 and heads is not None:
                return None
            link = state.wn.get_link(pipe)
            if heads is None and not ({link.start_node_name, link.end_node_name} & fed):
                continue
            state.design = state.design.with_meter(pipe, dma)
            return state.change(f"{dma}: inlet meter on {pipe} (from {other}) instead of a boundary valve: "
                                f"{failure.reason}", dma)
        return None


class MoveInlet(Strategy):
    """Move a full DMA's weakest inlet meter to the closed pipe that fed it most before the design."""

    name = "move an inlet"

    def apply(self, state: RepairState, failure: Failure) -> str | None:  # noqa: D102
        dma, heads = failure.key, failure.heads
        t = failure.time_s
        if heads is None or state.swaps.get(dma, 0) >= 2 or t not in state.before_flows.index:
            return None
        rows = state.design.boundary_of(dma)
        carried = inflow(rows, state.before_flows.loc[t], dma)
        inlets = [p for p in state.design.inlets(dma) if p in carried.index]
        closed = [pipe for _, pipe, _ in state.candidates(dma, heads, failure.time_s)
                  if carried.get(pipe, 0.0) > 0]
        if not inlets or not closed:
            return None
        weakest = min(inlets, key=lambda p: (carried[p], p))
        best = max(closed, key=lambda p: (carried[p], p))
        if carried[best] <= carried[weakest]:
            return None
        state.swaps[dma] = state.swaps.get(dma, 0) + 1
        state.design = state.design.with_valves([weakest]).with_meter(best, dma)
        return state.change(f"{dma}: inlet meter moved from {weakest} to {best} (which carried "
                            f"{carried[best] * LITRES_PER_M3:.1f} l/s in before the design, against "
                            f"{carried[weakest] * LITRES_PER_M3:.1f} l/s): {failure.reason}", dma)


class MoveBoundary(Strategy):
    """Move the failing junctions behind a boundary valve to the DMA across it.

    The junctions that fall below their service pressure next to a closed boundary pipe are
    often fed, before the design, from the neighbour across it: they join that neighbour
    (the boundary moves past them) when both DMAs stay connected, in the band, with an inlet,
    and no valve or pump inside the DMA ends up on the new boundary. A junction moves once.
    """

    name = "move the boundary"

    def apply(self, state: RepairState, failure: Failure) -> str | None:  # noqa: D102
        dma = failure.key
        design = state.design
        if state.user_drawn or not failure.nodes:
            return None
        own = set(design.junctions(dma))
        failing = (set(failure.nodes) & own) - state.moved
        sub = ordered_subgraph(state.dist.graph, own)
        sizes = design.dma_size()
        for _, pipe, other in state.candidates(dma, failure.heads, failure.time_s):
            if other == TRANSMISSION or other in state.split_off:
                continue
            start = next((n for n in link_ends(state.wn, pipe) if n in failing), None)
            if start is None:
                continue
            region = nx.node_connected_component(sub.subgraph(failing), start)
            rest = own - region
            moved = float(design.size.reindex(list(region)).sum())
            if (not rest or not nx.is_connected(sub.subgraph(rest)) or sizes[dma] - moved < state.band[0]
                    or sizes[other] + moved > state.band[1]):
                continue
            if _cuts_fixed(sub, region):
                continue
            assignment = design.assignment.copy()
            assignment[sorted(region)] = other
            trial = state.reassigned(assignment, (dma, other))
            if trial is None:
                continue
            state.design = trial
            state.moved |= region
            return state.change(f"{dma}: {len(region)} junctions behind {pipe} moved to {other} (the "
                                f"boundary moves past them): {failure.reason}", dma, other)
        return None


def _neighbours(state: RepairState, failure: Failure) -> list[tuple[str, str]]:
    """Neighbouring DMAs across a boundary valve; none for (or being) a half of a split."""
    dma = failure.key
    if dma in state.split_off:
        return []
    return [(pipe, other) for _, pipe, other in state.candidates(dma, failure.heads, failure.time_s)
            if other != TRANSMISSION and other not in state.split_off]


class MergeWithNeighbour(Strategy):
    """Merge with the neighbour across a boundary valve while the union stays within ``factor`` x the band.

    ``factor`` 1 keeps the band; :class:`MergeAboveBand` (``factor`` 1.5) is the last resort: a DMA
    somewhat above the band that serves beats one that fails. DMAs the engineer drew are never merged.
    """

    def __init__(self, factor: float = 1.0) -> None:
        self.factor = factor
        self.name = "merge with a neighbour" if factor == 1.0 else "merge above the band"

    def apply(self, state: RepairState, failure: Failure) -> str | None:  # noqa: D102
        if state.user_drawn:
            return None
        sizes = state.design.dma_size()
        dma = failure.key
        for pipe, other in _neighbours(state, failure):
            total = sizes[dma] + sizes[other]
            if total <= self.factor * state.band[1]:
                text = state.merge(dma, other, pipe, failure.reason)
                if total > state.band[1]:
                    state.change(f"{min(dma, other)} is now above the size band ({total:g} > "
                                 f"{state.band[1]:g}): no smaller repair kept the pressure", min(dma, other))
                return text
        return None


class MergeAboveBand(MergeWithNeighbour):
    """The last-resort merge, up to 1.5 times the band's maximum, kept only when it repairs.

    A DMA above the band is worth having only if it serves: the union is checked at once
    (an extended-period run with the valves closed; a further inlet meter or a moved one
    allowed, within :data:`SETTLE_RUNS` runs). When the union still fails, or another DMA
    starts failing, the merge is undone and the DMA is given up in the band.
    """

    def __init__(self) -> None:
        super().__init__(OVERSIZE)

    def apply(self, state: RepairState, failure: Failure) -> str | None:  # noqa: D102
        if state.user_drawn:
            return None
        junction = state.design.junctions(failure.key)[0]
        done: list[str] = []

        def merge() -> set[str] | None:
            text = MergeWithNeighbour.apply(self, state, failure)
            if text is None:
                return None
            done.append(text)
            return {str(state.design.assignment[junction])}

        now, _ = _kept_if_it_serves(state, merge, state.failing_now | {failure.key})
        return done[0] if now is not None else None


class Split(Strategy):
    """Split a DMA in two at its Fiedler vector's median, each half with its own inlet meter.

    Kept only when the run made at once shows both halves serve (a further inlet meter, or a
    moved one, allowed within :data:`SETTLE_RUNS` runs): a split that does not repair only
    adds meters and valves.
    """

    name = "split"

    def apply(self, state: RepairState, failure: Failure) -> str | None:  # noqa: D102
        dma = failure.key
        design = state.design
        nodes = set(design.junctions(dma))
        if state.user_drawn or dma in state.merged or state.splits >= len(design.dma_ids) or len(nodes) < 2:
            return None
        sub = ordered_subgraph(state.dist.graph, nodes)
        if sub.number_of_nodes() != len(nodes) or not nx.is_connected(sub):
            return None
        first, second = bisect_graph(sub)
        if not (nx.is_connected(sub.subgraph(first)) and nx.is_connected(sub.subgraph(second))):
            return None  # a DMA must be one connected area
        if _cuts_fixed(sub, first):
            return None  # a valve or pump inside the DMA would end up on a boundary
        size = design.size
        smaller = min(float(size.reindex(list(first)).sum()), float(size.reindex(list(second)).sum()))
        if smaller < state.band[0]:
            return None
        new_id = _next_id(design.dma_ids, dma)
        assignment = design.assignment.copy()
        assignment[sorted(second)] = new_id
        trial = state.reassigned(assignment, (dma, new_id))
        if trial is None:
            return None
        text = (f"{dma} split in two ({dma}: {len(first)} junctions, {new_id}: {len(second)}), "
                f"each with its own inlet meter: {failure.reason}")
        change = _changer(state, trial, text, {dma, new_id})
        now, _ = _kept_if_it_serves(state, change, state.failing_now | {dma})
        if now is None:  # the halves fail too: a split that does not repair only adds meters and valves
            return None
        state.splits += 1
        state.split_off.update((dma, new_id))
        return text


def _cuts_fixed(graph: nx.Graph, part: set[str]) -> bool:
    """Return True when a valve or pump (a ``fixed`` edge) joins ``part`` to the rest of ``graph``."""
    return any(data.get("fixed") and ((u in part) != (v in part)) for u, v, data in graph.edges(data=True))


def _next_id(ids: list[str], like: str) -> str:
    numbers = [int(d.rsplit("-", 1)[-1]) for d in ids if d.rsplit("-", 1)[-1].isdigit()]
    tail = like.rsplit("-", 1)[-1]
    width = len(tail) if tail.isdigit() else 2
    return f"DMA-{max(numbers, default=0) + 1:0{width}d}"


class OutletMeter(Strategy):
    """An outlet meter on the closed pipe with most head towards starved transmission junctions."""

    name = "outlet meter for transmission"

    def apply(self, state: RepairState, failure: Failure) -> str | None:  # noqa: D102
        nodes = set(failure.nodes)
        b = state.design.boundary
        flows = state.before_flows
        t = failure.time_s
        before = flows.loc[t] if t is not None and t in flows.index else None
        best: tuple[float, str, str] | None = None
        for pipe, row in b[b.role == "valve"].iterrows():
            link = state.wn.get_link(pipe)
            ends = ((link.start_node_name, link.end_node_name, row.dma_end, -1.0),
                    (link.end_node_name, link.start_node_name, row.dma_start, 1.0))
            for inside, outside, side, sign in ends:
                if inside not in nodes or side == TRANSMISSION:
                    continue
                if failure.heads is not None:  # the head pushing towards the starved junction
                    score = float(failure.heads.get(outside, np.nan) - failure.heads.get(inside, np.nan))
                elif before is not None:  # no trusted heads: the flow it carried towards it before
                    score = sign * float(before.get(pipe, 0.0))
                else:
                    continue
                if not np.isnan(score) and (best is None or score > best[0]):
                    best = (score, str(pipe), str(side))
        if best is None or best[0] <= 0:
            return None
        previous = state.design
        state.design = state.design.with_meter(best[1], TRANSMISSION)
        helps = failure.kind != "pressure" or (
            state.lowest(sorted(nodes)) >= failure.lowest_m + PRESSURE_TOLERANCE_M)
        if not helps:
            state.design = previous  # the meter would not help these junctions: keep the valve
            return None
        return state.change(f"transmission: outlet meter on {best[1]} (from {best[2]}) instead of a boundary "
                            f"valve: {failure.reason}", TRANSMISSION)


#: The order in which a failing DMA's repairs are tried (see the module's docstring).
DMA_STRATEGIES: tuple[Strategy, ...] = (MeterInsteadOfValve(), MoveInlet(), MoveBoundary(),
                                        MergeWithNeighbour(), Split(), MergeAboveBand())
TRANSMISSION_STRATEGIES: tuple[Strategy, ...] = (OutletMeter(),)


def feed_unfed(state: RepairState, *, max_rounds: int = DEFAULT_MAX_ROUNDS) -> None:
    """Meter a pipe towards a supplied side wherever the closures cut junctions off (graph only).

    Transmission junctions first (an outlet meter from the DMA that now holds their only path
    to a source, e.g. the inlet of a PRV), then DMAs (an inlet meter from a supplied
    neighbour, else a merge or split as for a pressure failure).
    """
    wn = state.wn
    before = supplied(wn, set())
    for _ in range(max_rounds):
        fed = supplied(wn, set(state.design.new_valves))
        starved = [j for j in state.design.transmission_junctions.index if j in before and j not in fed]
        if starved and TRANSMISSION not in state.gave_up and _open_towards(state, starved, fed):
            continue
        unfed = [d for d in unfed_dmas(wn, state.design.assignment, set(state.design.new_valves))
                 if d not in state.gave_up]
        if not unfed:
            return
        for dma in unfed:
            if dma in set(state.design.assignment.to_numpy()):
                failure = Failure(dma, "unfed", "no open path to a source", None)
                if not _apply_first(state, failure, DMA_STRATEGIES):
                    state.give_up(failure)


def _open_towards(state: RepairState, starved: list[str], fed: set[str]) -> bool:
    """Outlet-meter a closed pipe joining cut-off transmission junctions to a supplied DMA."""
    b = state.design.boundary
    targets = set(starved)
    for pipe, row in b[b.role == "valve"].sort_values("diameter_m", ascending=False).iterrows():
        link = state.wn.get_link(pipe)
        ends = (link.start_node_name, link.end_node_name)
        sides = (row.dma_start, row.dma_end)
        for k in (0, 1):
            if ends[k] in targets and ends[1 - k] in fed and sides[1 - k] != TRANSMISSION:
                state.design = state.design.with_meter(str(pipe), TRANSMISSION)
                state.change(f"transmission: outlet meter on {pipe} (from {sides[1 - k]}) instead of a "
                             f"boundary valve: {ends[k]} has no other open path to a source", TRANSMISSION)
                return True
    return False


#: Bisections (or merges) tried per DMA that the repairs left outside the size band.
REBALANCE_TRIES = 3
#: Extended-period runs for one rebalancing change: its check and inlet repairs of the parts it makes.
SETTLE_RUNS = 3


def rebalance(state: RepairState, failing: set[str], *, fire_flow_m3s: float | None = None,
              fire_residual_m: float = 14.0, deadline: float | None = None) -> int:
    """Bring DMAs the repairs left outside the size band back into it where the pressure allows.

    The repair loop merges a failing DMA with a neighbour when nothing smaller helps, up to
    1.5 times the band's maximum. Once the loop is done, each DMA above the band is bisected
    along another line (its Fiedler vector at the size-weighted median, then at a third and
    two thirds, when both parts fall in the band), each part with an inlet meter, or else gives
    its junctions nearest a neighbour with room to that neighbour (:func:`_gifts`); a DMA below
    the band is merged with the smallest neighbour across a boundary pipe whose union stays
    in the band. Last, the junctions on a boundary that share more pipes with a neighbouring
    DMA than with their own join it (:func:`_boundary_moves`: fewer pipes to meter or close).
    A change is kept only when the extended-period run with the valves closed
    shows that no DMA that served stops serving (a DMA already given up may stay failing); a
    part that fails may first get a further inlet meter or move one (:class:`MeterInsteadOfValve`,
    :class:`MoveInlet`), within :data:`SETTLE_RUNS` runs. Never for DMAs the engineer drew.

    Parameters
    ----------
    state : RepairState
        After :func:`run_repairs`' loop; its design changes in place.
    failing : set of str
        The DMAs (and ``"transmission"``) failing with the design as it is.
    fire_flow_m3s, fire_residual_m : float
        The fire-flow check the changed DMAs must also pass, when a fire flow is set.
    deadline : float, optional
        ``time.perf_counter()`` value after which no change is tried.

    Returns
    -------
    int
        The extended-period runs it made.
    """
    if state.user_drawn:
        return 0
    fire = (fire_flow_m3s, fire_residual_m)

    def late() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    runs, failing = _split_large(state, failing, fire, late)
    used, failing = _merge_small(state, failing, fire, late)
    runs += used
    if late():
        return runs
    return runs + _move_boundary_junctions(state, failing, fire)


Fire = tuple[float | None, float]


def _split_large(state: RepairState, failing: set[str], fire: Fire,
                 late: Callable[[], bool]) -> tuple[int, set[str]]:
    """Bisect each DMA above the band, or give part of it to a neighbour (see :func:`rebalance`)."""
    high = state.band[1]
    runs = 0
    sizes = state.design.dma_size()
    for dma in sorted(sizes.index[sizes > high], key=lambda d: (-sizes[d], d)):
        # (the parts, their ids, the change in words): bisections first, then gifts to a neighbour
        options: list[tuple[dict[str, set[str]], str]] = []
        new_id = _next_id(state.design.dma_ids, dma)
        for first, second in _bisections(state, dma)[:REBALANCE_TRIES]:
            options.append(({dma: first, new_id: second},
                             f"{dma} ({sizes[dma]:g} junctions, above the band) split in two ({dma}: "
                             f"{len(first)} junctions, {new_id}: {len(second)}), each with an inlet meter"))
        for other, region in _gifts(state, dma)[:REBALANCE_TRIES]:
            options.append(({other: region},
                             f"{dma} ({sizes[dma]:g} junctions, above the band) gives {len(region)} "
                             f"junctions next to {other} to it"))
        for parts, text in options:
            if late():
                return runs, failing
            assignment = state.design.assignment.copy()
            for key, nodes in parts.items():
                assignment[sorted(nodes)] = key
            keys = {dma, *parts}
            trial = state.reassigned(assignment, tuple(sorted(keys)))
            if trial is None:
                continue
            text += ", once the run with the valves closed showed the DMAs it changes keep their service"
            # the part cut from a DMA that already fails may fail as its whole did
            inherited = {new_id} if dma in failing and new_id in parts else set()
            now, used = _kept_if_it_serves(state, _changer(state, trial, text, keys), failing | inherited,
                                           *fire, still_failing_ok=True)
            runs += used
            if now is None:
                continue
            state.gave_up.pop(dma, None)
            failing = now
            break
    return runs, failing


def _merge_small(state: RepairState, failing: set[str], fire: Fire,
                 late: Callable[[], bool]) -> tuple[int, set[str]]:
    """Merge each DMA below the band with the smallest neighbour the band allows (see :func:`rebalance`)."""
    low, high = state.band
    runs = 0
    sizes = state.design.dma_size()
    for dma in sorted(sizes.index[sizes < low], key=lambda d: (sizes[d], d)):
        sizes = state.design.dma_size()
        if dma not in sizes.index or sizes[dma] >= low:
            continue
        rows = state.design.boundary_of(dma)
        unions = sorted({(float(sizes[o] + sizes[dma]), o, str(p)) for p in rows.index
                         if (o := state.design.other_side(str(p), dma)) != TRANSMISSION
                         and o in sizes.index and sizes[o] + sizes[dma] <= high})
        tried: set[str] = set()
        for _, other, pipe in unions:
            if other in tried:
                continue
            if late() or len(tried) >= REBALANCE_TRIES:
                return runs, failing
            tried.add(other)
            reason = (f"{dma} ({sizes[dma]:g} junctions) was below the band, and the run with the valves "
                      "closed showed the union keeps its service")

            def merge(dma: str = dma, other: str = other, pipe: str = pipe, reason: str = reason) -> set[str]:
                state.merge(dma, other, pipe, reason)
                return {min(dma, other)}

            now, used = _kept_if_it_serves(state, merge, failing, *fire, still_failing_ok=True)
            runs += used
            if now is None:
                continue
            for key in (dma, other):
                state.gave_up.pop(key, None)
            failing = now
            break
    return runs, failing


def _move_boundary_junctions(state: RepairState, failing: set[str], fire: Fire) -> int:
    """Move boundary junctions to the DMA they share most pipes with, if service holds; return the runs."""
    moves = _boundary_moves(state)
    if not moves:
        return 0
    assignment = state.design.assignment.copy()
    for node, (_, to) in moves.items():
        assignment[node] = to
    keys = {k for pair in moves.values() for k in pair}
    trial = state.reassigned(assignment, tuple(sorted(keys)))
    if trial is None:
        return 0
    named = ", ".join(sorted(moves)[:5]) + (", ..." if len(moves) > 5 else "")
    text = (f"{len(moves)} boundary junctions joined the DMA they share most pipes with ({named}): "
            "fewer pipes to meter or close, once the run with the valves closed showed no DMA that "
            "served stops serving")
    return _kept_if_it_serves(state, _changer(state, trial, text, keys), failing, *fire,
                              still_failing_ok=True)[1]


def _boundary_moves(state: RepairState) -> dict[str, tuple[str, str]]:
    """Junctions that would cut fewer pipes in the neighbouring DMA they share most pipes with.

    Greedy, one junction at a time in name order: a junction moves from its DMA to a
    neighbouring DMA when more of its pipes lead there than stay home, both DMAs stay in the
    band and connected, and no valve or pump inside the DMA ends on the new boundary. Returns
    junction -> (from, to); the final composition of DMAs is checked for connectivity.
    """
    design = state.design
    graph = state.dist.graph
    label = design.assignment.to_dict()
    size = design.size
    sizes = design.dma_size().to_dict()
    low, high = state.band
    moves: dict[str, tuple[str, str]] = {}
    for node in sorted(label):
        if node not in graph:
            continue
        home = label[node]
        pipes: dict[str, int] = {}
        fixed_home = False
        for other_node, data in graph[node].items():
            where = label.get(other_node, TRANSMISSION)
            if data.get("fixed"):
                fixed_home = True
                break
            pipes[where] = pipes.get(where, 0) + len(data.get("pipes", []))
        if fixed_home:
            continue
        stay = pipes.get(home, 0)
        options = [(n, d) for d, n in pipes.items() if d not in (home, TRANSMISSION) and n > stay]
        if not options or stay == 0:
            continue
        _, to = max(options, key=lambda o: (o[0], o[1]))
        weight = float(size.get(node, 0.0))
        if sizes[home] - weight < low or sizes[to] + weight > high:
            continue
        label[node] = to
        sizes[home] -= weight
        sizes[to] += weight
        moves[node] = (home, to)
    changed = {d for pair in moves.values() for d in pair}
    by_dma: dict[str, list[str]] = {}
    for node, dma in label.items():
        if dma in changed:
            by_dma.setdefault(dma, []).append(node)
    if any(not nx.is_connected(ordered_subgraph(graph, set(nodes))) for nodes in by_dma.values()):
        return {}
    return moves


def _bisections(state: RepairState, dma: str) -> list[tuple[set[str], set[str]]]:
    """Ways to cut ``dma`` in two connected parts within the band, the most even first."""
    nodes = set(state.design.junctions(dma))
    sub = ordered_subgraph(state.dist.graph, nodes)
    if sub.number_of_nodes() != len(nodes) or len(nodes) < 2 or not nx.is_connected(sub):
        return []
    size = state.design.size
    out: list[tuple[set[str], set[str]]] = []
    for share in (0.5, 1 / 3, 2 / 3):
        first, second = _connected_halves(sub, *bisect_graph(sub, share=share))
        parts = [float(size.reindex(list(part)).sum()) for part in (first, second)]
        if (all(state.band[0] <= p <= state.band[1] for p in parts)
                and all(nx.is_connected(sub.subgraph(part)) for part in (first, second))
                and not _cuts_fixed(sub, first) and (first, second) not in out):
            out.append((first, second))
    return out


def _connected_halves(sub: nx.Graph, first: set[str], second: set[str]) -> tuple[set[str], set[str]]:
    """Give the stray pieces of a half cut into pieces to the other half (then connected too)."""
    def strays(half: set[str]) -> set[str]:
        pieces = sorted(nx.connected_components(sub.subgraph(half)), key=lambda c: (-len(c), sorted(c)[0]))
        return set().union(*pieces[1:])

    first_whole, second_whole = nx.is_connected(sub.subgraph(first)), nx.is_connected(sub.subgraph(second))
    if second_whole and not first_whole:
        moved = strays(first)
        return first - moved, second | moved
    if first_whole and not second_whole:
        moved = strays(second)
        return first | moved, second - moved
    return first, second


def _gifts(state: RepairState, dma: str) -> list[tuple[str, set[str]]]:
    """Junctions ``dma`` could give a neighbour to come back into the band, the smallest neighbour first.

    For each boundary pipe to a neighbouring DMA with room, the junctions nearest to it inside
    ``dma`` (breadth first from its inside end) until the excess over the band is given; kept
    when both DMAs stay connected and in the band and no valve or pump inside ends up on the
    new boundary.
    """
    design = state.design
    sizes = design.dma_size()
    low, high = state.band
    excess = float(sizes[dma] - high)
    own = set(design.junctions(dma))
    sub = ordered_subgraph(state.dist.graph, own)
    size = design.size
    out: list[tuple[str, set[str]]] = []
    seen: set[frozenset[str]] = set()
    rows = design.boundary_of(dma)
    for pipe in rows.index:
        other = design.other_side(str(pipe), dma)
        if other == TRANSMISSION or other not in sizes.index or sizes[other] + excess > high:
            continue
        start = next((n for n in link_ends(state.wn, str(pipe)) if n in own), None)
        if start is None or start not in sub:
            continue
        region: set[str] = set()
        given = 0.0
        for node in nx.bfs_tree(sub, start):
            region.add(node)
            given += float(size.get(node, 0.0))
            if given >= excess:
                break
        rest = own - region
        if (given < excess or sizes[other] + given > high or sizes[dma] - given < low or not rest
                or not nx.is_connected(sub.subgraph(rest)) or _cuts_fixed(sub, region)
                or frozenset(region) in seen):
            continue
        seen.add(frozenset(region))
        out.append((other, region))
    out.sort(key=lambda g: (float(sizes[g[0]]), g[0], sorted(g[1])))
    return out


def _changer(state: RepairState, trial: DmaDesign, text: str, keys: set[str]) -> Callable[[], set[str]]:
    """Return a change for :func:`_kept_if_it_serves`: ``trial`` becomes the design, ``text`` its record."""
    def change() -> set[str]:
        state.design = trial
        state.change(text, *keys)
        return keys
    return change


def _kept_if_it_serves(state: RepairState, change: Callable[[], set[str] | None], failing: set[str],
                       fire_flow_m3s: float | None = None, fire_residual_m: float = 0.0, *,
                       still_failing_ok: bool = False) -> tuple[set[str] | None, int]:
    """Make a trial change and keep it only when :func:`_settle` lets it stand; else undo it.

    ``change`` alters ``state.design`` and returns the DMAs it made (None when it made no
    change). Returns what :func:`_settle` returns: the keys failing afterwards (None when the
    change was undone) and the runs made.
    """
    saved = state.snapshot()
    keys = change()
    if keys is None:
        return None, 0
    now, used = _settle(state, keys, failing, fire_flow_m3s, fire_residual_m,
                        still_failing_ok=still_failing_ok)
    if now is None:
        state.restore(saved)
    return now, used


def _settle(state: RepairState, keys: set[str], failing: set[str], fire_flow_m3s: float | None,
            fire_residual_m: float, *, still_failing_ok: bool = False) -> tuple[set[str] | None, int]:
    """Check a change; give a failing DMA it made an inlet repair, within SETTLE_RUNS runs.

    The change stands when no DMA outside ``keys`` starts failing and the DMAs in ``keys``
    serve; with ``still_failing_ok`` (rebalancing), a DMA in ``keys`` that was failing before
    may still fail, but none that served may start to. Returns the keys failing afterwards
    (None when the change does not stand) and the runs made.
    """
    inlet_repairs = (MeterInsteadOfValve(), MoveInlet())
    must_serve = keys - failing if still_failing_ok else keys
    for run in range(1, SETTLE_RUNS + 1):
        found = state.failures()
        if fire_flow_m3s and not found:
            found = state.fire_failures(fire_flow_m3s, fire_residual_m)
        now = {f.key for f in found}
        if not now <= failing | keys:
            return None, run  # the change made another DMA fail
        if not now & must_serve:
            return now, run
        if run == SETTLE_RUNS or not all(_apply_first(state, f, inlet_repairs) for f in found
                                         if f.key in must_serve):
            return None, run
    return None, SETTLE_RUNS


def _apply_first(state: RepairState, failure: Failure, strategies: tuple[Strategy, ...]) -> bool:
    return any(strategy.apply(state, failure) is not None for strategy in strategies)


def run_repairs(state: RepairState, *, fire_flow_m3s: float | None = None, fire_residual_m: float = 14.0,
                max_rounds: int = DEFAULT_MAX_ROUNDS, progress: Progress | None = None,
                initial: list[Failure] | None = None, time_budget_s: float | None = None) -> RepairOutcome:
    """Run the day with the valves closed and repair failures until none can be helped.

    Each round is one extended-period run (and, with a fire flow, one fire check per DMA
    once pressures pass). Transmission failures are repaired first: a starved pump suction
    or PRV inlet starves DMAs downstream. Stops when nothing fails, when every failure has
    been given up, or after ``max_rounds`` rounds.

    ``initial`` are the failures of a check just made (the first round uses them instead of
    running the day again). With ``time_budget_s``, no new round nor repair starts once the
    loop has run that long (runs that do not converge can take ten times a normal run); the DMAs
    still failing then get the verdict ``"stopped: time budget"``.

    Returns
    -------
    RepairOutcome
    """
    rounds = 0
    first_changes = len(state.design.changes)
    remaining: list[Failure] = []
    start = time.perf_counter()
    out_of_time = False
    current: list[Failure] | None = None
    for rounds in range(1, max_rounds + 1):
        if out_of_time or (time_budget_s is not None and rounds > 1
                           and time.perf_counter() - start > time_budget_s):
            out_of_time = True
            rounds -= 1
            break
        if progress is not None:
            progress("repair", rounds, max_rounds)
        failures = initial if (rounds == 1 and initial is not None) else state.failures()
        if not failures and fire_flow_m3s:
            failures = state.fire_failures(fire_flow_m3s, fire_residual_m)
        if rounds == 1 and initial is None:
            state.first_failing = {f.key for f in failures}
        remaining = [f for f in failures if f.key not in state.gave_up]
        if not remaining:
            current = failures  # the design as it is: the rebalance below starts from it
            break
        if _repair_transmission(state, remaining):
            continue
        budget_end = None if time_budget_s is None else start + time_budget_s
        out_of_time = not _repair_dmas(state, remaining, budget_end)
    else:
        rounds = max_rounds
    sizes = state.design.dma_size()
    if not state.user_drawn and not out_of_time and (
            ((sizes < state.band[0]) | (sizes > state.band[1])).any() or _boundary_moves(state)):
        if current is None:
            rounds += 1
            current = state.failures()
        deadline = None if time_budget_s is None else start + time_budget_s
        rounds += rebalance(state, {f.key for f in current}, fire_flow_m3s=fire_flow_m3s,
                            fire_residual_m=fire_residual_m, deadline=deadline)
    stopped = bool(remaining) and any(f.key not in state.gave_up for f in remaining) and (
        rounds >= max_rounds or out_of_time)
    verdicts = _verdicts(state, remaining, stopped=stopped, out_of_time=out_of_time, max_rounds=max_rounds)
    return RepairOutcome(rounds=rounds, changes=state.design.changes[first_changes:], verdicts=verdicts,
                         stopped=stopped, out_of_time=out_of_time)


def _repair_transmission(state: RepairState, remaining: list[Failure]) -> bool:
    """Try the transmission strategies on a transmission failure; True when one applied."""
    transmission = [f for f in remaining if f.key == TRANSMISSION]
    if not transmission:
        return False
    if _apply_first(state, transmission[0], TRANSMISSION_STRATEGIES):
        return True
    state.give_up(transmission[0])
    return False


def _repair_dmas(state: RepairState, remaining: list[Failure], budget_end: float | None) -> bool:
    """Try the DMA strategies on each failing DMA; False when the time budget ran out."""
    for failure in remaining:
        if failure.key == TRANSMISSION or failure.key not in set(state.design.assignment.to_numpy()):
            continue
        if budget_end is not None and time.perf_counter() > budget_end:
            return False
        if not _apply_first(state, failure, DMA_STRATEGIES):
            state.give_up(failure)
    return True


def _verdicts(state: RepairState, remaining: list[Failure], *, stopped: bool, out_of_time: bool,
              max_rounds: int) -> dict[str, str]:
    """One verdict per DMA (and the transmission, when given up) after the repairs."""
    verdicts: dict[str, str] = {}
    for dma in state.design.dma_ids:
        if dma in state.gave_up:
            verdicts[dma] = "gave up: " + str(state.gave_up[dma]).split(": ", 1)[-1]
        elif stopped and any(f.key == dma for f in remaining):
            verdicts[dma] = "stopped: time budget" if out_of_time else f"stopped after {max_rounds} rounds"
        elif dma in state.touched or dma in state.first_failing:
            verdicts[dma] = "repaired"
        else:
            verdicts[dma] = "passed first time"
    if TRANSMISSION in state.gave_up:
        verdicts[TRANSMISSION] = "gave up: " + str(state.gave_up[TRANSMISSION]).split(": ", 1)[-1]
    return verdicts
