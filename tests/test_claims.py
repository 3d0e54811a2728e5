"""The claims check: a number in the prose is printed by the same notebook, cited, or structural.

Small notebooks built in code show what the check catches and what it lets pass; the stored
notebooks are all checked.
"""

import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools.claims import claim_problems, prose_claims
from tools.runner import notebook_paths

ROOT = Path(__file__).resolve().parents[1]

# Every stored notebook's prose passes the claims check (`python tools/claims.py NN` lists what it flags).
CHECKED_NOTEBOOKS: list[str] = [p.name for p in notebook_paths(Path(__file__).resolve().parents[1] / "notebooks")]


def notebook(prose: str | list[str], printed: str | list[str] = (), parameters: str = "seed = 0") -> nbformat.NotebookNode:
    """A notebook: a parameters cell, one code cell per printed text (stdout), then the prose cells."""
    cells = [new_code_cell(parameters, metadata={"tags": ["parameters"]})]
    for text in [printed] if isinstance(printed, str) else printed:
        cells.append(new_code_cell("print(...)", outputs=[new_output("stream", name="stdout", text=text)]))
    cells += [new_markdown_cell(p) for p in ([prose] if isinstance(prose, str) else prose)]
    return new_notebook(cells=cells)


def flagged(prose: str | list[str], printed: str | list[str] = (), **kwargs) -> list[str]:
    return [f.text for f in claim_problems(notebook(prose, printed, **kwargs))]


def test_a_stale_number_is_caught_with_its_sentence():
    nb = notebook("Pre-training is short. The NSP accuracy is 0.910, far above chance.", "NSP accuracy 0.873\n")
    [finding] = claim_problems(nb)
    assert (finding.cell, finding.text, finding.kind) == (2, "0.910", "decimal")
    assert finding.sentence == "The NSP accuracy is 0.910, far above chance."
    assert "0.910" in str(finding) and "cell 2" in str(finding)
    assert flagged("The NSP accuracy is 0.873, far above chance.", "NSP accuracy 0.873\n") == []


def test_a_number_matches_at_the_precision_written():
    printed = "accuracy 0.9412, loss 2.31\n"
    assert flagged("Accuracy 0.94, accuracy 0.941, loss 2.3 and .94 again.", printed) == []
    assert flagged("Accuracy 0.9449 is not 0.9412.", "0.9412\n") == ["0.9449"]
    assert flagged("A loss of 2.314.", printed) == ["2.314"]  # more digits than were printed
    assert flagged("Accuracy 0.95.", printed) == ["0.95"]  # 0.9412 rounds to 0.94
    assert flagged("It fell by 0.5 points.", "change: -0.50\n") == []  # a sign is not compared
    assert flagged("cos 1 = 0.540 and sin 1 = 0.841.", "[[ 0.54   0.841]]\n") == []  # NumPy drops trailing zeros
    assert flagged("cos 1 = 0.540.", "[[ 0.544  0.841]]\n") == ["0.540"]
    assert flagged("It reaches 95.0 %.", "share 0.95\n") == []


def test_a_percentage_matches_a_share_or_a_printed_percentage():
    assert flagged("It reaches 95 % of the ceiling.", "ratio to ceiling 0.951\n") == []
    assert flagged("It reaches 95.1 % of the ceiling.", "ratio to ceiling 0.951\n") == []
    assert flagged("It reaches 95.1% of the ceiling.", "95.1 % of the ceiling\n") == []
    assert flagged("It reaches 0.95 of the ceiling.", "95.1 % of the ceiling\n") == []
    assert flagged("It reaches 95.1 % of the ceiling.", "share of the ceiling (%)  95.1\n") == []  # a "%" column
    assert flagged("It reaches 96 % of the ceiling.", "ratio to ceiling 0.951\n") == ["96 %"]
    assert flagged("It reaches 95.12 % of the ceiling.", "ratio to ceiling 0.951\n") == ["95.12 %"]


def test_a_ratio_matches_the_printed_number():
    assert flagged("The GPT step is 1.05× the LSTM's, and 1.05x again.", "ratio 1.0512\n") == []
    assert flagged("The GPT step is 1.10× the LSTM's.", "ratio 1.0512\n") == ["1.10×"]
    assert flagged("A 27× smaller difference.", "ratio 1.0512\n") == ["27×"]  # a ratio counts at any size
    claims = prose_claims("a 3×3 grid, then 12 × 12 maps")[1]
    assert [(c.text, c.kind) for c in claims] == [("12", "integer"), ("12", "integer")]  # shapes, not ratios


def test_a_cited_figure_passes_and_an_uncited_one_does_not():
    cited = "Without NSP the paper's QNLI fell from 88.4 to 84.9 [BERT paper, Table 5]."
    assert flagged(cited) == []
    assert flagged("Features came within 0.3 F1 of fine-tuning [ELMo paper, §5.3](https://arxiv.org/abs/1802.05365).") == []
    assert flagged("Without NSP the paper's QNLI fell from 88.4 to 84.9.") == ["88.4", "84.9"]
    assert flagged("QNLI fell from 88.4 to 84.9 [BERT paper].") == ["88.4", "84.9"]  # no locator: not a citation
    assert flagged("BERT pre-trained for 1,000,000 steps [BERT paper, Appendix A.2].") == []  # an appendix section
    assert flagged("BERT pre-trained for 1,000,000 steps [BERT paper, Appendix A].") == ["1,000,000"]  # no number


def test_a_citation_covers_only_its_own_clause():
    assert flagged("The paper lost 3.5 points [BERT paper, Table 5]; we lost 0.41.") == ["0.41"]
    assert flagged("The paper lost 3.5 points [BERT paper, Table 5] and we lost 0.41.") == ["0.41"]
    assert flagged("We lost 0.41. The paper lost 3.5 points [BERT paper, Table 5].") == ["0.41"]
    assert flagged("We lost 0.41 points (the paper 3.5 [BERT paper, Table 5]).") == ["0.41"]
    row = "| QNLI | 88.4 | 84.9 | [BERT paper, Table 5] |\n| ours | 0.41 | 0.40 | |"
    assert flagged(row) == ["0.41", "0.40"]


def test_structural_numbers_pass():
    prose = [
        "# 09 · BERT\n\n## 10 · The limit\n\nSection 12 and notebooks 10–12, like BERT (09, 10) and 06 and 11.",
        "Layer 12 of layers 0–1, head 11, step 1500, exercise 10, Table 15, Figure 21 and §5.3.",
        "ELMo (Peters et al., 2018) came in 2018, after Mikolov 2013, Vaswani et al. 2017 and (2017).",
        "Run `steps = 1500` or\n```python\nlr = 0.125\n```\nand read https://example.org/v1.05/page42 or [the docs](https://x.org/a/0.94).",
        "Subscripts and exponents: $x_{12}$, h_{t-1}, count^0.75, 10000^(2i/d) has one number, word2vec and WordSim353 none.",
    ]
    assert flagged(prose) == ["10000"]


def test_a_count_that_looks_like_a_year_or_an_index_is_still_a_number():
    assert flagged("We sampled 2018 sentences in 2000 documents.") == ["2018", "2000"]
    assert flagged("Layer 2 and 512 positions; notebooks 09 and 10.") == ["512"]


def test_numbers_inside_latex_count():
    assert flagged("The bound is $\\mathrm{PPL} = 4.37$ and $V = 1692$, summed over $t_{12}$.") == ["4.37", "1692"]


def test_integers_from_ten_count_with_their_separators():
    assert flagged("It has 1,692 ordinary tokens and 63 000 positions.", "1692 tokens, 63000 positions\n") == []
    assert flagged("It has 1692 ordinary tokens.", "1,692 tokens\n") == []
    assert flagged("It has 1,692 ordinary tokens.", "1,693 tokens\n") == ["1,692"]
    assert flagged("A period of 63 000 positions.", "period 62832\n") == ["63 000"]
    assert flagged("A period of about 63 000 positions.", "period 62832\n") == []  # "about": the zeros are not digits
    assert flagged("A period of about 47,100 positions.", "period 62832\n") == ["47,100"]
    assert flagged("BERT-base has 110M parameters.", "109,482,240 parameters\n") == ["110M"]
    assert flagged("BERT-base has 109M parameters.", "109,482,240 parameters\n") == []
    assert flagged("Seven words, 9 rows, 2 heads.") == []  # integers under 10 are not claims


def test_a_number_printed_only_by_another_notebook_is_caught():
    other = notebook("Nothing to claim here.", "NSP accuracy 0.910\n")
    assert claim_problems(other) == []
    this = notebook("The NSP accuracy is 0.910.", "MLM accuracy 0.52\n")
    assert [f.text for f in claim_problems(this)] == ["0.910"]


def test_exercise_statements_are_skipped_and_solutions_checked():
    prose = [
        "## 3 · Results\n\nThe loss is 2.31.",
        "## Exercises\n\n**Exercise 1.** Pre-train with 100 % [MASK], 3000 steps and lr 0.125.",
        "**Exercise 2.** Try T = 0.3 and 512 positions.\n\n### Solutions\n\nThe accuracy drops to 0.62.",
        "**2.** With 512 positions it reaches 0.77.",
    ]
    assert flagged(prose, "loss 2.31\n") == ["0.62", "512", "0.77"]


def test_parameter_values_count_as_printed_but_other_code_does_not():
    prose = "We train for 1500 steps at a learning rate of 0.003."
    assert flagged(prose, parameters="steps = 1500  # 2500 on a GPU\nlr: float = 3e-3") == []
    assert flagged(prose, parameters="steps = 1500") == ["0.003"]
    nb = notebook(prose, parameters="seed = 0")
    nb.cells.insert(1, new_code_cell("steps, lr = 1500, 0.003"))  # code is not output
    assert [f.text for f in claim_problems(nb)] == ["1500", "0.003"]
    assert flagged("Not 2500 steps.", parameters="steps = 1500  # 2500 on a GPU") == ["2500"]  # comments are not values


def test_only_what_a_reader_sees_printed_counts():
    nb = notebook("Scores 0.873, 0.612, 0.455, 0.771 and 640.")
    nb.cells[1:1] = [
        new_code_cell("", outputs=[new_output("stream", name="stderr", text="warning 0.873\n")]),
        new_code_cell("", outputs=[new_output("error", ename="ValueError", evalue="0.612", traceback=["0.612"])]),
        new_code_cell("", outputs=[new_output("display_data", data={
            "text/html": "<style>td {width: 0.455em}</style><table><tr><td>0.771</td></tr></table>"})]),
        new_code_cell("", outputs=[new_output("display_data", data={
            "text/plain": "<Figure size 640x480 with 1 Axes>", "image/png": "iVBORw0KGgo="})]),
    ]
    assert [f.text for f in claim_problems(nb)] == ["0.873", "0.612", "0.455", "640"]


def test_a_result_printed_as_text_plain_or_markdown_counts():
    nb = notebook("Scores 0.873 and 0.612.")
    nb.cells[1:1] = [
        new_code_cell("", outputs=[new_output("execute_result", data={"text/plain": "0.8731"}, execution_count=1)]),
        new_code_cell("", outputs=[new_output("display_data", data={"text/markdown": "| acc | 0.612 |"})]),
    ]
    assert claim_problems(nb) == []


def test_bad_input_says_what_was_expected():
    with pytest.raises(TypeError, match="nbformat.read"):
        claim_problems({"cells": []})


def test_the_check_runs_on_every_stored_notebook_in_well_under_two_seconds():
    notebooks = [nbformat.read(p, as_version=4) for p in notebook_paths(ROOT / "notebooks")]
    assert len(notebooks) >= 13
    start = time.perf_counter()
    results = [claim_problems(nb) for nb in notebooks]
    assert time.perf_counter() - start < 2.0
    for nb, findings in zip(notebooks, results, strict=True):
        for f in findings:  # each finding points at a markdown cell that holds the number and its sentence
            cell = nb.cells[f.cell]
            assert cell.cell_type == "markdown" and f.text.replace("\n", " ") in " ".join(cell.source.split())


def test_every_notebook_is_checked():
    assert len(CHECKED_NOTEBOOKS) == 13, CHECKED_NOTEBOOKS


@pytest.mark.parametrize("name", CHECKED_NOTEBOOKS)
def test_stored_notebook_prose_matches_its_outputs(name):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    assert [str(f) for f in claim_problems(nb)] == [], f"print these numbers, cite them, or fix the prose of {name}"


def test_the_sentence_of_a_finding_is_its_list_item_or_table_row():
    prose = "Two steps:\n\n1. train for a while,\n   reaching 0.41;\n2. fine-tune.\n\n| run | acc |\n|---|---|\n| a | 0.52 |\n"
    assert [f.sentence for f in claim_problems(notebook(prose))] == ["1. train for a while, reaching 0.41;", "| a | 0.52 |"]
