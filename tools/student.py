"""The student edition: every notebook without its worked solutions (what `make student` runs).

``python tools/student.py [NN ...] [--out build/student]`` writes ``build/student/NN_name.ipynb`` for
each notebook. The cells and their tags come from the source ``notebooks/src/NN_name.py``; the outputs
come from the stored, executed ``notebooks/NN_name.ipynb``, so the lesson reads as before.

The scheme, one answer cell per exercise:

* Each exercise already has its answer cell under its text: a stub (``raise NotImplementedError  # your
  code here``) and its checker call (``done = checks_x.check_y(fn)``). It stays, with its output.
* Cells tagged ``solution`` (the "Solutions" section) are removed. A solution code cell that defines
  a function or value *no* earlier cell stubs becomes that stub instead: each function's signature
  and docstring with ``raise NotImplementedError  # your code here``, each value as ``name = ...``,
  and its ``assert check(...)`` lines as ``done = check(...)``; no outputs. (Keeping a second stub of
  a function the learner already wrote above would replace their answer.)
* The solution markdown is replaced by one cell: a "Solutions" heading and a line saying the worked
  solutions are in the instructor's edition.

Each student notebook carries ``metadata["course"] = {"notebook": "NN_name", "edition": "student"}``,
which the grader (``tools/grade.py``) reads. ``exercises(script)`` lists a notebook's exercises: the
checkers its solution cells call, and the name each one checks.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import nbformat

if __package__ in (None, ""):  # run as a script: make `tools` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.runner import notebook_paths, script_to_notebook, write_atomic  # noqa: E402

SOLUTION_TAG = "solution"
STUB_BODY = "raise NotImplementedError  # your code here"
POINTER = ("### Solutions\n\n"
           "The worked solutions are not part of this edition: your instructor has them. The checker "
           "under each exercise tells you whether your answer is right.")
CHECKS_PACKAGE = "course_lib.checks"


@dataclass(frozen=True)
class Exercise:
    """One exercise: the checker ``module.checker``, the name of the answer it checks (None: not a name) and
    the notebook objects passed after it, as source text (an investigative exercise's checker recomputes the
    learner's number from them: ``check_y(number, model, batch)`` has context ``("model", "batch")``)."""

    checker: str
    module: str
    answer: str | None
    context: tuple[str, ...] = ()


class StudentEditionError(Exception):
    """A notebook cannot be turned into its student edition (stale stored notebook, unparsable cell...)."""


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return SOLUTION_TAG in cell.metadata.get("tags", [])


# ----------------------------------------------------------------------------------- reading the sources

def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as err:
        raise StudentEditionError(f"{where}: cannot parse this code cell ({err}); solution cells must be "
                                  "plain Python") from None


def _parse_or_none(source: str) -> ast.Module | None:
    """Lesson cells may hold IPython magics; they are skipped where only imports are looked for."""
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _check_aliases(cells: list[nbformat.NotebookNode]) -> dict[str, tuple[str, str | None]]:
    """Names bound by imports of course_lib.checks: alias -> (module, checker or None for a module)."""
    aliases: dict[str, tuple[str, str | None]] = {}
    for cell in cells:
        tree = _parse_or_none(cell.source) if cell.cell_type == "code" else None
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if full == CHECKS_PACKAGE or full.startswith(CHECKS_PACKAGE + "."):
                        aliases[alias.asname or alias.name] = (full, None)  # a module of checkers
                    elif node.module.startswith(CHECKS_PACKAGE) and alias.name.startswith("check_"):
                        aliases[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(CHECKS_PACKAGE) and alias.asname:
                        aliases[alias.asname] = (alias.name, None)
    return aliases


def _checker_call(node: ast.AST, aliases: dict[str, tuple[str, str | None]]) -> Exercise | None:
    """``alias.check_x(answer)`` or ``check_x(answer)`` with a checker imported from course_lib.checks."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr.startswith("check_"):
        module, name = aliases.get(func.value.id, (None, None))
        if module is None or name is not None:
            return None
        checker = func.attr
    elif isinstance(func, ast.Name) and func.id in aliases and aliases[func.id][1]:
        module, checker = aliases[func.id]
    else:
        return None
    answer = node.args[0].id if isinstance(node.args[0], ast.Name) else None
    return Exercise(checker, module, answer, tuple(ast.unparse(arg) for arg in node.args[1:]))


def exercises(script: Path) -> list[Exercise]:
    """The exercises of a notebook: every checker its solution cells call, in order, once each."""
    nb = script_to_notebook(script)
    aliases = _check_aliases(nb.cells)
    found: dict[str, Exercise] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not is_solution(cell):
            continue
        for node in ast.walk(_parse(cell.source, f"{script.name}, cell {index}")):
            exercise = _checker_call(node, aliases)
            if exercise and exercise.checker not in found:
                found[exercise.checker] = exercise
    return list(found.values())


def _is_stub_body(body: list[ast.stmt]) -> bool:
    """A function body that is only a docstring and ``raise NotImplementedError`` (or ``...``)."""
    statements = body[1:] if body and _docstring_node(body[0]) else body
    if len(statements) != 1:
        return False
    (stmt,) = statements
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is ...


def _docstring_node(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def stubbed_names(source: str) -> set[str]:
    """Names a cell leaves for the learner to write: stub functions and values assigned ``...``."""
    tree = _parse_or_none(source)
    names: set[str] = set()
    for node in tree.body if tree else ():
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_stub_body(node.body):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant) \
                and node.value.value is ...:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


# ------------------------------------------------------------------------------------------- the stubs

def _header_end(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> tuple[int, int]:
    """Where the colon that ends a ``def``/``class`` header is: (1-based line, column after it)."""
    text = "\n".join(lines[node.lineno - 1:]) + "\n"
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
            elif tok.type == tokenize.OP and tok.string == ":" and depth == 0:
                return node.lineno + tok.end[0] - 1, tok.end[1]
    except tokenize.TokenError:
        pass
    raise StudentEditionError(f"cannot find the end of the header of {node.name!r}")


def _stub_of_definition(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    """Decorators, signature and docstring of ``node`` as written, then a body for the learner."""
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    end, column = _header_end(lines, node)
    header = lines[first - 1:end]
    header[-1] = header[-1][:column]  # `def f(x): return x` keeps only `def f(x):`
    body = []
    if node.body and _docstring_node(node.body[0]) and node.body[0].lineno > end:
        body = lines[node.body[0].lineno - 1:node.body[0].end_lineno]
    indent = " " * (node.col_offset + 4)
    return "\n".join(header + body + [indent + ("..." if isinstance(node, ast.ClassDef) else STUB_BODY)])


def stub_source(source: str, answers: set[str], skip: set[str] = frozenset(), where: str = "") -> str | None:
    """The student's version of a solution code cell, or None when nothing is left to write.

    Functions and classes become their signature, docstring and a stub body; assignments to an answer
    name (a value a checker checks) become ``name = ...``; ``assert check(...)`` becomes
    ``done = check(...)``; imports and the rest of the worked solution go. Names in ``skip`` (stubbed
    in an earlier cell) are left out, and with them the checker calls on them.
    """
    tree = _parse(source, where or "solution cell")
    lines = source.splitlines()
    parts: list[str] = []
    kept: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name not in skip:
            parts.append(_stub_of_definition(lines, node))
            kept.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name) and t.id in answers and t.id not in skip]
            if names and isinstance(node, ast.AnnAssign):
                parts.append(f"{names[0]}: {ast.get_source_segment(source, node.annotation)} = ...")
            elif names:
                parts.append(" = ".join(names) + " = ...")
            kept.update(names)
    checks = []
    for node in tree.body:
        if isinstance(node, ast.Assert) and isinstance(node.test, ast.Call):
            args = node.test.args
            if args and isinstance(args[0], ast.Name) and args[0].id in kept:
                checks.append(f"done = {ast.get_source_segment(source, node.test)}")
    if not parts:
        return None
    return "\n\n\n".join(parts) + ("\n\n\n" + "\n".join(checks) if checks else "")


# ---------------------------------------------------------------------------------- the student edition

def student_notebook(script: Path, stored: Path, allow_stale: bool = False) -> nbformat.NotebookNode:
    """The student edition of one notebook: source cells and tags, stored outputs, no solutions.

    Raises ``StudentEditionError`` when the stored notebook has other cells than the source (run
    ``make notebooks NB=NN``); with ``allow_stale``, cells whose text differs are kept from the source
    with their outputs cleared, and only a different number or kind of cells is an error.
    """
    source_nb = script_to_notebook(script)
    try:
        stored_nb = nbformat.read(stored, as_version=4)
    except FileNotFoundError:
        raise StudentEditionError(f"{stored} is missing: run `make notebooks NB={script.name[:2]}` first") from None
    name = script.stem
    if [c.cell_type for c in source_nb.cells] != [c.cell_type for c in stored_nb.cells]:
        raise StudentEditionError(
            f"{stored.name} has {len(stored_nb.cells)} cells, its source {script.name} has {len(source_nb.cells)} "
            f"(or their kinds differ): the stored outputs cannot be matched to the cells. Run "
            f"`make notebooks NB={name[:2]}` first.")
    stale = [i for i, (a, b) in enumerate(zip(source_nb.cells, stored_nb.cells, strict=True)) if a.source != b.source]
    if stale and not allow_stale:
        raise StudentEditionError(
            f"{stored.name} is stale: cells {stale[:10]} differ from {script.name}, so their stored outputs "
            f"belong to other code. Run `make notebooks NB={name[:2]}` first (or pass --allow-stale to clear "
            "the outputs of those cells).")

    answers = {e.answer for e in exercises(script) if e.answer}
    cells: list[nbformat.NotebookNode] = []
    stubbed: set[str] = set()
    pointer_placed = False
    for index, (cell, old) in enumerate(zip(source_nb.cells, stored_nb.cells, strict=True)):
        if not is_solution(cell):
            if cell.cell_type == "code":
                if index not in stale:
                    cell.outputs = old.get("outputs", [])
                    cell.execution_count = old.get("execution_count")
                stubbed |= stubbed_names(cell.source)
            elif "attachments" in old:
                cell.attachments = old.attachments
            cells.append(cell)
            continue
        if not pointer_placed:
            cells.append(nbformat.v4.new_markdown_cell(POINTER, id=cell.id))
            pointer_placed = True
        if cell.cell_type != "code":
            continue  # the solution's explanation: the pointer stands for all of it
        stub = stub_source(cell.source, answers, skip=stubbed, where=f"{script.name}, cell {index}")
        if stub is None:
            continue  # every name it defines is stubbed above, under its exercise
        stubbed |= stubbed_names(stub)
        tags = [t for t in cell.metadata.get("tags", []) if t != SOLUTION_TAG]
        cells.append(nbformat.v4.new_code_cell(stub, id=f"{cell.id}-stub", metadata={"tags": tags} if tags else {}))

    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = dict(stored_nb.metadata)  # kernelspec, language_info and the widget state the outputs need
    nb.metadata["course"] = {"notebook": name, "edition": "student"}
    return nb


def build_all(root: Path, out: Path, selection: list[str] | None = None, allow_stale: bool = False) -> int:
    """`make student`: write every student notebook into ``out``; report each; non-zero when one failed."""
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for script in notebook_paths(root / "notebooks" / "src", selection, suffix=".py"):
        target = out / f"{script.stem}.ipynb"
        try:
            nb = student_notebook(script, root / "notebooks" / f"{script.stem}.ipynb", allow_stale)
        except StudentEditionError as err:
            failures += 1
            print(f"FAILED {target.name}: {err}", file=sys.stderr)
            continue
        write_atomic(nb, target)
        target.chmod(0o644)  # a file to hand out (the temporary file it was written as is private)
        count = len(exercises(script))
        print(f"{target.relative_to(root) if target.is_relative_to(root) else target}: {count} exercises")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/student.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("selection", nargs="*", help="notebook numbers or name prefixes, e.g. 05 06 (default: all)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: here)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: build/student)")
    parser.add_argument("--allow-stale", action="store_true",
                        help="build even when a stored notebook's cells differ from its source (their outputs "
                             "are cleared)")
    args = parser.parse_args(argv)
    if not (args.root / "notebooks" / "src").is_dir():
        parser.error(f"{args.root} has no notebooks/src/ folder: run from the repository root or pass --root")
    return build_all(args.root, args.out or args.root / "build" / "student", args.selection, args.allow_stale)


if __name__ == "__main__":
    sys.exit(main())
