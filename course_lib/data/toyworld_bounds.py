"""Exact bounds of the toy world: best perplexity, the cloze ceiling, and the next-sentence ceiling.

All of them follow from the exact sentence probability of the unambiguous grammar. Conventions:

- **Perplexity bound** (``level="sentence"``): ``exp(-sum log p(s) / sum (len(s) + 1))`` — the ``+ 1``
  is ``<eos>``, predicted like any token, as a language model does. ``p(s)`` sums out the topic and the
  character, so it bounds models that see one sentence at a time. ``level="document"`` uses
  ``p(s_i | s_1 .. s_{i-1})`` instead: the bound for models that read the document from its start.
- **Cloze ceiling**: mask one position, score the sentence with every vocabulary word there; the Bayes
  guess is the most probable word and its expected accuracy is ``max_w p(w | rest)``. Averaged over all
  positions of the sampled sentences (one mask at a time, sentence-level context only).
- **NSP ceiling**: pairs (a, b) with b the true next sentence (prob 0.5) or a sentence of another
  document (0.5). Every sentence reveals its topic and named ones reveal the character, so the Bayes rule
  says "IsNext" iff the topics match and the names do not differ; it errs only on negatives of the same
  topic whose names do not conflict: ``1 - 0.5 * sum_t p(t)^2 (1 - f_t^2 (1 - 1/N_t))`` with ``f_t`` the
  share of named sentences in topic ``t`` and ``N_t`` its number of names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from course_lib.data.corpus import Corpus, Document, Sentence


@dataclass
class LMBound:
    """Best achievable per-token cross-entropy (nats) and perplexity on a set of sentences."""

    nats_per_token: float
    perplexity: float
    num_tokens: int  # words + one <eos> per sentence
    num_sentences: int
    level: str


@dataclass
class ClozeCeiling:
    """Best achievable masked-word accuracy: expected (``mean max_w p(w | rest)``) and realized (argmax)."""

    expected_accuracy: float
    argmax_accuracy: float
    num_positions: int
    by_tag: dict[str, float] = field(default_factory=dict)  # expected accuracy per gold tag of the masked word


def _tokens(s: Sentence | Sequence[str]) -> Sequence[str]:
    return s.tokens if isinstance(s, Sentence) else s


def perplexity_bound(world, sentences: Corpus | Iterable[Sentence], level: str = "sentence") -> LMBound:
    if level == "sentence":
        sents = list(sentences.sentences() if isinstance(sentences, Corpus) else sentences)
        logps = world.logprobs(sents)
    elif level == "document":
        docs = sentences.documents if isinstance(sentences, Corpus) else list(sentences)
        if not all(isinstance(d, Document) for d in docs):
            raise ValueError("level='document' needs a Corpus or a list of Documents")
        sents = [s for d in docs for s in d.sentences]
        logps = np.array([lp for d in docs for lp in document_logprobs(world, d)])
    else:
        raise ValueError(f"unknown level {level!r}: use 'sentence' or 'document'")
    if not sents:
        raise ValueError("no sentences to compute a perplexity bound on")
    if not np.isfinite(logps).all():
        bad = sents[int(np.flatnonzero(~np.isfinite(logps))[0])]
        raise ValueError(f"sentence not in the toy world: {' '.join(_tokens(bad))!r}")
    num_tokens = sum(len(_tokens(s)) + 1 for s in sents)
    nats = float(-logps.sum() / num_tokens)
    return LMBound(nats, float(np.exp(nats)), num_tokens, len(sents), level)


# ---------------------------------------------------------------------------- latent topic and character


def _latent_ratio(world, tokens: Sequence[str]) -> tuple[float, np.ndarray] | None:
    """(log p(s), ratio) with ratio[t, n] = p(s | topic t, name n) / p(s), a (K, N_max) array."""
    parsed = world.parse(tokens)
    if parsed is None:
        return None
    tid, ids = parsed
    g = world.grammar
    tpl = g.templates[tid]
    t, num_names = tpl.topic, len(world._names[tpl.topic])
    ratio = np.zeros((len(world.topics), max(len(x) for x in world._names)))
    if tpl.name_slot >= 0:
        ratio[t, int(world._local[ids[tpl.name_slot]])] = num_names / g.topic_prior[t]
    else:
        ratio[t, :num_names] = 1.0 / g.topic_prior[t]
    return world._score(tid, ids), ratio


def _latent_prior(world) -> np.ndarray:
    prior = np.zeros((len(world.topics), max(len(x) for x in world._names)))
    for t, names in enumerate(world._names):
        prior[t, : len(names)] = world.grammar.topic_prior[t] / len(names)
    return prior


def document_logprobs(world, document: Document | Sequence[Sequence[str]]) -> list[float]:
    sentences = document.sentences if isinstance(document, Document) else document
    posterior, out = _latent_prior(world), []
    for s in sentences:
        scored = _latent_ratio(world, _tokens(s))
        if scored is None:
            out.append(-np.inf)
            continue
        logp, ratio = scored
        mass = float((posterior * ratio).sum())
        out.append(logp + np.log(mass) if mass > 0 else -np.inf)
        if mass > 0:
            posterior = posterior * ratio / mass
    return out


def nsp_probability(world, tokens_a: Sequence[str], tokens_b: Sequence[str]) -> float:
    a, b = _latent_ratio(world, tokens_a), _latent_ratio(world, tokens_b)
    if a is None or b is None:
        raise ValueError("both sentences must come from the toy world")
    r = float((_latent_prior(world) * a[1] * b[1]).sum())  # p(a, b consecutive) / (p(a) p(b))
    return r / (1.0 + r)


def nsp_ceiling(world) -> float:
    g = world.grammar
    for tpl in g.templates:  # the closed form needs every sentence to reveal its topic
        if not any(g.categories[c].topic == tpl.topic for c in tpl.slots):
            raise ValueError(f"template {tpl.kind} does not reveal its topic")
    error = 0.0
    for t, names in enumerate(world._names):
        named = sum(tpl.prob_given_topic for tpl in g.templates if tpl.topic == t and tpl.name_slot >= 0)
        error += g.topic_prior[t] ** 2 * (1 - named**2 * (1 - 1 / len(names)))
    return 1.0 - 0.5 * error


# ---------------------------------------------------------------------------- cloze


def _neighbours(world) -> dict[tuple[int, ...], list[tuple[int, int]]]:
    """Category sequence with one position blanked (-1) -> [(category there, template id)]."""
    if getattr(world, "_neighbour_index", None) is None:
        index = defaultdict(list)
        for tid, tpl in enumerate(world.grammar.templates):
            for i, c in enumerate(tpl.slots):
                index[tpl.slots[:i] + (-1,) + tpl.slots[i + 1 :]].append((c, tid))
        world._neighbour_index = dict(index)
    return world._neighbour_index


def _cloze_scores(world, tid: int, ids: np.ndarray, position: int) -> tuple[np.ndarray, np.ndarray]:
    """(word ids, log p(sentence with that word at position)) over every word that fits there."""
    g = world.grammar
    key = g.templates[tid].slots[:position] + (-1,) + g.templates[tid].slots[position + 1 :]
    all_words, all_scores = [], []
    for c, tid2 in _neighbours(world)[key]:
        tpl, cand = g.templates[tid2], g.categories[c].word_ids
        score = np.full(len(cand), tpl.logp)
        for j, parent in enumerate(tpl.parents):
            if j == position:
                score += world._uni_logp[cand] if parent < 0 else world._cond_logp[ids[parent], cand]
            elif parent == position:
                score += world._cond_logp[cand, ids[j]]
            else:
                score += world._uni_logp[ids[j]] if parent < 0 else world._cond_logp[ids[parent], ids[j]]
        all_words.append(cand)
        all_scores.append(score)
    return np.concatenate(all_words), np.concatenate(all_scores)


def _posterior(world, tokens: Sequence[str], position: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parsed = world.parse(tokens)
    if parsed is None:
        raise ValueError(f"sentence not in the toy world: {' '.join(tokens)!r}")
    if not 0 <= position < len(tokens):
        raise ValueError(f"position {position} outside a sentence of {len(tokens)} tokens")
    words, scores = _cloze_scores(world, *parsed, position)
    probs = np.exp(scores - scores.max())
    return words, probs / probs.sum(), parsed[1]


def cloze_posterior(world, tokens: Sequence[str], position: int) -> list[tuple[str, float]]:
    words, probs, _ = _posterior(world, tokens, position)
    order = np.argsort(-probs, kind="stable")
    return [(world.vocabulary[words[k]], float(probs[k])) for k in order if probs[k] > 0]


def cloze_ceiling(world, sentences: Iterable[Sentence | Sequence[str]], max_sentences: int = 2000,
                  seed: int = 0) -> ClozeCeiling:
    sents = list(sentences.sentences() if isinstance(sentences, Corpus) else sentences)
    if not sents:
        raise ValueError("no sentences to compute a cloze ceiling on")
    if len(sents) > max_sentences:
        keep = np.random.default_rng(seed).choice(len(sents), size=max_sentences, replace=False)
        sents = [sents[k] for k in sorted(keep)]
    expected, correct, n = 0.0, 0, 0
    per_tag: dict[str, list[float]] = defaultdict(list)
    for s in sents:
        tokens = _tokens(s)
        tags = world._template_tags[world.parse(tokens)[0]] if world.parse(tokens) else None
        for i in range(len(tokens)):
            words, probs, ids = _posterior(world, tokens, i)
            best = float(probs.max())
            expected += best
            correct += int(words[int(np.argmax(probs))] == ids[i])
            n += 1
            per_tag[tags[i]].append(best)
    return ClozeCeiling(expected / n, correct / n, n, {t: float(np.mean(v)) for t, v in sorted(per_tag.items())})
