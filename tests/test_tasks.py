"""Task datasets cut from the toy world: gold labels line up, balances hold, same seed gives the same data."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.data import tasks
from course_lib.data.toyworld import toy_world


@pytest.fixture(scope="module")
def world():
    return toy_world()


@pytest.fixture(scope="module")
def corpus(world):
    return world.corpus("train", seed=0, num_documents=600)


def test_pos_tagging_examples_line_up(world, corpus):
    examples = tasks.pos_tagging_examples(corpus)
    assert len(examples) == corpus.num_sentences
    assert all(len(e.tokens) == len(e.tags) and set(e.tags) <= set(world.tags) for e in examples)


def test_sense_examples_point_at_the_word_and_its_cue(world, corpus):
    examples = tasks.sense_examples(corpus)
    assert {e.word for e in examples} == set(world.polysemous)
    for e in examples:
        pw = world.polysemous[e.word]
        assert e.tokens[e.position] == e.word and pw.senses[e.label] == e.sense
        assert e.cue_side == pw.side and e.tokens[e.cue_position] in pw.cues[e.label]
        assert e.sense_id == 2 * list(world.polysemous).index(e.word) + e.label
    assert {e.sense_id for e in examples} == set(range(2 * len(world.polysemous)))
    sides = Counter(e.cue_side for e in examples)
    assert sides["left"] > 0 and sides["right"] > sides["left"]


def test_same_sense_pairs_are_balanced_and_correct(world, corpus):
    pairs = tasks.same_sense_pairs(corpus, num_pairs=400, seed=1)
    assert sum(p.same for p in pairs) == 200
    sense = {}
    for e in tasks.sense_examples(corpus):
        sense[(tuple(e.tokens), e.position)] = e.sense
    for p in pairs:
        a, b = sense[(tuple(p.tokens_a), p.position_a)], sense[(tuple(p.tokens_b), p.position_b)]
        assert p.tokens_a[p.position_a] == p.tokens_b[p.position_b] == p.word
        assert (a == b) == p.same


def test_same_topic_pairs_are_balanced_seeded_and_labelled_by_topic(corpus):
    pairs = tasks.same_topic_pairs(corpus, num_pairs=400, seed=1)
    assert sum(p.label for p in pairs) == 200 and pairs == tasks.same_topic_pairs(corpus, num_pairs=400, seed=1)
    assert pairs != tasks.same_topic_pairs(corpus, num_pairs=400, seed=2)
    topics_of = {}  # a sentence may occur in several documents: every topic it occurs under
    for doc in corpus.documents:
        for s in doc.sentences:
            topics_of.setdefault(tuple(s.tokens), set()).add(doc.topic)
    for p in pairs:
        assert p.topic_a in topics_of[tuple(p.tokens_a)] and p.topic_b in topics_of[tuple(p.tokens_b)]
        assert p.label == int(p.topic_a == p.topic_b)
    assert len({p.topic_a for p in pairs}) == len({doc.topic for doc in corpus.documents})  # every topic drawn


def test_same_topic_pairs_refuse_a_corpus_without_topics(corpus):
    from course_lib.data.corpus import Corpus, Document
    untopical = Corpus("plain", "train", [Document(doc.sentences) for doc in corpus.documents[:20]])
    with pytest.raises(ValueError, match="at least two topics.*0 such topic"):
        tasks.same_topic_pairs(untopical)
    with pytest.raises(ValueError, match="corpus must be a Corpus"):
        tasks.same_topic_pairs([["the", "cow"]])


def test_next_sentence_pairs(corpus):
    pairs = tasks.next_sentence_pairs(corpus, seed=0)
    assert len(pairs) == sum(len(d.sentences) - 1 for d in corpus.documents)
    assert abs(sum(p.is_next for p in pairs) - len(pairs) / 2) <= 0.5
    doc_of = {}
    for d, doc in enumerate(corpus.documents):
        for s in doc.sentences:
            doc_of.setdefault(s.text, set()).add(d)
    consecutive = {(a.text, b.text) for doc in corpus.documents
                   for a, b in zip(doc.sentences, doc.sentences[1:], strict=False)}
    for p in pairs:
        a, b = " ".join(p.tokens_a), " ".join(p.tokens_b)
        if p.is_next:
            assert (a, b) in consecutive
        else:  # from another document: b occurs in some document that a does not come from
            assert doc_of[b] - doc_of[a] or len(doc_of[a]) > 1
    assert [p.tokens_b for p in pairs] == [p.tokens_b for p in tasks.next_sentence_pairs(corpus, seed=0)]
    assert [p.is_next for p in pairs] != [p.is_next for p in tasks.next_sentence_pairs(corpus, seed=1)]


def test_spam_is_balanced_and_not_one_keyword(world):
    train, test = tasks.spam_messages(1000, seed=0), tasks.spam_messages(600, seed=1)
    assert sum(m.label for m in train) == 500
    assert [m.tokens for m in train[:20]] == [m.tokens for m in tasks.spam_messages(1000, seed=0)[:20]]
    # best single keyword rule ("spam iff the word occurs")
    vocab = {w for m in train for w in m.tokens}
    bags = [set(m.tokens) for m in train]
    labels = np.array([m.label for m in train])
    best = max(np.mean(np.array([w in bag for bag in bags]) == labels) for w in vocab)
    assert best < 0.95
    # a bag of words (naive Bayes with add-one smoothing) does learn it
    counts = [Counter(), Counter()]
    for m in train:
        counts[m.label].update(m.tokens)
    totals = [sum(c.values()) + len(vocab) for c in counts]

    def score(m, y):
        return sum(np.log((counts[y][w] + 1) / totals[y]) for w in m.tokens)

    accuracy = np.mean([(score(m, 1) > score(m, 0)) == m.label for m in test])
    assert accuracy > 0.97


def test_qa_spans_and_unanswerable_questions(corpus):
    examples = tasks.qa_examples(corpus, seed=0)
    unanswerable = [e for e in examples if e.span is None]
    assert abs(len(unanswerable) / len(examples) - 1 / 3) < 0.01
    for e in examples:
        assert e.question[:2] == ["what", "does"] and e.question[2] in e.context
        if e.span is None:
            assert e.question[3] not in e.context and e.answer == []
        else:
            start, end = e.span
            assert 0 <= start <= end < len(e.context) and e.answer == e.context[start : end + 1]
            verb = e.context[start - 1] if e.context[start - 1] != "the" else e.context[start - 2]
            assert e.context.count(verb) == 1 and e.context[e.context.index(verb) - 1] == e.question[2]


def test_phrase_reversal(corpus):
    examples = tasks.phrase_reversal_examples(corpus, max_examples=200)
    assert len(examples) == 200
    for e in examples:
        assert sorted(e.source) == sorted(e.target)
    first = corpus.documents[0].sentences[0]
    parts = tasks.phrases(first.tokens, first.tags)
    assert [w for p in parts for w in p] == first.tokens
    assert examples[0].target == [w for p in reversed(parts) for w in p]


def test_phrases_by_hand():
    tokens = "the old cow that tom feeds sleeps".split()
    tags = ["DET", "ADJ", "NOUN", "PRON", "PROPN", "VERB", "VERB"]
    assert tasks.phrases(tokens, tags) == [["the", "old", "cow"], ["that"], ["tom"], ["feeds"], ["sleeps"]]


@settings(max_examples=40, deadline=None)
@given(tags=st.lists(st.sampled_from(["DET", "ADJ", "NUM", "NOUN", "VERB", "ADP"]), min_size=1, max_size=12))
def test_phrases_always_join_back(tags):
    tokens = [f"w{i}" for i in range(len(tags))]
    parts = tasks.phrases(tokens, tags)
    assert [w for p in parts for w in p] == tokens and all(parts)


def test_analogies_and_similarities_use_the_vocabulary(world):
    analogies = tasks.analogy_set(world, max_per_family=100)
    families = Counter(a.family for a in analogies)
    assert set(families) == {"gender", "plural", "verb_number", "country_resident", "country_dish"}
    assert all(w in world.word_index for a in analogies for w in (a.a, a.b, a.c, a.d))
    assert ("king", "queen") in tasks.analogy_pairs(world)["gender"]
    assert all(a.a != a.c for a in analogies)
    sims = tasks.similarity_set(world, num_pairs=200, seed=0)
    assert Counter(s.score for s in sims) == {0.0: 50, 1.0: 50, 2.0: 50, 3.0: 50}
    assert all(s.word_a != s.word_b and s.word_a in world.word_index for s in sims)


def test_tasks_refuse_an_empty_source(world):
    one = world.corpus("train", 0, 1)
    with pytest.raises(ValueError, match="two documents"):
        tasks.next_sentence_pairs(one)
    with pytest.raises(ValueError, match="num_messages"):
        tasks.spam_messages(0)
    with pytest.raises(ValueError, match="unanswerable_share"):
        tasks.qa_examples(one, unanswerable_share=1.5)
