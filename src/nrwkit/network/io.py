"""Reading EPANET ``.inp`` files with errors a utility engineer can act on.

WNTR's reader is lenient where EPANET is strict: it silently keeps the last of two junctions
with the same id, accepts a pipe whose two ends are the same node, and fails with an
``AttributeError`` when the ``[OPTIONS] Units`` line is missing. nrwkit therefore runs a
light pre-pass over the text, mirroring EPANET 2.2's own input checks (errors 200-234 of the
EPANET manual), before handing the file to :class:`wntr.network.WaterNetworkModel`. Every
problem becomes a :class:`~nrwkit.errors.NetworkFileError` naming the file, the line and
the fix.
"""

from __future__ import annotations

import datetime
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import wntr
from wntr.epanet.exceptions import EpanetException

from ..errors import NetworkFileError

__all__ = ["InpProblem", "lint_inp", "read_inp", "write_inp"]

logger = logging.getLogger(__name__)

#: Sections EPANET 2.2 knows (WNTR's list, which also accepts a missing/extra plural "S").
KNOWN_SECTIONS = frozenset(wntr.epanet.io._INP_SECTIONS) | {"[END]"}

_NODE_SECTIONS = {"[JUNCTIONS]": 2, "[RESERVOIRS]": 2, "[TANKS]": 6}
_LINK_SECTIONS = {"[PIPES]": 6, "[PUMPS]": 4, "[VALVES]": 6}
_FIELDS = {
    "[JUNCTIONS]": "ID Elevation [Demand] [Pattern]",
    "[RESERVOIRS]": "ID Head [Pattern]",
    "[TANKS]": "ID Elevation InitLevel MinLevel MaxLevel Diameter [MinVol] [VolCurve] [Overflow]",
    "[PIPES]": "ID Node1 Node2 Length Diameter Roughness [MinorLoss] [Status]",
    "[PUMPS]": "ID Node1 Node2 HEAD curve | POWER kW [SPEED s] [PATTERN p]",
    "[VALVES]": "ID Node1 Node2 Diameter Type Setting [MinorLoss]",
}
HEADER = "<header>"
_NON_FINITE = {"nan", "inf", "infinity"}
_KINDS = {"node": "junction, reservoir and tank", "link": "pipe, pump and valve"}
_HINTS = {
    "[TIMES]": "times are hours ('24'), H:MM or H:MM:SS ('0:05', '6:00:00'), optionally "
    "with AM/PM for clock times; e.g. 'Pattern Start 0:00'",
    "[OPTIONS]": "see the [OPTIONS] keywords of the EPANET 2.2 manual, e.g. 'Units LPS', "
    "'Headloss H-W', 'Trials 40'",
    "[PATTERNS]": "ID followed by multipliers (numbers), several lines allowed per ID",
    "[CURVES]": "ID X-value Y-value, one point per line",
    "[RULES]": "WNTR reads clock times in rules as H:MM (write '6:00', not '6 AM'); the rule "
    "syntax is IF/AND/OR/THEN/ELSE/PRIORITY as in the EPANET 2.2 manual",
    "[CONTROLS]": "LINK id status|setting IF NODE id ABOVE|BELOW value, or AT TIME t, or "
    "AT CLOCKTIME t AM|PM",
}
_FLOW_UNITS = ("CFS", "GPM", "MGD", "IMGD", "AFD", "LPS", "LPM", "MLD", "CMH", "CMD")


@dataclass(frozen=True)
class InpProblem:
    """One problem found in the text of an ``.inp`` file.

    Attributes
    ----------
    line : int or None
        1-based line number (None when the problem is the whole file).
    text : str
        The line's text ('' when not applicable).
    problem : str
        What is wrong.
    fix : str
        What to do about it.
    """

    line: int | None
    text: str
    problem: str
    fix: str

    def to_error(self, path: str | Path, n_more: int = 0) -> NetworkFileError:
        """Turn the problem into the error :func:`read_inp` raises."""
        fix = self.fix
        if n_more:
            fix += f" ({n_more} more problem{'s' if n_more > 1 else ''} in the file after this one)"
        return NetworkFileError(path, self.problem, fix, line=self.line, text=self.text or None)


def _decode(path: Path, raw: bytes) -> str:
    """Decode an .inp file: UTF-8, else Windows-1252 (what EPANET's Windows GUI writes).

    Raises
    ------
    NetworkFileError
        If the bytes are not text at all (e.g. a binary EPANET .net file).
    """
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark (Notepad's "UTF-8 with BOM") is dropped
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if b"\x00" not in raw:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise NetworkFileError(
        path,
        "the file is not text (an EPANET .inp file is plain text)",
        "check that this is an .inp file and not a binary .net or .bin file; in EPANET use "
        "File > Export > Network to write an .inp file",
        line=raw[:first_bad].count(b"\n") + 1,
    )


def _data_lines(path: Path) -> list[tuple[int, str | None, str, list[str]]]:
    """Return (line number, section, raw text, tokens) for every non-blank, non-comment line.

    Section headers come back with section ``HEADER`` and the header as the only token;
    data before the first header has section None.
    """
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise NetworkFileError(path, "is a folder, not a file", "give the path of an .inp file") from None
    text = _decode(path, raw)
    rows: list[tuple[int, str | None, str, list[str]]] = []
    section: str | None = None
    for lnum, line in enumerate(text.splitlines(), start=1):
        body = line.split(";", 1)[0].strip()
        if not body:
            continue
        if body.startswith("["):
            section = body.split(None, 1)[0].upper()
            if section not in KNOWN_SECTIONS:
                for variant in (section.replace("]", "S]"), section.replace("S]", "]")):
                    if variant in KNOWN_SECTIONS:
                        section = variant
                        break
            rows.append((lnum, HEADER, line, [section]))
            if section == "[END]":
                break
            continue
        rows.append((lnum, section, line, body.split()))
    return rows


#: Sections whose lines start with the id of a node (or a link) defined elsewhere.
_NODE_REFERENCES = ("[COORDINATES]", "[DEMANDS]", "[EMITTERS]")
_LINK_REFERENCES = ("[VERTICES]",)


@dataclass
class _Lint:
    """What :func:`lint_inp` gathers while it reads the lines."""

    problems: list[InpProblem] = field(default_factory=list)
    nodes: dict[str, int] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)
    link_rows: list[tuple[int, str, list[str]]] = field(default_factory=list)
    references: list[tuple[int, str, str, list[str]]] = field(default_factory=list)
    units: str | None = None

    def add(self, line: int | None, text: str, problem: str, fix: str) -> None:
        self.problems.append(InpProblem(line, text, problem, fix))


def lint_inp(path: str | Path) -> list[InpProblem]:
    """Check the text of an ``.inp`` file the way EPANET's input reader does.

    Parameters
    ----------
    path : str or Path
        The ``.inp`` file.

    Returns
    -------
    list of InpProblem
        In file order; empty when the text is acceptable to EPANET's reader.

    Notes
    -----
    Checks: unknown sections (EPANET error 201), data before the first section (201),
    too few fields on an element line (201), duplicate node or link ids (215), links whose
    ends are undefined nodes (203) or the same node (222), coordinates, demands and emitters
    of undefined nodes and vertices of undefined links (203, 204), a missing or unknown flow
    unit (213), and a file with no nodes (223).
    """
    path = Path(path)
    state = _Lint()
    for lnum, section, text, tokens in _data_lines(path):
        _lint_line(state, lnum, section, text, tokens)
    _lint_links(state)
    _lint_references(state)
    _lint_whole(state)
    state.problems.sort(key=lambda p: (p.line is None, p.line or 0))
    return state.problems


def _lint_line(state: _Lint, lnum: int, section: str | None, text: str, tokens: list[str]) -> None:
    """Check one data line (or section header)."""
    if section is None:
        state.add(lnum, text, "data before the first section header",
                  "put the line under its section (such as [JUNCTIONS]), or make it a comment by starting "
                  "it with ';'")
        return
    if section == HEADER:
        if tokens[0] not in KNOWN_SECTIONS:
            state.add(lnum, text, f"unknown section {tokens[0]}",
                      "rename it to one of EPANET's sections ([JUNCTIONS], [PIPES], [OPTIONS], ...) or "
                      "delete it with its lines")
        return
    if section == "[OPTIONS]" and tokens[0].upper() == "UNITS" and len(tokens) > 1:
        state.units = tokens[1].upper()
        if state.units not in _FLOW_UNITS:
            state.add(lnum, text, f"unknown flow unit {tokens[1]!r}",
                      f"use one of {', '.join(_FLOW_UNITS)} (SI: LPS, LPM, MLD, CMH, CMD)")
    bad = [t for t in tokens[1:] if t.lower().lstrip("+-") in _NON_FINITE]
    if bad:
        state.add(lnum, text, f"{bad[0]!r} is not a finite number",
                  "give the value as a number (elevations, demands, lengths, coordinates...)")
        return
    if section in _NODE_REFERENCES or section in _LINK_REFERENCES:
        state.references.append((lnum, section, text, tokens))
        return
    minimum = _NODE_SECTIONS.get(section) or _LINK_SECTIONS.get(section)
    if minimum is None:
        return
    if len(tokens) < minimum:
        state.add(lnum, text, f"{section} line has {len(tokens)} field{'s' if len(tokens) != 1 else ''}, "
                  f"at least {minimum} are needed", f"complete the line as: {_FIELDS[section]}")
        return
    kind, seen = ("node", state.nodes) if section in _NODE_SECTIONS else ("link", state.links)
    if tokens[0] in seen:
        state.add(lnum, text, f"duplicate {kind} id {tokens[0]!r} (first defined at line {seen[tokens[0]]})",
                  f"give each {_KINDS[kind]} a unique id, or delete the repeated line")
    else:
        seen[tokens[0]] = lnum
    if kind == "link":
        state.link_rows.append((lnum, text, tokens))


def _lint_links(state: _Lint) -> None:
    """Check that every link joins two defined, different nodes."""
    for lnum, text, tokens in state.link_rows:
        name, start, end = tokens[0], tokens[1], tokens[2]
        for node in (start, end):
            if node not in state.nodes:
                state.add(lnum, text, f"link {name!r} connects to node {node!r}, which is not defined",
                          f"add {node!r} to [JUNCTIONS], [RESERVOIRS] or [TANKS], or correct the link's "
                          "node ids")
        if start == end:
            state.add(lnum, text, f"link {name!r} starts and ends at the same node {start!r}",
                      "connect the link to two different nodes, or delete it")


def _lint_references(state: _Lint) -> None:
    """Check that coordinates, demands, emitters and vertices name defined elements."""
    for lnum, section, text, tokens in state.references:
        is_node = section in _NODE_REFERENCES
        known = state.nodes if is_node else state.links
        if tokens[0] in known:
            continue
        kind, where = (("node", "[JUNCTIONS], [RESERVOIRS] or [TANKS]") if is_node
                       else ("link", "[PIPES], [PUMPS] or [VALVES]"))
        state.add(lnum, text, f"{section} line for {kind} {tokens[0]!r}, which is not defined",
                  f"correct the {kind} id, define {tokens[0]!r} in {where}, or delete the line")


def _lint_whole(state: _Lint) -> None:
    """Check the file as a whole: some nodes, and a stated flow unit."""
    if not state.nodes and not state.problems:
        state.add(None, "", "the file defines no junctions, reservoirs or tanks (is it empty?)",
                  "export the network again from EPANET or your modelling software (File > Export > "
                  "Network) and check that the copy is complete")
    elif state.units is None and not state.problems:
        state.add(None, "", "the file has no '[OPTIONS] Units' line, so its flow units are unknown",
                  "add an [OPTIONS] section with a line such as 'Units LPS' (EPANET would silently assume "
                  "GPM; nrwkit asks you to say it)")


_LINE_RE = re.compile(r"at line (\d+)")


def _find_line(path: Path, needle: str) -> tuple[int | None, str]:
    """Return the first data line containing ``needle`` as whole tokens."""
    words = needle.split()
    for lnum, section, text, tokens in _data_lines(path):
        if section in (None, HEADER):
            continue
        if any(tokens[i:i + len(words)] == words for i in range(len(tokens))):
            return lnum, text
    return None, ""


def _section_of(path: Path, line: int) -> str | None:
    """Return the section a line number belongs to."""
    section = None
    for lnum, sec, _text, tokens in _data_lines(path):
        if lnum > line:
            break
        section = tokens[0] if sec == HEADER else sec
    return section


def _translate(path: Path, exc: BaseException) -> NetworkFileError:
    """Turn an exception from WNTR's reader into a NetworkFileError with a line and a fix."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    inner = chain[-1]
    message = str(inner).split("\n")[0]
    message = re.sub(r"^\(Error \d+\)\s*", "", message)
    message = re.sub(r",? at line \d+:?$", "", message).strip()
    line: int | None = None
    text = ""
    for item in chain:
        found = _LINE_RE.search(str(item))
        if found:
            line = int(found.group(1))
            break
    if line is None:
        quoted = re.findall(r"'([^']+)'", message)
        for token in quoted:
            line, text = _find_line(path, token)
            if line is not None:
                break
    else:
        lines = _decode(path, path.read_bytes()).splitlines()
        text = lines[line - 1] if 0 < line <= len(lines) else ""
    section = _section_of(path, line) if line is not None else None
    if section in _FIELDS:
        fix = f"correct the line to the {section} format: {_FIELDS[section]}"
    elif section in _HINTS:
        fix = f"correct the line: {_HINTS[section]}"
    elif isinstance(inner, (EpanetException, ValueError)):
        fix = ("correct the value on this line to the format EPANET 2.2 expects "
               "(numbers where numbers are due, known keywords and ids)")
    else:
        fix = ("open the file in EPANET to see its own message for this line, correct it, "
               "and report the case to nrwkit if EPANET accepts the file")
    problem = f"WNTR cannot read the file: {message or type(inner).__name__}"
    return NetworkFileError(path, problem, fix, line=line, text=text or None)


def _read_with_wntr(path: Path) -> wntr.network.WaterNetworkModel:
    """Read with WNTR, which only reads UTF-8: other encodings go through a UTF-8 copy."""
    raw = path.read_bytes()
    try:
        if raw.startswith(b"\xef\xbb\xbf"):
            raise UnicodeDecodeError("utf-8", raw, 0, 3, "a byte-order mark")
        raw.decode("utf-8")
    except UnicodeDecodeError:
        logger.info("%s is not plain UTF-8 (Windows-1252, or a byte-order mark); reading a clean copy", path)
        with tempfile.TemporaryDirectory(prefix="nrwkit-") as tmp:
            copy = Path(tmp) / path.name
            copy.write_text(_decode(path, raw), encoding="utf-8")
            wn = wntr.network.WaterNetworkModel(str(copy))
        wn.name = str(path)
        return wn
    return wntr.network.WaterNetworkModel(str(path))


def read_inp(path: str | Path) -> wntr.network.WaterNetworkModel:
    """Read an EPANET ``.inp`` file into a WNTR model, with actionable errors.

    Parameters
    ----------
    path : str or Path
        The ``.inp`` file.

    Returns
    -------
    wntr.network.WaterNetworkModel
        The model, in SI units as WNTR keeps it.

    Raises
    ------
    NetworkFileError
        If the file is missing, empty, not text or not a valid EPANET input file. The
        message names the file, the line (when there is one) and the fix.

    Examples
    --------
    >>> from nrwkit.networks import path
    >>> wn = read_inp(path("net1"))
    >>> len(wn.junction_name_list)
    9
    """
    path = Path(path)
    if not path.exists():
        raise NetworkFileError(
            path, "file not found",
            "check the path, or use the name of a bundled network (see `nrwkit networks`)",
        )
    problems = lint_inp(path)
    if problems:
        raise problems[0].to_error(path, n_more=len(problems) - 1)
    try:
        wn = _read_with_wntr(path)
    except (EpanetException, ValueError, KeyError, IndexError, AttributeError, TypeError,
            RuntimeError) as exc:
        raise _translate(path, exc) from exc
    return wn


def write_inp(
    wn: wntr.network.WaterNetworkModel, path: str | Path, *, overwrite: bool = False,
    created: datetime.datetime | None = None,
) -> Path:
    """Write a model to an EPANET ``.inp`` file atomically, in the model's flow units.

    The same model gives the same bytes; the header's creation stamp is ``created``, by
    default :func:`nrwkit.outputs.creation_time` (``SOURCE_DATE_EPOCH`` when set).

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The model.
    path : str or Path
        Destination.
    overwrite : bool, default False
        Replace an existing file.
    created : datetime, optional
        The creation stamp to write (e.g. a training exercise's own date, so that the same
        exercise is the same bytes).

    Returns
    -------
    Path
        The file written.
    """
    from ..outputs import atomic_output, creation_time

    units = wn.options.hydraulic.inpfile_units or "LPS"
    with atomic_output(path, overwrite=overwrite) as tmp:
        wntr.network.write_inpfile(wn, str(tmp), units=units)
        # WNTR stamps the clock time: stamp the run's creation time (SOURCE_DATE_EPOCH) instead
        stamp = f"; Created: {created or creation_time():%Y-%m-%d %H:%M:%S}".encode()
        tmp.write_bytes(_CREATED_RE.sub(stamp, tmp.read_bytes(), count=1))
    return Path(path)


_CREATED_RE = re.compile(rb"^; Created: [^\r\n]*", re.M)
