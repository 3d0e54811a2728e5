"""The download helper, tested for real against an HTTP server on 127.0.0.1 that the test starts.

No test here reaches any other address: every URL points at the loopback server or at a closed
loopback port.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import socket
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import ClassVar

import pytest

from course_lib.data import download as dl
from tests.support.http import local_server

PAYLOAD = bytes(range(256)) * 1000 + b"the end"  # 256 007 bytes, several read chunks
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


def _zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buffer.getvalue()


ZIP_PAYLOAD = _zip_bytes({"archive/a.txt": "first file\n", "archive/b.txt": "second file\n"})


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes: /good/*, /bad/* (other bytes), /missing/* (404), /truncated/*, /stall/*, /zip/*."""

    protocol_version = "HTTP/1.0"  # one request per connection: closing it ends the body
    hits: ClassVar[Counter] = Counter()

    def do_GET(self) -> None:
        route = self.path.split("/")[1]
        Handler.hits[route] += 1
        if route == "missing":
            self.send_error(404, "Not Found")
        elif route == "stall":
            time.sleep(2.0)  # longer than the tests' timeouts, bounded so the thread ends
        elif route == "truncated":
            self._send_head(len(PAYLOAD))
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])  # promise more than we send, then close
            self.wfile.flush()
        else:
            body = {"good": PAYLOAD, "bad": PAYLOAD[:-1] + b"?", "zip": ZIP_PAYLOAD}[route]
            self._send_head(len(body))
            self.wfile.write(body)

    def _send_head(self, length: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def log_message(self, *args) -> None:  # keep pytest output quiet
        pass


@pytest.fixture(scope="module")
def server():
    with local_server(Handler) as url:
        yield url


@pytest.fixture
def dead_url() -> str:
    """A loopback URL on a port nothing listens on: the connection is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/file.bin"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_dead_and_missing_mirrors_are_skipped_for_a_good_one(server, dead_url, tmp_path):
    urls = [dead_url, f"{server}/missing/file.bin", f"{server}/good/file.bin"]
    path = dl.download(urls, sha256=PAYLOAD_SHA256, folder=tmp_path)
    assert path == tmp_path / "file.bin"
    assert path.read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == ["file.bin"]  # pinned: no hash record, no temp files
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file (the umask), not mkstemp's 0600


def test_checksum_mismatch_raises_and_leaves_nothing(server, tmp_path):
    with pytest.raises(dl.ChecksumError, match="SHA-256 mismatch") as info:
        dl.download([f"{server}/bad/file.bin"], sha256=PAYLOAD_SHA256, folder=tmp_path)
    assert f"{server}/bad/file.bin" in str(info.value)
    assert leftovers(tmp_path) == []


def test_checksum_mismatch_on_one_mirror_falls_back_to_the_next(server, tmp_path):
    urls = [f"{server}/bad/file.bin", f"{server}/good/file.bin"]
    assert dl.download(urls, sha256=PAYLOAD_SHA256, folder=tmp_path).read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == ["file.bin"]


def test_interrupted_transfer_leaves_nothing_and_a_retry_works(server, tmp_path):
    with pytest.raises(dl.DownloadError, match="interrupted") as info:
        dl.download([f"{server}/truncated/file.bin"], folder=tmp_path)
    assert not isinstance(info.value, dl.ChecksumError)
    assert leftovers(tmp_path) == []
    path = dl.download([f"{server}/truncated/file.bin", f"{server}/good/file.bin"], folder=tmp_path)
    assert path.read_bytes() == PAYLOAD
    assert json.loads(dl.record_path(path).read_text())["sha256"] == PAYLOAD_SHA256


def test_hash_is_recorded_on_first_download_and_checked_afterwards(server, tmp_path):
    url = f"{server}/good/recorded.bin"
    path = dl.download(url, folder=tmp_path)
    record = json.loads(dl.record_path(path).read_text())
    assert record["sha256"] == PAYLOAD_SHA256 and record["size"] == len(PAYLOAD) and record["source"] == url
    assert leftovers(tmp_path) == ["recorded.bin", "recorded.bin.sha256.json"]
    before = Handler.hits["good"]
    assert dl.download(url, folder=tmp_path) == path  # served from the cache, checked against the record
    assert Handler.hits["good"] == before
    path.write_bytes(PAYLOAD[:-1])  # damage the cached copy
    with pytest.raises(dl.ChecksumError, match="delete it"):
        dl.download(url, folder=tmp_path)


def test_pinned_hash_checks_a_cached_file(server, tmp_path):
    (tmp_path / "file.bin").write_bytes(b"not the file")
    with pytest.raises(dl.ChecksumError, match=PAYLOAD_SHA256):
        dl.download(f"{server}/good/file.bin", sha256=PAYLOAD_SHA256, folder=tmp_path)


def test_a_file_placed_by_hand_is_recorded_then_kept(tmp_path, dead_url):
    (tmp_path / "file.bin").write_bytes(PAYLOAD)
    assert dl.download(dead_url, folder=tmp_path).read_bytes() == PAYLOAD  # no network needed
    assert json.loads(dl.record_path(tmp_path / "file.bin").read_text())["sha256"] == PAYLOAD_SHA256


def test_offline_error_is_fast_lists_the_urls_and_says_where_to_put_the_file(server, dead_url, tmp_path):
    urls = [dead_url, f"{server}/stall/file.bin", f"{server}/missing/file.bin"]
    start = time.monotonic()
    with pytest.raises(dl.DownloadError) as info:
        dl.download(urls, folder=tmp_path, timeout=0.5)
    elapsed = time.monotonic() - start
    assert elapsed < 3.0, f"took {elapsed:.1f} s"
    message = str(info.value)
    assert all(url in message for url in urls)
    assert str(tmp_path / "file.bin") in message and "by hand" in message and "HTTP 404" in message
    assert leftovers(tmp_path) == []


def test_the_failure_budget_bounds_the_total_time(server, tmp_path):
    urls = [f"{server}/stall/{i}/file.bin" for i in range(4)]
    start = time.monotonic()
    with pytest.raises(dl.DownloadError, match="not tried"):
        dl.download(urls, folder=tmp_path, timeout=0.4, budget=0.6)
    assert time.monotonic() - start < 2.0


def test_cache_folder_comes_from_the_environment(server, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path / "cache"))
    path = dl.download(f"{server}/good/env.bin", sha256=PAYLOAD_SHA256)
    assert path == tmp_path / "cache" / "env.bin" and path.read_bytes() == PAYLOAD


def test_download_extracted_fetches_and_unpacks_a_known_archive(server, tmp_path, monkeypatch):
    remote = dl.RemoteFile(
        "toy.zip",
        (f"{server}/missing/toy.zip", f"{server}/zip/toy.zip"),
        sha256=hashlib.sha256(ZIP_PAYLOAD).hexdigest(),
        size=len(ZIP_PAYLOAD),
    )
    monkeypatch.setitem(dl.REMOTE_FILES, "toy-archive", remote)
    folder = dl.download_extracted("toy-archive", folder=tmp_path)
    assert folder == tmp_path / "toy-archive"
    assert (folder / "archive" / "b.txt").read_text() == "second file\n"
    assert leftovers(tmp_path) == ["toy-archive", "toy.zip"]  # no temp files or folders left
    assert dl.download_extracted("toy-archive", folder=tmp_path) == folder  # second call: cached


def test_extract_zip_rejects_a_damaged_archive_and_writes_nothing(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(ZIP_PAYLOAD[: len(ZIP_PAYLOAD) // 2])
    with pytest.raises(dl.DownloadError, match="not a valid zip"):
        dl.extract_zip(archive, tmp_path / "out")
    assert leftovers(tmp_path) == ["broken.zip"]


def test_extract_zip_refuses_members_outside_the_folder(tmp_path):
    archive = tmp_path / "evil.zip"
    archive.write_bytes(_zip_bytes({"../escaped.txt": "no"}))
    with pytest.raises(dl.DownloadError, match="unsafe member"):
        dl.extract_zip(archive, tmp_path / "out" / "inner")
    assert not (tmp_path / "out" / "escaped.txt").exists() and not (tmp_path / "out" / "inner").exists()


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("ftp://127.0.0.1/file.bin",), {}, "http"),
        (([],), {}, "http"),
        (("no-such-archive",), {}, "known name"),
        (("http://127.0.0.1/file.bin",), {"sha256": "abc"}, "64 hex digits"),
        (("http://127.0.0.1/",), {}, "filename="),
    ],
)
def test_bad_arguments_are_refused_before_any_connection(args, kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        dl.download(*args, folder=tmp_path, **kwargs)
    assert leftovers(tmp_path) == []


def test_known_archives_have_mirrors_and_only_well_formed_pins():
    for name, remote in dl.REMOTE_FILES.items():
        assert len(remote.urls) >= 2, name
        assert all(url.startswith("https://") for url in remote.urls), name
        assert remote.sha256 is None or (len(remote.sha256) == 64 and int(remote.sha256, 16) >= 0), name
    assert dl.REMOTE_FILES["wikitext-2-raw-v1"].sha256 is not None  # published by several projects
