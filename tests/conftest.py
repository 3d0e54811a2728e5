"""Shared test set-up: headless matplotlib, seeded runs, the repository root."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # equivalence tests build transformers models from configs only
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]

# The grader's fixture class (broken, looping, half-done notebooks) is data for tests/test_classroom.py, not a
# notebook of the course: `make test` passes --nbval, which would otherwise execute every .ipynb under tests/.
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _seeded():
    import torch

    torch.manual_seed(0)
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def one_thread():
    """Tiny models run fastest on one thread, and do not fight other processes for the cores.

    A module opts in with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# `make test` runs the notebooks and the unit tests on several workers (pytest-xdist, --dist loadscope: each
# notebook, each test module, on one worker). Longest first keeps the workers busy to the end; the model cache's
# lock lets a notebook start before the one that trains its model has finished (it waits, or trains it itself).
NOTEBOOKS_LONGEST_FIRST = ("12", "09", "10", "03", "02", "04", "08", "01", "07", "11", "05", "00", "06")


def pytest_collection_modifyitems(session, config, items) -> None:
    def rank(item) -> tuple[int, int]:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb" and path.name[:2] in NOTEBOOKS_LONGEST_FIRST:
            return 0, NOTEBOOKS_LONGEST_FIRST.index(path.name[:2])
        return 1, 0  # unit tests after the notebooks, in their own order

    items.sort(key=rank)  # stable: a notebook's cells keep their order
