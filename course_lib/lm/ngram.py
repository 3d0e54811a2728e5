"""Language models and how to score them: the ``LanguageModel`` protocol, cross-entropy, perplexity, n-grams.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from course_lib.text import Vocab


class LanguageModel(Protocol):
    def token_logprobs(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """One array per sentence: ``len(sentence) + 1`` natural-log probabilities (the last for <eos>)."""
        ...


def token_lists(sentences: Iterable) -> list[list[str]]:
    """Sentences as token lists: ``Sentence`` objects, a ``Corpus`` or plain lists of words."""
    return [list(getattr(s, "tokens", s)) for s in sentences]


def cross_entropy(model: LanguageModel, sentences: Iterable) -> float:
    """Mean negative log-likelihood in nats per predicted token (words + one <eos> per sentence)."""
    logps = model.token_logprobs(token_lists(sentences))
    num_tokens = sum(len(lp) for lp in logps)
    if num_tokens == 0:
        raise ValueError("no sentences to score")
    return float(-sum(float(np.sum(lp)) for lp in logps) / num_tokens)


def perplexity(model: LanguageModel, sentences: Iterable) -> float:
    """``exp(cross_entropy)``: the number of equally likely words the model hesitates between, on average."""
    return math.exp(cross_entropy(model, sentences))


class UniformLM:
    """Every token of the vocabulary equally likely: perplexity = ``len(vocab)``, the worst sensible model."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def token_logprobs(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        return [np.full(len(s) + 1, -math.log(len(self.vocab))) for s in sentences]


class NGramLM:
    """An n-gram model with interpolated Kneser–Ney smoothing (Chen & Goodman 1998), over ``vocab``'s ids.

    ``p_k(w | h) = max(c_k(h, w) - D_k, 0) / c_k(h) + D_k N1+(h •) / c_k(h) · p_{k-1}(w | h')``, where
    ``h'`` drops the oldest word of ``h``, ``c_n`` counts n-grams and a lower order ``c_k`` counts the
    distinct words seen *before* (h, w) (continuation counts), and ``p_0`` is uniform over the vocabulary.
    An unseen context falls through to the next order, so every ``p_k(• | h)`` sums to 1.
    ``order=1`` is the unigram baseline (absolutely discounted counts mixed with the uniform model).
    """

    def __init__(self, vocab: Vocab, order: int, counts: list[dict], discounts: list[float]) -> None:
        self.vocab, self.order, self.discounts = vocab, order, discounts
        self.counts = counts  # counts[k - 1][context tuple of k - 1 ids] = Counter(next id -> count)
        self.totals = [{h: sum(c.values()) for h, c in level.items()} for level in counts]

    @classmethod
    def fit(cls, sentences: Iterable, vocab: Vocab, order: int = 3, discount: float | None = None) -> NGramLM:
        """Count the sentences (each padded with ``order - 1`` <bos> and one <eos>) and estimate D_k.

        ``discount=None`` estimates ``D_k = n1 / (n1 + 2 n2)`` per order from the counts of counts.
        """
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        grams: Counter = Counter()
        for tokens in token_lists(sentences):
            ids = [vocab.bos_id] * (order - 1) + vocab.encode(tokens) + [vocab.eos_id]
            grams.update(tuple(ids[i - order + 1: i + 1]) for i in range(order - 1, len(ids)))
        levels = [grams]
        for _ in range(order - 1):  # continuation counts: how many distinct words precede the (k)-gram
            levels.insert(0, Counter(g[1:] for g in levels[0]))
        counts, discounts = [], []
        for level in levels:
            table: dict = defaultdict(Counter)
            for g, c in level.items():
                table[g[:-1]][g[-1]] = c
            counts.append(dict(table))
            n1, n2 = sum(c == 1 for c in level.values()), sum(c == 2 for c in level.values())
            discounts.append(discount if discount is not None else (n1 / (n1 + 2 * n2) if n1 + n2 else 0.5))
        return cls(vocab, order, counts, discounts)

    def prob(self, context: Sequence[int], word: int) -> float:
        """p(word | the last ``order - 1`` ids of context), ids of ``self.vocab``."""
        p = 1.0 / len(self.vocab)
        context = tuple(context)
        for k in range(1, self.order + 1):  # from the unigram up to the full order
            h = context[len(context) - (k - 1):] if k > 1 else ()
            total = self.totals[k - 1].get(h)
            if not total:
                continue  # unseen context: this order adds nothing, keep the lower-order estimate
            seen, d = self.counts[k - 1][h], self.discounts[k - 1]
            p = max(seen.get(word, 0) - d, 0.0) / total + d * len(seen) / total * p
        return p

    def next_word_probs(self, context: Sequence[int]) -> np.ndarray:
        """(V,) p(w | context) for every id w of the vocabulary; sums to 1. Equal to ``prob`` word by word
        (the same recursion on all words at once, so that sampling does not call ``prob`` V times a step)."""
        V = len(self.vocab)
        p = np.full(V, 1.0 / V)
        context = tuple(context)
        for k in range(1, self.order + 1):
            h = context[len(context) - (k - 1):] if k > 1 else ()
            total = self.totals[k - 1].get(h)
            if not total:
                continue
            seen, d = self.counts[k - 1][h], self.discounts[k - 1]
            c = np.zeros(V)
            c[list(seen)] = list(seen.values())
            p = np.maximum(c - d, 0.0) / total + d * len(seen) / total * p
        return p

    def token_logprobs(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        out = []
        for tokens in sentences:
            ids = [self.vocab.bos_id] * (self.order - 1) + self.vocab.encode(list(tokens)) + [self.vocab.eos_id]
            out.append(np.log([self.prob(ids[i - self.order + 1: i], ids[i])
                               for i in range(self.order - 1, len(ids))]))
        return out

    def sample(self, num_sentences: int, max_length: int = 30, seed: int = 0) -> list[list[str]]:
        """Sentences drawn word by word from <bos> until <eos>; special tokens other than <eos> never drawn."""
        rng, v, out = np.random.default_rng(seed), self.vocab, []
        allowed = np.array([i not in v.special_ids or i == v.eos_id for i in range(len(v))])
        for _ in range(num_sentences):
            ids = [v.bos_id] * (self.order - 1)
            while len(ids) - (self.order - 1) < max_length:
                p = self.next_word_probs(ids) * allowed
                w = int(rng.choice(len(p), p=p / p.sum()))
                if w == v.eos_id:
                    break
                ids.append(w)
            out.append(v.decode(ids[self.order - 1:]))
        return out
