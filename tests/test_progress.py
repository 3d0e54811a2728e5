"""course_lib.progress: a terminal bar outside Jupyter; in a kernel, a widget whose stored output (JSON and
HTML export) is the final line, n/total and the time, not the "0%| 0/N" of the moment it was first shown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_notebook
from torch import nn

from course_lib.core import TrainConfig, fit
from course_lib.progress import NotebookBar, final_bundle, in_notebook_kernel, progress_bar
from course_lib.wordvec import SkipGramConfig, train_skipgram

ROOT = Path(__file__).resolve().parents[1]


def test_outside_a_kernel_it_is_the_terminal_bar_and_ends_at_n_of_total(capsys) -> None:
    assert not in_notebook_kernel()
    with progress_bar(7, "demo", mininterval=0) as bar:
        assert not isinstance(bar, NotebookBar)
        for _ in range(7):
            bar.update(1)
    assert "7/7" in str(bar)
    err = capsys.readouterr().err
    assert "demo: 100%" in err and "7/7" in err


def test_a_loop_that_runs_past_its_estimate_ends_at_n_of_n(capsys) -> None:
    bar = progress_bar(10, "estimated", mininterval=0)
    bar.update(12)
    bar.close()
    assert re.search(r"estimated: 100%.* 12/12 ", capsys.readouterr().err)


def test_the_trainers_draw_their_bars_through_it(capsys) -> None:
    model = nn.Linear(3, 1)
    batch = [(torch.randn(8, 3), torch.randn(8, 1))]

    def step(m, b, state):
        x, y = b
        return nn.functional.mse_loss(m(x), y), state

    fit(model, batch, TrainConfig(steps=5, desc="fit-demo", seed=0), step=step)
    sentences = [["cat", "eats", "apple"], ["dog", "eats", "pear"]] * 10
    train_skipgram(sentences, SkipGramConfig(dim=4, window=1, negatives=2, min_count=1, subsample=0.0, epochs=1,
                                             batch_size=16, threads=1))
    err = capsys.readouterr().err
    assert re.search(r"fit-demo: 100%.*5/5", err), err[-500:]
    assert re.search(r"skip-gram: 100%.*(\d+)/\1", err), err[-500:]


def test_the_final_bundle_escapes_html() -> None:
    bundle = final_bundle("a <b> & c: 100%| 3/3")
    assert bundle["text/plain"] == "a <b> & c: 100%| 3/3"
    assert "<b>" not in bundle["text/html"] and "&lt;b&gt; &amp; c" in bundle["text/html"]


SOURCE = """\
import sys
sys.path.insert(0, {root!r})
import torch
from torch import nn
from course_lib.core import TrainConfig, fit
from course_lib.progress import NotebookBar, in_notebook_kernel, progress_bar

assert in_notebook_kernel()
with progress_bar(40, "loop") as bar:
    assert isinstance(bar, NotebookBar)
    for i in range(40):
        bar.update(1)
        bar.set_postfix(loss=f"{{1 / (i + 1):.3f}}", refresh=False)
stopped = progress_bar(10, "stopped early")
stopped.update(3)
stopped.close()
over = progress_bar(10, "over")
over.update(12)
over.close()
model = nn.Linear(3, 1)
step = lambda m, b, s: (nn.functional.mse_loss(m(b[0]), b[1]), s)
fit(model, [(torch.randn(8, 3), torch.randn(8, 1))], TrainConfig(steps=6, desc="fit"), step=step)
"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> tuple[nbformat.NotebookNode, str]:
    """A notebook that shows three bars, executed in a real kernel as the runner does, and its HTML export."""
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = new_notebook(cells=[new_code_cell(SOURCE.format(root=str(ROOT)))],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    folder = tmp_path_factory.mktemp("progress")
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    path = folder / "bars.ipynb"
    nbformat.write(nb, path)
    html, _ = HTMLExporter().from_filename(str(path))
    return nbformat.read(path, as_version=4), html


def test_the_stored_outputs_are_the_final_lines(executed) -> None:
    nb, _ = executed
    outputs = nb.cells[0].outputs
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    bars = [o for o in outputs if o.output_type == "display_data"]
    texts = [o.data["text/plain"] for o in bars]
    assert len(texts) == 4, texts
    loop, stopped, over, trained = texts
    assert re.search(r"^loop: 100%\|█+\| 40/40 \[\d\d:\d\d<00:00, .*loss=0\.025\]$", loop), loop
    assert "3/10" in stopped and "30%" in stopped  # a loop that ended early says where it stopped
    assert "100%" in over and "12/12" in over  # one that ran past its estimate ends at n/n
    assert re.search(r"^fit: 100%.* 6/6 \[\d\d:\d\d<", trained), trained
    for bar in bars:  # no widget view left: the line needs no JavaScript and no saved widget state
        assert set(bar.data) == {"text/plain", "text/html"}
    assert not re.search(r"(?<!\d)0%\|", json.dumps(nb.cells[0].outputs, ensure_ascii=False))


def test_the_html_export_shows_the_final_lines(executed) -> None:
    _, html = executed
    assert "loop: 100%|" in html and "40/40" in html and "6/6" in html
    assert not re.search(r"(?<!\d)0%\|", html)  # no bar at 0 %
    assert not re.search(r"\| 0/(40|6) ", html)
