"""``WordVectors``: nearest neighbours, analogies, similarity and sense evaluations of word vectors.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from course_lib.arguments import check_int
from course_lib.core import majority_accuracy, train_probe
from course_lib.files import read_text, write_atomic


@dataclass
class SimilarityResult:
    spearman: float  # rank correlation of cosine and human scores over the covered pairs (0.0 if < 2)
    coverage: float  # share of pairs whose two words have vectors
    covered: int
    total: int


@dataclass
class AnalogyResult:
    accuracy: float  # share of covered questions answered exactly (0.0 if none is covered)
    coverage: float  # share of questions whose four words have vectors
    covered: int
    total: int
    by_section: dict[str, float]  # accuracy per family / section over its covered questions


class WordVectors:
    """One vector per word type, whatever trained it (one-hot, PPMI-SVD, skip-gram, gensim, a text file).

    >>> wv = WordVectors(["cow", "pig", "boat"], torch.tensor([[1.0, 0.1], [0.9, 0.2], [0.0, 1.0]]))
    >>> wv.most_similar("cow", k=1)[0][0]
    'pig'
    """

    def __init__(self, words: Sequence[str], vectors: torch.Tensor | np.ndarray) -> None:
        vectors = torch.as_tensor(vectors, dtype=torch.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"need a (V, C) matrix with one row per word: {len(words)} words, "
                             f"vectors of shape {tuple(vectors.shape)}")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("a word occurs twice in the vocabulary")
        self.vectors = vectors  # (V, C)
        self.unit = vectors / vectors.norm(dim=1, keepdim=True).clamp(min=1e-12)  # (V, C) rows of length 1

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> torch.Tensor:
        return self.vectors[self.id(word)]

    def __repr__(self) -> str:
        return f"WordVectors(words={len(self)}, dim={self.dim})"

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def id(self, word: str) -> int:
        """The row of ``word``; an unknown word raises ``KeyError`` naming the closest known words."""
        try:
            return self.index[word]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(word), self.words, n=5, cutoff=0.6)
            hint = f"closest known words: {', '.join(close)}" if close else "no known word is close to it"
            raise KeyError(f"{word!r} is not in the vocabulary ({len(self)} words); {hint}") from None

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        return float(self.unit[self.id(a)] @ self.unit[self.id(b)])

    def _nearest(self, query: torch.Tensor, k: int, exclude: Iterable[int]) -> list[tuple[str, float]]:
        scores = self.unit @ (query / query.norm().clamp(min=1e-12))  # (V,)
        scores[list(exclude)] = -math.inf
        top = scores.topk(min(k, len(self) - len(set(exclude))))
        return [(self.words[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)]

    def most_similar(self, word: str | torch.Tensor, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` words of highest cosine with ``word`` (itself excluded) or with a query vector."""
        check_int(k, "k", minimum=1)
        if isinstance(word, torch.Tensor):
            return self._nearest(word.float(), k, [])
        i = self.id(word)
        return self._nearest(self.unit[i], k, [i])

    def analogy(self, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
        """a : b :: c : ?  by 3CosAdd: the words nearest to b - a + c (unit vectors), a, b, c excluded.

        ``analogy("man", "king", "woman")`` -> ``[("queen", 0.8...)]`` with good vectors.
        """
        check_int(k, "k", minimum=1)
        ia, ib, ic = self.id(a), self.id(b), self.id(c)
        return self._nearest(self.unit[ib] - self.unit[ia] + self.unit[ic], k, [ia, ib, ic])

    def evaluate_similarity(self, pairs: Iterable) -> SimilarityResult:
        """Spearman correlation between cosine and gold scores; ``pairs``: (word_a, word_b, score) tuples
        or objects with ``word_a``, ``word_b``, ``score``. Pairs with an unknown word are skipped and
        counted in ``coverage``."""
        pairs = [(p.word_a, p.word_b, p.score) if hasattr(p, "word_a") else tuple(p)[:3] for p in pairs]
        covered = [(a, b, s) for a, b, s in pairs if a in self.index and b in self.index]
        coverage = len(covered) / len(pairs) if pairs else 0.0
        if len(covered) < 2:
            return SimilarityResult(0.0, coverage, len(covered), len(pairs))
        cosines = [self.similarity(a, b) for a, b, _ in covered]
        return SimilarityResult(spearman(cosines, [s for _, _, s in covered]), coverage, len(covered), len(pairs))

    def evaluate_analogy(self, questions: Iterable, batch_size: int = 1024) -> AnalogyResult:
        """Exact-match accuracy of 3CosAdd over the covered questions; ``questions``: (a, b, c, d[, section])
        tuples or objects with ``a``, ``b``, ``c``, ``d`` and ``family`` or ``section``."""
        rows = []
        for q in questions:
            a, b, c, d = (q.a, q.b, q.c, q.d) if hasattr(q, "a") else tuple(q)[:4]
            section = getattr(q, "family", None) or getattr(q, "section", None) or \
                (tuple(q)[4] if not hasattr(q, "a") and len(tuple(q)) > 4 else "all")
            rows.append((a, b, c, d, section))
        known = [r for r in rows if all(w in self.index for w in r[:4])]
        if not known:
            return AnalogyResult(0.0, 0.0, 0, len(rows), {})
        ids = torch.tensor([[self.index[w] for w in r[:4]] for r in known])  # (Q, 4)
        correct = []
        for start in range(0, len(ids), batch_size):
            q = ids[start : start + batch_size]
            target = self.unit[q[:, 1]] - self.unit[q[:, 0]] + self.unit[q[:, 2]]  # (Q, C)
            scores = target @ self.unit.T  # (Q, V): the norm of target does not change the argmax
            scores.scatter_(1, q[:, :3], -math.inf)
            correct.append(scores.argmax(1) == q[:, 3])
        correct = torch.cat(correct)
        by_section: dict[str, list[bool]] = {}
        for r, ok in zip(known, correct.tolist(), strict=True):
            by_section.setdefault(r[4], []).append(ok)
        return AnalogyResult(float(correct.float().mean()), len(known) / len(rows), len(known), len(rows),
                             {s: sum(v) / len(v) for s, v in by_section.items()})

    def project_2d(self, words: Sequence[str] | None = None) -> torch.Tensor:
        """(n, 2) coordinates of ``words`` (default: all) on their two principal components (PCA)."""
        rows = self.vectors if words is None else self.vectors[[self.id(w) for w in words]]
        centered = rows.double() - rows.double().mean(0)
        _, _, Vt = torch.linalg.svd(centered, full_matrices=False)
        axes = Vt[:2].T  # (C, 2)
        points = centered @ axes
        return (points * torch.where(points.sum(0) < 0, -1.0, 1.0)).float()  # a fixed sign per axis

    # ------------------------------------------------------------------ interchange

    @classmethod
    def from_gensim(cls, model) -> WordVectors:
        """From a gensim ``Word2Vec`` / ``FastText`` model or its ``KeyedVectors`` (``model.wv``)."""
        kv = getattr(model, "wv", model)
        return cls(list(kv.index_to_key), torch.from_numpy(np.array(kv.vectors, dtype=np.float32)))

    @classmethod
    def load_text(cls, path) -> WordVectors:
        """Read ``word v1 v2 ...`` lines (GloVe; word2vec's text format with its ``V C`` header line too).

        A line whose number of values differs from the first one raises ``ValueError`` naming the line.
        """
        path = Path(path)
        words, rows, dim = [], [], None
        try:
            with path.open(encoding="utf-8-sig") as f:  # streamed: a GloVe file can be large
                for number, line in enumerate(f, start=1):
                    if "\0" in line:
                        raise UnicodeError("a NUL byte")
                    dim = cls._parse_line(path, number, line, words, rows, dim)
        except UnicodeError:
            read_text(path, what="vector file")  # raises, naming the file, the line and the conversion
            raise
        except OSError as err:
            read_text(path, what="vector file")  # raises a message that names the file
            raise ValueError(f"cannot read vector file {path}: {err}") from err
        if not rows:
            raise ValueError(f"{path}: no vectors found")
        return cls(words, torch.tensor(rows))

    @staticmethod
    def _parse_line(path, number: int, line: str, words: list[str], rows: list[list[float]],
                    dim: int | None) -> int | None:
        """Append one ``word v1 ... vC`` line to ``words``/``rows``; return the dimension seen so far."""
        fields = line.rstrip("\n").rstrip().split(" ")
        if number == 1 and len(fields) == 2 and all(x.isdigit() for x in fields):
            return dim  # word2vec header: vocabulary size and dimension
        if not line.strip():
            return dim
        try:
            values = [float(x) for x in fields[1:]]
        except ValueError as err:
            raise ValueError(f"{path}, line {number}: expected a word and numbers, got {line[:60]!r}") from err
        dim = len(values) if dim is None else dim
        if len(values) != dim or not values:
            raise ValueError(f"{path}, line {number}: {len(values)} values for {fields[0]!r}, "
                             f"expected {dim} like the first vector")
        words.append(fields[0])
        rows.append(values)
        return dim

    def save_text(self, path) -> None:
        """Write word2vec's text format (``V C`` header, then ``word v1 ... vC``) atomically."""
        if any(not w or any(ch.isspace() for ch in w) for w in self.words):
            raise ValueError("a word is empty or contains whitespace: the text format cannot hold it")
        lines = [f"{len(self)} {self.dim}"] + [
            w + " " + " ".join(f"{x:.6g}" for x in row) for w, row in zip(self.words, self.vectors.tolist(), strict=True)]
        write_atomic(path, "\n".join(lines) + "\n", what="vector file")


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (ties get their average rank); 0.0 when either side is constant."""
    rx, ry = _ranks(np.asarray(x, dtype=np.float64)), _ranks(np.asarray(y, dtype=np.float64))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt((rx**2).sum() * (ry**2).sum())
    return float((rx * ry).sum() / denominator) if denominator > 0 else 0.0


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values), dtype=np.float64)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def category_precision(vectors: WordVectors, category: dict[str, str], k: int = 5) -> float:
    """Mean share of each word's ``k`` nearest neighbours (whole vocabulary) that share its category.

    Only words whose category has more than ``k`` known members are scored, so 1.0 is reachable.
    """
    members = Counter(c for w, c in category.items() if w in vectors)
    scored = [w for w, c in category.items() if w in vectors and members[c] > k]
    if not scored:
        return 0.0
    hits = [sum(category.get(n) == category[w] for n, _ in vectors.most_similar(w, k)) / k for w in scored]
    return float(np.mean(hits))


def sense_classification(vectors: WordVectors, train: Sequence, test: Sequence, seed: int = 0) -> tuple[float, float]:
    """Accuracy of the course's linear probe (``course_lib.core.train_probe``) whose only input is the static
    vector of the ambiguous token, and the per-word majority baseline, both on ``test`` (``SenseExample``s:
    ``word``, ``label``).

    Every token of "bank" gets the same vector, so no classifier can beat predicting each word's most
    frequent sense: this is the limit of one vector per word type.
    """
    train = [e for e in train if e.word in vectors]
    test = [e for e in test if e.word in vectors]
    if not train or not test:
        raise ValueError("no sense example whose word has a vector")
    x_train = torch.stack([vectors[e.word] for e in train])
    x_test = torch.stack([vectors[e.word] for e in test])
    y_train, y_test = torch.tensor([e.label for e in train]), torch.tensor([e.label for e in test])
    accuracy = train_probe(x_train, y_train, x_test, y_test, seed=seed)
    baseline = majority_accuracy([e.word for e in train], y_train, [e.word for e in test], y_test)
    return accuracy, baseline
