"""Drive JupyterLab in Chromium: open a notebook, run it, find an explorer, change it, read its figure.

Notebook-level actions go through JupyterLab's own commands (``window.jupyterapp``, the ones its menus
run); everything about an explorer is done the way a learner does it, on the page: type into a
slider's read-out, pick a dropdown option, press a button. The figure is the explorer's first <img>
(the ipywidgets Image of a FigurePane, or the matplotlib output of ``interact``); it counts as drawn
when the browser decoded it, and as changed when its bytes changed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from explorers import Change, Control
from playwright.sync_api import Locator, Page

ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Kernel errors that no cell shows: widget callbacks run outside any cell, so their tracebacks go to
# JupyterLab's log console, if anywhere. Collected from the notebook's session, per notebook path:
# "error" messages (ipywidgets shows a callback's exception so), and tracebacks printed to stderr
# while handling a widget message (an exception that escaped the widget machinery). Other stderr,
# such as "No such comm target registered: jupyter.widget.control" at start-up, is harmless.
WATCH_KERNEL = """(path) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const found = (window.__kernelErrors = window.__kernelErrors || {});
  found[path] = [];
  panel.sessionContext.iopubMessage.connect((_, msg) => {
    const type = msg.header.msg_type, parent = (msg.parent_header || {}).msg_type || '';
    if (type === 'error' && parent !== 'execute_request')
      found[path].push({parent, text: msg.content.ename + ': ' + msg.content.evalue,
                        traceback: (msg.content.traceback || []).join('\\n')});
    else if (type === 'stream' && msg.content.name === 'stderr' && parent === 'comm_msg'
             && msg.content.text.includes('Traceback'))
      found[path].push({parent, text: msg.content.text.trim().split('\\n').pop(), traceback: msg.content.text});
  });
}"""

OPEN = """async (path) => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  return panel.id;
}"""

KERNEL_IDLE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle';
}"""

# NotebookActions.runAll resolves when every cell has run (false when one raised); bounded here.
RUN_ALL = """async (ms) => {
  const app = window.jupyterapp;
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), ms));
  return await Promise.race([app.commands.execute('notebook:run-all-cells'), timeout]);
}"""

CELL_ERRORS = """() => {
  const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
  const errors = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    for (const out of cell.toJSON().outputs || [])
      if (out.output_type === 'error')
        errors.push({cell: i + 1, of: cells.length, first: cell.sharedModel.getSource().split('\\n')[0],
                     text: out.ename + ': ' + out.evalue, traceback: (out.traceback || []).join('\\n')});
  }
  return errors;
}"""

CLOSE = """async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.sessionContext) return;
  await panel.sessionContext.shutdown();
  panel.context.model.dirty = false;  // the copy is thrown away: no "save changes?" dialog
  panel.dispose();
}"""

# The figure: decoded by the browser (naturalWidth > 0), shown (a box on the page), and its bytes' hash.
FIGURE = """async (root) => {
  const img = root.querySelector('img');
  if (!img || !img.complete || !img.naturalWidth) return null;
  const bytes = await (await fetch(img.src)).arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const box = img.getBoundingClientRect();
  return {hash: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
          width: img.naturalWidth, height: img.naturalHeight, shown: box.width > 0 && box.height > 0,
          displayed_width: Math.round(box.width)};
}"""

# What the notebook shows instead of widgets, when they are broken: for readable failure messages.
WIDGET_SYMPTOMS = """(panelId) => {
  const panel = document.getElementById(panelId);
  if (!panel) return {labels: [], problems: ['the notebook panel is gone']};
  const labels = [...panel.querySelectorAll('.jupyter-widgets label.widget-label, .jupyter-widgets button')]
    .map((e) => e.textContent.trim()).filter((t) => t);
  const problems = [];
  for (const out of panel.querySelectorAll('.jp-OutputArea-output')) {
    const text = out.textContent.trim();
    if (/Error displaying widget|Loading widget|model not found/i.test(text)) problems.push(text.slice(0, 200));
    else if (out.dataset.mimeType === 'text/plain' && /^(interactive|VBox|HBox|\\w+Slider|\\w+Explorer)\\(/.test(text))
      problems.push('a widget shown as plain text (no widget front end?): ' + text.slice(0, 120));
  }
  return {labels: [...new Set(labels)], problems};
}"""


class ExplorerFailure(AssertionError):
    """A check failed; the message says which notebook, which step, and what the page and kernel said."""


@dataclass
class Figure:
    hash: str
    width: int
    height: int
    shown: bool
    displayed_width: int  # CSS pixels on the page; more than ``width`` means the PNG is scaled up


@dataclass
class NotebookPage:
    """One notebook opened in the JupyterLab page."""

    page: Page
    path: str
    panel_id: str = ""
    current: Locator | None = None  # the explorer being checked: a failure's screenshot shows it

    def open(self, timeout: float) -> None:
        self.panel_id = _with_timeout(self.page, OPEN, self.path, timeout, f"opening {self.path}")
        self.page.evaluate(WATCH_KERNEL, self.path)
        self.wait_idle(timeout)

    def wait_idle(self, timeout: float) -> None:
        self.page.wait_for_function(KERNEL_IDLE, timeout=timeout * 1000)

    def run_all(self, timeout: float) -> float:
        """Run every cell; raise with the failing cells' errors. Returns the seconds it took."""
        start = time.monotonic()
        result = self.page.evaluate(RUN_ALL, int(timeout * 1000))
        took = time.monotonic() - start
        if result == "timeout":
            raise ExplorerFailure(f"'run all cells' had not finished after {timeout:.0f} s")
        errors = self.page.evaluate(CELL_ERRORS)
        if errors or result is False:
            raise ExplorerFailure("a cell raised while running all cells:\n" + "\n".join(
                f"  cell {e['cell']} of {e['of']} ({e['first'][:60]!r}): {e['text']}\n"
                f"{_indent(_last_lines(e['traceback'], 8))}" for e in errors))
        self.wait_idle(max(timeout - took, 5))
        return took

    def kernel_errors(self) -> list[dict]:
        return self.page.evaluate("(path) => (window.__kernelErrors || {})[path] || []", self.path)

    def widget_symptoms(self) -> dict:
        return self.page.evaluate(WIDGET_SYMPTOMS, self.panel_id)

    def close(self) -> None:
        _with_timeout(self.page, CLOSE, None, 15, f"closing {self.path}")

    # ----------------------------------------------------------------------------- the explorer

    def explorer(self, controls: tuple[Control, ...], timeout: float) -> Locator:
        """The cell output that holds every one of ``controls``: the explorer."""
        outputs = self.page.locator(f"[id='{self.panel_id}'] .jp-OutputArea-output")
        for control in controls:
            outputs = outputs.filter(has=self._control(self.page, control))
        explorer = self.current = outputs.first
        try:
            explorer.wait_for(state="visible", timeout=timeout * 1000)
        except Exception as err:  # Playwright's TimeoutError: say what the notebook shows instead
            symptoms = self.widget_symptoms()
            raise ExplorerFailure(
                f"no cell output holds all of: {', '.join(map(str, controls))}\n"
                f"  widget labels and buttons on the page: {symptoms['labels'] or 'none'}\n"
                + "".join(f"  {p}\n" for p in symptoms["problems"])) from err
        return explorer

    def figure(self, explorer: Locator) -> Figure | None:
        found = explorer.evaluate(FIGURE)
        return Figure(**found) if found else None

    def wait_figure(self, explorer: Locator, timeout: float, unlike: Figure | None = None,
                    check: Callable[[], None] = lambda: None) -> Figure:
        """The explorer's figure once drawn (and different from ``unlike``); poll until ``timeout``.

        ``check`` runs at every poll and raises to stop early (a kernel error from a callback).
        """
        end, figure = time.monotonic() + timeout, None
        while time.monotonic() < end:
            check()
            figure = self.figure(explorer)
            if figure and figure.shown and (unlike is None or figure.hash != unlike.hash):
                return figure
            time.sleep(0.25)
        if figure is None:
            raise ExplorerFailure(f"the explorer shows no figure (no decoded <img>) after {timeout:.0f} s")
        if not figure.shown:
            raise ExplorerFailure("the explorer's figure is not visible on the page (zero size)")
        raise ExplorerFailure(f"the figure did not change within {timeout:.0f} s")

    def apply(self, explorer: Locator, change: Change, timeout: float) -> None:
        """Make ``change`` the way a learner would."""
        control = self._control(explorer, change.control)
        ms = timeout * 1000
        if change.control.kind == "slider":
            readout = control.locator(".widget-readout")
            readout.fill(str(change.value), timeout=ms)
            readout.press("Enter", timeout=ms)
        elif change.control.kind == "text":
            box = control.locator("input")
            box.fill(str(change.value), timeout=ms)
            box.press("Enter", timeout=ms)
        elif change.control.kind == "dropdown":
            select = control.locator("select")
            if isinstance(change.value, int):
                select.select_option(index=change.value, timeout=ms)
            else:
                select.select_option(label=change.value, timeout=ms)
        else:  # toggle, button
            control.click(timeout=ms)

    def _control(self, within: Page | Locator, control: Control) -> Locator:
        exact = re.compile(rf"^\s*{re.escape(control.label)}\s*$")
        if control.kind in ("toggle", "button"):
            css = "button.widget-toggle-button" if control.kind == "toggle" else "button.widget-button"
            return within.locator(css, has_text=exact)
        css = {"slider": ".widget-slider", "dropdown": ".widget-dropdown", "text": ".widget-text"}[control.kind]
        label = self.page.locator("label.widget-label", has_text=exact)
        return within.locator(css).filter(has=label)


def save_png_via_button(notebook: NotebookPage, explorer: Locator, folder: Path, name: str,
                        timeout: float) -> Path:
    """Type a fresh file name into the "file" box, press "save PNG", and wait for the PNG to be written."""
    target = folder / name
    target.unlink(missing_ok=True)
    button = explorer.page.locator("button.widget-button", has_text=re.compile(r"^\s*save PNG\s*$"))
    saver = explorer.locator(".widget-hbox").filter(has=button).last  # SavePngControl: file, button, status
    notebook.apply(explorer, Change(Control("text", "file"), name), timeout)
    notebook.apply(explorer, Change(Control("button", "save PNG")), timeout)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = saver.locator(".widget-html").inner_text(timeout=timeout * 1000)
        if "not saved" in status:
            raise ExplorerFailure(f"'save PNG' reported: {status.strip()}")
        if target.exists() and "saved to" in status:
            return target
        time.sleep(0.25)
    raise ExplorerFailure(f"'save PNG' wrote no {name} into the notebook's folder within {timeout:.0f} s")


def screenshot(element: Locator, path: Path, timeout: float) -> None:
    """A picture of the whole element: the page is made tall enough for it first, then restored."""
    page = element.page
    size = page.viewport_size
    box = element.bounding_box(timeout=timeout * 1000)
    needed = int(box["height"]) + 300 if box else 0  # room for JupyterLab's menus, toolbar and status bar
    try:
        if needed > size["height"]:
            page.set_viewport_size({"width": size["width"], "height": needed})
        element.scroll_into_view_if_needed(timeout=timeout * 1000)
        element.screenshot(path=path, timeout=timeout * 1000)
    finally:
        page.set_viewport_size(size)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header; raises if the file is not a PNG."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ExplorerFailure(f"{path.name} is not a PNG file (starts with {head[:8]!r})")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _with_timeout(page: Page, script: str, arg: object, timeout: float, what: str):
    """Evaluate an async script, bounded: page.evaluate itself would wait forever on a stuck promise."""
    bounded = f"""async (arg) => await Promise.race([({script})(arg),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), {int(timeout * 1000)}))])"""
    try:
        return page.evaluate(bounded, arg)
    except Exception as err:
        raise ExplorerFailure(f"{what} failed: {str(err).splitlines()[0]}") from err


def _last_lines(text: str, n: int) -> str:
    return "\n".join(ANSI.sub("", text).rstrip().splitlines()[-n:])


def _indent(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
