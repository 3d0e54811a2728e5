"""Grade a folder of submitted student notebooks (what `make grade SUBMISSIONS=folder` runs).

    python tools/grade.py SUBMISSIONS [--notebook 05] [--timeout 600] [--out build/grades] [--jobs 1]

Each file under SUBMISSIONS (hidden files and folders skipped) is one submission. Each is executed
top to bottom in a kernel of its own, in a separate process, with a time limit for the whole notebook,
a minimal environment, an empty temporary HOME and, where ``unshare`` can make a network namespace
(Linux), no network. A cell appended at the end calls every exercise's checker once more on the name
the exercise asks for. Every checker call records its verdict in a file (``$COURSE_LIB_VERDICTS``, see
``course_lib/checks/core.py``), so a notebook that stops halfway keeps the verdicts it reached.

Written to ``--out``:

* ``gradebook.csv``: one row per file and exercise: file, notebook, exercise, status (passed, failed,
  not answered, not run), message (the checker's message, or why the exercise was not run);
* ``summary.csv``: one row per file: the counts per status and how the run ended;
* ``executed/``: each submission as executed, outputs included, to read a student's answers.

The exercises of a notebook are the checkers its solution cells call (``tools/student.py``). A file that
is not a notebook, belongs to another notebook, raises or runs out of time gets rows with the reason;
one bad file never stops the batch. Grading executes the students' code: run it in a container or VM.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

if __package__ in (None, ""):  # run as a script: make `tools` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.runner import KERNEL, notebook_paths  # noqa: E402
from tools.student import Exercise, exercises  # noqa: E402

PASSED, FAILED, NOT_ANSWERED, NOT_RUN = "passed", "failed", "not answered", "not run"
STATUSES = (PASSED, FAILED, NOT_ANSWERED, NOT_RUN)
DEFAULT_TIMEOUT_S = 600
STARTUP_ALLOWANCE_S = 90  # kernel start and imports, on top of the notebook's own time limit
# Own user, network, process and mount namespaces: no network, and only its own processes in /proc
# (so not the grader's environment in /proc/PID/environ); --kill-child ends them all with unshare.
SANDBOX = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
GRADEBOOK_FIELDS = ["file", "notebook", "exercise", "status", "message"]
SUMMARY_FIELDS = ["file", "notebook", "exercises", *STATUSES, "outcome", "seconds"]


@dataclass
class Outcome:
    """How one submission's run ended: ``ran`` (to the end), ``error``, ``timeout`` or ``not run``."""

    kind: str
    detail: str = ""
    verdicts: dict[str, tuple[str, str]] = field(default_factory=dict)  # checker -> (status, message)
    seconds: float = 0.0


# ------------------------------------------------------------------------------------ which notebook

def course_notebooks(root: Path) -> list[str]:
    return [p.stem for p in notebook_paths(root / "notebooks" / "src", suffix=".py")]


def resolve_notebook(selection: str, names: list[str]) -> str:
    """``05`` or ``05_attention`` -> ``05_attention``; a clear error for anything else."""
    matches = [n for n in names if n.startswith(selection)]
    if len(matches) != 1:
        raise SystemExit(f"--notebook {selection!r} names {len(matches)} course notebooks; expected one of "
                         f"{', '.join(n[:2] for n in names)} (e.g. --notebook 05)")
    return matches[0]


def identify(nb: nbformat.NotebookNode, filename: str, names: list[str]) -> tuple[str | None, str]:
    """The course notebook a submission is, from its metadata (``tools/student.py`` writes it), else its
    file name; with a note when the file name had to be used."""
    course = nb.metadata.get("course") if isinstance(nb.metadata, dict) else None
    claimed = course.get("notebook") if isinstance(course, dict) else None
    if isinstance(claimed, str) and claimed in names:
        return claimed, ""
    in_name = [n for n in names if n in filename or re.match(rf"(.*[^0-9])?{n[:2]}([^0-9].*)?$", filename)]
    if len(in_name) == 1:
        return in_name[0], "no course metadata: identified by its file name"
    return None, "no course metadata (not made from the student edition?) and no notebook number in its name"


# ------------------------------------------------------------------------------------ running one file

def recheck_cell(items: list[Exercise]) -> nbformat.NotebookNode:
    """A last cell that runs every exercise's checker on the name the exercise asks for (``...`` if unset),
    with the notebook objects an investigative checker also takes (``...`` for one that cannot be evaluated)."""
    calls = [(e.module, e.checker, e.answer, e.context) for e in items if e.answer]
    source = ("# Added by the grader (tools/grade.py): every exercise checked once more, on its answer's name.\n"
              "import importlib as _grader_importlib\n\n\n"
              "def _grader_value(expression):\n"
              "    try:\n"
              "        return eval(expression, globals())\n"
              "    except Exception:  # an object the notebook never made: the checker says what is missing\n"
              "        return ...\n\n\n"
              f"for _grader_module, _grader_check, _grader_answer, _grader_context in {calls!r}:\n"
              "    getattr(_grader_importlib.import_module(_grader_module), _grader_check)("
              "globals().get(_grader_answer, ...), *map(_grader_value, _grader_context))\n")
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["grader"]})


def sandbox_available() -> bool:
    """Whether ``unshare`` can give the run its own (empty) network and process namespaces here."""
    if shutil.which("unshare") is None:
        return False
    try:
        return subprocess.run([*SANDBOX, "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def clean_environment(work: Path, cache: Path, verdicts: Path) -> dict[str, str]:
    """The few variables a run needs; nothing else of the grader's environment (tokens, proxies...) leaks in."""
    home = work / "home"
    for sub in ("home", "tmp", "runtime"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home), "TMPDIR": str(work / "tmp"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"), "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(home / ".ipython"), "MPLCONFIGDIR": str(home / ".matplotlib"),
        "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "COURSE_LIB_CACHE": str(cache), "COURSE_LIB_VERDICTS": str(verdicts),
    }
    if os.environ.get("PYTHONPATH"):  # a checkout used without installing it (PYTHONPATH=. python tools/grade.py)
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in os.environ["PYTHONPATH"].split(os.pathsep))
    return env


def run_submission(nb: nbformat.NotebookNode, items: list[Exercise], timeout: float, cache: Path,
                   sandbox: bool, executed: Path | None) -> Outcome:
    """Execute one notebook (already read) in its own process and kernel; collect the checkers' verdicts."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="grade-", ignore_cleanup_errors=True) as tmp:  # whatever it left
        work = Path(tmp)
        notebook, result, verdicts = work / "submission.ipynb", work / "result.json", work / "verdicts.jsonl"
        for cell in nb.cells:  # start from a clean slate: outputs in the file prove nothing
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nb.cells.append(recheck_cell(items))
        nbformat.write(nb, notebook)
        verdicts.touch()
        command = [sys.executable, str(Path(__file__).resolve()), "--run-one", str(notebook), "--result",
                   str(result), "--timeout", str(timeout)]
        process = subprocess.Popen([*SANDBOX, *command] if sandbox else command, cwd=work,
                                   env=clean_environment(work, cache, verdicts), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            log, _ = process.communicate(timeout=timeout + STARTUP_ALLOWANCE_S)
        except subprocess.TimeoutExpired:  # the run did not stop itself: end its whole process group
            if hasattr(os, "killpg"):
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            log, _ = process.communicate()
            outcome = Outcome("timeout", f"stopped after {timeout:g} s (time limit) and killed")
        else:
            outcome = _read_result(result, log.decode(errors="replace"))
        outcome.verdicts = read_verdicts(verdicts)
        outcome.seconds = time.perf_counter() - start
        if executed is not None and notebook.exists():
            executed.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(notebook, executed)
    return outcome


def _read_result(result: Path, log: str) -> Outcome:
    try:
        data = json.loads(result.read_text(encoding="utf-8"))
        return Outcome(data["kind"], data.get("detail", ""))
    except (OSError, ValueError, KeyError):
        tail = " | ".join(log.strip().splitlines()[-3:])
        return Outcome("error", f"the run ended without a result (kernel died?): {tail[-300:]}")


def read_verdicts(path: Path) -> dict[str, tuple[str, str]]:
    """checker -> (status, message) of its last call; lines that are not verdicts are ignored."""
    found: dict[str, tuple[str, str]] = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return found
    for line in lines:
        try:
            v = json.loads(line)
            if v["status"] in (PASSED, FAILED, NOT_ANSWERED):
                found[str(v["checker"])] = (v["status"], str(v["message"]))
        except (ValueError, KeyError, TypeError):
            continue
    return found


def run_one(notebook: Path, result: Path, timeout: float) -> int:
    """Inside the sandbox: execute ``notebook`` in place, cell by cell, within ``timeout`` seconds in all.

    Writes ``result`` as JSON: kind ``ran``, ``error`` (the cell and the exception) or ``timeout``. The
    kernel talks to this process over Unix sockets (``ipc``), which work without a network.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(notebook, as_version=4)
    transport = "ipc" if os.name == "posix" else "tcp"  # Unix sockets need no network (there is none inside)
    client = NotebookClient(nb, km=AsyncKernelManager(kernel_name=KERNEL, transport=transport), timeout=int(timeout),
                            allow_errors=False, record_timing=False, shutdown_kernel="immediate",
                            resources={"metadata": {"path": "."}})
    position, outcome = "", {"kind": "ran"}
    try:
        with client.setup_kernel(cleanup_kc=True):  # shut the kernel down even after a timeout
            deadline = time.monotonic() + timeout  # the cells' time; starting the kernel is not counted
            code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
            for number, index in enumerate(code_cells, start=1):  # the last one is the grader's own cell
                position = (f"code cell {number} of {len(code_cells) - 1}" if number < len(code_cells)
                            else "the grader's final check of every exercise")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CellTimeoutError(f"time limit reached before {position}")
                client.timeout = max(1, int(left))
                client.execute_cell(nb.cells[index], index)
    except CellTimeoutError:
        outcome = {"kind": "timeout", "detail": f"stopped after {timeout:g} s (time limit) in {position}"}
    except CellExecutionError as err:
        outcome = {"kind": "error", "detail": f"{position} raised {err.ename}: {_one_line(err.evalue)}"}
    except DeadKernelError as err:
        outcome = {"kind": "error", "detail": f"the kernel died in {position}: {_one_line(str(err))}"}
    except Exception as err:  # the kernel would not start, ...: a row with the reason, not a crash
        outcome = {"kind": "error", "detail": f"could not run it ({position or 'before the first cell'}): "
                                              f"{type(err).__name__}: {_one_line(str(err))}"}
    nbformat.write(nb, notebook)
    result.write_text(json.dumps(outcome), encoding="utf-8")
    return 0


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------------- the whole batch

def submissions(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted, without hidden files and folders (.ipynb_checkpoints...)."""
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def grade_file(path: Path, folder: Path, root: Path, assignment: str | None, timeout: float, cache: Path,
               sandbox: bool, out: Path, exercises_of: dict[str, list[Exercise]]) -> tuple[list[dict], dict]:
    """The gradebook rows and the summary row of one submitted file."""
    name = path.relative_to(folder).as_posix()
    names = list(exercises_of)
    nb, notebook, outcome = None, assignment, None
    try:
        with open(path, encoding="utf-8") as fh:
            nb = nbformat.read(fh, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as err:  # not JSON, not UTF-8, not a notebook: one row per exercise with the reason
        nb = None
        outcome = Outcome("not run", f"not a notebook ({type(err).__name__}: {_one_line(str(err), 160)})")
    if nb is not None:
        found, note = identify(nb, path.name, names)
        if assignment and found and found != assignment:
            outcome = Outcome("not run", f"this is notebook {found}, not the assignment {assignment}")
        elif assignment is None and found is None:
            outcome = Outcome("not run", f"cannot tell which notebook this is: {note}; pass --notebook NN")
        else:
            notebook = assignment or found
            executed = out / "executed" / name
            outcome = run_submission(nb, exercises_of[notebook], timeout, cache, sandbox,
                                     executed if executed.suffix == ".ipynb" else executed.with_suffix(".ipynb"))
            if note:
                outcome.detail = "; ".join(x for x in (note, outcome.detail) if x)
    rows = []
    for item in exercises_of.get(notebook, []) if notebook else []:
        if item.checker in outcome.verdicts:
            status, message = outcome.verdicts[item.checker]
        else:
            status, message = NOT_RUN, outcome.detail if outcome.kind != "ran" else "its checker was never called"
        rows.append({"file": name, "notebook": notebook, "exercise": item.checker, "status": status,
                     "message": message})
    if not rows:  # no notebook to take the exercises from: one row that says why
        rows.append({"file": name, "notebook": notebook or "", "exercise": "", "status": NOT_RUN,
                     "message": outcome.detail})
    ended = {"ran": "ran to the end", "not run": "not run"}.get(outcome.kind, outcome.kind)
    summary = {"file": name, "notebook": notebook or "", "exercises": len(rows) if notebook else 0,
               **{s: sum(r["status"] == s for r in rows if r["exercise"]) for s in STATUSES},
               "outcome": ended + (f": {outcome.detail}" if outcome.detail else ""),
               "seconds": f"{outcome.seconds:.1f}"}
    return rows, summary


def write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    """Write a CSV next to its final name, then rename: never a half-written gradebook."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def grade(folder: Path, root: Path, out: Path, assignment: str | None = None, timeout: float = DEFAULT_TIMEOUT_S,
          cache: Path | None = None, jobs: int = 1, sandbox: bool | None = None) -> tuple[list[dict], list[dict]]:
    """Grade every file under ``folder``; write ``gradebook.csv`` and ``summary.csv`` into ``out``."""
    names = course_notebooks(root)
    assignment = resolve_notebook(assignment, names) if assignment else None
    exercises_of = {n: exercises(root / "notebooks" / "src" / f"{n}.py") for n in names}
    cache = cache or Path(os.environ.get("COURSE_LIB_CACHE") or Path.home() / ".cache" / "course_lib").expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    sandbox = sandbox_available() if sandbox is None else sandbox
    if not sandbox:
        print("warning: `unshare` cannot make a network namespace here, so the network is NOT blocked while "
              "submissions run", file=sys.stderr)
    files = submissions(folder)
    out.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> tuple[list[dict], dict]:
        try:
            rows, summary = grade_file(path, folder, root, assignment, timeout, cache, sandbox, out, exercises_of)
        except Exception as err:  # a fault of the grader on one file: a row that says so, and on with the rest
            name = path.relative_to(folder).as_posix()
            detail = f"the grader failed on this file: {type(err).__name__}: {_one_line(str(err))}"
            rows = [{"file": name, "notebook": assignment or "", "exercise": "", "status": NOT_RUN, "message": detail}]
            summary = {"file": name, "notebook": assignment or "", "exercises": 0, **dict.fromkeys(STATUSES, 0),
                       "outcome": f"not run: {detail}", "seconds": "0.0"}
        print(f"{summary['file']}: {summary[PASSED]}/{summary['exercises']} passed, {summary['outcome']}",
              flush=True)
        return rows, summary

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, files))
    gradebook = [row for rows, _ in results for row in rows]
    summaries = [summary for _, summary in results]
    write_csv(out / "gradebook.csv", GRADEBOOK_FIELDS, gradebook)
    write_csv(out / "summary.csv", SUMMARY_FIELDS, summaries)
    return gradebook, summaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/grade.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, nargs="?", help="folder of submitted notebooks")
    parser.add_argument("--notebook", help="the assignment, e.g. 05: files of another notebook are not graded "
                                           "(default: each file is graded as the notebook its metadata names)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds the cells of one notebook may run in all (default {DEFAULT_TIMEOUT_S})")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: build/grades)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="model cache shared by all runs (default: $COURSE_LIB_CACHE or ~/.cache/course_lib)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions run at the same time (default 1)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1],
                        help="repository root (default: the one this script is in)")
    parser.add_argument("--run-one", type=Path, help=argparse.SUPPRESS)  # the sandboxed worker
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_one:
        return run_one(args.run_one, args.result, args.timeout)
    if args.submissions is None or not args.submissions.is_dir():
        parser.error(f"SUBMISSIONS must be a folder of notebooks, got {args.submissions}: e.g. "
                     "python tools/grade.py submissions/ --notebook 05")
    if args.timeout <= 0 or args.jobs < 1:
        parser.error("--timeout must be > 0 seconds and --jobs >= 1")
    out = args.out or args.root / "build" / "grades"
    if not submissions(args.submissions):
        parser.error(f"{args.submissions} holds no files to grade")
    gradebook, summaries = grade(args.submissions, args.root, out, args.notebook, args.timeout, args.cache, args.jobs)
    print(f"\n{len(summaries)} files, {sum(r['status'] == PASSED for r in gradebook)}/{len(gradebook)} exercises "
          f"passed. Gradebook: {out / 'gradebook.csv'}; per student: {out / 'summary.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
