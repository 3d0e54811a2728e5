"""Build, execute and check the course notebooks (what `make notebooks` and `make course` run).

* ``python tools/runner.py notebooks [NN ...]`` turns each jupytext script
  ``notebooks/src/NN_name.py`` into ``notebooks/NN_name.ipynb`` and executes it in place, so the
  stored notebook always has the outputs of one complete run of its source.
* ``python tools/runner.py course [NN ...]`` executes every stored notebook with papermill
  (default parameters) into ``build/``, exports each to HTML and prints a table
  (notebook, seconds, status). It exits non-zero when any notebook fails, after the table.
* ``python tools/runner.py unstable [NN ...]`` executes each stored notebook again with another floating-point
  rounding (other SIMD kernels) and lists the checked cells whose output changes: on another CPU they would
  fail nbval, so they get the ``nbval-ignore-output`` tag and an assert with a margin instead.
* ``hygiene_problems(nb)`` lists what is wrong with a stored notebook (the hygiene test uses it).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 1_536_000  # ~1.5 MB: outputs are stored in git, figures must stay modest
KERNEL = "python3"
CELL_TIMEOUT_S = 1800


def notebook_paths(folder: Path, selection: list[str] | None = None, suffix: str = ".ipynb") -> list[Path]:
    """The course notebooks (``NN_name``) in ``folder``, in order; ``selection`` keeps names starting so."""
    paths = sorted(p for p in folder.glob(f"[0-9][0-9]_*{suffix}"))
    if selection:
        paths = [p for p in paths if any(p.name.startswith(s) for s in selection)]
        if not paths:
            raise SystemExit(f"no notebook in {folder} matches {' '.join(selection)}")
    return paths


def script_to_notebook(script: Path) -> nbformat.NotebookNode:
    """Read a jupytext percent script into a notebook with stable cell ids and the course kernel."""
    import jupytext

    nb = jupytext.read(script)
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index:03d}"  # stable ids keep `git diff` of stored notebooks readable
        cell.metadata.pop("lines_to_next_cell", None)
    nb.metadata = {
        "kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


def write_atomic(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write a notebook to a temp file beside ``path``, then rename: never a half-written notebook."""
    write_text_atomic(path, nbformat.writes(nb) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a uniquely named temp file beside ``path``, then rename it onto ``path``.

    The temp name is unique, so two runs that export the same notebook at once never share one; the file
    is created by ``open`` (not ``mkstemp``, whose files are 0600), so the user's umask sets its mode.
    (``course_lib.files.write_atomic`` does the same; this tool does not import the package.)
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def execute_in_place(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    """Execute every cell with nbclient in ``cwd``; raises ``CellExecutionError`` on the first error."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL, resources={"metadata": {"path": str(cwd)}},
        record_timing=False, store_widget_state=True,
    )
    client.execute()
    return nb


def refresh_notebooks(root: Path, selection: list[str] | None = None) -> int:
    """`make notebooks`: rebuild and execute notebooks from their scripts; keep the old file on failure."""
    src, out = root / "notebooks" / "src", root / "notebooks"
    failures = 0
    for script in notebook_paths(src, selection, suffix=".py"):
        target = out / f"{script.stem}.ipynb"
        start = time.perf_counter()
        try:
            nb = execute_in_place(script_to_notebook(script), cwd=out)
        except Exception as err:  # report and go on with the next notebook
            failures += 1
            print(f"FAILED {target.name}: {first_lines(str(err), 25)}", file=sys.stderr)
            continue
        write_atomic(nb, target)
        size = target.stat().st_size / 1e6
        print(f"{target.name}: executed in {time.perf_counter() - start:.1f} s, {size:.2f} MB")
    return 1 if failures else 0


@dataclass
class RunResult:
    notebook: str
    seconds: float
    status: str  # "ok" or "FAILED"
    detail: str = ""


def run_one(path: Path, build: Path) -> RunResult:
    """Execute one notebook with papermill into ``build/`` and export it to HTML."""
    import papermill

    output = build / path.name
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path), str(output), kernel_name=KERNEL, cwd=str(path.parent),
            progress_bar=False, execution_timeout=CELL_TIMEOUT_S,
        )
        result = RunResult(path.name, time.perf_counter() - start, "ok")
    except papermill.PapermillExecutionError as err:
        result = RunResult(path.name, time.perf_counter() - start, "FAILED",
                           f"cell {err.cell_index} (execution count {err.exec_count}): {err.ename}: {err.evalue}")
    except Exception as err:  # kernel died, bad JSON, ...: still a row in the table
        result = RunResult(path.name, time.perf_counter() - start, "FAILED", f"{type(err).__name__}: {err}")
    if output.exists():
        export_html(output, output.with_suffix(".html"))
    return result


def export_html(notebook: Path, html: Path) -> None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(notebook))
    write_text_atomic(html, body)


def run_course(root: Path, selection: list[str] | None = None) -> int:
    """`make course`: every notebook in order into build/, then the table. Non-zero exit on failure."""
    build = root / "build"
    build.mkdir(exist_ok=True)
    results = []
    for path in notebook_paths(root / "notebooks", selection):
        print(f"running {path.name} ...", flush=True)
        results.append(run_one(path, build))
    print(format_table(results))
    for r in results:
        if r.status != "ok":
            print(f"\n{r.notebook} failed in {r.detail}", file=sys.stderr)
    return 0 if all(r.status == "ok" for r in results) else 1


def format_table(results: list[RunResult]) -> str:
    width = max([len("notebook")] + [len(r.notebook) for r in results])
    lines = [f"{'notebook':<{width}}  {'seconds':>8}  status", f"{'-' * width}  {'-' * 8}  ------"]
    lines += [f"{r.notebook:<{width}}  {r.seconds:8.1f}  {r.status}" for r in results]
    total = sum(r.seconds for r in results)
    lines.append(f"{'total':<{width}}  {total:8.1f}  {sum(r.status == 'ok' for r in results)}/{len(results)} ok")
    return "\n".join(lines)


def first_lines(text: str, n: int) -> str:
    """The last ``n`` lines of an error text, without terminal colour codes."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", text).strip().splitlines()
    return "\n".join(lines[-n:]) if len(lines) > n else "\n".join(lines)


def hygiene_problems(nb: nbformat.NotebookNode, size_bytes: int | None = None) -> list[str]:
    """What makes a stored notebook unfit for the course; an empty list when it is fine."""
    problems = []
    cells = nb.cells
    if not cells or cells[0].cell_type != "markdown" or not cells[0].source.lstrip().startswith("# "):
        problems.append("the first cell must be a markdown title ('# ...')")
    code = [c for c in cells if c.cell_type == "code"]
    if not code or "parameters" not in code[0].metadata.get("tags", []):
        problems.append("the first code cell must be tagged 'parameters' (papermill needs it)")
    counts = [c.get("execution_count") for c in code]
    if counts != list(range(1, len(code) + 1)):
        unrun = [i for i, c in enumerate(cells) if c.cell_type == "code" and c.get("execution_count") is None]
        problems.append(
            "outputs must come from one complete run, every code cell in order "
            f"(execution counts {counts[:12]}{'...' if len(counts) > 12 else ''}; unexecuted cells {unrun}): "
            "run `make notebooks`"
        )
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"cell {i} has an error output: {out.get('ename')}: {out.get('evalue')}")
    if not any(c.cell_type == "markdown" and is_exercises_heading(c.source) for c in cells):
        problems.append("no 'Exercises' section (a markdown heading containing 'Exercises')")
    if size_bytes is not None and size_bytes > MAX_NOTEBOOK_BYTES:
        problems.append(f"file is {size_bytes / 1e6:.2f} MB, over the 1.5 MB limit: shrink figures or dpi")
    return problems


# Another CPU rounds differently (other SIMD kernels, other BLAS code paths): a cell whose output depends on
# trained weights may print other digits there. These settings give this machine another rounding.
OTHER_ROUNDING = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41"}


def _sanitizers(root: Path) -> list[tuple[re.Pattern, str]]:
    """The regexes nbval applies before comparing (tests/nbval_sanitize.cfg)."""
    import configparser

    parser = configparser.ConfigParser()
    parser.read(root / "tests" / "nbval_sanitize.cfg", encoding="utf-8")
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def compared_text(cell: nbformat.NotebookNode, sanitizers: list[tuple[re.Pattern, str]]) -> str:
    """The text nbval compares for a code cell: streams and text outputs, sanitized."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            data = out.get("data", {})
            parts.extend(str(data[k]) for k in ("text/plain", "text/html") if k in data)
    text = "".join(parts)
    for regex, replace in sanitizers:
        text = regex.sub(replace, text)
    return text


def unstable_cells(path: Path, root: Path) -> list[tuple[int, str]]:
    """Cells of a stored notebook whose compared output changes when the CPU rounds differently.

    The notebook is executed again with ``OTHER_ROUNDING``; every code cell that nbval compares (not tagged
    ``nbval-ignore-output``) and prints other text is returned as ``(index, first line)``. Such a cell would fail
    CI on another machine: tag it ``nbval-ignore-output`` and assert its result, with a margin, in the notebook.
    """
    stored = nbformat.read(path, as_version=4)
    fresh = nbformat.read(path, as_version=4)
    before = {k: os.environ.get(k) for k in OTHER_ROUNDING}
    os.environ.update(OTHER_ROUNDING)  # the kernel is a new process: it starts with these
    try:
        execute_in_place(fresh, cwd=path.parent)
    finally:
        for k, v in before.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    sanitizers = _sanitizers(root)
    return [(i, a.source.splitlines()[0] if a.source else "")
            for i, (a, b) in enumerate(zip(stored.cells, fresh.cells, strict=True))
            if a.cell_type == "code" and "nbval-ignore-output" not in a.metadata.get("tags", [])
            and compared_text(a, sanitizers) != compared_text(b, sanitizers)]


def is_exercises_heading(source: str) -> bool:
    return any(line.startswith("#") and "exercises" in line.lower() for line in source.splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/runner.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["course", "notebooks", "unstable"],
                        help="unstable: list the cells whose checked output depends on the CPU's rounding")
    parser.add_argument("selection", nargs="*", help="notebook numbers or name prefixes, e.g. 00 03")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: here)")
    args = parser.parse_args(argv)
    if not (args.root / "notebooks").is_dir():
        parser.error(f"{args.root} has no notebooks/ folder: run from the repository root or pass --root")
    if args.command == "course":
        return run_course(args.root, args.selection)
    if args.command == "unstable":
        found = 0
        for path in notebook_paths(args.root / "notebooks", args.selection):
            cells = unstable_cells(path, args.root)
            found += len(cells)
            print(f"{path.name}: " + ("stable" if not cells else ", ".join(f"cell {i} ({line[:40]})" for i, line in cells)),
                  flush=True)
        return 1 if found else 0
    return refresh_notebooks(args.root, args.selection)


if __name__ == "__main__":
    sys.exit(main())
