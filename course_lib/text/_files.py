"""Careful file handling shared by the text layer: atomic writes, UTF-8 reads with line numbers."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

# ---------------------------------------------------------------- files: atomic writes, careful reads


def _write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write to a temp file in the same folder, then rename: a reader never sees half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_utf8(path: str | os.PathLike, what: str) -> str:
    """The file's text; a clear error naming the path (and the line) when it cannot be read."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path} does not exist") from None
    except OSError as err:
        raise ValueError(f"cannot read {what} {path}: {err.strerror or err}") from err
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ValueError(f"{what} {path} is not UTF-8: bad byte at line {line} ({err.reason}); "
                         "save it as UTF-8") from None


def _check_unique(tokens: Sequence[str], source: str, unit: str = "ids", start: int = 0) -> None:
    """Raise on the first token that occurs twice, naming both places (``unit`` numbered from ``start``)."""
    first: dict[str, int] = {}
    for i, token in enumerate(tokens, start=start):
        if token in first:
            raise ValueError(f"{source}: duplicate token {token!r} on {unit} {first[token]} and {i}; "
                             "every token must occur once (its id would be ambiguous): remove one of them")
        first[token] = i


