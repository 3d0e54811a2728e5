"""The course's explorers in a real browser: JupyterLab from .venv, driven in headless Chromium.

nbval runs kernels, not front ends, so it cannot see a widget that renders blank, a "model not found",
or a callback that raises. This run can: for every notebook in ``explorers.EXPLORERS`` it opens the
notebook in JupyterLab, runs all cells, finds the explorer by its controls, checks that its figure is
drawn, changes controls and checks that the figure changes, presses "save PNG" and checks the file,
and saves a screenshot under build/screenshots/. It fails with the browser console's errors, the
kernel's errors and JupyterLab's log in the message. Before that, a self-test runs two explorers
broken on purpose and requires that both are reported.

    .venv/bin/python tests/browser/check_explorers.py            # what `make test-browser` runs
    .venv/bin/python tests/browser/check_explorers.py --only 06  # one notebook (no self-test)

Everything runs on a temporary copy of notebooks/ and talks only to 127.0.0.1; the whole run is
bounded by --budget seconds (300).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from driver import ExplorerFailure, NotebookPage, png_size, save_png_via_button, screenshot
from explorers import EXPLORERS, Explorer
from lab import CHROMIUM_ARGS, HOST, Deadline, LabServer, find_chromium
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect, sync_playwright
from selftest import SELFTEST, SELFTEST_CELLS, SELFTEST_NOTEBOOK, write_notebook

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
SERVER_LOG = ROOT / "build" / "browser-test-jupyterlab.log"
CLEANUP_S = 25  # kept back from the budget for shutting everything down

def inject_parameters(path: Path, parameters: dict[str, object]) -> None:
    """Like papermill: a cell with the new values right after the cell tagged "parameters"."""
    notebook = json.loads(path.read_text())
    cells = notebook["cells"]
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise ValueError(f"{path.name} has no cell tagged 'parameters'")
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    cells.insert(tagged[0] + 1, {"id": "injected-parameters", "cell_type": "code",
                                 "metadata": {"tags": ["injected-parameters"]},
                                 "source": source, "outputs": [], "execution_count": None})
    path.write_text(json.dumps(notebook))


# ------------------------------------------------------------------------------ the browser run

@dataclass
class Browser:
    """The page, and everything it reported: console messages, page errors, requests to other hosts."""

    page: Page
    console: list[tuple[str, str]]
    external: list[str]

    def errors_since(self, mark: int) -> list[str]:
        return [text for kind, text in self.console[mark:] if kind in ("error", "pageerror")]


def launch(playwright, chromium: str | None, profile: Path) -> tuple[object, Browser]:
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=chromium, headless=True, viewport={"width": 1400, "height": 1000},
        # any host but 127.0.0.1 fails to resolve: the page cannot reach a CDN even where one is reachable
        args=CHROMIUM_ARGS + [f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {HOST}"])
    page = context.pages[0] if context.pages else context.new_page()
    browser = Browser(page, [], [])
    page.on("console", lambda m: browser.console.append((m.type, _console_text(m))))
    page.on("pageerror", lambda e: browser.console.append(("pageerror", f"uncaught: {e}")))

    def record(request) -> None:
        if urlsplit(request.url).scheme in ("http", "https", "ws", "wss") and \
                urlsplit(request.url).hostname != HOST:
            browser.external.append(request.url)

    context.on("request", record)
    return context, browser


def _console_text(message) -> str:
    where = message.location.get("url", "") if message.location else ""
    return message.text + (f"  ({where.rsplit('/', 1)[-1]})" if where else "")


def open_lab(browser: Browser, server: LabServer, deadline: Deadline) -> None:
    browser.page.goto(f"{server.url}/lab?token={server.token}", timeout=deadline.left(60) * 1000)
    browser.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget !== undefined"
                                   " && document.querySelector('#jp-main-dock-panel')",
                                   timeout=deadline.left(90) * 1000)
    browser.page.evaluate("async () => await window.jupyterapp.restored")


@dataclass(frozen=True)
class Marks:
    """How much each source had reported when a check began: its message shows only what came after."""

    console: int
    external: int
    log: int
    kernel: int

    @classmethod
    def now(cls, browser: Browser, server: LabServer, kernel: int = 0) -> Marks:
        return cls(len(browser.console), len(browser.external), server.log_size(), kernel)


def check_notebook(browser: Browser, server: LabServer, folder: Path, explorers: list[Explorer],
                   deadline: Deadline, say: Callable[[str], None]) -> list[ExplorerFailure]:
    """Open, run all and check every explorer of one notebook; the failures (none when all is well)."""
    name = explorers[0].notebook
    stem = Path(name).stem
    notebook = NotebookPage(browser.page, name)
    marks = Marks.now(browser, server)
    step = "opening the notebook"
    try:
        deadline.check(f"opening {name}")
        notebook.open(deadline.left(90))
        step = "running all cells"
        took = notebook.run_all(deadline.left(max(e.run_timeout_s for e in explorers)))
        say(f"ran all cells in {took:.1f} s; kernel idle")
    except (AssertionError, PlaywrightError, TimeoutError) as err:
        if time.monotonic() >= deadline.end:
            err = ExplorerFailure(f"{err} (the run's time budget is spent: see --budget, or give the notebook's "
                                  "entry in explorers.py parameters that make it run faster)")
        failure = describe(name, step, err, browser, server, notebook, marks, stem)
        close_quietly(notebook)
        return [failure]
    failures = []
    for explorer in explorers:
        # the first explorer answers for what the page said while the notebook opened and ran
        marks = replace(marks, kernel=len(notebook.kernel_errors()))
        notebook.current = None
        label = re.sub(r"[^A-Za-z0-9]+", "_", explorer.controls[0].label)
        shot = stem if len(explorers) == 1 else f"{stem}-{label}"
        try:
            check_explorer(notebook, explorer, folder, browser, marks, deadline, say,
                           None if stem.startswith("selftest") else SCREENSHOTS / f"{shot}.png")
        except (AssertionError, PlaywrightError, TimeoutError) as err:
            title = f"{name}, explorer with {', '.join(map(str, explorer.controls))}"
            failures.append(describe(title, getattr(err, "step", "checking the explorer"), err, browser,
                                     server, notebook, marks, shot))
        marks = Marks.now(browser, server)
    close_quietly(notebook)
    return failures


def check_explorer(notebook: NotebookPage, explorer: Explorer, folder: Path, browser: Browser, marks: Marks,
                   deadline: Deadline, say: Callable[[str], None], shot: Path | None) -> None:
    """Controls and figure present; each change changes the figure; "save PNG" saves it; a screenshot."""
    stem, step = Path(explorer.notebook).stem, _Step

    def new_kernel_errors() -> None:
        if notebook.kernel_errors()[marks.kernel:]:
            raise ExplorerFailure("the kernel reported an error from a widget callback")

    with step("finding the explorer's controls and figure"):
        root = notebook.explorer(explorer.controls, deadline.left(30))
        figure = notebook.wait_figure(root, deadline.left(10), check=new_kernel_errors)
        say(f"explorer found: {', '.join(map(str, explorer.controls))}; figure {figure.width}x{figure.height} px")
        if figure.displayed_width > 1.25 * figure.width:
            say(f"note: the figure is shown {figure.displayed_width / figure.width:.1f}x its size, so blurred "
                f"({figure.width} px drawn {figure.displayed_width} px wide)")
    for change in explorer.changes:
        with step(f"setting {change}"):
            notebook.apply(root, change, deadline.left(15))
            figure = notebook.wait_figure(root, deadline.left(30), unlike=figure, check=new_kernel_errors)
            if change.expect_text:
                expect(root).to_contain_text(re.compile(change.expect_text), timeout=deadline.left(15) * 1000)
            say(f"{change}: figure changed ({figure.width}x{figure.height} px)")
    if explorer.save_png:
        with step("pressing 'save PNG'"):
            saved = save_png_via_button(notebook, root, folder, f"browser-test-{stem}.png", deadline.left(20))
            size = png_size(saved)
            if size != (figure.width, figure.height):
                raise ExplorerFailure(f"'save PNG' wrote a {size[0]}x{size[1]} image, but the figure shown is "
                                      f"{figure.width}x{figure.height}")
            say(f"'save PNG' wrote {saved.name} ({size[0]}x{size[1]}, {saved.stat().st_size} bytes)")
    if shot is not None:
        with step("taking a screenshot"):
            screenshot(root, shot, deadline.left(15))
            say(f"screenshot: {shot.relative_to(ROOT)}")
    with step("reading the browser console"):
        new_kernel_errors()
        if browser.errors_since(marks.console):
            raise ExplorerFailure("the browser console reported errors")
        if browser.external[marks.external:]:
            raise ExplorerFailure("the page tried to reach hosts other than 127.0.0.1 (a CDN?)")


class _Step:
    """Labels an exception raised inside it with the step it was raised in."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __enter__(self) -> _Step:
        return self

    def __exit__(self, kind, err, tb) -> bool:
        if err is not None and not hasattr(err, "step"):
            try:
                err.step = self.text
            except AttributeError:
                pass
        return False


def describe(name: str, step: str, err: BaseException, browser: Browser, server: LabServer,
             notebook: NotebookPage, marks: Marks, shot_name: str) -> ExplorerFailure:
    """One readable message: what failed, and what the browser, kernel and server said meanwhile."""
    lines = [f"{name}: {str(err).strip() or type(err).__name__}", f"  while {step}"]
    try:
        kernel = notebook.kernel_errors()[marks.kernel:]
    except PlaywrightError:
        kernel = []
    if kernel:
        lines.append("  kernel errors outside cells (widget callbacks):")
        for e in kernel[-5:]:
            lines.append(f"    {e['text'].strip()}   (from a {e['parent'] or 'kernel'} message)")
            tb = _ansi_free(e["traceback"]).strip().splitlines()[-6:]
            lines += [f"      {t}" for t in tb]
    console = browser.errors_since(marks.console)
    if console:
        lines.append("  browser console errors:")
        lines += [f"    {text[:400]}" for text in console[-10:]]
    if browser.external[marks.external:]:
        lines.append("  requests to other hosts (blocked): " + ", ".join(browser.external[marks.external:][:5]))
    log = [line for line in server.log_since(marks.log).splitlines()
           if re.search(r"^\[[EC] |Traceback|Error", line)]
    if log:
        lines.append("  JupyterLab log:")
        lines += [f"    {line[:300]}" for line in log[-10:]]
    try:
        shot = SCREENSHOTS / f"{shot_name}-failed.png"
        if notebook.current is not None:
            notebook.current.scroll_into_view_if_needed(timeout=3000)
        browser.page.screenshot(path=shot, full_page=False, timeout=10_000)
        lines.append(f"  screenshot of the page: {shot.relative_to(ROOT)}")
    except PlaywrightError:
        pass
    return ExplorerFailure("\n".join(lines))


def close_quietly(notebook: NotebookPage) -> None:
    try:
        notebook.close()
    except (ExplorerFailure, PlaywrightError):
        pass


def _ansi_free(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# ------------------------------------------------------------------------------------ the run

def run(args: argparse.Namespace) -> int:
    deadline = Deadline(args.budget - CLEANUP_S)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="course-browser-test-"))
    folder = tmp / "notebooks"
    shutil.copytree(args.notebooks, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))

    wanted = [e for e in EXPLORERS if not args.only or any(o in e.notebook for o in args.only)]
    present = []
    for entry in wanted:
        if (folder / entry.notebook).exists():
            present.append(entry)
        else:
            print(f"skipped: {entry.notebook} does not exist yet in {args.notebooks} (its explorer is listed "
                  "in tests/browser/explorers.py)")
    for entry in present:
        if entry.parameters:
            inject_parameters(folder / entry.notebook, entry.parameters)
        for old in SCREENSHOTS.glob(f"{Path(entry.notebook).stem}*.png"):
            old.unlink()
    self_test = not args.no_self_test and (not args.only or "selftest" in args.only)
    if self_test:
        write_notebook(folder / SELFTEST_NOTEBOOK, SELFTEST_CELLS)
        for old in SCREENSHOTS.glob(f"{Path(SELFTEST_NOTEBOOK).stem}*.png"):
            old.unlink()

    def say(text: str) -> None:
        print(f"[{deadline.elapsed():6.1f} s] {text}", flush=True)

    server = LabServer(folder, tmp / "jupyter", SERVER_LOG)
    failures: list[ExplorerFailure] = []
    watchdog = _watchdog(args.budget, server)
    try:
        server.start(deadline)
        say(f"JupyterLab answers on {server.url} (serving a copy of notebooks/ in {folder})")
        chromium = find_chromium(args.chromium)
        with sync_playwright() as playwright:
            if chromium is None and not Path(playwright.chromium.executable_path).exists():
                raise RuntimeError("no Chromium found: install it (Debian/Ubuntu: apt-get install chromium), pass "
                                   "--chromium PATH, or run: .venv/bin/python -m playwright install chromium")
            context, browser = launch(playwright, chromium, tmp / "chromium-profile")
            try:
                say(f"Chromium {context.browser.version if context.browser else ''} from "
                    f"{chromium or 'Playwright'}")
                open_lab(browser, server, deadline)
                say("JupyterLab loaded in the browser")
                if self_test:
                    failures += run_self_test(browser, server, folder, deadline, say)
                by_notebook: dict[str, list[Explorer]] = {}  # a notebook with two explorers has two entries
                for entry in present:
                    by_notebook.setdefault(entry.notebook, []).append(entry)
                for name, group in by_notebook.items():
                    say(f"{name}")
                    found = check_notebook(browser, server, folder, group, deadline, say)
                    for failure in found:
                        say(f"FAILED {failure}")
                    failures += found
            finally:
                context.close()
    except (PlaywrightError, TimeoutError, RuntimeError, OSError) as err:
        failures.append(ExplorerFailure(f"the browser test could not run: {err}"))
    finally:
        server.stop()
        watchdog.cancel()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    checked = len(present)
    if failures:
        print(f"\nbrowser test FAILED after {deadline.elapsed():.0f} s ({len(failures)} failure(s); "
              f"JupyterLab's log: {SERVER_LOG.relative_to(ROOT)}):\n", file=sys.stderr)
        for failure in failures:
            print(f"{failure}\n", file=sys.stderr)
        return 1
    print(f"\nbrowser test passed in {deadline.elapsed():.0f} s: {checked} explorer(s) checked, "
          f"{len(wanted) - checked} notebook(s) not written yet" + (", self-test OK" if self_test else ""))
    return 0


def run_self_test(browser: Browser, server: LabServer, folder: Path, deadline: Deadline,
                  say: Callable[[str], None]) -> list[ExplorerFailure]:
    """Explorers broken on purpose must be reported, each with a message that names the problem."""
    say(f"self-test: {SELFTEST_NOTEBOOK} ({len(SELFTEST)} explorers broken on purpose)")
    explorers = [entry for entry, _ in SELFTEST]
    reported = check_notebook(browser, server, folder, explorers, deadline, lambda text: None)
    missed = []
    for entry, expected in SELFTEST:
        hits = [f for f in reported if f"explorer with {entry.controls[0]}" in str(f) and expected in str(f)]
        if hits:
            say(f"self-test: reported as expected:\n{_indent(str(hits[0]))}")
        else:
            missed.append(f"the explorer with {entry.controls[0]} should have been reported with '{expected}'")
    if missed:
        got = "\n".join(map(str, reported)) or "no failure at all"
        return [ExplorerFailure("self-test: the browser test missed an explorer broken on purpose:\n  "
                                + "\n  ".join(missed) + f"\n  it reported:\n{_indent(got)}")]
    return []


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _watchdog(budget: float, server: LabServer) -> threading.Timer:
    """Past the budget, end JupyterLab and this process whatever they are doing (Chromium follows)."""
    def hard_stop() -> None:
        print(f"browser test: still running after {budget:.0f} s, stopping it", file=sys.stderr, flush=True)
        server.stop()
        os._exit(124)

    timer = threading.Timer(budget, hard_stop)
    timer.daemon = True
    timer.start()
    return timer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=[], help="notebooks whose name contains one of these ('selftest' for the self-test)")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="the folder to copy and test")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds for the whole run (300)")
    parser.add_argument("--chromium", help="path of Chromium (default: chromium on PATH, else Playwright's)")
    parser.add_argument("--no-self-test", action="store_true", help="skip the broken-on-purpose self-test")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (notebooks, logs)")
    args = parser.parse_args(argv)
    # SIGTERM (e.g. from `timeout`) unwinds through the finally blocks, so JupyterLab is shut down
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
