"""The one error type for bad user input: names the file, the line or field, expected, found."""

from __future__ import annotations

import json
import os
from pathlib import Path


class InputError(ValueError):
    """Bad user input. The CLI prints it and exits 2, writing nothing.

    ``InputError("runs.csv", "line 4, column sim_lat", "a number >= 0", "'-3e-4'")`` reads
    ``runs.csv: line 4, column sim_lat: expected a number >= 0, found '-3e-4'``.
    """

    def __init__(self, source: str, where: str, expected: str, found: str) -> None:
        self.source, self.where, self.expected, self.found = source, where, expected, found
        loc = ": ".join(p for p in (str(source), where) if p)
        super().__init__(f"{loc}: expected {expected}, found {found}")

    def __reduce__(self):
        # Picklable across worker processes (the default would call __init__(message) only).
        return (type(self), (self.source, self.where, self.expected, self.found))


def read_json(path: str | os.PathLike, what: str) -> object:
    """The parsed JSON of ``path``; `InputError` naming the file (and the line of a syntax
    error) when it cannot be read (expected: "a readable <what>") or is not JSON."""
    src = str(path)
    try:
        return json.loads(Path(path).read_text())
    except OSError as e:
        raise InputError(src, "", f"a readable {what}", str(e)) from None
    except json.JSONDecodeError as e:
        raise InputError(src, f"line {e.lineno}", "JSON", e.msg) from None
