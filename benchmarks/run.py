"""Run every ``benchmarks/bench_*.py`` and print one table: what, ours, reference, ratio.

    python benchmarks/run.py              # all benchmarks
    python benchmarks/run.py attention    # only bench_attention.py

Each module defines ``rows()`` yielding ``harness.Row``. A module whose reference implementation
is not installed raises ImportError and is reported as skipped.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Row  # noqa: E402


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(selection: list[str]) -> int:
    import torch

    paths = sorted(HERE.glob("bench_*.py"))
    if selection:
        paths = [p for p in paths if any(s in p.stem for s in selection)]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; times are medians after warm-up\n")
    header = f"{'what':<58} {'ours':>10} {'reference':>10} {'unit':<6} {'ratio':>6}  note"
    print(header)
    print("-" * len(header))
    failed = 0
    for path in paths:
        start = time.perf_counter()
        try:
            for row in load(path).rows():
                print_row(row)
        except ImportError as err:
            print(f"{path.stem:<58} skipped: {err}")
        except Exception as err:  # one broken benchmark must not hide the others
            failed += 1
            print(f"{path.stem:<58} FAILED: {type(err).__name__}: {err}")
        print(f"{'':<58} ({path.stem}: {time.perf_counter() - start:.0f} s)")
    return 1 if failed else 0


def print_row(row: Row) -> None:
    print(f"{row.what:<58} {row.ours:>10.3g} {row.reference:>10.3g} {row.unit:<6} {row.ratio:>6.2f}  {row.note}",
          flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
