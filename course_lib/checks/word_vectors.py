"""Checkers for the exercises of notebook 01 (an analogy query, the noise distribution, PPMI-SVD's dimensions)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course_lib.checks.core import attempt, checker, close, number, report
from course_lib.wordvec import WordVectors, category_precision, ppmi, svd_vectors


@checker
def check_noise_distribution(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> bool:
    """``fn(counts (V,), exponent) -> (V,)``: word2vec's noise distribution, p(w) ∝ count(w) ** exponent."""
    name = "check_noise_distribution"
    cases = [(torch.tensor([1.0, 10.0, 100.0, 1000.0]), 0.75), (torch.tensor([3.0, 0.0, 5.0]), 0.75),
             (torch.tensor([2.0, 6.0]), 1.0), (torch.tensor([7.0, 1.0, 2.0]), 0.0)]
    for counts, exponent in cases:
        got = attempt(name, fn, counts.clone(), exponent)
        if not isinstance(got, torch.Tensor) or got.shape != counts.shape:
            return report(name, False, f"return a tensor of shape {tuple(counts.shape)}: one probability per word.")
        want = counts ** exponent / (counts ** exponent).sum()
        if not torch.isfinite(got).all() or not close(got.sum(), torch.tensor(1.0), atol=1e-5):
            return report(name, False, f"for counts {counts.tolist()} the probabilities sum to {got.sum().item():.4f}: "
                                       "divide by the total of count ** exponent, so that they sum to 1.")
        if close(got, counts / counts.sum(), atol=1e-5) and exponent != 1.0:
            return report(name, False, "that is the word frequency itself: raise the counts to the power "
                                       f"`exponent` ({exponent}) first.")
        if not close(got, want, atol=1e-5):
            return report(name, False, f"for counts {counts.tolist()} and exponent {exponent} expected "
                                       f"{[round(x, 4) for x in want.tolist()]}, got {[round(x, 4) for x in got.tolist()]}.")
    rare = (cases[0][0] ** 0.75 / (cases[0][0] ** 0.75).sum())[0] / (cases[0][0] / cases[0][0].sum())[0]
    return report(name, True, f"correct: with counts 1, 10, 100, 1000 the rarest word is drawn {rare:.1f}x as "
                              "often as its frequency.")


def ppmi_precision(counts: torch.Tensor, words: list[str], word_class: dict[str, str], dims: tuple[int, ...] = (60,),
                   alpha: float = 0.75) -> list[float]:
    """Category precision@5 of PPMI-SVD vectors built from ``counts`` (as ``ppmi_svd``), one per dimension in
    ``dims``: one SVD, whose first columns are the vectors of every smaller dimension."""
    vectors = svd_vectors(ppmi(counts, alpha), max(dims))
    return [category_precision(WordVectors(list(words), vectors[:, :dim]), word_class, k=5) for dim in dims]


@checker
def check_ppmi_dimensions(answer: float, counts: torch.Tensor, words: list[str], word_class: dict | None) -> bool:
    """``answer``: category precision@5 of PPMI-SVD at 60 dimensions, from the notebook's co-occurrence
    ``counts`` and ``words`` (within 0.001), recomputed here."""
    name = "check_ppmi_dimensions"
    value = number(name, answer)
    if not isinstance(word_class, dict):
        return report(name, False, "this exercise needs the toy world's word classes (`word_class`): run the "
                                   "notebook with corpus = \"toyworld\".")
    if not (isinstance(counts, torch.Tensor) and counts.dim() == 2 and len(words) == len(counts)):
        return report(name, False, "pass the notebook's `counts` and `count_words` (section 4) after your answer.")
    want, base = ppmi_precision(counts, words, word_class, (60, 30))
    if abs(value - want) <= 1e-3:
        trend = "lower" if want < base else "higher"
        return report(name, True, f"correct: {want:.3f} at 60 dimensions, {trend} than {base:.3f} at 30.")
    if abs(value - base) <= 1e-3:
        return report(name, False, "that is the precision at 30 dimensions: rebuild the vectors with 60.")
    if abs(value - ppmi_precision(counts, words, word_class, (60,), alpha=1.0)[0]) <= 1e-3:
        return report(name, False, "the library smooths the context counts (alpha = 0.75): use ppmi(counts, "
                                   "alpha=0.75) as ppmi_svd does.")
    return report(name, False, f"you found {value:.3f}; 60-dimensional PPMI-SVD vectors from these counts give "
                               "another precision: build them with ppmi_svd(..., dim=60) (same window and "
                               "min_count) and score them with category_precision(vectors, word_class, k=5).")


@checker
def check_analogy(fn: Callable[[WordVectors, str, str, str], str]) -> bool:
    """``fn(vectors, a, b, c)`` returns the word d of a : b :: c : d by 3CosAdd, excluding a, b and c."""
    name = "check_analogy"
    words = ["man", "woman", "king", "queen", "boy", "girl", "apple"]
    # axes: person, female, royal, young
    vectors = torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 2.0, 0.0], [1.0, 1.0, 2.0, 0.0],
                            [1.0, 0.0, 0.0, 2.0], [1.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, -1.0]])
    wv = WordVectors(words, vectors)
    for a, b, c in (("man", "woman", "king"), ("man", "king", "woman"), ("king", "queen", "boy")):
        got = attempt(name, fn, wv, a, b, c)
        want = wv.analogy(a, b, c)[0][0]
        if got in (a, b, c):
            return report(name, False, f"{a} : {b} :: {c} : {got}? Exclude the three query words from the answer.")
        if got != want:
            return report(name, False, f"{a} : {b} :: {c} : expected {want!r}, got {got!r}. Use unit vectors: "
                                       "b - a + c, then the word of highest cosine.")
    return report(name, True, "correct: king - man + woman lands on queen.")
