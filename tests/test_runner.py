"""`make course` on a broken notebook names it and the failing cell, and still prints the table."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools.runner import RunResult, format_table, main


def write(path, cells):
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                      "display_name": "Python 3"}}), path)


def test_course_reports_the_broken_notebook_and_cell(tmp_path, capsys):
    (tmp_path / "notebooks").mkdir()
    params = new_code_cell("seed = 0", metadata={"tags": ["parameters"]})
    write(tmp_path / "notebooks" / "00_fine.ipynb", [new_markdown_cell("# ok"), params, new_code_cell("x = seed + 1")])
    write(tmp_path / "notebooks" / "01_broken.ipynb",
          [new_markdown_cell("# broken"), params, new_code_cell("y = 1"), new_code_cell("raise ValueError('on purpose')")])
    code = main(["course", "--root", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "00_fine.ipynb" in out and "01_broken.ipynb" in out and "1/2 ok" in out
    assert "01_broken.ipynb failed in cell" in err and "ValueError: on purpose" in err
    assert (tmp_path / "build" / "00_fine.html").exists() and (tmp_path / "build" / "01_broken.html").exists()


def test_table_lists_every_notebook():
    table = format_table([RunResult("00_a.ipynb", 1.25, "ok"), RunResult("01_b.ipynb", 3.0, "FAILED", "x")])
    lines = table.splitlines()
    assert lines[0].split() == ["notebook", "seconds", "status"]
    assert "00_a.ipynb" in lines[2] and "1.2" in lines[2] and "FAILED" in lines[3]
    assert lines[-1].split()[-2:] == ["1/2", "ok"]
