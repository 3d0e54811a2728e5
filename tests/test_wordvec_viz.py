"""course_lib.wordvec.viz: the PCA word map names words without overlaps, in text a reader can read."""

from __future__ import annotations

import itertools

import matplotlib
import torch

from course_lib.wordvec import WordVectors
from course_lib.wordvec.viz import plot_word_map
from tests.support.figures import assert_readable, drawn_texts

matplotlib.use("Agg")


def crowded() -> tuple[WordVectors, list[str], list[str]]:
    """Eight word classes of six words in three tight clusters: names would pile up on each other."""
    g = torch.Generator().manual_seed(0)
    centres = 3 * torch.randn(3, 10, generator=g)
    words, labels, rows = [], [], []
    for c in range(8):
        centre = centres[c % 3] + 0.3 * torch.randn(10, generator=g)
        for j in range(6):
            words.append(f"w{c}_{j}")
            labels.append(f"class {c}")
            rows.append(centre + 0.25 * torch.randn(10, generator=g))
    return WordVectors(words, torch.stack(rows)), words, labels


def names(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


def test_names_never_overlap_each_other_or_the_legend_and_are_readable() -> None:
    vectors, words, labels = crowded()
    fig = plot_word_map(vectors, words, labels, annotate=len(words), title="crowded")
    assert_readable(fig)  # tick labels, legend and names: >= 8 pt, no overlaps
    ax = fig.axes[0]
    boxes = [e for t, e in drawn_texts(fig) if t in ax.texts] + [ax.get_legend().get_window_extent()]
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    assert 8 <= len(names(fig)) < len(words)  # many named, the ones with no free place left out


def test_the_query_and_highlighted_words_are_always_named() -> None:
    vectors, words, labels = crowded()
    highlight = ["w0_1", "w3_2", "w6_3"]  # the same cluster: crowded on purpose
    fig = plot_word_map(vectors, words, labels, highlight=highlight, query="w0_0", annotate=0)
    assert sorted(names(fig)) == sorted(["w0_0", *highlight])
    fig = plot_word_map(vectors, words, labels, annotate=5)
    assert set(names(fig)) <= set(words[:5]) and names(fig)


def test_a_word_with_a_dollar_is_named_literally() -> None:
    vectors = WordVectors(["$5", "cow", "pig"], torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]))
    fig = plot_word_map(vectors, ["$5", "cow", "pig"])
    assert r"\$5" in names(fig)
    assert_readable(fig)
