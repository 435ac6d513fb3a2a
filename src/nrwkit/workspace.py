"""The improvement track's workspace: one folder the mentor and the mentee share.

::

    WORKSPACE/
      workspace.toml        the track (name, mentor, mentee, dates), the network, its CRS
      network/NAME.inp      a copy of the network the track works on
      outputs/              every analysis, with a dated name, never overwritten
      runs.json             the index of runs: one entry per saved run (its files, its title)
      index.html            links every report (``nrwkit report WORKSPACE``)

Outputs are named ``YYYY-MM-DDTHHMM-<analysis>.<ext>``; a second run in the same minute gets
``-2``, ``-3``... so earlier work is never replaced. :func:`save_run` is the one way a run is
saved into a workspace (every command of the command line uses it): it chooses the dated
name, writes each file atomically, removes the run's files if one of them fails, and adds the
run's entry to ``runs.json``. Dates honour ``SOURCE_DATE_EPOCH`` (see
:func:`nrwkit.outputs.creation_time`).
"""

from __future__ import annotations

import datetime
import html
import json
import re
import shutil
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from .errors import InputError
from .outputs import atomic_output, creation_time, write_json, write_text

__all__ = ["BALANCES", "RUNS", "Workspace", "init_workspace", "is_workspace", "keep_balance",
           "open_workspace", "save_run"]

MANIFEST = "workspace.toml"
#: The index of saved runs, at the workspace's root.
RUNS = "runs.json"
#: The folder of the track's balance files.
BALANCES = "balances"
#: A writer of one output: it writes the file at the path it is given.
Writer = Callable[[Path], Any]


@dataclass(frozen=True)
class Workspace:
    """An improvement track's folder.

    Attributes
    ----------
    root : Path
        The folder.
    name : str
        The track's name (e.g. "Demo utility: NRW improvement track").
    network : Path
        The network file, inside the workspace.
    crs : str or None
        CRS of the network's coordinates.
    start, end : datetime.date or None
        The partnership's dates.
    mentor, mentee : str
        The utilities.
    units : str
        "metric" (reports in m, l/s, m3/day).
    """

    root: Path
    name: str
    network: Path
    crs: str | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None
    mentor: str = ""
    mentee: str = ""
    units: str = "metric"

    @property
    def outputs(self) -> Path:
        """Return the folder of dated outputs."""
        return self.root / "outputs"

    @property
    def balances(self) -> Path:
        """Return the folder of the track's balance files (read in name order by a trend)."""
        return self.root / BALANCES

    def balance_files(self) -> list[Path]:
        """Return the balance YAML files kept in :attr:`balances`, in name order."""
        return sorted(p for p in self.balances.glob("*") if p.suffix.lower() in (".yaml", ".yml"))

    def output_path(self, analysis: str, suffix: str, *, when: datetime.datetime | None = None
                    ) -> Path:
        """Return a new, unused dated path for an analysis output (never an existing file).

        Parameters
        ----------
        analysis : str
            A short name (``inspect``, ``gis-export``...).
        suffix : str
            File suffix with its dot (``.html``).
        when : datetime, optional
            The run's time (default now).
        """
        return self.run_stem(analysis, [suffix], when=when).with_suffix(suffix)

    def run_stem(self, analysis: str, suffixes: list[str] | tuple[str, ...], *,
                 when: datetime.datetime | None = None) -> Path:
        """Return ``outputs/<dated name>`` (no suffix) under which none of ``suffixes`` exists yet.

        Parameters
        ----------
        analysis : str
            A short name (``inspect``, ``dma-design``...).
        suffixes : sequence of str
            The suffixes the run will write (``[".html", ".json"]``).
        when : datetime, optional
            The run's time (default :func:`nrwkit.outputs.creation_time`).
        """
        when = when or creation_time()
        slug = re.sub(r"[^a-z0-9]+", "-", analysis.lower()).strip("-") or "run"
        stem = f"{when:%Y-%m-%dT%H%M}-{slug}"
        self.outputs.mkdir(parents=True, exist_ok=True)
        candidate, k = self.outputs / stem, 1
        while any((self.outputs / f"{candidate.name}{suffix}").exists() for suffix in suffixes):
            k += 1
            candidate = self.outputs / f"{stem}-{k}"
        return candidate

    def runs(self) -> list[dict[str, Any]]:
        """Return the entries of ``runs.json`` (oldest first; [] when no run was saved)."""
        path = self.root / RUNS
        if not path.is_file():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            msg = (f"{path}: not valid JSON ({exc}); delete it (it lists the runs in outputs/, which "
                   "stay) or restore it from a backup")
            raise InputError(msg) from None
        runs = data.get("runs") if isinstance(data, dict) else None
        if not isinstance(runs, list):
            msg = f"{path}: no 'runs' list; delete the file (the outputs stay) or restore it from a backup"
            raise InputError(msg)
        return runs

    def reports(self) -> list[tuple[Path, str]]:
        """Return (path, title) of every HTML report in ``outputs``, newest first."""
        found = []
        for path in sorted(self.outputs.glob("*.html"), key=lambda p: p.stat().st_mtime_ns,
                           reverse=True):
            text = path.read_text(encoding="utf-8", errors="replace")[:20000]
            match = re.search(r"<title>(.*?)</title>", text, re.S)
            found.append((path, html.unescape(match.group(1).strip()) if match else path.stem))
        return found


def save_run(workspace: Workspace, analysis: str, writers: Mapping[str, Writer], *, title: str = "",
             when: datetime.datetime | None = None) -> list[Path]:
    """Save one run into a workspace: dated names, atomic files, and its entry in ``runs.json``.

    Parameters
    ----------
    workspace : Workspace
        Where to save.
    analysis : str
        A short name of the analysis (``inspect``, ``dma-design``); part of the file names.
    writers : mapping of str to callable
        For each suffix (``".html"``), a function writing that output at the path it is given
        (it must not replace an existing file: the path is new). They run in order.
    title : str, optional
        What the run is, for the index (default: ``analysis``).
    when : datetime, optional
        The run's time [default: :func:`nrwkit.outputs.creation_time`].

    Returns
    -------
    list of Path
        The files written, in the order of ``writers``.

    Raises
    ------
    InputError
        If ``writers`` is empty. Whatever a writer raises is raised again after the files of
        this run already written have been removed (a run is saved whole or not at all).

    Examples
    --------
    >>> import tempfile
    >>> from nrwkit.outputs import write_text
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ws = init_workspace(tmp, "net1")
    ...     when = datetime.datetime(2026, 1, 15, 9, 30)
    ...     files = save_run(ws, "note", {".txt": lambda p: write_text(p, "hello")}, when=when)
    ...     [p.name for p in files], ws.runs()[0]["files"]
    (['2026-01-15T0930-note.txt'], ['outputs/2026-01-15T0930-note.txt'])
    """
    if not writers:
        msg = f"save_run({analysis!r}): no output to write; give at least one writer"
        raise InputError(msg)
    when = when or creation_time()
    stem = workspace.run_stem(analysis, tuple(writers), when=when)
    written: list[Path] = []
    try:
        for suffix, writer in writers.items():
            path = stem.with_name(stem.name + suffix)
            writer(path)
            if not path.exists():
                msg = f"save_run({analysis!r}): the writer of {suffix} wrote nothing at {path}"
                raise InputError(msg)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    entry = {"run": stem.name, "analysis": analysis, "title": title or analysis,
             "when": when.isoformat(timespec="seconds"),
             "files": [path.relative_to(workspace.root).as_posix() for path in written]}
    write_json(workspace.root / RUNS, {"runs": [*workspace.runs(), entry]}, overwrite=True)
    return written


def keep_balance(workspace: Workspace, path: str | Path, *, overwrite: bool = False) -> tuple[Path, bool]:
    """Keep a copy of a balance file in the workspace's ``balances/`` folder, for its trend.

    Parameters
    ----------
    workspace : Workspace
        The track.
    path : str or Path
        The balance YAML file.
    overwrite : bool, default False
        Replace a different file of the same name already kept.

    Returns
    -------
    (Path, bool)
        The kept copy, and whether it was written (False: the same file was already kept).

    Raises
    ------
    OutputExistsError
        When a different file of the same name is kept and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ws = init_workspace(Path(tmp) / "ws", "net1")
    ...     source = Path(tmp) / "2025.yaml"
    ...     _ = source.write_text("period_days: 365")
    ...     first, again = keep_balance(ws, source), keep_balance(ws, source)
    ...     first[0].relative_to(ws.root).as_posix(), first[1], again[1]
    ('balances/2025.yaml', True, False)
    """
    source = Path(path)
    text = source.read_bytes()
    target = workspace.balances / source.name
    if target.resolve() == source.resolve():
        return target, False
    if target.is_file() and target.read_bytes() == text:
        return target, False
    with atomic_output(target, overwrite=overwrite) as tmp:
        tmp.write_bytes(text)
    return target, True


def is_workspace(path: str | Path) -> bool:
    """Return True if ``path`` is a folder with a ``workspace.toml``."""
    return (Path(path) / MANIFEST).is_file()


def init_workspace(
    root: str | Path,
    network: str | Path,
    *,
    name: str | None = None,
    crs: str | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    mentor: str = "",
    mentee: str = "",
) -> Workspace:
    """Create a workspace with a copy of the network and its ``workspace.toml``.

    Parameters
    ----------
    root : str or Path
        The folder to create (it must not hold a workspace already).
    network : str or Path
        A bundled network name or an ``.inp`` path; it is checked by reading it.
    name : str, optional
        The track's name (default: "NRW improvement track: <network>").
    crs, start, end, mentor, mentee
        See :class:`Workspace`.

    Returns
    -------
    Workspace
        The new workspace.
    """
    from .crs import parse_crs
    from .networks import load, resolve

    root = Path(root)
    if is_workspace(root):
        msg = f"{root} is a workspace already: give a new folder, or add work to this one"
        raise InputError(msg)
    source = resolve(network)
    load(network)  # refuse a broken network before creating anything
    if crs is not None:
        parse_crs(crs)
    if start and end and end < start:
        msg = f"the track ends ({end}) before it starts ({start}): check the start and end dates"
        raise InputError(msg)
    (root / "network").mkdir(parents=True, exist_ok=True)
    (root / "outputs").mkdir(exist_ok=True)
    copy = root / "network" / source.name
    if not copy.exists():
        shutil.copyfile(source, copy)
    track: dict[str, object] = {"name": name or f"NRW improvement track: {source.stem}",
                                "mentor": mentor, "mentee": mentee}
    if start:
        track["start"] = start
    if end:
        track["end"] = end
    manifest = {
        "track": track,
        "network": {"file": f"network/{source.name}", "units": "metric",
                    **({"crs": crs} if crs else {})},
        "created": {"on": creation_time().isoformat()},
    }
    write_text(root / MANIFEST, tomli_w.dumps(manifest))
    return open_workspace(root)


def open_workspace(root: str | Path) -> Workspace:
    """Read a workspace's ``workspace.toml``.

    Raises
    ------
    InputError
        If the folder has no manifest, or the manifest is not valid; the message names the key.
    """
    root = Path(root)
    path = root / MANIFEST
    if not path.is_file():
        msg = f"{root} is not a workspace (no {MANIFEST}): create one with `nrwkit init`"
        raise InputError(msg)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML ({exc}); fix the file or create the workspace again"
        raise InputError(msg) from exc
    try:
        track, network = data["track"], data["network"]
        if not isinstance(track, dict) or not isinstance(network, dict):
            msg = f"{path}: [track] and [network] must be tables (sections)"
            raise InputError(msg)
        if not isinstance(network["file"], str) or not isinstance(track.get("name", ""), str):
            msg = f"{path}: [network] file and [track] name must be text in quotes"
            raise InputError(msg)
        file = root / network["file"]
    except KeyError as exc:
        msg = f"{path}: missing key {exc.args[0]!r} (expected [track] name and [network] file)"
        raise InputError(msg) from exc
    if not file.is_file():
        msg = f"{path}: the network file {file} is missing; copy it back or edit [network] file"
        raise InputError(msg)
    return Workspace(root=root, name=str(track.get("name", root.name)), network=file,
                     crs=network.get("crs"), start=track.get("start"), end=track.get("end"),
                     mentor=str(track.get("mentor", "")), mentee=str(track.get("mentee", "")),
                     units=str(network.get("units", "metric")))
