"""The toy world's optional families: off by default, exact when on, labels that line up, balanced tasks."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from course_lib.data import family_tasks as ft
from course_lib.data import tasks
from course_lib.data import toyworld_lexicon as lex
from course_lib.data.corpus import Corpus, Document, Sentence
from course_lib.data.toyworld import ToyWorld, ToyWorldConfig, toy_world
from course_lib.data.toyworld_families import FAMILY_KINDS, MAX_DISTANCE, filler_plans

FAMILY_KIND_SET = {k for kinds in FAMILY_KINDS.values() for k in kinds}


@pytest.fixture(scope="module")
def plain() -> ToyWorld:
    """The world with every family off (today's default; the tests hold whatever the defaults become)."""
    return toy_world(replace(ToyWorldConfig(), **{f: 0.0 for f in FAMILY_KINDS}))


@pytest.fixture(scope="module")
def world() -> ToyWorld:
    return ToyWorld(ToyWorldConfig().with_families())


@pytest.fixture(scope="module")
def corpus(world):
    return world.corpus("train", seed=0, num_documents=3000)


@pytest.fixture(scope="module")
def tiny() -> ToyWorld:
    return ToyWorld(replace(ToyWorldConfig.tiny().with_families(), long_range_distances=(1, 2, 4, 8)))


def _mutual_information(xs, ys) -> float:
    """Plug-in mutual information in bits of two aligned label lists."""
    n, joint = len(xs), Counter(zip(xs, ys, strict=True))
    px, py = Counter(xs), Counter(ys)
    return sum(c / n * math.log2(c * n / (px[x] * py[y])) for (x, y), c in joint.items())


# ------------------------------------------------------------------ off by default, prefix when on


def test_families_add_nothing_when_off_and_only_at_the_end_when_on(world, plain):
    default = plain
    kinds = {t.kind for t in default.grammar.templates}
    assert not kinds & FAMILY_KIND_SET
    # switched on, the families append words and templates: every old id keeps its meaning
    assert world.vocabulary[: len(default.vocabulary)] == default.vocabulary
    old, new = default.grammar.templates, world.grammar.templates[: len(default.grammar.templates)]
    rest = 1 - sum(getattr(world.config, f) for f in FAMILY_KINDS)
    for a, b in zip(old, new, strict=True):
        assert (a.slots, a.parents, a.kind, a.info) == (b.slots, b.parents, b.kind, b.info)
        assert math.isclose(b.prob_given_topic, a.prob_given_topic * rest, rel_tol=1e-12)
    assert {t.kind for t in world.grammar.templates[len(old):]} == FAMILY_KIND_SET


def test_shares_are_what_the_config_says(world, corpus):
    kinds = Counter(s.info["kind"] for s in corpus)
    n = corpus.num_sentences
    for field, family in FAMILY_KINDS.items():
        share = sum(kinds[k] for k in family) / n
        expected = getattr(world.config, field)
        assert abs(share - expected) < 4 * math.sqrt(expected * (1 - expected) / n), field


# ------------------------------------------------------------------ exact probabilities


def test_enumeration_with_every_family_on_is_one_derivation_each_summing_to_one(tiny):
    assert ToyWorldConfig.tiny().long_range_distances == (1, 2, 4)  # tiny stays enumerable with families on
    sentences = [tuple(s) for s in tiny.enumerate_sentences(limit=100_000)]
    kinds = Counter(tiny.grammar.templates[tiny.parse(s)[0]].kind for s in sentences)
    assert FAMILY_KIND_SET <= set(kinds)
    assert len(set(sentences)) == len(sentences)  # no two derivations give the same sentence
    probs = np.exp(tiny.logprobs(sentences))
    assert (probs > 0).all() and math.isclose(probs.sum(), 1.0, rel_tol=1e-9)


def test_enumeration_at_every_buildable_distance_sums_to_one():
    cfg = replace(ToyWorldConfig.tiny(), words_per_category=1, names_per_topic=1).with_families(
        long_range_share=0.3)
    w = ToyWorld(replace(cfg, long_range_distances=(1, 2, 3, 5, 12, 17, MAX_DISTANCE)))
    sentences = [tuple(s) for s in w.enumerate_sentences(limit=200_000)]
    assert len(set(sentences)) == len(sentences)
    assert math.isclose(np.exp(w.logprobs(sentences)).sum(), 1.0, rel_tol=1e-9)
    assert max(len(s) for s in sentences) >= MAX_DISTANCE + 4


def test_generated_family_sentences_have_one_derivation_and_their_stored_logprob(world, corpus):
    family = [s for s in corpus if s.info["kind"] in FAMILY_KIND_SET]
    np.testing.assert_allclose(world.logprobs(family), [s.logprob for s in family], rtol=0, atol=1e-9)
    assert all(world.count_derivations(s.tokens) == 1 for s in family[::25])


def test_bounds_stay_exact_with_the_families_on(tiny):
    # cloze: the posterior equals brute-force rescoring of every word, in every family
    sentences = {}
    for s in tiny.corpus("train", 1, 300):
        sentences.setdefault(s.info["kind"], s.tokens)
    assert FAMILY_KIND_SET <= set(sentences)
    for kind in FAMILY_KIND_SET:
        tokens = sentences[kind]
        for position in range(len(tokens)):
            brute = {w: math.exp(lp) for w in tiny.vocabulary
                     if (lp := tiny.logprob(tokens[:position] + [w] + tokens[position + 1 :])) > -np.inf}
            posterior = dict(tiny.cloze_posterior(tokens, position))
            assert posterior.keys() == brute.keys()
            total = sum(brute.values())
            assert all(math.isclose(posterior[w], p / total, rel_tol=1e-9) for w, p in brute.items())
    # next sentence: the closed-form ceiling is what the Bayes rule scores on sampled pairs
    pairs = tasks.next_sentence_pairs(tiny.corpus("train", 0, 1500), seed=0)
    correct = [(tiny.nsp_probability(p.tokens_a, p.tokens_b) > 0.5) == p.is_next for p in pairs]
    ceiling = tiny.nsp_ceiling()
    assert abs(np.mean(correct) - ceiling) < 4 * math.sqrt(ceiling * (1 - ceiling) / len(pairs))
    bound = tiny.perplexity_bound(tiny.corpus("validation", 0, 200))
    assert 1.0 < bound.perplexity < math.inf


# ------------------------------------------------------------------ labels line up


def test_family_labels_line_up_with_tokens(world, corpus):
    cues = {(pw.word, sense): set(c) for pw in lex.POLYSEMOUS for sense, c in zip(pw.senses, pw.cues, strict=True)}
    for s in corpus:
        info = s.info
        if info["kind"] not in FAMILY_KIND_SET:
            continue
        assert len(info["depth"]) == len(s.tokens) == len(s.tags) == len(s.senses)
        if info["kind"] in ("long_range_sense", "many_cue"):
            i = info["position"]
            assert s.tokens[i] == info["word"] and s.senses[i] == info["sense"]
            assert [j for j, x in enumerate(s.senses) if x is not None] == [i]
        if info["kind"] == "long_range_sense":
            assert s.tokens[info["cue_position"]] in cues[info["word"], info["sense"]]
            assert info["cue_distance"] == abs(info["cue_position"] - i)
            assert (info["cue_position"] > i) == (info["cue_side"] == "right")
        elif info["kind"] == "homograph":
            assert s.tokens[info["position"]] in lex.HOMOGRAPHS and s.tags[info["position"]] == info["tag"]
        elif info["kind"] == "joint":
            assert s.tokens[info["left_position"]] in lex.JOINT_LEFT[("cold", "hot").index(info["left_class"])]
            assert s.tokens[info["right_position"]] in lex.JOINT_RIGHT[("cooling", "heating").index(info["right_class"])]
        elif info["kind"] == "statement":
            assert (s.tokens[2] == "not") == info["negated"] and s.tokens[1] == "is"
            assert (info["polarity"] == info["pole"]) != info["negated"]


def test_long_range_distances_are_what_the_labels_say(world, corpus):
    examples = ft.long_range_sense_examples(corpus, world)
    by_d = Counter((e.cue_side, e.cue_distance) for e in examples)
    assert {d for _, d in by_d} == set(world.config.long_range_distances)
    all_cues = {c for pw in lex.POLYSEMOUS for cs in pw.cues for c in cs}
    for e in examples:
        assert e.tokens[e.position] == e.word and abs(e.cue_position - e.position) == e.cue_distance
        between = e.tokens[min(e.position, e.cue_position) + 1 : max(e.position, e.cue_position)]
        assert len(between) == e.cue_distance - 1 and not set(between) & all_cues  # only sense-free material
    # the right-side fillers go through a relative clause and prepositional phrases
    assert {p for n in (1, 3, 7, 11) for plan in filler_plans(n) for p in plan} >= {"rel4.sg", "rel3.pl", "pp3.sg", "adv"}


def test_agreement_across_the_distance(world, corpus):
    examples = ft.agreement_examples(corpus, world)
    assert {e.distance for e in examples} == set(world.config.long_range_distances)
    plural = {world.vocabulary[i] for c in world.grammar.categories if c.name.startswith("IP.") for i in c.word_ids}
    for e in examples:
        assert e.position - e.subject_position == e.distance and e.tokens[e.position] == e.verb
        assert (e.verb in plural) == (e.number == "pl") and (e.wrong_verb in plural) != (e.number == "pl")
        if e.attractor_position >= 0:
            assert e.subject_position < e.attractor_position < e.position
    mismatched = [e.number != e.attractor_number for e in examples if e.attractor_number]
    assert 0.3 < np.mean(mismatched) < 0.7
    assert abs(np.mean([e.label for e in examples]) - 0.5) < 0.06


def test_homographs_need_context(corpus):
    examples = ft.homograph_examples(corpus)
    by_word = {w: Counter(e.tag for e in examples if e.word == w) for w in {e.word for e in examples}}
    assert all(set(c) == {"NOUN", "VERB"} for c in by_word.values())  # no form is always one part of speech
    majority = sum(max(c.values()) for c in by_word.values()) / len(examples)
    assert majority < 0.65
    depths = ft.clause_depth_examples(corpus)
    assert {d for e in depths for d in e.depths} == {0, 1, 2}
    at = {(w, d) for e in depths for w, d in zip(e.tokens, e.depths, strict=True)}
    words_at_both = {w for w, d in at if d == 0} & {w for w, d in at if d > 0}
    assert len(words_at_both) > 30  # the same words stand inside and outside relative clauses


# ------------------------------------------------------------------ issue 20 tasks


def test_many_cue_words_are_many_and_all_seen_with_their_sense_in_unlabelled_text(world, corpus):
    classes = ft.many_cue_words(world)
    assert len(classes) == 4 and all(len(c) >= 20 for c in classes.values())
    seen = {(s.info["word"], s.info["sense"], w) for s in corpus if s.info["kind"] == "many_cue"
            for w in s.tokens[s.info["cue_position"]:] if w != "and"}
    assert all((word, sense, c) in seen for (word, sense), cues in classes.items() for c in cues)
    examples = ft.many_cue_sense_examples(corpus)
    assert abs(np.mean([e.label for e in examples]) - 0.5) < 0.07
    small = examples[:16]  # a small labelled set sees few of the cues
    assert len({e.tokens[e.cue_position] for e in small}) < 0.25 * sum(len(c) for c in classes.values())


def test_statement_polarity_needs_the_negation_and_the_adjective(corpus):
    examples = ft.statement_examples(corpus)
    labels = [e.label for e in examples]
    assert abs(np.mean(labels) - 0.5) < 0.07
    assert _mutual_information([e.tokens[-1] for e in examples], labels) < 0.15  # the adjective alone: little
    assert _mutual_information([e.negated for e in examples], labels) < 0.01
    assert _mutual_information([(e.pole, e.negated) for e in examples], labels) > 0.99


def _meaning(tokens: list[str]) -> tuple[str, str, str]:
    """(character, dimension, polarity) of a plain or negated statement, read off the lexicon."""
    pole = {w: (dim, p) for dim, *poles in lex.STATEMENT_DIMENSIONS for p, ws in zip(("good", "bad"), poles, strict=True)
            for w in ws}
    dim, p = pole[tokens[-1]]
    negated = tokens[2] == "not"
    return tokens[0], dim, ("good", "bad")[("good", "bad").index(p) ^ negated]


def test_entailment_pairs_are_balanced_and_need_both_sentences(world):
    pairs = ft.entailment_pairs(world, num_pairs=3000, seed=0)
    assert Counter(p.relation for p in pairs) == {"entailment": 1000, "contradiction": 1000, "neutral": 1000}
    for p in pairs:
        (ca, da, pa), (cb, db, pb) = _meaning(p.tokens_a), _meaning(p.tokens_b)
        expected = "neutral" if (ca, da) != (cb, db) else "entailment" if pa == pb else "contradiction"
        assert p.relation == expected and p.tokens_a != p.tokens_b
        assert world.logprob(p.tokens_a) > -np.inf and world.logprob(p.tokens_b) > -np.inf
    labels = [p.label for p in pairs]
    for side in ("tokens_a", "tokens_b"):  # one sentence alone says nothing about the label
        meanings = [_meaning(getattr(p, side))[1:] for p in pairs]
        assert _mutual_information(meanings, labels) < 0.015  # 8 meanings x 3 labels: plug-in bias ~0.005
        assert _mutual_information([getattr(p, side)[2] == "not" for p in pairs], labels) < 0.005
    again = ft.entailment_pairs(world, num_pairs=3000, seed=0)
    assert [p.tokens_b for p in again[:50]] == [p.tokens_b for p in pairs[:50]]


def test_statement_questions_have_one_right_name(world):
    examples = ft.statement_qa_examples(world, num_examples=300, seed=0, statements_per_context=4)
    for q in examples:
        start, end = q.span
        assert start == end and q.context[start + 1] == "is" and q.answer == [q.context[start]]
        _, dim, polarity = _meaning(["x", "is", q.question[2]])
        statements, at = [], 0
        while at < len(q.context):  # split the context back into its statements
            length = 4 if q.context[at + 2] == "not" else 3
            statements.append((at, _meaning(q.context[at : at + length])))
            at += length
        assert len(statements) == 4
        assert [i for i, (_, d, p) in statements if (d, p) == (dim, polarity)] == [start]


def test_joint_label_needs_both_sides(corpus):
    examples = ft.joint_examples(corpus)
    labels = [e.label for e in examples]
    left = [e.tokens[e.left_position] for e in examples]
    right = [e.tokens[e.right_position] for e in examples]
    n = len(examples)
    noise = 3 * 12 / (2 * n * math.log(2))  # plug-in bias of MI with 12 words x 2 labels, times 3
    assert _mutual_information(left, labels) < noise and _mutual_information(right, labels) < noise
    assert math.isclose(_mutual_information(list(zip(left, right, strict=True)), labels),
                        _mutual_information(labels, labels), rel_tol=1e-9)  # both sides decide it
    assert all(e.label == (e.left_class == "hot") ^ (e.right_class == "heating") for e in examples)
    tailed = ft.joint_examples(corpus, with_tail=True)
    assert all(t.tokens[-1] in lex.JOINT_TAIL[t.label] for t in tailed)


def test_sense_examples_keep_to_the_adjacent_cue_sentences(world, corpus):
    examples = tasks.sense_examples(corpus, world)
    assert {e.cue_distance for e in examples} == {1, 2}
    assert len(examples) == sum(s.info["kind"] == "polysemous" for s in corpus)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("distances", [(0,), (MAX_DISTANCE + 1,), (2, 2), (), [1, 2], (1.5,)])
def test_distances_the_generator_cannot_build_raise(distances):
    with pytest.raises(ValueError, match=f"long_range_distances.*1..{MAX_DISTANCE}"):
        ToyWorldConfig(long_range_distances=distances)


def test_bad_family_shares_raise():
    with pytest.raises(ValueError, match="joint_share"):
        ToyWorldConfig(joint_share=-0.1)
    with pytest.raises(ValueError, match="sum to less than 1"):
        ToyWorldConfig(long_range_share=0.5, statement_share=0.5)
    with pytest.raises(ValueError, match="unknown family share.*long_range_share"):
        ToyWorldConfig().with_families(long_share=0.1)


def test_tasks_name_what_the_corpus_lacks(world, corpus, plain):
    default = plain.corpus("train", 0, 30)
    with pytest.raises(ValueError, match="no 'long_range_sense' sentences.*long_range_share > 0"):
        ft.long_range_sense_examples(default)
    real = Corpus("text", "train", [Document([Sentence(["some", "real", "text"])])])
    with pytest.raises(ValueError, match="real corpus has none"):
        ft.joint_examples(real)
    with pytest.raises(ValueError, match="real corpus has none"):
        tasks.sense_examples(real)
    with pytest.raises(ValueError, match=r"distances \[3\].*available distances: 1, 2, 4, 8, 12"):
        ft.agreement_examples(corpus, world, distances=(3,))
    with pytest.raises(ValueError, match="sides.*left, right"):
        ft.long_range_sense_examples(corpus, world, sides=("up",))
    with pytest.raises(ValueError, match="num_pairs"):
        ft.entailment_pairs(world, num_pairs=2)
    with pytest.raises(ValueError, match="statements_per_context"):
        ft.statement_qa_examples(world, statements_per_context=9)
    with pytest.raises(ValueError, match="no statement family.*statement_share > 0"):
        ft.entailment_pairs(plain)


# ----------------------------------------------------------------------------- tasks by name, label budgets

def test_every_family_task_by_name_gives_what_its_own_function_gives(world, corpus):
    for name in ft.FAMILY_TASKS:
        examples = ft.family_task(name, corpus, world, num_examples=30, seed=3)
        assert examples, name
    assert ft.family_task("homograph POS", corpus) == ft.homograph_examples(corpus)
    assert ft.family_task("entailment", world=world, num_examples=30, seed=3) == ft.entailment_pairs(world, 30, 3)


def test_family_task_explains_bad_names_and_missing_inputs(world, corpus, plain):
    with pytest.raises(ValueError, match="unknown task 'sentiment'.*'long-range sense'.*'statement QA'"):
        ft.family_task("sentiment", corpus, world)
    with pytest.raises(ValueError, match="cut from a corpus"):
        ft.family_task("joint", world=world)
    with pytest.raises(ValueError, match="drawn from a world"):
        ft.family_task("statement QA", corpus)
    with pytest.raises(ValueError, match="no 'many_cue' sentences|no gold"):
        ft.family_task("many-cue sense", plain.corpus("train", 0, 20))


def test_label_budgets_are_nested_seeded_and_balanced_when_asked():
    examples = [(i, "a" if i < 90 else "b") for i in range(100)]  # 90 of class a, 10 of class b
    small, large = ft.label_budget(examples, 8, seed=1), ft.label_budget(examples, 40, seed=1)
    assert large[:8] == small and len(set(large)) == 40
    assert ft.label_budget(examples, 8, seed=1) == small and ft.label_budget(examples, 8, seed=2) != small
    balanced = ft.label_budget(examples, 8, seed=1, label=lambda e: e[1])
    assert Counter(e[1] for e in balanced) == {"a": 4, "b": 4}
    everything = ft.label_budget(examples, 100, seed=1, label=lambda e: e[1])  # b runs out: a fills the rest
    assert sorted(everything) == examples


def test_label_budget_larger_than_the_training_set_names_its_size():
    with pytest.raises(ValueError, match="budget of 64 .* has only 10: use at most 10"):
        ft.label_budget(list(range(10)), 64)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="positive number of examples"):
            ft.label_budget(list(range(10)), bad)
