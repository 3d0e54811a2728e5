"""The course's progress bars: live in JupyterLab, finished when the notebook is read later.

tqdm's notebook bar is a widget whose plain-text stand-in is the bar as it was when first displayed, at
0 %: GitHub and HTML exports then show ``0%| 0/1000`` for a cell that ran to the end. ``progress_bar``
displays the same widget under a display id and, at ``close()``, replaces that output with the bar's
final line as text/plain and HTML::

    skip-gram: 100%|██████████| 1230/1230 [00:12<00:00, 98.21it/s, loss=2.113]

The final output holds no widget view on purpose: a widget needs JavaScript (from a CDN in HTML exports)
and a saved widget state to be drawn, the line needs neither. Outside a notebook kernel (a terminal, a
script, pytest) ``progress_bar`` is tqdm's terminal bar.

>>> with progress_bar(100, "training") as bar:  # doctest: +SKIP
...     for step in range(100):
...         bar.update(1)
"""

from __future__ import annotations

import html
import sys
from typing import Any

from IPython.display import display
from tqdm.notebook import tqdm as notebook_tqdm
from tqdm.std import tqdm as terminal_tqdm

__all__ = ["NotebookBar", "TerminalBar", "final_bundle", "in_notebook_kernel", "progress_bar"]


def in_notebook_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, VS Code, papermill) where ipywidgets can be drawn."""
    if "ipykernel" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or "IPKernelApp" not in getattr(shell, "config", {}):
        return False
    from tqdm.notebook import IProgress

    return IProgress is not None  # None when ipywidgets is missing


def final_bundle(line: str) -> dict[str, str]:
    """The output that replaces a finished bar: its last line as text/plain and as (escaped) HTML."""
    return {"text/plain": line,
            "text/html": f"<pre style='margin:0'>{html.escape(line, quote=False)}</pre>"}


def _settle_total(bar: terminal_tqdm) -> None:
    """A loop that ran past its estimated total ends at 100 %, n/n (skip-gram's steps per epoch vary a little):
    tqdm would print "1233it" with no total and no percentage."""
    if bar.total is not None and bar.n > bar.total:
        bar.total = bar.n


class TerminalBar(terminal_tqdm):
    """tqdm's terminal bar, ending at n/n when the loop ran past its estimated total."""

    def close(self) -> None:
        if not self.disable:
            _settle_total(self)
        super().close()


class NotebookBar(notebook_tqdm):
    """tqdm's notebook bar, displayed under a display id that ``close`` updates with the final line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, display=False, **kwargs)
        self._handle = None
        if not self.disable:
            self._handle = display(self.container, display_id=True)
            self.displayed = True

    def close(self) -> None:
        if self.disable:  # closed already (tqdm closes again when the bar is garbage-collected)
            return
        _settle_total(self)
        self.container.children[1].max = self.total or 1  # the widget's bar, filled to the settled total
        super().close()
        if self._handle is not None:
            self._handle.update(final_bundle(str(self)) if self.leave else {"text/plain": ""}, raw=True)
            self._handle = None


def progress_bar(total: int, desc: str = "", *, leave: bool = True, mininterval: float = 0.5,
                 disable: bool = False) -> terminal_tqdm:
    """A tqdm bar over ``total`` steps: a widget in a notebook (its final line stored), else the terminal bar.

    Use it as tqdm: ``update(n)``, ``set_postfix(...)``, ``close()`` (or a ``with`` block, which closes it).
    """
    if in_notebook_kernel():
        return NotebookBar(total=total, desc=desc, leave=leave, mininterval=mininterval, disable=disable)
    return TerminalBar(total=total, desc=desc, leave=leave, mininterval=mininterval, disable=disable)
