"""Downloads with several mirrors, a cache folder, atomic writes and SHA-256 checks.

The only module of ``course_lib`` that touches the network, and only when one of its functions
is called. Standard library only (``urllib``).

A file is fetched into a temporary file in the cache folder and renamed into place only after
its size and hash have been checked, so the final path never holds half a file. Every wait is
bounded: the host name lookup (in a daemon thread, since a socket timeout does not bound a hanging
DNS resolver, and a daemon thread never keeps the interpreter from exiting), each connection and
read, and the whole file across all its mirrors (``deadline``), so a mirror that trickles bytes
cannot hold a notebook for ever. The hash is
*pinned* when it is known from an independent source; otherwise it is *recorded* on the first
download in ``<file>.sha256.json`` beside the file and checked on every later use. A hash is
never made up.

>>> path = download("wikitext-2-raw-v1")          # doctest: +SKIP
>>> folder = download_extracted("wikitext-2-raw-v1")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import http.client
import json
import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from course_lib.arguments import check_number
from course_lib.base import cache_dir
from course_lib.files import STALE_AFTER_S, atomic_file, prepare_folder, write_atomic

USER_AGENT = "course_lib (From word vectors to BERT; python urllib)"
CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """No mirror gave the file; the message says which URLs were tried and how to get it by hand."""


class ChecksumError(DownloadError):
    """A file's SHA-256 (or size) is not the expected one."""


@dataclass(frozen=True)
class RemoteFile:
    """A file the course knows how to fetch: mirrors tried in order, and its hash when known."""

    filename: str
    urls: tuple[str, ...]
    sha256: str | None = None  # pinned only when known from an independent source
    size: int | None = None
    about: str = ""


# WikiText-2 (Merity et al. 2016, CC BY-SA 3.0). The original Salesforce S3 host is gone; the
# mirrors below are the ones other projects use today. None of them can be reached from the
# machines this course is built on, so none was tried here: they are tried in turn at run time.
# The raw archive's SHA-256 and size are published, identically, by several independent projects
# for both the original S3 file and the mirrors (e.g. EleutherAI's lm-evaluation-harness,
# llama.cpp's CI data set on Hugging Face), so it is pinned. The tokenized archive's hash was not
# found in such a source, so it is recorded on the first download.
REMOTE_FILES: dict[str, RemoteFile] = {
    "wikitext-2-raw-v1": RemoteFile(
        filename="wikitext-2-raw-v1.zip",
        urls=(
            "https://wikitext.smerity.com/wikitext-2-raw-v1.zip",
            "https://huggingface.co/datasets/ggml-org/ci/resolve/main/wikitext-2-raw-v1.zip",
            "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-raw-v1.zip",
        ),
        sha256="ef7edb566e3e2b2d31b29c1fdb0c89a4cc683597484c3dc2517919c615435a11",
        size=4_721_645,
        about="WikiText-2, raw text (Wikipedia Good/Featured articles, CC BY-SA 3.0)",
    ),
    "wikitext-2-v1": RemoteFile(
        filename="wikitext-2-v1.zip",
        urls=(
            "https://wikitext.smerity.com/wikitext-2-v1.zip",
            "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip",
        ),
        about="WikiText-2, tokenized with <unk> (Wikipedia Good/Featured articles, CC BY-SA 3.0)",
    ),
}


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, as 64 lower-case hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def record_path(path: Path) -> Path:
    """Where the recorded hash of ``path`` lives: ``<file>.sha256.json`` beside it."""
    return path.with_name(path.name + ".sha256.json")


def download(
    name_or_urls: str | Sequence[str],
    sha256: str | None = None,
    *,
    filename: str | None = None,
    folder: str | os.PathLike | None = None,
    timeout: float = 3.0,
    budget: float = 9.0,
    deadline: float = 600.0,
) -> Path:
    """Fetch a file into the cache folder (once) and return its path.

    ``name_or_urls`` is a name from ``REMOTE_FILES`` (``"wikitext-2-raw-v1"``), one URL, or a list
    of mirror URLs tried in turn. ``sha256`` pins the expected hash (a known name brings its own
    pin); without one the hash is recorded on the first download and checked afterwards.
    ``folder`` defaults to ``course_lib.base.cache_dir()`` (``$COURSE_LIB_CACHE``). ``timeout``
    bounds each host lookup, connection and read; ``budget`` bounds the time spent on mirrors that
    fail (no mirror is started after it), so an offline machine gets its error in about ``budget``
    seconds; ``deadline`` bounds the whole call, transfers included, across every mirror.
    """
    timeout = check_number(timeout, "timeout", above=0)
    budget = check_number(budget, "budget", above=0)
    deadline = check_number(deadline, "deadline", above=0)
    remote = _resolve_remote(name_or_urls, sha256, filename)
    folder = prepare_folder(folder if folder is not None else cache_dir(create=False), "the download folder")
    dest = folder / remote.filename
    if dest.exists():
        _check_cached(dest, remote)
        return dest
    failures: list[str] = []
    mismatch = False
    start = time.monotonic()
    stop_at = start + deadline
    for url in remote.urls:
        now = time.monotonic()
        left = min(start + budget, stop_at) - now
        if left <= 0:
            spent = "budget for failing mirrors" if now < stop_at else "deadline for this file"
            limit = budget if now < stop_at else deadline
            failures.append(f"{url}: not tried (the {limit:g} s {spent} was spent)")
            continue
        try:
            _fetch_verified(url, dest, remote, min(timeout, left), stop_at, deadline)
        except (
            OSError,
            http.client.HTTPException,
            DownloadError,
            ValueError,
        ) as err:  # URLError is an OSError
            mismatch = mismatch or isinstance(err, ChecksumError)
            failures.append(f"{url}: {_reason(err)}")
            continue
        if remote.sha256 is None:
            _write_record(dest, url)
        return dest
    error = ChecksumError if mismatch else DownloadError
    raise error(_failure_message(remote, dest, failures, mismatch))


def download_extracted(name: str, *, folder: str | os.PathLike | None = None, timeout: float = 3.0) -> Path:
    """Download the zip archive ``name`` (a key of ``REMOTE_FILES``) and extract it once.

    Returns the folder ``<cache>/<name>/`` that holds the archive's members. The extraction goes to
    a temporary folder first and is renamed into place, so a folder that exists is complete.
    """
    if name not in REMOTE_FILES:
        raise ValueError(f"unknown download {name!r}: known archives are {', '.join(sorted(REMOTE_FILES))}")
    base = prepare_folder(folder if folder is not None else cache_dir(create=False), "the download folder")
    target = base / name
    if target.is_dir():
        return target
    archive = download(name, folder=base, timeout=timeout)
    return extract_zip(archive, target)


def extract_zip(archive: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Extract ``archive`` into the folder ``target`` atomically (temp folder, then rename)."""
    archive, target = Path(archive), Path(target)
    prepare_folder(target.parent, "the folder of the extraction target")
    _remove_stale_folders(target)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.part"
    tmp.mkdir()  # os.mkdir's mode: the user's umask decides, as for any folder they make
    try:
        with zipfile.ZipFile(archive) as zf:
            root = tmp.resolve()
            for member in zf.namelist():  # refuse members that would land outside the folder
                if not (root / member).resolve().is_relative_to(root):
                    raise DownloadError(
                        f"{archive}: unsafe member path {member!r} in the zip; not extracting"
                    )
            zf.extractall(tmp)
        os.replace(tmp, target)
    except zipfile.BadZipFile as err:
        raise DownloadError(
            f"{archive} is not a valid zip archive ({err}): delete it and download again"
        ) from err
    except OSError:
        if not target.is_dir():  # another process may have won the rename race; that is fine
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _resolve_remote(
    name_or_urls: str | Sequence[str], sha256: str | None, filename: str | None
) -> RemoteFile:
    """Turn a known name, a URL or a list of URLs into a ``RemoteFile``."""
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"sha256 must be 64 hex digits, got {sha256!r}")
    if isinstance(name_or_urls, str) and name_or_urls in REMOTE_FILES:
        known = REMOTE_FILES[name_or_urls]
        return RemoteFile(
            filename or known.filename, known.urls, sha256 or known.sha256, known.size, known.about
        )
    urls = (name_or_urls,) if isinstance(name_or_urls, str) else tuple(name_or_urls)
    bad = [
        u for u in urls if not isinstance(u, str) or urllib.parse.urlsplit(u).scheme not in ("http", "https")
    ]
    if not urls or bad:
        raise ValueError(
            f"download() takes a known name ({', '.join(sorted(REMOTE_FILES))}) or http(s) URLs; "
            f"got {name_or_urls!r}"
        )
    filename = filename or Path(urllib.parse.urlsplit(urls[0]).path).name
    if not filename or filename in (".", ".."):
        raise ValueError(f"cannot tell a file name from {urls[0]!r}: pass filename=...")
    return RemoteFile(filename, urls, sha256)


def _expected_sha256(dest: Path, remote: RemoteFile) -> tuple[str | None, str]:
    """The hash a cached file must have, and where it comes from (pinned or recorded)."""
    if remote.sha256 is not None:
        return remote.sha256, "pinned"
    record = record_path(dest)
    if not record.exists():
        return None, "none"
    try:
        return json.loads(record.read_text(encoding="utf-8"))["sha256"], f"recorded in {record}"
    except (ValueError, KeyError, OSError) as err:
        raise ChecksumError(
            f"the hash record {record} is unreadable ({err}): delete it and {dest}, then retry"
        ) from err


def _check_cached(dest: Path, remote: RemoteFile) -> None:
    """Check a file already in the cache; record its hash if it has none (placed there by hand)."""
    expected, source = _expected_sha256(dest, remote)
    if expected is None:
        _write_record(dest, "found in the cache folder (placed by hand?)")
        return
    actual = sha256_of(dest)
    if actual != expected:
        raise ChecksumError(
            f"{dest} has SHA-256 {actual}, but {expected} was expected ({source}). The file is damaged or "
            f"is another version: delete it and call download() again, or put the right file there by hand."
        )


def _remove_stale_folders(target: Path) -> None:
    """Remove half-extracted folders of ``target`` that a killed process left (older than an hour)."""
    cutoff = time.time() - STALE_AFTER_S
    for old in target.parent.glob(f".{glob.escape(target.name)}.*.part"):
        with contextlib.suppress(OSError):
            if old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)


def _fetch_verified(url: str, dest: Path, remote: RemoteFile, timeout: float, stop_at: float,
                    deadline: float) -> None:
    """Fetch ``url`` into a temp file beside ``dest``, check it, then rename it into place."""
    with atomic_file(dest, what="the download", suffix=".part") as out:  # removed if anything fails
        digest, size = _stream(url, out, timeout, stop_at, deadline)
        if remote.size is not None and size != remote.size:
            raise DownloadError(f"got {size} bytes, expected {remote.size}")
        if remote.sha256 is not None and digest != remote.sha256:
            raise ChecksumError(
                f"SHA-256 mismatch: got {digest}, expected {remote.sha256}; nothing was saved"
            )


def _stream(url: str, out, timeout: float, stop_at: float, deadline: float) -> tuple[str, int]:
    """Copy the body of ``url`` into ``out``; return its SHA-256 and size. Checks Content-Length."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    digest, size = hashlib.sha256(), 0
    with _OPENER.open(request, timeout=timeout) as response:
        expected = response.headers.get("Content-Length")
        # read1: one recv at most, so a trickle returns often enough to be checked against the deadline
        for block in iter(lambda: response.read1(CHUNK), b""):
            out.write(block)
            digest.update(block)
            size += len(block)
            if time.monotonic() > stop_at:  # each read is bounded by ``timeout``; a trickle is bounded here
                raise DownloadError(f"still downloading after {deadline:g} s ({size} bytes so far), the "
                                    f"deadline for this file: the mirror is too slow (pass a larger deadline=)")
    # http.client returns a short body without an error when the server closes early: check it here
    if expected is not None and expected.isdigit() and size != int(expected):
        raise DownloadError(f"transfer interrupted: got {size} of {expected} bytes")
    return digest.hexdigest(), size


def _lookup(host: str, port: int, timeout: float) -> list:
    """``socket.getaddrinfo`` with a time limit, in a daemon thread: a hanging resolver is left behind
    without holding the interpreter at exit (a thread pool's workers are joined at exit)."""
    found: dict[str, object] = {}
    done = threading.Event()

    def resolve() -> None:
        try:
            found["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as err:
            found["error"] = err
        finally:
            done.set()

    threading.Thread(target=resolve, name=f"course_lib lookup of {host}", daemon=True).start()
    if not done.wait(timeout):
        raise DownloadError(f"looking up {host} took longer than {timeout:g} s (offline, or a DNS server "
                            f"that does not answer?)")
    if "error" in found:
        raise found["error"]  # type: ignore[misc]
    return found["infos"]  # type: ignore[return-value]


def _bounded_connection(address: tuple[str, int], timeout: object = None,
                        source_address: tuple[str, int] | None = None, *_args: object) -> socket.socket:
    """``socket.create_connection`` whose host lookup is bounded by the same ``timeout`` as the connection."""
    host, port = address
    seconds = timeout if isinstance(timeout, (int, float)) else 30.0
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in _lookup(host, port, seconds):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(seconds)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as err:
            error = err
            sock.close()
    raise error or OSError(f"no address found for {host}")


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _bounded_connection


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _bounded_connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request):
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request):
        return self.do_open(_HTTPSConnection, req, context=self._context)


_OPENER = urllib.request.build_opener(_HTTPHandler, _HTTPSHandler)  # redirects and proxies as urlopen's


def _write_record(dest: Path, url: str) -> None:
    """Record the hash of a file on its first download, atomically, beside the file."""
    record = {
        "filename": dest.name,
        "sha256": sha256_of(dest),
        "size": dest.stat().st_size,
        "source": url,
        "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "note": "recorded on first download, not checked against an independent source; "
        "later uses of the file are checked against it",
    }
    write_atomic(record_path(dest), json.dumps(record, indent=2), what="the hash record")


def _reason(err: BaseException) -> str:
    """A short reason for a failed mirror."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return f"{type(err.reason).__name__}: {err.reason}"
    return f"{type(err).__name__}: {err}"


def _failure_message(remote: RemoteFile, dest: Path, failures: list[str], mismatch: bool) -> str:
    """The error shown when no mirror worked: what was tried and how to get the file by hand."""
    tried = "\n".join(f"  - {line}" for line in failures)
    why = (
        "A mirror served a file whose hash is not the expected one (a damaged or different file)."
        if mismatch
        else "Are you offline?"
    )
    check = (
        f" Its SHA-256 must be {remote.sha256}."
        if remote.sha256
        else " Its hash will be recorded on first use."
    )
    return (
        f"could not download {remote.filename} ({remote.about or 'no description'}); every mirror failed:\n"
        f"{tried}\n"
        f"{why} To get the file by hand, fetch {remote.filename} from any of the URLs above on a machine "
        f"with internet access and put it at\n  {dest}\n(the cache folder is set by $COURSE_LIB_CACHE).{check}"
    )
