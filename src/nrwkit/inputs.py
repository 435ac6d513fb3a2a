"""Reading input files validated by a pydantic schema (mapping files, balance files).

One YAML reader and one way of reporting schema errors, so that every input file names its
bad key the same way: ``pipes.fields.diameter: unknown key (check its spelling ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["format_validation_error", "load_yaml_model", "read_id_list", "read_utf8"]

M = TypeVar("M", bound=BaseModel)
ErrorFactory = Callable[[Path, str, str], Exception]


def format_validation_error(exc: ValidationError) -> str:
    """Return pydantic's errors as ``key.path: message`` parts joined by "; "."""
    errors = exc.errors()
    # a value that fails both branches of `str | Model` is reported by the Model branch only
    models = {str(p) for e in errors for p in e["loc"] if str(p)[:1].isupper()}
    if models:
        errors = [e for e in errors if "str" not in map(str, e["loc"])]
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err["loc"] if str(p) not in models) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and indentation)"
        elif err["type"] == "missing":
            message = "required key is missing"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def load_yaml_model(path: str | Path, model: type[M], *, error: ErrorFactory, what: str,
                    reference: str, context: dict[str, Any] | None = None) -> M:
    """Read a YAML file and validate it with ``model``.

    Parameters
    ----------
    path : str or Path
        The file.
    model : type
        The pydantic model of the file.
    error : callable
        ``error(path, problem, fix)`` returns the exception to raise.
    what : str
        What the file is, for messages ("mapping file").
    reference : str
        Where its keys are documented, for messages ("docs/gis-teams.md").
    context : dict, optional
        Passed to the model's validators (pydantic's validation context), e.g. the file's folder.
    """
    path = Path(path)
    if not path.is_file():
        raise error(path, f"{what} not found", "check the path")
    try:
        data: Any = yaml.safe_load(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise error(path, f"not a text file (a {what} is YAML text, UTF-8)",
                    f"give the {what} itself; see {reference} for an example") from None
    except yaml.YAMLError as exc:
        raise error(path, f"not valid YAML: {exc}", "fix the YAML syntax (indentation, colons)") from exc
    if not isinstance(data, dict):
        raise error(path, f"a {what} is a YAML mapping of keys", f"see {reference} for an example")
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise error(path, format_validation_error(exc),
                    f"correct the key(s) named; {reference} lists every key") from exc


def read_id_list(path: str | Path, *, what: str) -> list[str]:
    """Read a list of junction ids, one per line (blank lines and ``#`` comments skipped).

    Parameters
    ----------
    path : str or Path
        The file (UTF-8, a byte-order mark allowed).
    what : str
        What the list is, for messages (``"candidates"``, ``"sensors"``).

    Returns
    -------
    list of str
        The ids, in file order.

    Raises
    ------
    InputError
        For a missing file, a file that is not text, or one that lists no id.
    """
    from .errors import InputError

    path = Path(path)
    fix = "write one junction id per line, as plain text (UTF-8)"
    text = read_utf8(path, missing=f"{path}: no such {what} file\n  fix: check the path",
                     not_text=f"{path}: not a text file of junction ids\n  fix: {fix}")
    names = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    names = [name for name in names if name]
    if not names:
        raise InputError(f"{path}: the {what} file lists no junction\n  fix: {fix}")
    return names


def read_utf8(path: str | Path, *, missing: str, not_text: str) -> str:
    """Return a text file's content (UTF-8, a byte-order mark allowed).

    Parameters
    ----------
    path : str or Path
    missing, not_text : str
        The messages of the :class:`~nrwkit.errors.InputError` raised when the file does not
        exist, or is not UTF-8 text.
    """
    from .errors import InputError

    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(missing) from None
    except UnicodeDecodeError:
        raise InputError(not_text) from None
