"""Files the course writes and reads: atomic writes with the user's permissions, text reads whose
errors name the file (and guess its encoding), and folder arguments checked before use.

Every file ``course_lib`` writes outside the model cache goes through ``atomic_file``: the bytes go
to a temporary file with a unique name in the target's folder, created the way ``open`` creates any
new file (so the user's umask sets its permissions, not ``mkstemp``'s 0600), and renamed onto the
target only when the whole write succeeded. A reader never sees half a file, a failed write leaves
the old file as it was, and two writers of one file never share a temporary file. A temporary file
that a killed process left behind is removed by a later write of the same file once it is an hour old.

>>> write_atomic("notes/vocab.txt", "[PAD]\\n[UNK]\\n", make_parents=True)  # doctest: +SKIP
>>> read_text("notes/vocab.txt", what="vocab file")                       # doctest: +SKIP
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["STALE_AFTER_S", "atomic_file", "prepare_folder", "read_text", "write_atomic"]

STALE_AFTER_S = 3600.0  # a temporary file untouched this long belongs to a writer that died


# ---------------------------------------------------------------- folders


def prepare_folder(folder: str | os.PathLike, what: str = "folder") -> Path:
    """Create ``folder`` (and its parents) if needed and return it; a clear error when a file is in the way.

    ``what`` names the argument in messages (``"the cache folder"``, ``"folder"``).
    """
    path = Path(folder).expanduser()
    blocker = _file_in_the_way(path)
    if blocker is not None:
        where = "is a file" if blocker == path else f"lies inside {blocker}, which is a file"
        raise NotADirectoryError(f"{what} {path} {where}, not a folder: give the path of a folder "
                                 f"(or move the file away)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except PermissionError as err:
        raise PermissionError(f"cannot create {what} {path}: permission denied; choose a folder you can "
                              f"write to") from err
    return path


def _file_in_the_way(path: Path) -> Path | None:
    """The first of ``path`` and its ancestors that exists and is not a folder, if any."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


# ---------------------------------------------------------------- atomic writes


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, what: str = "file", make_parents: bool = False,
                suffix: str = ".tmp") -> Iterator[BinaryIO]:
    """Open a temporary file for writing bytes; on success it replaces ``path``, on failure it is removed.

    >>> with atomic_file("out.bin") as f:   # doctest: +SKIP
    ...     f.write(b"all or nothing")
    """
    path = Path(path).expanduser()
    _check_target(path, what, make_parents)
    _remove_stale(path, suffix)
    tmp, handle = _create_temporary(path, suffix, what)
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OSError(err.errno, f"cannot write {what} {path}: the disk is full (or over quota); free "
                                     f"some space or write it elsewhere; nothing was written") from err
        raise


def write_atomic(path: str | os.PathLike, data: str | bytes, *, what: str = "file",
                 make_parents: bool = False) -> Path:
    """Write ``data`` (``str`` as UTF-8, newlines kept as given) to ``path`` atomically; return the path."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"write_atomic writes str or bytes, got {type(data).__name__}")
    path = Path(path).expanduser()
    with atomic_file(path, what=what, make_parents=make_parents) as f:
        f.write(data)
    return path


def _check_target(path: Path, what: str, make_parents: bool) -> None:
    if path.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder: give the name of a file inside it "
                                f"(e.g. {path / 'name'})")
    if make_parents:
        prepare_folder(path.parent, f"the folder of {what}")
        return
    blocker = _file_in_the_way(path.parent)
    if blocker is not None:
        raise NotADirectoryError(f"cannot write {what} {path}: {blocker} is a file, not a folder")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {what} {path}: the folder {path.parent} does not exist; "
                                f"create it first")


def _create_temporary(path: Path, suffix: str, what: str) -> tuple[Path, BinaryIO]:
    """A new file ``.<name>.<random>.<suffix>`` beside ``path``, opened exclusively (``open``'s mode, umask)."""
    for _ in range(100):  # 48 random bits: a clash is all but impossible, but never fatal
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}{suffix}")
        try:
            return tmp, open(tmp, "xb")  # noqa: SIM115 - closed by atomic_file
        except FileExistsError:
            continue
        except PermissionError as err:
            raise PermissionError(f"cannot write {what} {path}: the folder {path.parent} is not writable "
                                  f"(permission denied); write it elsewhere") from err
    raise FileExistsError(f"cannot find a free temporary name beside {path}")


def _remove_stale(path: Path, suffix: str) -> None:
    """Remove this file's temporary files that a killed writer left behind (older than ``STALE_AFTER_S``)."""
    prefix = f".{path.name}."
    cutoff = time.time() - STALE_AFTER_S
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            if entry.name.startswith(prefix) and entry.name.endswith(suffix) \
                    and len(entry.name) == len(prefix) + 12 + len(suffix):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(entry.path)


# ---------------------------------------------------------------- text reads


def read_text(path: str | os.PathLike, what: str = "file", encoding: str = "utf-8") -> str:
    """The text of a file; every error names the file, and a file that is not UTF-8 gets a guess of what it
    is (UTF-16, Latin-1, binary) with the command that converts it. A UTF-8 byte-order mark is dropped.
    """
    path = Path(path).expanduser()
    label = f"{what} {path}"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{label} does not exist") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{label} is a folder, not a file") from None
    except PermissionError as err:
        raise PermissionError(f"cannot read {label}: permission denied; check its permissions (chmod +r)") from err
    except OSError as err:
        raise OSError(err.errno, f"cannot read {label}: {err.strerror or err}") from err
    utf8 = codecs.lookup(encoding).name == "utf-8"
    if utf8 and data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE,
                                 codecs.BOM_UTF16_BE)):
        raise ValueError(f"{label} is not UTF-8: {_encoding_hint(path, data)}")
    try:
        text = data.decode("utf-8-sig" if utf8 else encoding)
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        hint = _encoding_hint(path, data) if utf8 else f"read it with the right encoding instead of {encoding}"
        name = "UTF-8" if utf8 else encoding
        raise ValueError(f"{label} is not {name}: bad byte at line {line}, column {column} "
                         f"(0x{data[err.start]:02x}); {hint}") from None
    nul = text.find("\0")
    if nul >= 0:  # valid UTF-8 but not text: UTF-16 of ASCII decodes "fine", one NUL per letter
        line = text.count("\n", 0, nul) + 1
        raise ValueError(f"{label} has a NUL byte at line {line}, which text never has: {_encoding_hint(path, data)}")
    return text


def _encoding_hint(path: Path, data: bytes) -> str:
    """What the bytes probably are, and how to convert them to UTF-8."""
    head = data[:4096]
    guess = None
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        guess = ("UTF-32 (it starts with a UTF-32 byte-order mark)", "UTF-32")
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        guess = ("UTF-16 (it starts with a UTF-16 byte-order mark)", "UTF-16")
    elif b"\0" in head:
        even, odd = head[0::2], head[1::2]
        if odd and odd.count(0) > 0.6 * len(odd) and even.count(0) < 0.1 * len(even):
            guess = ("UTF-16 little-endian without a byte-order mark", "UTF-16LE")
        elif even and even.count(0) > 0.6 * len(even) and odd.count(0) < 0.1 * len(odd):
            guess = ("UTF-16 big-endian without a byte-order mark", "UTF-16BE")
        else:
            return "it looks like a binary file, not text: check that it is the file you meant"
    else:
        try:
            data.decode("cp1252")
            guess = ("Latin-1 / Windows-1252 text", "latin1")
        except UnicodeDecodeError:
            return "save it as UTF-8 (your editor's 'save with encoding'), or convert it with iconv"
    described, iconv_name = guess
    return (f"it looks like {described}; convert it to UTF-8, e.g. "
            f"`iconv -f {iconv_name} -t UTF-8 {path.name} > {path.stem}.utf8{path.suffix}`")
