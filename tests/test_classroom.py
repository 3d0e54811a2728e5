"""The classroom edition: solutions pass their checkers, student notebooks hold no solution and run through,
and the grader turns a class of submissions (good, partial and broken) into the expected gradebook."""

from __future__ import annotations

import ast
import csv
import importlib
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib.checks import core
from tools import grade as grader
from tools.runner import notebook_paths, script_to_notebook
from tools.student import (
    POINTER,
    SOLUTION_TAG,
    STUB_BODY,
    StudentEditionError,
    exercises,
    is_solution,
    stub_source,
    stubbed_names,
    student_notebook,
)

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = notebook_paths(ROOT / "notebooks" / "src", suffix=".py")
FIXTURE_CLASS = ROOT / "tests" / "fixtures" / "class"


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory) -> Path:
    """Every student notebook, built once. Stale stored notebooks are the hygiene test's business, so this
    builds with ``allow_stale``: what is checked here is what the student edition leaves out."""
    out = tmp_path_factory.mktemp("student")
    for script in SCRIPTS:
        nb = student_notebook(script, ROOT / "notebooks" / f"{script.stem}.ipynb", allow_stale=True)
        nbformat.write(nb, out / f"{script.stem}.ipynb")
    return out


# ------------------------------------------------------------------------------------------- the sources

@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_every_notebook_has_exercises_and_each_solution_is_tagged(script):
    items = exercises(script)
    assert items, f"{script.name}: no checker is called in a cell tagged {SOLUTION_TAG!r}"
    assert len({e.checker for e in items}) == len(items)
    assert all(e.answer for e in items), "each checker in a solution checks a name (checks_x.check_y(name))"
    nb = script_to_notebook(script)
    stubs: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_solution(cell):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: no definitions to look at
            tree = None
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} if tree else set()
        solved = (defined & stubs) - stubbed_names(cell.source)
        assert not solved, f"{script.name} cell {index} solves {solved} after its stub: tag it {SOLUTION_TAG!r}"
        stubs |= stubbed_names(cell.source)
    assert {e.answer for e in items} <= stubs, "every exercise has its stub cell, with its checker, above"


def _solution_namespace(script: Path) -> dict:
    """The notebook's imports, then the definitions of its solution cells: the exercises section alone.

    Running whole notebooks takes minutes each (``make test`` does, under nbval); the solution functions
    need only the notebook's imports, not the state its lessons build, so this takes seconds.
    """
    namespace: dict = {"__name__": f"solutions_of_{script.stem}"}
    nb = script_to_notebook(script)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # a cell with IPython magics holds no import the solutions need
            continue
        keep = (ast.Import, ast.ImportFrom)
        if is_solution(cell):
            keep += (ast.FunctionDef, ast.ClassDef)
        body = [node for node in tree.body if isinstance(node, keep)]
        exec(compile(ast.Module(body=body, type_ignores=[]), f"{script.name}", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_every_solution_passes_all_its_checkers(script, capsys):
    """Function answers here, in seconds. A measured number (an investigative exercise) needs the state the
    lesson builds: its solution cell asserts its checker, so running the notebook (nbval) checks it."""
    namespace = _solution_namespace(script)
    for item in exercises(script):
        if item.context:
            assert _asserted_in_a_solution(script, item), f"{item.checker}: `assert` it in its solution cell"
            continue
        check = getattr(importlib.import_module(item.module), item.checker)
        assert check(namespace[item.answer]) is True, capsys.readouterr().out
        assert core.VERDICTS[-1] == core.Verdict(item.checker, core.PASSED, core.VERDICTS[-1].message)


def _asserted_in_a_solution(script: Path, item) -> bool:
    """Whether a solution code cell asserts ``item``'s checker on its answer with its notebook objects."""
    call = f"{item.checker}({', '.join((item.answer, *item.context))})"
    for cell in script_to_notebook(script).cells:
        if cell.cell_type == "code" and is_solution(cell):
            asserts = [n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Assert)]
            if any(ast.unparse(a.test).endswith(call) for a in asserts):
                return True
    return False


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_every_notebook_has_three_exercises_one_of_them_investigative(script):
    """Issue 21: at least three exercises, one of which has the learner change a setting, run, and report a
    number that the checker recomputes from the notebook's own objects (its context)."""
    items = exercises(script)
    assert len(items) >= 3, f"{script.name}: {len(items)} exercises"
    assert any(item.context for item in items), f"{script.name}: no investigative exercise"


# --------------------------------------------------------------------------------- the student edition

def distinctive_lines(script: Path) -> set[str]:
    """Lines of the solution cells found nowhere else: not in the lesson, not a heading, not the interface
    (signature, docstring) that a stub keeps."""
    nb = script_to_notebook(script)
    answers = {e.answer for e in exercises(script)}
    lesson, interface, solution = set(), set(), set()
    for cell in nb.cells:
        lines = {line.strip() for line in cell.source.splitlines() if line.strip()}
        if not is_solution(cell):
            lesson |= lines
            continue
        if cell.cell_type == "markdown":
            lines = {line for line in lines if not line.startswith("#")}
        else:
            stub = stub_source(cell.source, answers) or ""
            interface |= {line.strip() for line in stub.splitlines()}
        solution |= lines
    return solution - lesson - interface


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_a_student_notebook_contains_none_of_its_solutions(script, student_dir):
    path = student_dir / f"{script.stem}.ipynb"
    nb = nbformat.read(path, as_version=4)
    secret = distinctive_lines(script)
    assert secret, "a solution with nothing distinctive: is the notebook's Solutions section tagged?"
    lines = {line.strip() for cell in nb.cells for line in cell.source.splitlines()}
    assert not secret & lines, f"solution lines left in {path.name}: {sorted(secret & lines)[:5]}"
    text = path.read_text(encoding="utf-8")  # outputs and metadata too
    stored = nbformat.read(ROOT / "notebooks" / f"{script.stem}.ipynb", as_version=4)
    lesson = [(s.source, c.get("outputs")) for c, s in zip(stored.cells, script_to_notebook(script).cells, strict=True)
              if not is_solution(s)]
    shown = json.dumps(lesson, ensure_ascii=False)  # what the lesson itself writes or prints, e.g. the same code
    printed = {line.strip() for c, s in zip(stored.cells, script_to_notebook(script).cells, strict=True)
               if is_solution(s) for out in c.get("outputs", []) for line in str(out.get("text", "")).splitlines()}
    escaped = {line: json.dumps(line, ensure_ascii=False)[1:-1] for line in secret | printed if len(line) >= 20}
    leaked = [line for line, e in escaped.items() if e in text and e not in shown]
    assert not leaked, f"{path.name} shows solution lines (an output?): {leaked[:5]}"
    assert not any(is_solution(cell) for cell in nb.cells)
    assert nb.metadata["course"] == {"notebook": script.stem, "edition": "student"}
    assert sum(cell.source == POINTER for cell in nb.cells) == 1


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_each_exercise_has_one_stub_and_its_checker_and_the_lesson_keeps_its_outputs(script, student_dir):
    nb = nbformat.read(student_dir / f"{script.stem}.ipynb", as_version=4)
    stored = nbformat.read(ROOT / "notebooks" / f"{script.stem}.ipynb", as_version=4)
    for item in exercises(script):
        stubs = [c for c in nb.cells if c.cell_type == "code" and item.answer in stubbed_names(c.source)]
        assert len(stubs) == 1, f"{item.answer}: {len(stubs)} stub cells"
        call = f".{item.checker}({', '.join((item.answer, *item.context))})"  # as ast.unparse writes it
        calls = [ast.unparse(n) for n in ast.walk(ast.parse(stubs[0].source)) if isinstance(n, ast.Call)]
        assert any(c.endswith(call) for c in calls), f"the stub cell calls its checker: {call}"
    kept = 0
    for cell in nb.cells:  # lesson cells keep their ids (cell-NNN, the index in the source) and outputs
        if cell.cell_type == "code" and not cell.id.endswith("-stub"):
            old = stored.cells[int(cell.id.split("-")[1])]
            if old.source == cell.source:
                assert cell.outputs == old.outputs and cell.execution_count == old.execution_count
                kept += bool(cell.outputs)
    assert kept > 5


def test_a_stale_or_mismatched_stored_notebook_is_refused(tmp_path):
    script = tmp_path / "src" / "99_toy.py"
    script.parent.mkdir()
    script.write_text('# %% [markdown]\n# # Toy\n\n# %% tags=["parameters"]\nseed = 0\n\n'
                      '# %%\nprint("lesson")\n', encoding="utf-8")
    stored = script_to_notebook(script)
    stored.cells[2].source = 'print("older lesson")'
    nbformat.write(stored, tmp_path / "99_toy.ipynb")
    with pytest.raises(StudentEditionError, match="stale.*make notebooks NB=99"):
        student_notebook(script, tmp_path / "99_toy.ipynb")
    stored.cells.pop()
    nbformat.write(stored, tmp_path / "99_toy.ipynb")
    with pytest.raises(StudentEditionError, match="3 cells|2 cells"):
        student_notebook(script, tmp_path / "99_toy.ipynb", allow_stale=True)


def test_a_solution_cell_without_a_stub_above_becomes_one():
    source = ('import math\n\n\n@staticmethod\ndef f(a: int,\n      b: int = 2) -> int:\n    """Add, the long way."""\n'
              '    # a hint that must not show\n    return a + b\n\n\ndef g(x): return x * 2\n\n\n'
              'ceiling: float = 0.5 + 0.5 * (1 - 1 / 10)\nassert chk.check_f(f)\nassert chk.check_c(ceiling)\n'
              'print(f(1, 2))\n')
    stub = stub_source(source, answers={"ceiling"})
    assert stub == ('@staticmethod\ndef f(a: int,\n      b: int = 2) -> int:\n    """Add, the long way."""\n'
                    f'    {STUB_BODY}\n\n\ndef g(x):\n    {STUB_BODY}\n\n\nceiling: float = ...\n\n\n'
                    'done = chk.check_f(f)\ndone = chk.check_c(ceiling)')
    assert stubbed_names(stub) == {"f", "g", "ceiling"}
    assert stub_source(source, answers={"ceiling"}, skip={"f", "g", "ceiling"}) is None


# ------------------------------------------------------------------------------------------ the grader

EXPECTED_CLASS = {  # file -> statuses of check_softmax, check_half_temperature, check_perplexity_bound
    "broken_loops.ipynb": ("passed", "not run", "not run"),
    "broken_not_json.ipynb": ("not run", "not run", "not run"),
    "broken_raises.ipynb": ("passed", "not run", "not run"),
    "complete.ipynb": ("passed", "passed", "passed"),
    "other_notebook.ipynb": ("not run", "not run", "not run"),
    "partial.ipynb": ("passed", "failed", "not answered"),
}


def test_the_fixture_class_gives_the_expected_gradebook(tmp_path):
    gradebook, summaries = grader.grade(FIXTURE_CLASS, ROOT, tmp_path, assignment="00", timeout=10, jobs=2)
    with open(tmp_path / "gradebook.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [{k: str(v) for k, v in r.items()} for r in gradebook]
    got: dict[str, list[str]] = {}
    for row in rows:
        assert row["notebook"] == "00_welcome"
        got.setdefault(row["file"], []).append(row["status"])
    assert {f: tuple(s) for f, s in got.items()} == EXPECTED_CLASS
    assert [r["exercise"] for r in rows[:3]] == ["check_softmax", "check_half_temperature", "check_perplexity_bound"]
    message = {(r["file"], r["exercise"]): r["message"] for r in rows}
    assert "time limit" in message["broken_loops.ipynb", "check_half_temperature"]
    assert "raised IndexError" in message["broken_raises.ipynb", "check_half_temperature"]
    assert "not a notebook" in message["broken_not_json.ipynb", "check_softmax"]
    assert "06_multi_head_self_attention" in message["other_notebook.ipynb", "check_softmax"]
    assert "raise T" in message["partial.ipynb", "check_half_temperature"]
    assert "not answered yet" in message["partial.ipynb", "check_perplexity_bound"]
    with open(tmp_path / "summary.csv", encoding="utf-8") as fh:
        summary = {r["file"]: r for r in csv.DictReader(fh)}
    assert summary["complete.ipynb"]["passed"] == "3" and summary["complete.ipynb"]["outcome"] == "ran to the end"
    assert summary["broken_loops.ipynb"]["outcome"].startswith("timeout")
    assert float(summary["broken_loops.ipynb"]["seconds"]) < 10 + grader.STARTUP_ALLOWANCE_S
    executed = nbformat.read(tmp_path / "executed" / "complete.ipynb", as_version=4)
    assert "✅ check_softmax" in json.dumps([c.get("outputs") for c in executed.cells], ensure_ascii=False)


def test_a_student_notebook_runs_to_the_end_with_every_exercise_not_answered(student_dir, tmp_path):
    """Notebook 06 (about 15 s): the student edition as handed out, graded."""
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(student_dir / "06_multi_head_self_attention.ipynb", folder / "alice.ipynb")
    gradebook, (summary,) = grader.grade(folder, ROOT, tmp_path / "grades", timeout=300)
    assert summary["outcome"] == "ran to the end", summary
    assert [r["exercise"] for r in gradebook] == [e.checker for e in exercises(SCRIPTS[6])]
    assert [r["status"] for r in gradebook] == ["not answered"] * len(gradebook)


def _tiny_submission(folder: Path, source: str, name: str = "probe_00.ipynb") -> None:
    nb = new_notebook(cells=[new_markdown_cell("# probe"), new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder.mkdir(exist_ok=True)
    nbformat.write(nb, folder / name)


@pytest.mark.parametrize("blocked", sorted({grader.sandbox_available(), False}), ids=lambda b: f"sandbox={b}")
def test_a_submission_runs_without_network_and_with_a_clean_environment(blocked, tmp_path, monkeypatch, capsys):
    """With ``unshare``'s network namespace (most Linux machines) even localhost is unreachable; without it
    (hosts that forbid user namespaces) the grader says that the network is open. Both keep the
    environment clean."""
    monkeypatch.setenv("GRADER_TEST_SECRET", "must not leak")
    probe = ("import errno, os, socket\n"
             "code = socket.socket().connect_ex(('127.0.0.1', 9))\n"
             f"if {blocked}:\n"
             "    assert code == errno.ENETUNREACH, f'network reachable: {errno.errorcode.get(code, code)}'\n"
             "    others = [p for p in os.listdir('/proc') if p.isdigit()]\n"
             "    assert len(others) < 10, f'the grader\\'s processes are visible: {len(others)}'\n"
             "assert 'GRADER_TEST_SECRET' not in os.environ, 'the environment leaked'\n"
             "assert 'grade-' in os.environ['HOME'] and os.listdir(os.environ['HOME']) in ([], ['.ipython'])\n"
             "def softmax(x):\n    return x.softmax(-1)\n")
    _tiny_submission(tmp_path / "class", probe)
    gradebook, (summary,) = grader.grade(tmp_path / "class", ROOT, tmp_path / "grades", timeout=60, sandbox=blocked)
    assert summary["outcome"] == "ran to the end: no course metadata: identified by its file name", summary
    statuses = {r["exercise"]: r["status"] for r in gradebook}  # the grader's last cell checked `softmax`
    assert statuses == {"check_softmax": "passed", "check_half_temperature": "not answered",
                        "check_perplexity_bound": "not answered"}
    assert ("the network is NOT blocked" in capsys.readouterr().err) is not blocked


def test_which_notebook_a_file_is():
    names = [p.stem for p in SCRIPTS]
    meta = nbformat.v4.new_notebook(metadata={"course": {"notebook": "05_attention"}})
    assert grader.identify(meta, "whatever.ipynb", names) == ("05_attention", "")
    bare = nbformat.v4.new_notebook()
    assert grader.identify(bare, "bob_05.ipynb", names)[0] == "05_attention"
    assert grader.identify(bare, "bob_06_multi_head_self_attention.ipynb", names)[0] == names[6]
    assert grader.identify(bare, "bob.ipynb", names)[0] is None
    assert grader.resolve_notebook("05", names) == "05_attention"
    with pytest.raises(SystemExit, match="--notebook '5'"):
        grader.resolve_notebook("5", names)


def test_the_command_line_refuses_a_missing_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        grader.main([str(tmp_path / "nowhere")])
    assert "SUBMISSIONS must be a folder" in capsys.readouterr().err


# ------------------------------------------------------------------------- the instructors' CI workflow

WORKFLOW = ROOT / ".github" / "workflows" / "course-checks.yml"


def _readme_test_command() -> str:
    """The command the README tells instructors to run in CI (its "For instructors" section)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For instructors", 1)[1].split("\n## ", 1)[0]
    assert ".github/workflows/course-checks.yml" in section, "the README points to the workflow"
    assert "`make test`" in section
    return "make test"


def _run_lines(steps: list[dict]) -> list[str]:
    return [line.strip() for step in steps if "run" in step for line in str(step["run"]).splitlines()]


def test_the_ci_workflow_runs_the_readme_command_on_python_3_10_and_3_12():
    """A file GitHub runs and we cannot: parsed with PyYAML (a dependency of Jupyter's), read as YAML is."""
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with jupyter_server; the text check below runs anyway")
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on:` key as True
    assert {"push", "pull_request"} <= set(triggers)
    (job,) = data["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert job["strategy"]["matrix"]["python-version"] == ["3.10", "3.12"]  # strings: unquoted 3.10 is 3.1
    uses = [str(step.get("uses", "")) for step in job["steps"]]
    assert uses[0].startswith("actions/checkout@")
    setup = next(step for step in job["steps"] if str(step.get("uses", "")).startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "${{ matrix.python-version }}"
    command = _readme_test_command()
    runs = _run_lines(job["steps"])
    assert command in runs, f"the workflow runs {runs}, not the README's `{command}`"
    assert job["steps"].index(setup) < next(i for i, s in enumerate(job["steps"]) if s.get("run") == command)


def test_the_ci_workflow_text_says_the_same():
    """The same facts from the text alone, so the check holds where PyYAML is missing."""
    text = WORKFLOW.read_text(encoding="utf-8")
    lines = [line.split("#", 1)[0].rstrip() for line in text.splitlines()]
    assert "runs-on: ubuntu-latest" in [line.strip() for line in lines]
    matrix = [line.strip() for line in lines if line.strip().startswith("python-version: [")]
    assert matrix == ['python-version: ["3.10", "3.12"]']
    assert "python-version: ${{ matrix.python-version }}" in [line.strip() for line in lines]
    assert f"run: {_readme_test_command()}" in [line.strip() for line in lines]
    assert "\t" not in text, "YAML does not allow tabs for indentation"
