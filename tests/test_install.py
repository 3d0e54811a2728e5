"""The install story holds together: pyproject, environment.yml, Makefile, CI and README agree."""

import re
import sys

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")
yaml = pytest.importorskip("yaml")

CONDA_NAMES = {"pytorch": "torch"}


def split_spec(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_lists_the_same_packages_as_pyproject(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = dict(split_spec(s) for s in project["dependencies"])
    for extra in ("dev", "ref"):
        wanted.update(split_spec(s) for s in project["optional-dependencies"][extra])
    env = yaml.safe_load((root / "environment.yml").read_text())
    conda = {}
    for item in env["dependencies"]:
        if isinstance(item, str):
            name, spec = split_spec(item)
            conda[CONDA_NAMES.get(name, name)] = spec
    conda.pop("python"), conda.pop("pip")
    assert conda == wanted


def test_python_floor_is_the_same_everywhere(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"
    assert "python>=3.10" in (root / "environment.yml").read_text()
    assert "sys.version_info < (3, 10)" in (root / "Makefile").read_text()


def test_dependencies_are_ranges_not_pins(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + sum(project["optional-dependencies"].values(), [])
    assert specs and not [s for s in specs if "==" in s]


def test_makefile_installs_pinned_torch_first_with_an_override(root):
    makefile = (root / "Makefile").read_text()
    assert "TORCH_SPEC ?= torch==2.13.0" in makefile
    assert makefile.index("$(TORCH_SPEC)") < makefile.index('-e ".[dev,ref]"')
    for target in ("course:", "test:", "test-browser:", "notebooks:", "lab:", "bench:", "clean:"):
        assert re.search(rf"^{target}", makefile, re.M), target


def test_ci_runs_the_readme_test_command(root):
    ci = (root / ".ci" / "run").read_text()
    assert "make test\n" in ci and ci.index("make test\n") < ci.index("make test-browser")
    readme = (root / "README.md").read_text()
    assert "make course" in readme and "make test" in readme


def test_readme_course_map_lists_every_notebook(root):
    from course_lib.course_map import LESSONS

    readme = (root / "README.md").read_text()
    for lesson in LESSONS:
        assert f"{lesson.number}_{lesson.slug}" in readme, lesson.slug


def test_an_old_python_stops_make_with_a_one_line_message(root, tmp_path):
    """`make` with Python 3.9 says which Python is needed, before it creates anything."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    fake = tmp_path / "python3.9"
    fake.write_text('#!/bin/sh\nif [ "$1" = "-V" ]; then echo "Python 3.9.18"; exit 0; fi\nexit 1\n')
    fake.chmod(0o755)
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(root / name, tmp_path / name)
    result = subprocess.run(["make", "-s", "setup", f"PYTHON={fake}"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip() and "***" not in line]
    assert lines == [f"This course needs Python 3.10 or newer, but '{fake}' is Python 3.9.18: install Python >= "
                     "3.10 and run e.g. 'make test PYTHON=python3.11'."]
    assert not (tmp_path / ".venv").exists()
