"""Counting: corpus -> word ids, one-hot vectors, co-occurrence counts -> PPMI -> SVD word vectors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.wordvec.vectors import WordVectors

if TYPE_CHECKING:
    from course_lib.data.corpus import Corpus


Sentences = Iterable[Sequence[str]]


def sentences_of(corpus: Corpus | Sentences) -> list[list[str]]:
    """Token lists from a ``Corpus`` (its sentences) or from any iterable of token sequences."""
    return [list(getattr(s, "tokens", s)) for s in corpus]


def build_vocabulary(sentences: Sentences, min_count: int = 1) -> tuple[list[str], np.ndarray]:
    """Words seen at least ``min_count`` times, most frequent first (ties by word), and their counts."""
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    counts = Counter(w for s in sentences for w in s)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if not words:
        raise ValueError(f"no word occurs at least min_count={min_count} times: lower min_count or add text")
    return words, np.array([counts[w] for w in words], dtype=np.int64)


def corpus_ids(sentences: Sentences, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(N,) word ids of every known token, in order, and (N,) the sentence each comes from.

    Unknown words are dropped before windows are taken, as word2vec does.
    """
    ids, sent = [], []
    for k, s in enumerate(sentences):
        known = [index[w] for w in s if w in index]
        ids.extend(known)
        sent.extend([k] * len(known))
    return np.array(ids, dtype=np.int64), np.array(sent, dtype=np.int64)


def one_hot(ids: torch.Tensor | Sequence[int], vocab_size: int) -> torch.Tensor:
    """(..., V) float one-hot rows: every two distinct words are orthogonal, at distance √2."""
    return F.one_hot(torch.as_tensor(ids, dtype=torch.long), vocab_size).float()


def cooccurrence_counts(sentences: Sentences, window: int = 2, words: Sequence[str] | None = None,
                        min_count: int = 1) -> tuple[torch.Tensor, list[str]]:
    """(V, V) symmetric counts of word pairs at most ``window`` apart within a sentence, and the words.

    ``cooccurrence_counts([["a", "b", "c"]], window=1)`` counts (a, b) and (b, c) once each way.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    sentences = sentences_of(sentences)
    if words is None:
        words, _ = build_vocabulary(sentences, min_count)
    index = {w: i for i, w in enumerate(words)}
    ids, sent = corpus_ids(sentences, index)
    V = len(words)
    flat = np.zeros(V * V, dtype=np.float64)
    for offset in range(1, window + 1):
        same = sent[offset:] == sent[:-offset]
        a, b = ids[:-offset][same], ids[offset:][same]
        flat += np.bincount(a * V + b, minlength=V * V) + np.bincount(b * V + a, minlength=V * V)
    return torch.from_numpy(flat.reshape(V, V)), list(words)


def ppmi(counts: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Positive pointwise mutual information: max(0, log p(w, c) / (p(w) p(c))), 0 where a count is 0.

    ``alpha < 1`` smooths the context distribution (p(c) ∝ count(c)^alpha), as Levy et al. (2015) do
    with 0.75. Rows or columns with no counts give zeros, never NaN.
    """
    counts = counts.double()
    total = counts.sum()
    if total <= 0:
        return torch.zeros_like(counts)
    p_wc = counts / total
    p_w = counts.sum(1, keepdim=True) / total
    context = counts.sum(0, keepdim=True) ** alpha
    p_c = context / context.sum()
    with torch.no_grad():
        pmi = torch.log(p_wc / (p_w * p_c))
    return torch.where(counts > 0, pmi.clamp(min=0), torch.zeros_like(pmi))


def svd_vectors(matrix: torch.Tensor, dim: int, power: float = 0.5) -> torch.Tensor:
    """(V, dim) rows of U_k Σ_k^power from the truncated SVD (power 0.5 splits Σ between words and contexts)."""
    if not 1 <= dim <= min(matrix.shape):
        raise ValueError(f"dim must be in 1..{min(matrix.shape)}, got {dim}")
    if min(matrix.shape) > 2000:  # a randomized truncated SVD: the full one of a large matrix takes minutes
        U, S, _ = torch.svd_lowrank(matrix.double(), q=min(dim + 20, min(matrix.shape)), niter=6)
    else:
        U, S, _ = torch.linalg.svd(matrix.double(), full_matrices=False)
    U = U[:, :dim] * torch.where(U[:, :dim].sum(0) < 0, -1.0, 1.0)  # fix each column's sign: deterministic
    return (U * S[:dim] ** power).float()


def ppmi_svd(corpus: Corpus | Sentences, dim: int = 50, window: int = 2, min_count: int = 1,
             alpha: float = 0.75) -> WordVectors:
    """Count-based word vectors: window co-occurrence counts -> PPMI -> truncated SVD."""
    counts, words = cooccurrence_counts(corpus, window, min_count=min_count)
    return WordVectors(words, svd_vectors(ppmi(counts, alpha), min(dim, len(words))))
