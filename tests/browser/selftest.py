"""The browser test's self-test: a notebook of explorers broken on purpose, and what each must be reported with.

``check_explorers.py`` runs it first; if any of these explorers is not reported, with its message, the
whole browser test fails, since a test that cannot see a broken widget would pass blank explorers too.
"""

from __future__ import annotations

import json
from pathlib import Path

from explorers import Change, Explorer, slider

SELFTEST_NOTEBOOK = "selftest_broken_explorers.ipynb"  # written into the temporary copy only
SELFTEST_CELLS = [
    """import ipywidgets as widgets
from course_lib.viz import FigurePane, new_figure

def explorer(label, bug=None):
    \"\"\"A slider over a bar chart, built like the course's explorers; ``bug(note)`` runs on every change.\"\"\"
    pane, note = FigurePane(), widgets.HTML()
    def draw(n):
        fig = new_figure(3, 2)
        fig.add_subplot().bar(range(n), range(1, n + 1))
        pane.draw(fig)
    def redraw(change):
        if bug:
            bug(note)
        draw(change["new"])
    slider = widgets.IntSlider(value=3, min=1, max=8, description=label)
    slider.observe(redraw, names="value")
    draw(3)
    return widgets.VBox([slider, pane.widget, note])""",
    """def raises(note):
    raise RuntimeError("deliberately broken explorer: its callback raises")
explorer("raises", raises)""",
    """def console_error(note):
    note.value = \"\"\"<img src="data:," onerror="console.error('deliberately broken explorer: a console error')">\"\"\"
explorer("console", console_error)""",
    """def from_a_cdn(note):
    note.value = '<img src="https://cdn.jsdelivr.net/npm/deliberately-broken-explorer/figure.png">'
explorer("cdn", from_a_cdn)""",
    # renders blank: the image holds bytes that no browser can decode
    """widgets.VBox([widgets.IntSlider(description="blank"), widgets.Image(format="png", value=b"not a PNG")])""",
]
SELFTEST = (  # each explorer, and what its failure message must say
    (Explorer(SELFTEST_NOTEBOOK, (slider("raises"),), (Change(slider("raises"), "5"),)),
     "RuntimeError: deliberately broken explorer: its callback raises"),
    (Explorer(SELFTEST_NOTEBOOK, (slider("console"),), (Change(slider("console"), "5"),)),
     "deliberately broken explorer: a console error"),
    (Explorer(SELFTEST_NOTEBOOK, (slider("cdn"),), (Change(slider("cdn"), "5"),)),
     "cdn.jsdelivr.net/npm/deliberately-broken-explorer"),
    (Explorer(SELFTEST_NOTEBOOK, (slider("blank"),), ()), "shows no figure"),
)


def write_notebook(path: Path, sources: list[str]) -> None:
    cells = [{"id": f"cell-{i}", "cell_type": "code", "metadata": {}, "source": source, "outputs": [],
              "execution_count": None} for i, source in enumerate(sources)]
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": kernelspec},
                                "nbformat": 4, "nbformat_minor": 5}))
