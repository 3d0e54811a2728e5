"""Every stored notebook is fit for the course; the checks themselves are shown to catch bad notebooks."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools.runner import hygiene_problems, notebook_paths, script_to_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebook_paths(ROOT / "notebooks")
SCRIPTS = notebook_paths(ROOT / "notebooks" / "src", suffix=".py")


def test_there_are_notebooks_and_each_has_its_source():
    assert NOTEBOOKS, "no notebooks found"
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in SCRIPTS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    assert hygiene_problems(nb, size_bytes=path.stat().st_size) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_matches_its_source(path):
    """The stored notebook was executed from the current script (else run `make notebooks`)."""
    stored = nbformat.read(path, as_version=4)
    fresh = script_to_notebook(path.parent / "src" / f"{path.stem}.py")
    assert [(c.cell_type, c.source) for c in stored.cells] == [(c.cell_type, c.source) for c in fresh.cells], (
        f"{path.name} is stale: run `make notebooks NB={path.name[:2]}`"
    )
    tags = [(i, c.metadata.get("tags", [])) for i, c in enumerate(stored.cells)]
    assert tags == [(i, c.metadata.get("tags", [])) for i, c in enumerate(fresh.cells)], (
        f"{path.name}'s cell tags (nbval-ignore-output, solution ...) differ from its source's: "
        f"run `make notebooks NB={path.name[:2]}`")


def executed(cells):
    """A notebook whose code cells look executed in order, each with one output."""
    count = 0
    for cell in cells:
        if cell.cell_type == "code" and cell.execution_count is None:
            count += 1
            cell.execution_count = count
            cell.outputs = [new_output("stream", name="stdout", text="ok\n")]
    return new_notebook(cells=cells)


def good_cells():
    return [
        new_markdown_cell("# A title"),
        new_code_cell("seed = 0", metadata={"tags": ["parameters"]}),
        new_code_cell("print('ok')"),
        new_markdown_cell("## Exercises\nTry this."),
    ]


def test_a_good_notebook_passes():
    assert hygiene_problems(executed(good_cells()), size_bytes=1000) == []


def test_a_missing_parameters_cell_is_caught():
    cells = good_cells()
    cells[1].metadata = {}
    assert any("parameters" in p for p in hygiene_problems(executed(cells)))


def test_an_error_output_is_caught():
    nb = executed(good_cells())
    nb.cells[2].outputs = [new_output("error", ename="ValueError", evalue="boom", traceback=[])]
    problems = hygiene_problems(nb)
    assert any("error output: ValueError: boom" in p for p in problems)


def test_unexecuted_or_out_of_order_cells_are_caught():
    cells = good_cells()
    cells.insert(3, new_code_cell("print('never run')"))
    nb = executed(cells[:3])
    nb.cells.append(cells[3])
    nb.cells.append(cells[4])
    assert any("complete run" in p for p in hygiene_problems(nb))
    nb2 = executed(good_cells())
    nb2.cells[2].execution_count = 5
    assert any("complete run" in p for p in hygiene_problems(nb2))


def test_missing_title_exercises_and_size_are_caught():
    cells = good_cells()
    cells[0] = new_markdown_cell("no title here")
    cells[3] = new_markdown_cell("## Summary")
    problems = hygiene_problems(executed(cells), size_bytes=2_000_000)
    assert len(problems) == 3
    assert any("title" in p for p in problems) and any("Exercises" in p for p in problems)
    assert any("1.5 MB" in p for p in problems)
