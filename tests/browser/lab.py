"""The processes of the browser test: a private JupyterLab server and a headless Chromium.

JupyterLab runs from the interpreter that runs this file (the course's .venv) on 127.0.0.1, with a free
port, a random token and every Jupyter folder (config, data, settings, workspaces, runtime) inside one
temporary folder, so that neither the repository nor the learner's own Jupyter set-up is touched or
used. ``stop()`` shuts it down whatever happened: the REST shutdown, then the process group, then any
kernel that outlived it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy

# Without the networking flags Chromium calls home (updates, field trials, sync), which a closed
# network refuses; --no-sandbox because Chromium's sandbox cannot start as root or in most containers.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-proxy-server", "--disable-breakpad", "--disable-crash-reporter"]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# JupyterLab user settings for the run: every cell in the DOM (no windowing), no news, no update check.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


class Deadline:
    """The run's time budget: every wait takes ``left(cap)`` seconds at most."""

    def __init__(self, seconds: float) -> None:
        self.start = time.monotonic()
        self.end = self.start + seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def left(self, cap: float | None = None) -> float:
        """Seconds left (at most ``cap``); never 0, which Playwright would read as "no timeout"."""
        left = max(self.end - time.monotonic(), 0.01)
        return left if cap is None else min(left, cap)

    def check(self, what: str) -> None:
        if time.monotonic() >= self.end:
            raise TimeoutError(f"the browser test ran out of its time budget before {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def find_chromium(explicit: str | None = None) -> str | None:
    """Chromium's path: ``explicit``, $BROWSER_TEST_CHROMIUM, or the first browser on PATH.

    None means: use the browser that ``playwright install chromium`` downloaded.
    """
    for candidate in (explicit, os.environ.get("BROWSER_TEST_CHROMIUM")):
        if candidate:
            path = shutil.which(candidate)
            if path is None:
                raise FileNotFoundError(f"no Chromium at {candidate!r}")
            return path
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


class LabServer:
    """``jupyter lab`` on 127.0.0.1 serving ``root_dir``; its Jupyter folders live in ``state_dir``."""

    def __init__(self, root_dir: Path, state_dir: Path, log_path: Path) -> None:
        self.root_dir, self.state_dir, self.log_path = root_dir, state_dir, log_path
        self.port, self.token = free_port(), secrets.token_urlsafe(24)
        self.url = f"http://{HOST}:{self.port}"
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self, deadline: Deadline, timeout: float = 60.0) -> None:
        settings = self.state_dir / "settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH")}
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
            env[var] = str(self.state_dir / sub)
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            f"--ServerApp.ip={HOST}", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands as the menus do
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",  # no PyPI look-ups
            f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={self.state_dir / 'workspaces'}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        # its own process group, so that stop() can end it with everything it started
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                        cwd=self.root_dir, start_new_session=True)
        self._wait_until_ready(deadline.left(timeout))

    def _wait_until_ready(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode} while starting:\n"
                                   f"{self.log_tail()}")
            try:
                self.api("GET", "/api/status", timeout=2)
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.25)
        raise TimeoutError(f"JupyterLab did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def api(self, method: str, path: str, timeout: float = 5) -> dict:
        request = urllib.request.Request(self.url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with LOCAL.open(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else {}

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_since(0).splitlines()[-lines:])

    def stop(self) -> None:
        """Shut down kernels and server: politely, then the process group, then leftover kernels."""
        process, self.process = self.process, None
        if process is None:
            return
        kernels = _children(process.pid)  # kernels run in sessions of their own (jupyter_client)
        if process.poll() is None:
            try:
                self.api("POST", "/api/shutdown", timeout=5)
                process.wait(10)
            except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
                pass
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if process.poll() is not None:
                break
            _kill_group(process.pid, sig)
            try:
                process.wait(wait)
            except subprocess.TimeoutExpired:
                pass
        for pid in kernels:
            _kill_group(pid, signal.SIGKILL)  # only those still alive; a kernel leads its own group
        if self._log:
            self._log.close()


def _children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (Linux /proc; elsewhere kernels end with their parent)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
