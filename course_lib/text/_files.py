"""Careful file handling shared by the text layer: atomic writes, UTF-8 reads with line numbers."""

from __future__ import annotations

import os
from collections.abc import Sequence

from course_lib.files import read_text, write_atomic

# ---------------------------------------------------------------- files: atomic writes, careful reads


def _write_atomic(path: str | os.PathLike, text: str, what: str = "file") -> None:
    """Write to a temp file in the same folder, then rename: a reader never sees half a file."""
    write_atomic(path, text, what=what)


def _read_utf8(path: str | os.PathLike, what: str) -> str:
    """The file's text; a clear error naming the path (and the line) when it cannot be read."""
    return read_text(path, what=what)


def _check_unique(tokens: Sequence[str], source: str, unit: str = "ids", start: int = 0) -> None:
    """Raise on the first token that occurs twice, naming both places (``unit`` numbered from ``start``)."""
    first: dict[str, int] = {}
    for i, token in enumerate(tokens, start=start):
        if token in first:
            raise ValueError(f"{source}: duplicate token {token!r} on {unit} {first[token]} and {i}; "
                             "every token must occur once (its id would be ambiguous): remove one of them")
        first[token] = i
