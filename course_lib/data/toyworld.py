"""The toy world: a seeded generator of English-like documents with gold labels and exact probabilities.

Generated here from a hand-written lexicon (``toyworld_lexicon``) and a flat, unambiguous template
grammar (``toyworld_grammar``), so the course runs offline and every claim it makes can be measured:

    >>> world = ToyWorld()
    >>> corpus = world.corpus("train", seed=0, num_documents=2)
    >>> corpus.documents[0].sentences[0].text          # doctest: +SKIP
    'the dogs that tom feeds bark'

- Each document keeps one topic and one recurring character (a name of that topic), which is what
  makes next-sentence prediction learnable; ``nsp_ceiling()`` is the exact Bayes accuracy.
- Ten polysemous words (bank, bat, ...) whose sense is fixed by a cue word only on the right for six
  of them (a verb right after it: ``the bank floods``) and only on the left for four (an adjective right
  before it: ``the sweaty palm``); on the right an adverb sometimes comes between (``info["cue_distance"]``).
- Agreement across a relative clause: ``the cow that the farmers feed sleeps`` / ``the cows ... sleep``.
- Analogy families (gender, plural, verb number, country-resident, country-dish) that word vectors can
  solve by vector arithmetic: a word's identity and its attribute come from separate, shared contexts
  (``he feeds this dairy cow``, ``the king rules his kingdom``, ``NAME eats rome pasta``).
- Optional families, off by default (``ToyWorldConfig().with_families()`` switches them on; see
  ``toyworld_families``): sense cues and agreement subjects ``d`` words away, part of speech decided by context,
  clause depth, senses with twenty cues each, statements for polarity / entailment / QA, and a label that needs
  the left and the right context together. Their tasks: ``family_tasks``.
- ``logprob(tokens)`` is the exact sentence probability with topic and character summed out (the
  *sentence-level* distribution: each sentence as if drawn alone). A model that reads the earlier
  sentences of a document knows the topic and the name and can do better;
  ``document_logprobs`` gives that document-level bound too.
- Splits: one stream of documents per seed; a document's split is a hash of its text, so the splits
  never share a document and ``num_documents=n`` gives the first ``n`` of that split.
"""

from __future__ import annotations

import functools
import itertools
import zlib
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from course_lib.arguments import check_int
from course_lib.data.corpus import SPLITS, Corpus, Document, Sentence
from course_lib.data.toyworld_bounds import (
    ClozeCeiling,
    LMBound,
    cloze_ceiling,
    cloze_posterior,
    document_logprobs,
    nsp_ceiling,
    nsp_probability,
    perplexity_bound,
)
from course_lib.data.toyworld_grammar import TAGS, Grammar, ToyWorldConfig
from course_lib.data.toyworld_lexicon import PolysemousWord

__all__ = ["ClozeCeiling", "LMBound", "TAGS", "ToyWorld", "ToyWorldConfig", "toy_world", "toyworld_corpus"]

_CHUNK = 1024  # documents in the first generation chunk (see ToyWorld.stream)


def _split_of(text: str, shares: tuple[float, float, float]) -> str:
    """The split a document belongs to: a hash of its text, so equal documents share a split."""
    u = zlib.crc32(text.encode("utf-8")) / 2**32
    return "train" if u < shares[0] else "validation" if u < shares[0] + shares[1] else "test"


class ToyWorld:
    """The grammar with its sampler and exact scorer. ``ToyWorld(ToyWorldConfig.tiny())`` for tests."""

    def __init__(self, config: ToyWorldConfig | None = None) -> None:
        self.config = config or ToyWorldConfig()
        g = self.grammar = Grammar(self.config)
        self.vocabulary: list[str] = list(g.words)
        self.word_index = g.word_index
        self.topics: list[str] = list(g.topics)
        self.tags: tuple[str, ...] = TAGS
        self.polysemous: dict[str, PolysemousWord] = {pw.word: pw for pw in g.polysemous}
        V = len(self.vocabulary)
        self._words = np.array(self.vocabulary, dtype=object)
        self._category = np.array(g.word_category, dtype=np.int64)
        self._local = np.zeros(V, dtype=np.int64)
        self._uni_logp = np.zeros(V)
        for cat in g.categories:
            self._local[cat.word_ids] = np.arange(len(cat.word_ids))
            self._uni_logp[cat.word_ids] = np.log(cat.probs)
        self._cond_logp = np.full((V, V), -np.inf)  # (V, V): log p(child word | parent word)
        self._table_cdf = {}
        for (pc, cc), table in g.tables.items():
            self._cond_logp[np.ix_(g.categories[pc].word_ids, g.categories[cc].word_ids)] = np.log(table)
            self._table_cdf[pc, cc] = np.cumsum(table, axis=1)
        self._cat_cdf = [np.cumsum(c.probs) for c in g.categories]
        self._template_tags = [list(t.tags) or [g.categories[c].tag for c in t.slots] for t in g.templates]
        self._topic_templates = []  # per topic: (template ids, cdf of p(e | t))
        for t in range(len(self.topics)):
            ids = np.array([i for i, tpl in enumerate(g.templates) if tpl.topic == t])
            self._topic_templates.append((ids, np.cumsum([g.templates[i].prob_given_topic for i in ids])))
        self._template_senses = [list(t.senses) for t in g.templates]
        self._template_info = [{"kind": t.kind, "topic": self.topics[t.topic], "template": i, **t.info}
                               for i, t in enumerate(g.templates)]
        self._names = [g.categories[g.category_index[f"NAME.{s}"]].word_ids for s in self.topics]

    def __repr__(self) -> str:
        return (f"ToyWorld(words={len(self.vocabulary)}, tags={len(self.tags)}, topics={len(self.topics)}, "
                f"polysemous={len(self.polysemous)}, templates={len(self.grammar.templates)})")

    # ------------------------------------------------------------------ parsing and scoring
    def parse(self, tokens: Sequence[str]) -> tuple[int, np.ndarray] | None:
        """(template id, word ids) of the one derivation of ``tokens``; ``None`` if there is none."""
        try:
            ids = np.fromiter((self.word_index[w] for w in tokens), dtype=np.int64, count=len(tokens))
        except KeyError:
            return None
        tid = self.grammar.signature.get(tuple(self._category[ids].tolist()))
        return None if tid is None else (tid, ids)

    def _score(self, tid: int, ids: np.ndarray) -> float:
        tpl = self.grammar.templates[tid]
        parents = np.array(tpl.parents)
        has = parents >= 0
        terms = np.where(has, self._cond_logp[ids[np.where(has, parents, 0)], ids], self._uni_logp[ids])
        return float(tpl.logp + terms.sum())

    def logprob(self, tokens: Sequence[str]) -> float:
        """Exact natural-log probability of a sentence (topic and character summed out); -inf if impossible."""
        parsed = self.parse(tokens)
        return -np.inf if parsed is None else self._score(*parsed)

    def logprobs(self, sentences: Iterable[Sequence[str] | Sentence]) -> np.ndarray:
        """(N,) ``logprob`` of each sentence (token lists or ``Sentence`` objects)."""
        return np.array([self.logprob(s.tokens if isinstance(s, Sentence) else s) for s in sentences])

    def count_derivations(self, tokens: Sequence[str]) -> int:
        """How many (template, word choice) derivations give ``tokens``, by brute force over all templates."""
        g = self.grammar
        members = [set(g.categories[c].word_ids.tolist()) for c in range(len(g.categories))]
        ids = [self.word_index.get(w, -1) for w in tokens]
        return sum(len(t.slots) == len(ids) and all(i in members[c] for i, c in zip(ids, t.slots, strict=True))
                   for t in g.templates)

    # ------------------------------------------------------------------ bounds and ceilings
    def perplexity_bound(self, sentences: Corpus | Iterable[Sentence], level: str = "sentence") -> LMBound:
        """Best achievable per-token cross-entropy on these sentences, ``<eos>`` counted as a token."""
        return perplexity_bound(self, sentences, level)

    def document_logprobs(self, document: Document | Sequence[Sequence[str]]) -> list[float]:
        """``log p(s_i | s_1 .. s_{i-1})`` for each sentence of a document (topic and name carried over)."""
        return document_logprobs(self, document)

    def cloze_posterior(self, tokens: Sequence[str], position: int) -> list[tuple[str, float]]:
        """``p(word at position | the other words)`` for every possible word, most probable first."""
        return cloze_posterior(self, tokens, position)

    def cloze_ceiling(self, sentences: Iterable[Sentence | Sequence[str]], max_sentences: int = 2000,
                      seed: int = 0) -> ClozeCeiling:
        """Best achievable accuracy of predicting one masked word from the rest of its sentence."""
        return cloze_ceiling(self, sentences, max_sentences, seed)

    def nsp_ceiling(self) -> float:
        """Exact Bayes accuracy of next-sentence prediction (50 % true next, 50 % from another document)."""
        return nsp_ceiling(self)

    def nsp_probability(self, tokens_a: Sequence[str], tokens_b: Sequence[str]) -> float:
        """Bayes posterior ``P(IsNext | a, b)`` under the generator's own negative sampling."""
        return nsp_probability(self, tokens_a, tokens_b)

    # ------------------------------------------------------------------ generation
    def _sample_chunk(self, rng: np.random.Generator, n: int) -> tuple:
        """``n`` raw documents: topics and names per document, a template per sentence, words per template.

        Returns (topics (n,), names (n,), lengths (n,), tokens per sentence, template per sentence, logp per sentence).
        """
        cfg, g = self.config, self.grammar
        topics = rng.choice(len(self.topics), size=n, p=g.topic_prior)
        num_names = np.array([len(x) for x in self._names])
        names = (rng.random(n) * num_names[topics]).astype(np.int64)
        lengths = rng.integers(cfg.min_sentences, cfg.max_sentences + 1, size=n)
        doc_of = np.repeat(np.arange(n), lengths)
        template_of = np.zeros(len(doc_of), dtype=np.int64)
        for t, (ids, cdf) in enumerate(self._topic_templates):
            rows = np.flatnonzero(topics[doc_of] == t)
            pick = np.searchsorted(cdf, rng.random(len(rows)) * cdf[-1], side="right")
            template_of[rows] = ids[np.minimum(pick, len(ids) - 1)]
        tokens: list[list[str]] = [[]] * len(doc_of)
        logps = np.zeros(len(doc_of))
        order = np.argsort(template_of, kind="stable")
        bounds = np.flatnonzero(np.diff(template_of[order])) + 1
        for rows in np.split(order, bounds):
            tid = int(template_of[rows[0]])
            ids = self._fill(rng, tid, rows, doc_of, topics, names)
            for r, toks in zip(rows.tolist(), self._words[ids].tolist(), strict=True):
                tokens[r] = toks
            logps[rows] = self._batch_score(tid, ids)
        return topics, names, lengths, tokens, template_of, logps

    def _documents(self, chunk: tuple, split: str) -> Iterator[Document]:
        """The chunk's documents that fall in ``split`` ("all": every one), as ``Document`` objects."""
        topics, names, lengths, tokens, template_of, logps = chunk
        starts = np.concatenate([[0], np.cumsum(lengths)]).tolist()
        logps = logps.tolist()
        template_of = template_of.tolist()
        tags, senses, info = self._template_tags, self._template_senses, self._template_info
        for d in range(len(topics)):
            rows = range(starts[d], starts[d + 1])
            texts = [" ".join(tokens[r]) for r in rows]
            if split != "all" and _split_of("\n".join(texts), self.config.split_shares) != split:
                continue
            t = int(topics[d])
            sentences = [Sentence(tokens[r], tags[template_of[r]][:], senses[template_of[r]][:], logps[r],
                                  info[template_of[r]].copy()) for r in rows]
            yield Document(sentences, topic=self.topics[t],
                           info={"character": self.vocabulary[self._names[t][names[d]]]})

    def _fill(self, rng, tid, rows, doc_of, topics, names) -> np.ndarray:
        """(m, L) word ids for the m sentences ``rows`` that use template ``tid``."""
        g, tpl = self.grammar, self.grammar.templates[tid]
        ids = np.zeros((len(rows), len(tpl.slots)), dtype=np.int64)
        for pos, (c, parent) in enumerate(zip(tpl.slots, tpl.parents, strict=True)):
            u = rng.random(len(rows))
            if pos == tpl.name_slot:
                ids[:, pos] = self._names[tpl.topic][names[doc_of[rows]]]
            elif parent < 0:
                cdf = self._cat_cdf[c]
                ids[:, pos] = g.categories[c].word_ids[np.minimum(np.searchsorted(cdf, u * cdf[-1], "right"),
                                                                  len(cdf) - 1)]
            else:
                cdf = self._table_cdf[tpl.slots[parent], c][self._local[ids[:, parent]]]  # (m, n_child)
                pick = (u[:, None] * cdf[:, -1:] >= cdf).sum(axis=1)
                ids[:, pos] = g.categories[c].word_ids[np.minimum(pick, cdf.shape[1] - 1)]
        return ids

    def _batch_score(self, tid: int, ids: np.ndarray) -> np.ndarray:
        tpl = self.grammar.templates[tid]
        total = np.full(len(ids), tpl.logp)
        for pos, parent in enumerate(tpl.parents):
            total += self._uni_logp[ids[:, pos]] if parent < 0 else self._cond_logp[ids[:, parent], ids[:, pos]]
        return total

    def stream(self, seed: int = 0, split: str = "all") -> Iterator[Document]:
        """The endless, seeded stream of documents that the splits are cut from (or one split of it).

        Chunk ``k`` draws ``min(1024 * 2**k, 32768)`` documents from ``SeedSequence([seed, k])``: small
        requests stay cheap and large ones vectorize well.
        """
        check_int(seed, "seed", minimum=0)
        for k in range(2**62):
            rng = np.random.default_rng(np.random.SeedSequence([int(seed), k]))
            yield from self._documents(self._sample_chunk(rng, _CHUNK * 2 ** min(k, 5)), split)

    def corpus(self, split: str = "train", seed: int = 0, num_documents: int | None = None) -> Corpus:
        """The first ``num_documents`` documents of ``split`` (default: the config's size for that split)."""
        if split not in SPLITS + ("all",):
            raise ValueError(f"unknown split {split!r}: use one of {', '.join(SPLITS + ('all',))}")
        cfg = self.config
        defaults = {"train": cfg.train_documents, "validation": cfg.validation_documents,
                    "test": cfg.test_documents}
        if num_documents is None:
            num_documents = sum(defaults.values()) if split == "all" else defaults[split]
        check_int(num_documents, "num_documents", minimum=1)  # an empty corpus is useless
        check_int(seed, "seed", minimum=0)
        docs = list(itertools.islice(self.stream(seed, split), num_documents))
        return Corpus("toyworld", split, docs, info={"seed": seed, "generator": repr(self)})

    # ------------------------------------------------------------------ small conveniences
    def enumerate_sentences(self, limit: int = 1_000_000) -> Iterator[list[str]]:
        """Every sentence the grammar can produce (for tiny configs); stops with ValueError past ``limit``."""
        g, count = self.grammar, 0
        for tpl in g.templates:
            choices = [[self.vocabulary[i] for i in g.categories[c].word_ids] for c in tpl.slots]
            if tpl.name_slot >= 0:
                choices[tpl.name_slot] = [self.vocabulary[i] for i in self._names[tpl.topic]]
            for words in _product(choices):
                count += 1
                if count > limit:
                    raise ValueError(f"the grammar has more than {limit} sentences: use a tinier config")
                yield list(words)

    def describe(self) -> dict:
        """Headline numbers: vocabulary size, tags, topics, polysemous words and their deciding side."""
        return {"words": len(self.vocabulary), "tags": len(self.tags), "topics": list(self.topics),
                "templates": len(self.grammar.templates),
                "polysemous": {w: (pw.side, pw.senses) for w, pw in self.polysemous.items()}}


def _product(choices: list[list[str]]) -> Iterator[tuple[str, ...]]:
    return itertools.product(*choices)


@functools.lru_cache(maxsize=4)
def _cached_world(config_key: tuple) -> ToyWorld:
    return ToyWorld(ToyWorldConfig(*config_key))


def toy_world(config: ToyWorldConfig | None = None) -> ToyWorld:
    """A cached ``ToyWorld`` for this config (default config when ``None``)."""
    from dataclasses import astuple

    return _cached_world(astuple(config or ToyWorldConfig()))


# the toy worlds a corpus name can ask for (``load_corpus``, ``LMDataConfig.corpus``)
TOY_WORLDS: dict[str, ToyWorldConfig] = {
    "toyworld": ToyWorldConfig(),
    "toyworld-families": ToyWorldConfig().with_families(),  # long-range cues, context syntax, statements ...
}


def named_toy_world(name: str) -> ToyWorld | None:
    """The toy world a corpus name stands for (``TOY_WORLDS``), or None for any other corpus."""
    return toy_world(TOY_WORLDS[name]) if name in TOY_WORLDS else None


def toyworld_corpus(split: str = "train", seed: int = 0, num_documents: int | None = None) -> Corpus:
    """The default toy world's ``split`` for ``seed``: ~0.8M tokens for "train", ~80k for the others.

    Raises ``ValueError`` for an unknown split or ``num_documents < 1``.
    """
    return toy_world().corpus(split, seed, num_documents)
