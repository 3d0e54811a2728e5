"""The one shape every corpus takes: documents -> sentences -> tokens, with gold labels where known."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

SPLITS = ("train", "validation", "test")


@dataclass
class Sentence:
    """One sentence as a list of word tokens, with gold labels where the source has them.

    ``tags`` (part of speech) and ``senses`` (``None`` for a token that is not polysemous) line up
    with ``tokens`` one to one. ``logprob`` is the exact natural-log probability of the sentence
    under the generator that produced it (toy world only). ``info`` holds any further gold facts.
    """

    tokens: list[str]
    tags: list[str] | None = None
    senses: list[str | None] | None = None
    logprob: float | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("tags", "senses"):
            labels = getattr(self, name)
            if labels is not None and len(labels) != len(self.tokens):
                raise ValueError(
                    f"{name} has {len(labels)} labels for {len(self.tokens)} tokens: {' '.join(self.tokens)!r}"
                )

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def pretty(self) -> str:
        """The tokens with their gold labels aligned underneath, one row per kind of label.

        >>> print(Sentence(["the", "bank"], tags=["DET", "NOUN"], senses=[None, "money"]).pretty())
        token  the  bank
        tag    DET  NOUN
        sense  -    money
        """
        rows = [("token", self.tokens)]
        if self.tags is not None:
            rows.append(("tag", self.tags))
        if self.senses is not None and any(self.senses):
            rows.append(("sense", [s or "-" for s in self.senses]))
        widths = [max(len(str(row[i])) for _, row in rows) for i in range(len(self.tokens))]
        return "\n".join(f"{name:<6} " + "  ".join(f"{str(v):<{w}}" for v, w in zip(row, widths, strict=True)).rstrip()
                         for name, row in rows)


@dataclass
class Document:
    """Consecutive sentences on one topic (the unit that next-sentence prediction samples from)."""

    sentences: list[Sentence]
    topic: str | None = None
    info: dict = field(default_factory=dict)


@dataclass
class Corpus:
    """A named split of documents. Iterating gives sentences; ``tokens()`` gives every token."""

    name: str
    split: str
    documents: list[Document]
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.split not in SPLITS + ("all",):
            raise ValueError(f"unknown split {self.split!r}: use one of {', '.join(SPLITS + ('all',))}")

    def sentences(self) -> Iterator[Sentence]:
        for doc in self.documents:
            yield from doc.sentences

    def __iter__(self) -> Iterator[Sentence]:
        return self.sentences()

    def tokens(self) -> Iterator[str]:
        for sentence in self.sentences():
            yield from sentence.tokens

    @property
    def num_sentences(self) -> int:
        return sum(len(doc.sentences) for doc in self.documents)

    @property
    def num_tokens(self) -> int:
        return sum(len(s) for s in self.sentences())

    def counts(self) -> Counter:
        """Token frequencies."""
        return Counter(self.tokens())

    def __repr__(self) -> str:
        return (
            f"Corpus({self.name!r}, split={self.split!r}, documents={len(self.documents)}, "
            f"sentences={self.num_sentences}, tokens={self.num_tokens})"
        )


class Analogy(NamedTuple):
    """One analogy question ``a : b :: c : d`` (king : queen :: man : woman) and its family or section."""

    a: str
    b: str
    c: str
    d: str
    family: str


class SimilarityPair(NamedTuple):
    """Two words and a similarity score given by people (WordSim353, SimLex-999) or by construction."""

    word_a: str
    word_b: str
    score: float
