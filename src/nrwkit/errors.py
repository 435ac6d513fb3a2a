"""The nrwkit exception hierarchy.

Every error nrwkit raises on purpose derives from :class:`NrwkitError` and, where it makes
sense, from the builtin exception a Python user would expect (``ValueError`` for bad input,
``RuntimeError`` for a failed simulation), so ``except ValueError`` keeps working.

Messages name the file, the element and the fix: a utility engineer reading the message
should know what to change without reading nrwkit's code.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CRSError",
    "InputError",
    "LayerError",
    "NetworkFileError",
    "NrwkitError",
    "OutputError",
    "OutputExistsError",
    "SimulationError",
]


class NrwkitError(Exception):
    """Root of every error raised by nrwkit."""


class InputError(NrwkitError, ValueError):
    """An input (file, table, option) is missing, malformed or inconsistent."""


class NetworkFileError(InputError):
    """An EPANET ``.inp`` file cannot be read.

    Parameters
    ----------
    path : str or Path
        The file that failed.
    problem : str
        What is wrong, in the engineer's words.
    fix : str
        What to do about it.
    line : int, optional
        1-based line number in the file, when known.
    text : str, optional
        The offending line's text, when known.
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        fix: str,
        *,
        line: int | None = None,
        text: str | None = None,
    ) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        self.line = line
        self.text = text
        where = f"{self.path}, line {line}" if line is not None else self.path
        msg = f"{where}: {problem}"
        if text:
            msg += f"\n    {text.strip()}"
        msg += f"\n  fix: {fix}"
        super().__init__(msg)


class LayerError(InputError):
    """A GIS layer (or its mapping) cannot be used.

    Parameters
    ----------
    path : str or Path
        The file holding the layer (or the mapping file).
    problem : str
        What is wrong.
    fix : str
        What to do about it.
    layer : str, optional
        Layer name.
    feature : str, optional
        Feature id (or row number) at fault.
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        fix: str,
        *,
        layer: str | None = None,
        feature: str | None = None,
    ) -> None:
        self.path = str(path)
        self.layer = layer
        self.feature = feature
        self.problem = problem
        self.fix = fix
        where = self.path
        if layer:
            where += f", layer {layer!r}"
        if feature is not None:
            where += f", feature {feature}"
        super().__init__(f"{where}: {problem}\n  fix: {fix}")


class OutputExistsError(NrwkitError, FileExistsError):
    """An output file already exists and overwriting was not allowed."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        msg = (
            f"{self.path} already exists; nrwkit never overwrites earlier work"
            "\n  fix: choose another output name, or allow replacing it with overwrite=True"
        )
        super().__init__(msg)


class OutputError(InputError):
    """An output file cannot be written: its folder is read-only, missing or not a folder.

    Parameters
    ----------
    path : str or Path
        The file that could not be written.
    problem : str
        Why (the operating system's reason, in words).
    fix : str
        What to do about it.
    """

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: cannot be written: {problem}\n  fix: {fix}")


class SimulationError(NrwkitError, RuntimeError):
    """A hydraulic simulation failed or could not be set up."""


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or unsuitable."""

