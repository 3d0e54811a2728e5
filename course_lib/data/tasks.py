"""Task datasets cut from the toy world, each a list of small dataclasses with gold labels.

Corpus-based tasks take a ``Corpus`` (choose split and seed there) and a ``seed`` for their own sampling:

    >>> from course_lib.data.toyworld import toyworld_corpus
    >>> pairs = next_sentence_pairs(toyworld_corpus("train", seed=0, num_documents=100), seed=0)
    >>> pairs[0]                                                    # doctest: +SKIP
    SentencePair(tokens_a=['tom', 'feeds', ...], tokens_b=[...], is_next=True)

Token lists are plain words; ids and padding come from ``course_lib.text`` (``Vocab``, ``pad_batch``).
Spans are inclusive token positions, as in BERT's SQuAD heads: ``context[start : end + 1]``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from course_lib.arguments import check_int, check_number, check_optional_int
from course_lib.data.corpus import Analogy, Corpus, SimilarityPair
from course_lib.data.toyworld import ToyWorld, toy_world

__all__ = [
    "Analogy", "QAExample", "SameSensePair", "SenseExample", "SentencePair", "Seq2SeqExample", "SimilarityPair",
    "SpamMessage", "TaggedSentence", "TopicPair", "analogy_pairs", "analogy_set", "next_sentence_pairs",
    "phrase_reversal_examples", "phrases", "pos_tagging_examples", "qa_examples", "same_sense_pairs",
    "same_topic_pairs", "sense_examples", "similarity_set", "spam_messages",
]


@dataclass
class TaggedSentence:
    tokens: list[str]
    tags: list[str]  # one part-of-speech tag per token


@dataclass
class SenseExample:
    """One polysemous token: ``tokens[position] == word``; ``label`` indexes ``world.polysemous[word].senses``.

    ``sense_id`` numbers the (word, sense) pairs of the whole world (``2 * word index + label``): the class
    a probe over many words predicts. With ``label`` alone one linear boundary would have to put the
    first sense of every word on one side, a coincidence of how the senses are numbered.
    """

    tokens: list[str]
    position: int
    word: str
    sense: str
    label: int
    cue_side: str  # "left" or "right": where the word that decides the sense stands
    cue_position: int
    cue_distance: int
    sense_id: int


@dataclass
class SpamMessage:
    tokens: list[str]
    label: int  # 1 spam, 0 not spam


@dataclass
class SentencePair:
    tokens_a: list[str]
    tokens_b: list[str]
    is_next: bool  # b follows a in its document; else b comes from another document


@dataclass
class TopicPair:
    """Two sentences of two different documents; ``label`` 1 when the documents have the same topic, else 0."""

    tokens_a: list[str]
    tokens_b: list[str]
    topic_a: str
    topic_b: str

    @property
    def label(self) -> int:
        return int(self.topic_a == self.topic_b)


@dataclass
class SameSensePair:
    tokens_a: list[str]
    position_a: int
    tokens_b: list[str]
    position_b: int
    word: str
    same: bool  # the two occurrences of ``word`` have the same sense


@dataclass
class QAExample:
    question: list[str]
    context: list[str]
    span: tuple[int, int] | None  # inclusive (start, end) in context; None: the context has no answer

    @property
    def answer(self) -> list[str]:
        return [] if self.span is None else self.context[self.span[0] : self.span[1] + 1]


@dataclass
class Seq2SeqExample:
    source: list[str]
    target: list[str]


def _nonempty(examples: list, what: str) -> list:
    if not examples:
        raise ValueError(f"no {what} in this corpus: use more documents")
    return examples


# ----------------------------------------------------------------------------- token-level tasks


def pos_tagging_examples(corpus: Corpus) -> list[TaggedSentence]:
    """Every sentence with its gold tags."""
    return _nonempty([TaggedSentence(list(s.tokens), list(s.tags)) for s in corpus if s.tags is not None],
                     "tagged sentences")


def sense_examples(corpus: Corpus, world: ToyWorld | None = None) -> list[SenseExample]:
    """Every polysemous token of the adjacent-cue sentences with its gold sense and where its cue stands (the
    optional families have their own: ``family_tasks.long_range_sense_examples``, ``many_cue_sense_examples``)."""
    world = world or toy_world()
    words = list(world.polysemous)
    out = []
    for s in corpus:
        if s.info.get("kind") != "polysemous":
            continue
        for i, sense in enumerate(s.senses or []):
            if sense is not None:
                word = s.tokens[i]
                label = world.polysemous[word].senses.index(sense)
                out.append(SenseExample(list(s.tokens), i, word, sense, label, s.info["cue_side"],
                                        s.info["cue_position"], s.info["cue_distance"], 2 * words.index(word) + label))
    if not out and not any(s.senses for s in corpus):
        raise ValueError(f"corpus {corpus.name!r} has no sense labels (a real corpus has none): use a toy-world corpus")
    return _nonempty(out, "polysemous tokens")


def same_sense_pairs(corpus: Corpus, num_pairs: int = 2000, seed: int = 0,
                     world: ToyWorld | None = None) -> list[SameSensePair]:
    """Pairs of sentences sharing a polysemous word, half with the same sense (never a sentence with itself)."""
    check_int(num_pairs, "num_pairs", minimum=1)
    check_int(seed, "seed", minimum=0)
    by_word: dict[str, dict[str, list[SenseExample]]] = defaultdict(lambda: defaultdict(list))
    for ex in sense_examples(corpus, world):
        by_word[ex.word][ex.sense].append(ex)
    words = sorted(w for w, senses in by_word.items() if len(senses) == 2 and all(len(v) >= 2 for v in senses.values()))
    if not words:
        raise ValueError("no polysemous word with two occurrences of both senses: use more documents")
    rng, out = np.random.default_rng(seed), []
    for k in range(num_pairs):
        word = words[rng.integers(len(words))]
        senses = sorted(by_word[word])
        same = k % 2 == 0
        first = senses[rng.integers(2)]
        pool_a = by_word[word][first]
        pool_b = pool_a if same else by_word[word][senses[1 - senses.index(first)]]
        i = int(rng.integers(len(pool_a)))
        j = int(rng.integers(len(pool_b) - 1)) if same else int(rng.integers(len(pool_b)))
        if same and j >= i:
            j += 1  # a different occurrence
        a, b = pool_a[i], pool_b[j]
        out.append(SameSensePair(a.tokens, a.position, b.tokens, b.position, word, same))
    rng.shuffle(out)
    return out


def same_topic_pairs(corpus: Corpus, num_pairs: int = 2000, seed: int = 0) -> list[TopicPair]:
    """Pairs of sentences from two different documents, half of the same topic (``label`` 1), half of two
    different topics (0). Each pair: a topic drawn uniformly, a document of it, then another document of the
    same topic or of another topic drawn uniformly, and one sentence drawn from each. Either sentence alone
    says nothing about the label (chance 0.5): only comparing them does, which is what next-sentence
    prediction practises (its negatives come from other documents, mostly of other topics).
    """
    check_int(num_pairs, "num_pairs", minimum=1)
    check_int(seed, "seed", minimum=0)
    if not isinstance(corpus, Corpus):
        raise ValueError(f"corpus must be a Corpus, got {type(corpus).__name__}")
    by_topic: dict[str, list[int]] = defaultdict(list)
    for d, doc in enumerate(corpus.documents):
        if doc.topic is not None and doc.sentences:
            by_topic[doc.topic].append(d)
    topics = sorted(t for t, docs in by_topic.items() if len(docs) >= 2)
    if len(topics) < 2:
        raise ValueError(f"same_topic_pairs needs documents of at least two topics with two documents each; this "
                         f"corpus has {len(topics)} such topic(s) ({len(corpus.documents)} documents): use a toy-world "
                         "corpus with more documents (a real corpus has no topics)")
    rng, out = np.random.default_rng(seed), []
    for k in range(num_pairs):
        same = k % 2 == 0
        topic = topics[rng.integers(len(topics))]
        docs = by_topic[topic]
        i = int(rng.integers(len(docs)))
        if same:
            j = int(rng.integers(len(docs) - 1))
            other_docs = docs
            j += j >= i  # another document of the same topic
        else:
            others = [t for t in topics if t != topic]
            other_docs = by_topic[others[rng.integers(len(others))]]
            j = int(rng.integers(len(other_docs)))
        a, b = corpus.documents[docs[i]], corpus.documents[other_docs[j]]
        sentence_a = a.sentences[rng.integers(len(a.sentences))]
        sentence_b = b.sentences[rng.integers(len(b.sentences))]
        out.append(TopicPair(list(sentence_a.tokens), list(sentence_b.tokens), a.topic, b.topic))
    rng.shuffle(out)
    return out


# ----------------------------------------------------------------------------- sentence pairs


def next_sentence_pairs(corpus: Corpus, seed: int = 0) -> list[SentencePair]:
    """One pair per pair of consecutive sentences: exactly half keep the true next sentence (IsNext); the
    other half replace it by a random sentence of another document, as BERT's pre-training does."""
    check_int(seed, "seed", minimum=0)
    sentences = [(d, s.tokens) for d, doc in enumerate(corpus.documents) for s in doc.sentences]
    if len({d for d, _ in sentences}) < 2:
        raise ValueError("next-sentence pairs need at least two documents")
    starts = [(d, i) for d, doc in enumerate(corpus.documents) for i in range(len(doc.sentences) - 1)]
    rng = np.random.default_rng(seed)
    is_next = rng.permutation(len(starts)) < (len(starts) + 1) // 2
    out = []
    for (d, i), positive in zip(starts, is_next, strict=True):
        doc = corpus.documents[d]
        if positive:
            b = doc.sentences[i + 1].tokens
        else:
            while True:
                other, b = sentences[rng.integers(len(sentences))]
                if other != d:
                    break
        out.append(SentencePair(list(doc.sentences[i].tokens), list(b), bool(positive)))
    return _nonempty(out, "consecutive sentences")


# ----------------------------------------------------------------------------- spam


_SPAM_PHRASES = (
    "you have won a PRIZE", "claim your PRIZE now", "call now to claim your reward", "click the link today",
    "a limited offer for you", "win a free PRIZE", "cheap PRODUCT for sale", "reply yes to get a free PRIZE",
    "your account has a reward waiting", "act now before the offer ends", "buy PRODUCT at half price",
)
_PRIZES = ("phone", "holiday", "voucher", "cruise", "laptop")
_PRODUCTS = ("watches", "pills", "loans", "perfume")
_HAM_EXTRAS = ("call me later", "are you free today", "i will call you now", "did you win the game",
               "the offer was fair", "see you today", "thanks for the link")


def _fill_spam(phrase: str, rng: np.random.Generator) -> list[str]:
    out = []
    for w in phrase.split():
        out.append(_PRIZES[rng.integers(len(_PRIZES))] if w == "PRIZE" else
                   _PRODUCTS[rng.integers(len(_PRODUCTS))] if w == "PRODUCT" else w)
    return out


def spam_messages(num_messages: int = 2000, seed: int = 0, world: ToyWorld | None = None) -> list[SpamMessage]:
    """Short messages, half spam. Ham is a greeting plus toy-world sentences, sometimes with words spam
    also uses ("free", "call", "today", "win"); spam strings together 2–3 spam phrases, sometimes behind
    a greeting. One keyword is not enough; a bag of words is."""
    check_int(num_messages, "num_messages", minimum=2)
    check_int(seed, "seed", minimum=0)
    world = world or toy_world()
    rng = np.random.default_rng(seed)
    docs = world.corpus("all", seed=seed, num_documents=num_messages).documents
    labels = rng.permutation(num_messages) < num_messages // 2
    out = []
    for doc, spam in zip(docs, labels, strict=True):
        name = doc.info["character"]
        greeting = ["hi", name] if rng.random() < 0.5 else []
        if spam:
            k = int(rng.integers(2, 4))
            picks = rng.choice(len(_SPAM_PHRASES), size=k, replace=False)
            tokens = greeting + [w for p in picks for w in _fill_spam(_SPAM_PHRASES[p], rng)]
        else:
            tokens = greeting + [w for s in doc.sentences[: int(rng.integers(1, 3))] for w in s.tokens]
            if rng.random() < 0.4:
                tokens += _HAM_EXTRAS[rng.integers(len(_HAM_EXTRAS))].split()
        out.append(SpamMessage(tokens, int(spam)))
    return out


# ----------------------------------------------------------------------------- extractive QA


def _base_forms(world: ToyWorld) -> dict[str, str]:
    """3rd-person verb -> base form (feeds -> feed), from the grammar's aligned V./VP. categories."""
    g, out = world.grammar, {}
    for s in world.topics:
        sg, base = (g.categories[g.category_index[f"{c}.{s}"]].word_ids for c in ("V", "VP"))
        out.update({world.vocabulary[a]: world.vocabulary[b] for a, b in zip(sg, base, strict=True)})
    return out


def qa_examples(corpus: Corpus, seed: int = 0, unanswerable_share: float = 1 / 3,
                world: ToyWorld | None = None) -> list[QAExample]:
    """At most one question per document: ``what does <name> <verb>``, the whole document as context.

    Answerable: the verb occurs once in the document, with the character as subject; the answer is the
    object phrase without "the" (``the old cows`` -> ``old cows``). Unanswerable (``span=None``, from
    documents with no answerable question that name the character): a verb of the same topic that the
    document never uses.
    """
    check_number(unanswerable_share, "unanswerable_share", minimum=0.0, maximum=1.0)
    check_int(seed, "seed", minimum=0)
    world = world or toy_world()
    base = _base_forms(world)
    g = world.grammar
    verbs = {s: [world.vocabulary[i] for i in g.categories[g.category_index[f"V.{s}"]].word_ids]
             for s in world.topics}
    rng, out, unanswerable = np.random.default_rng(seed), [], []
    for doc in corpus.documents:
        context, candidates, offset = [], [], 0
        for s in doc.sentences:
            if "object" in s.info and s.info.get("subject") == (0, 0):
                start, end = s.info["object"]
                candidates.append((s.tokens[s.info["verb"]], (offset + start, offset + end)))
            context += s.tokens
            offset += len(s.tokens)
        name = doc.info["character"]
        used = set(context)
        answerable = [(v, span) for v, span in candidates if context.count(v) == 1]
        absent = [v for v in verbs[doc.topic] if v not in used and base[v] not in used]
        if answerable:
            verb, span = answerable[rng.integers(len(answerable))]
            out.append(QAExample(["what", "does", name, base[verb]], context, span))
        elif absent and name in used:
            verb = absent[rng.integers(len(absent))]
            unanswerable.append(QAExample(["what", "does", name, base[verb]], context, None))
    # keep every answerable question and enough unanswerable ones (from other documents) for the share
    share = unanswerable_share
    k = len(unanswerable) if share == 1 else round(len(out) * share / (1 - share))
    if k > len(unanswerable):
        raise ValueError(f"too few documents without an answer for unanswerable_share={unanswerable_share}")
    keep = sorted(rng.choice(len(unanswerable), size=k, replace=False).tolist())
    out = out + [unanswerable[i] for i in keep] if unanswerable_share < 1 else unanswerable
    out = [out[i] for i in rng.permutation(len(out))]
    return _nonempty(out, "questions")


# ----------------------------------------------------------------------------- seq2seq


def phrases(tokens: list[str], tags: list[str]) -> list[list[str]]:
    """Chunks: determiners, adjectives, numbers and possessives join the next word; others stand alone.

    ``phrases("the old cow that tom feeds sleeps".split(), tags)``
    -> ``[["the", "old", "cow"], ["that"], ["tom"], ["feeds"], ["sleeps"]]``
    """
    out, buffer = [], []
    for tok, tag in zip(tokens, tags, strict=True):
        buffer.append(tok)
        if tag not in ("DET", "ADJ", "NUM") and tok not in ("his", "her", "their"):
            out.append(buffer)
            buffer = []
    if buffer:
        out.append(buffer)
    return out


def phrase_reversal_examples(corpus: Corpus, max_examples: int | None = None) -> list[Seq2SeqExample]:
    """Source: a sentence; target: its phrases in reverse order (``the old cow sleeps`` -> ``sleeps the old cow``)."""
    check_optional_int(max_examples, "max_examples", minimum=1)
    out = [Seq2SeqExample(list(s.tokens), [w for p in reversed(phrases(s.tokens, s.tags)) for w in p])
           for s in corpus if s.tags is not None]
    return _nonempty(out[:max_examples], "sentences")


# ----------------------------------------------------------------------------- word-vector sets


def _aligned_pairs(world: ToyWorld, left: str, right: str) -> list[tuple[str, str]]:
    g, out = world.grammar, []
    for name in g.category_index:
        if name.startswith(left + "."):
            suffix = name[len(left):]
            if right + suffix in g.category_index:
                a = g.categories[g.category_index[name]].word_ids
                b = g.categories[g.category_index[right + suffix]].word_ids
                out += [(world.vocabulary[i], world.vocabulary[j]) for i, j in zip(a, b, strict=True)]
    return out


def analogy_pairs(world: ToyWorld | None = None) -> dict[str, list[tuple[str, str]]]:
    """The built-in relation families: gender (king, queen), plural (cow, cows), verb_number (feeds, feed),
    country_resident (italy, italian), country_dish (italy, pasta)."""
    world = world or toy_world()
    return {"gender": _aligned_pairs(world, "RM", "RF"), "plural": _aligned_pairs(world, "N", "NS"),
            "verb_number": _aligned_pairs(world, "V", "VP"), "country_resident": _aligned_pairs(world, "C", "R"),
            "country_dish": _aligned_pairs(world, "C", "F")}


def analogy_set(world: ToyWorld | None = None, max_per_family: int | None = 500, seed: int = 0) -> list[Analogy]:
    """``a : b :: c : d`` questions from every ordered pair of distinct pairs of a family (sampled down to
    ``max_per_family``)."""
    check_optional_int(max_per_family, "max_per_family", minimum=1)
    check_int(seed, "seed", minimum=0)
    rng, out = np.random.default_rng(seed), []
    for family, pairs in analogy_pairs(world).items():
        quads = [Analogy(a, b, c, d, family) for a, b in pairs for c, d in pairs if (a, b) != (c, d)]
        if max_per_family is not None and len(quads) > max_per_family:
            quads = [quads[k] for k in sorted(rng.choice(len(quads), size=max_per_family, replace=False))]
        out += quads
    return out


def similarity_set(world: ToyWorld | None = None, num_pairs: int = 400, seed: int = 0) -> list[SimilarityPair]:
    """Word pairs with a graded relatedness fixed by the grammar, a quarter at each level:
    3 same category (cow, pig), 2 same topic (cow, feeds), 1 same tag across topics (cow, boat), 0 none."""
    check_int(num_pairs, "num_pairs", minimum=1)
    check_int(seed, "seed", minimum=0)
    world = world or toy_world()
    g = world.grammar
    content = [c for c in g.categories if c.topic is not None and len(c.word_ids) > 1 and c.tag != "PROPN"]
    words = [(int(i), k) for k, c in enumerate(content) for i in c.word_ids]
    rng, out, per_level = np.random.default_rng(seed), [], max(1, num_pairs // 4)
    counts, seen = [0, 0, 0, 0], set()
    for _ in range(200 * num_pairs):
        (i, ci), (j, cj) = (words[k] for k in rng.integers(len(words), size=2))
        a, b = content[ci], content[cj]
        level = 3 if ci == cj else 2 if a.topic == b.topic else 1 if a.tag == b.tag else 0
        key = (min(i, j), max(i, j))
        if i == j or key in seen or counts[level] >= per_level:
            continue
        seen.add(key)
        counts[level] += 1
        out.append(SimilarityPair(world.vocabulary[i], world.vocabulary[j], float(level)))
        if sum(counts) == 4 * per_level:
            break
    return out
