"""The toy world: determinism, gold labels, unambiguity, exact probabilities and the ceilings built on them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.data import toyworld_lexicon as lex
from course_lib.data.toyworld import ToyWorld, ToyWorldConfig, toy_world, toyworld_corpus
from course_lib.data.toyworld_families import FAMILY_KINDS


@pytest.fixture(scope="module")
def world() -> ToyWorld:
    return toy_world()


@pytest.fixture(scope="module")
def tiny() -> ToyWorld:
    return ToyWorld(ToyWorldConfig.tiny())


@pytest.fixture(scope="module")
def small(world):
    return world.corpus("validation", seed=0, num_documents=300)


def _texts(corpus) -> list[str]:
    return ["\n".join(s.text for s in d.sentences) for d in corpus.documents]


# ------------------------------------------------------------------ shape of the world


def test_world_has_the_promised_size(world):
    d = world.describe()
    families_on = any(getattr(world.config, f) > 0 for f in FAMILY_KINDS)  # they add ~200 words
    assert 500 <= d["words"] <= (1100 if families_on else 900)
    assert d["tags"] >= 8 and len(d["topics"]) >= 4
    sides = [side for side, _ in d["polysemous"].values()]
    assert len(sides) >= 8 and sides.count("right") >= len(sides) / 2


def test_same_seed_same_corpus_other_seed_other_corpus():
    a, b = toyworld_corpus("train", 3, 40), toyworld_corpus("train", 3, 40)
    c = toyworld_corpus("train", 4, 40)
    assert _texts(a) == _texts(b)
    assert [s.logprob for s in a] == [s.logprob for s in b]
    assert _texts(a) != _texts(c)


def test_fewer_documents_is_a_prefix(world):
    assert _texts(world.corpus("test", 1, 10)) == _texts(world.corpus("test", 1, 25))[:10]


def test_splits_share_no_document(world):
    splits = {name: set(_texts(world.corpus(name, 0, 300))) for name in ("train", "validation", "test")}
    assert all(len(v) == 300 for v in splits.values())
    assert not splits["train"] & splits["validation"]
    assert not splits["train"] & splits["test"]
    assert not splits["validation"] & splits["test"]


def test_documents_keep_topic_and_character(small):
    for doc in small.documents:
        assert {s.info["topic"] for s in doc.sentences} == {doc.topic}
        names = set(lex.TOPICS[[t.name for t in lex.TOPICS].index(doc.topic)].names)
        used = {w for s in doc.sentences for w in s.tokens if w in names}
        assert used <= {doc.info["character"]}
        assert 3 <= len(doc.sentences) <= 6


# ------------------------------------------------------------------ gold labels


def test_labels_line_up_with_tokens(world, small):
    for s in small:
        assert len(s.tags) == len(s.senses) == len(s.tokens)
        assert set(s.tags) <= set(world.tags)
        if s.info["kind"] not in ("polysemous", "long_range_sense") and any(s.senses):
            continue  # senses of the optional families' own words: test_toyworld_families
        for i, sense in enumerate(s.senses):
            if sense is None:
                assert s.tokens[i] not in world.polysemous
            else:
                pw = world.polysemous[s.tokens[i]]
                assert sense in pw.senses and s.info["position"] == i and s.info["cue_side"] == pw.side
                cue = s.tokens[s.info["cue_position"]]
                assert cue in pw.cues[pw.senses.index(sense)]
                assert (s.info["cue_position"] > i) == (pw.side == "right")
                assert s.info["cue_distance"] == abs(s.info["cue_position"] - i)


def test_cue_words_occur_only_in_their_own_sense_template(world, small):
    owner = {cue: (pw.word, sense) for pw in world.polysemous.values()
             for sense, cues in zip(pw.senses, pw.cues, strict=True) for cue in cues}
    for s in small:
        for w in s.tokens:
            if w in owner:
                assert (s.info.get("word"), s.info.get("sense")) == owner[w]
            if w in world.polysemous:
                assert s.info["kind"] in ("polysemous", "long_range_sense")  # the latter: an optional family


def test_right_decided_senses_share_their_left_context(world):
    """For a right-decided word, both senses have the same templates up to the word: the left side tells nothing."""
    g = world.grammar
    for word, pw in world.polysemous.items():
        prefixes = {sense: {t.slots[: t.info["position"] + 1] for t in g.templates
                            if t.kind == "polysemous" and t.info["word"] == word and t.info["sense"] == sense}
                    for sense in pw.senses}
        same = prefixes[pw.senses[0]] == prefixes[pw.senses[1]]
        assert same == (pw.side == "right")


def test_cues_stand_next_to_the_word_or_behind_one_adverb(small):
    """Left cues are the adjective right before the word; right cues the verb after it, sometimes behind an adverb."""
    distances = {"left": [], "right": []}
    for s in small:
        if s.info["kind"] == "polysemous":
            distances[s.info["cue_side"]].append(s.info["cue_distance"])
    assert set(distances["left"]) == {1} and set(distances["right"]) == {1, 2}
    assert 0.1 < np.mean([d == 2 for d in distances["right"]]) < 0.4


def test_agreement_across_the_relative_clause(world, small):
    g = world.grammar
    plural_verbs = {world.vocabulary[i] for c in g.categories if c.name.startswith("IP.") for i in c.word_ids}
    seen = {"sg": 0, "pl": 0, "mismatch": 0}
    for s in (s for s in small if s.info["kind"] == "agreement"):
        verb_is_plural = s.tokens[s.info["verb"]] in plural_verbs
        assert verb_is_plural == (s.info["number"] == "pl")
        assert s.info["verb"] - s.info["subject"] >= 4  # the clause stands in between
        seen[s.info["number"]] += 1
        seen["mismatch"] += s.info["number"] != s.info["attractor_number"]
    assert min(seen.values()) > 0


# ------------------------------------------------------------------ exact probabilities


def test_enumerated_sentences_of_a_tiny_world_sum_to_one(tiny):
    sentences = list(tiny.enumerate_sentences(limit=50_000))
    probs = np.exp(tiny.logprobs(sentences))
    assert len(sentences) > 1000
    assert (probs > 0).all()
    assert math.isclose(probs.sum(), 1.0, rel_tol=1e-9)


def test_every_generated_sentence_has_exactly_one_derivation(world, small):
    sentences = list(small)[::7]
    assert all(world.count_derivations(s.tokens) == 1 for s in sentences)
    scrambled = list(reversed(sentences[0].tokens))
    assert world.count_derivations(scrambled) == 0 and world.logprob(scrambled) == -np.inf
    assert world.logprob(["zebra"]) == -np.inf


def test_stored_logprob_equals_the_scorer(world, small):
    sentences = list(small)
    stored = np.array([s.logprob for s in sentences])
    np.testing.assert_allclose(world.logprobs(sentences), stored, rtol=0, atol=1e-9)
    assert (stored < 0).all()


def test_perplexity_bound_counts_eos_and_document_context_helps(world, small):
    sentence = world.perplexity_bound(small)
    document = world.perplexity_bound(small, level="document")
    assert sentence.num_tokens == small.num_tokens + small.num_sentences
    assert math.isclose(sentence.nats_per_token, -sum(s.logprob for s in small) / sentence.num_tokens)
    assert 1.0 < document.perplexity < sentence.perplexity


def test_document_logprobs_carry_the_topic_over(tiny):
    templates = tiny.grammar.templates
    doc = next(d for d in tiny.corpus("train", 0, 50).documents
               if any(templates[s.info["template"]].name_slot < 0 for s in d.sentences[1:]))
    conditional = tiny.document_logprobs(doc)
    assert math.isclose(conditional[0], doc.sentences[0].logprob)
    for s, lp in zip(doc.sentences[1:], conditional[1:], strict=True):
        if tiny.grammar.templates[s.info["template"]].name_slot < 0:  # unnamed: only the topic is learnt
            assert math.isclose(lp, s.logprob + math.log(len(tiny.topics)))
        else:  # named: topic and name known, or the name is new
            assert lp >= s.logprob + math.log(len(tiny.topics)) - 1e-9


# ------------------------------------------------------------------ ceilings


def test_cloze_posterior_matches_brute_force_scoring(tiny):
    sentence = tiny.corpus("train", 2, 5).documents[0].sentences[0].tokens
    for position in range(len(sentence)):
        brute = {}
        for w in tiny.vocabulary:
            lp = tiny.logprob(sentence[:position] + [w] + sentence[position + 1 :])
            if lp > -np.inf:
                brute[w] = math.exp(lp)
        total = sum(brute.values())
        posterior = dict(tiny.cloze_posterior(sentence, position))
        assert posterior.keys() == brute.keys()
        for w, p in brute.items():
            assert math.isclose(posterior[w], p / total, rel_tol=1e-9)


def test_cloze_ceiling_is_a_probability(world, small):
    ceiling = world.cloze_ceiling(small, max_sentences=300)
    assert 0.0 < ceiling.expected_accuracy < 1.0
    assert abs(ceiling.argmax_accuracy - ceiling.expected_accuracy) < 0.05
    assert ceiling.by_tag["DET"] > ceiling.by_tag["PROPN"]


def test_nsp_ceiling_at_defaults(world):
    assert world.nsp_ceiling() >= 0.95


def test_nsp_ceiling_matches_the_bayes_classifier_on_sampled_pairs(tiny):
    from course_lib.data.tasks import next_sentence_pairs

    pairs = next_sentence_pairs(tiny.corpus("train", 0, 1500), seed=0)
    correct = [(tiny.nsp_probability(p.tokens_a, p.tokens_b) > 0.5) == p.is_next for p in pairs]
    ceiling = tiny.nsp_ceiling()
    assert ceiling < 0.9  # two topics and two names: a ceiling well away from 1
    assert abs(np.mean(correct) - ceiling) < 4 * math.sqrt(ceiling * (1 - ceiling) / len(pairs))


# ------------------------------------------------------------------ properties


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 4))
def test_any_seed_gives_scored_unambiguous_labelled_sentences(tiny, seed, n):
    corpus = tiny.corpus("train", seed, n)
    assert len(corpus.documents) == n
    for s in corpus:
        assert len(s.tags) == len(s.tokens) == len(s.senses)
        assert tiny.count_derivations(s.tokens) == 1
        assert math.isclose(tiny.logprob(s.tokens), s.logprob)


@settings(max_examples=30, deadline=None)
@given(words=st.lists(st.integers(0, 10_000), min_size=1, max_size=9))
def test_any_word_sequence_has_a_probability_at_most_one(tiny, words):
    tokens = [tiny.vocabulary[w % len(tiny.vocabulary)] for w in words]
    lp = tiny.logprob(tokens)
    assert lp <= 0.0
    assert (lp > -np.inf) == (tiny.count_derivations(tokens) == 1)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("num_documents, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                                   (True, TypeError)])
def test_empty_or_odd_document_counts_raise(num_documents, error):
    with pytest.raises(error, match="num_documents"):
        toyworld_corpus("train", 0, num_documents)


def test_unknown_split_and_bad_seed_raise():
    with pytest.raises(ValueError, match="unknown split 'dev'.*validation"):
        toyworld_corpus("dev")
    with pytest.raises(ValueError, match="seed"):
        toyworld_corpus("train", -1, 3)


def test_bad_config_raises():
    with pytest.raises(ValueError, match="num_topics"):
        ToyWorldConfig(num_topics=0)
    with pytest.raises(ValueError, match="split_shares"):
        ToyWorldConfig(split_shares=(0.5, 0.5, 0.5))


def test_cloze_and_bounds_reject_sentences_outside_the_world(world):
    with pytest.raises(ValueError, match="not in the toy world"):
        world.cloze_posterior(["banana", "split"], 0)
    with pytest.raises(ValueError, match="not in the toy world"):
        world.perplexity_bound([["the", "the"]])
