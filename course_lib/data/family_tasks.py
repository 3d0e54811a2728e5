"""Task datasets cut from the toy world's optional families (``toyworld_families``), with gold labels.

Each takes a ``Corpus`` generated with that family switched on, for example
``ToyWorld(ToyWorldConfig().with_families()).corpus("train", seed=0)``; a corpus without the family (a real
corpus, or the default toy world) gets a ``ValueError`` that says how to make one:

    >>> world = ToyWorld(ToyWorldConfig().with_families())
    >>> examples = long_range_sense_examples(world.corpus("train", 0, 500), world, distances=(1, 12))
    >>> examples[0].cue_distance                                              # doctest: +SKIP
    12

- issue 19 (ELMo side): ``long_range_sense_examples``, ``agreement_examples`` (cue or subject ``d`` words
  away), ``homograph_examples`` (part of speech decided by context), ``clause_depth_examples`` (per-token depth).
- issue 20 (BERT side): ``many_cue_sense_examples`` (token task, twenty cue verbs per sense),
  ``statement_examples`` (sentence task: polarity), ``joint_examples`` (a label set by left and right together);
  ``entailment_pairs`` (sentence pairs, three balanced labels) and ``statement_qa_examples`` (extractive QA)
  draw their statements from the world itself (they need the statement family on), so that each label's
  sentences are alike one at a time.
- every task by name: ``family_task(name, corpus, world)`` over ``FAMILY_TASKS``; ``label_budget`` draws the
  nested, optionally class-balanced, labelled subsets of a learning curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.data.corpus import Corpus, Sentence
from course_lib.data.tasks import QAExample, SenseExample
from course_lib.data.toyworld import ToyWorld, toy_world
from course_lib.data.toyworld_families import FAMILY_KINDS, JOINT_LABELS, POLES
from course_lib.data.toyworld_lexicon import MANY_CUE_WORDS, STATEMENT_DIMENSIONS

__all__ = [
    "AgreementExample", "DepthExample", "ENTAILMENT_LABELS", "EntailmentPair", "FAMILY_TASKS", "HomographExample",
    "JointExample", "StatementExample", "agreement_examples", "clause_depth_examples", "entailment_pairs",
    "family_task", "homograph_examples", "joint_examples", "label_budget", "long_range_sense_examples",
    "many_cue_sense_examples", "many_cue_words", "statement_examples", "statement_qa_examples",
]

ENTAILMENT_LABELS = ("entailment", "contradiction", "neutral")


@dataclass
class AgreementExample:
    """A verb whose number is its subject's, ``distance`` words back: ``tokens[position] == verb``.

    An LM is scored on preferring ``verb`` to ``wrong_verb`` (same lemma, other number) at ``position``.
    """

    tokens: list[str]
    position: int  # the verb
    number: str  # "sg" or "pl": the subject's number
    label: int  # 0 singular, 1 plural
    subject_position: int  # the cue
    distance: int  # position - subject_position
    verb: str
    wrong_verb: str
    attractor_position: int  # the last noun or pronoun between subject and verb, -1 if none
    attractor_number: str | None


@dataclass
class HomographExample:
    """A noun/verb form (saw, duck ...) whose part of speech only its context decides."""

    tokens: list[str]
    position: int
    word: str
    tag: str  # "NOUN" or "VERB"
    label: int  # 0 NOUN, 1 VERB
    frame: str  # object / subject (nouns), pronoun / coordination (verbs)


@dataclass
class DepthExample:
    """A sentence with one clause depth per token (0 main clause, 1 inside a clause, 2 inside one inside that)."""

    tokens: list[str]
    depths: list[int]
    kind: str


@dataclass
class StatementExample:
    """``tom is (not) glad``: the polarity of what the sentence says about its character."""

    tokens: list[str]
    character: str
    dimension: str  # mood, health, wealth, energy
    pole: str  # the adjective's pole: "good" or "bad"
    negated: bool
    polarity: str  # pole, flipped by "not"
    label: int  # 0 good, 1 bad


@dataclass
class EntailmentPair:
    """Does ``tokens_b`` agree with, contradict, or say nothing about what ``tokens_a`` says of a character?"""

    tokens_a: list[str]
    tokens_b: list[str]
    label: int  # index in ENTAILMENT_LABELS
    relation: str


@dataclass
class JointExample:
    """``tom sees the frozen cow heats``: the noun's label needs the left adjective and the right verb together."""

    tokens: list[str]
    position: int  # the noun whose label it is
    label: int  # 0 steady, 1 change: left class XOR right class
    relation: str
    left_position: int
    right_position: int
    left_class: str  # cold / hot
    right_class: str  # cooling / heating


# ----------------------------------------------------------------------------- helpers


def _family(corpus: Corpus, kind: str) -> list[Sentence]:
    """The corpus's sentences of one family kind, or a ValueError that says where such sentences come from."""
    if not isinstance(corpus, Corpus):
        raise ValueError(f"corpus must be a Corpus, got {type(corpus).__name__}")
    out = [s for s in corpus if s.info.get("kind") == kind]
    if out:
        return out
    field = next(f for f, kinds in FAMILY_KINDS.items() if kind in kinds)
    if not any("kind" in s.info for s in corpus):
        raise ValueError(f"corpus {corpus.name!r} has no gold '{kind}' labels (a real corpus has none): use a toy-world "
                         f"corpus with {field} > 0, e.g. ToyWorld(ToyWorldConfig().with_families()).corpus(...)")
    raise ValueError(f"this corpus has no '{kind}' sentences: generate it with {field} > 0 "
                     f"(ToyWorldConfig().with_families() or ToyWorldConfig({field}=0.1)), or use more documents")


def _select(values: list, wanted, what: str) -> set:
    """``wanted`` (None: all) checked against what the corpus has."""
    available = sorted(set(values))
    if wanted is None:
        return set(available)
    wanted = set(wanted)
    missing = wanted - set(available)
    if missing:
        raise ValueError(f"no sentences with {what} {sorted(missing)} in this corpus: available {what}: "
                         f"{', '.join(map(str, available))}")
    return wanted


def _polysemous_index(world: ToyWorld, word: str) -> int:
    words = list(world.polysemous)
    if word not in words:
        raise ValueError(f"{word!r} is not a polysemous word of this world ({', '.join(words)}): pass the ToyWorld "
                         f"that generated the corpus")
    return words.index(word)


# ----------------------------------------------------------------------------- issue 19: long range, syntax


def long_range_sense_examples(corpus: Corpus, world: ToyWorld | None = None, distances=None,
                              sides=None) -> list[SenseExample]:
    """Polysemous tokens whose cue stands ``cue_distance`` words away (``distances``: None for all, or a subset
    of what the corpus has); ``sides``: "left" and/or "right". ``sense_id`` numbers as ``sense_examples`` does."""
    world = world or toy_world()
    sentences = _family(corpus, "long_range_sense")
    keep_d = _select([s.info["cue_distance"] for s in sentences], distances, "distances")
    keep_side = _select([s.info["cue_side"] for s in sentences], sides, "sides")
    out = []
    for s in sentences:
        info = s.info
        if info["cue_distance"] in keep_d and info["cue_side"] in keep_side:
            word, i = info["word"], info["position"]
            index = _polysemous_index(world, word)
            label = world.polysemous[word].senses.index(info["sense"])
            sense_id = 2 * index + label
            out.append(SenseExample(list(s.tokens), i, word, info["sense"], label, info["cue_side"],
                                    info["cue_position"], info["cue_distance"], sense_id))
    return out


def _verb_numbers(world: ToyWorld) -> dict[str, str]:
    """Intransitive verb -> the same lemma in the other number (sleeps <-> sleep), from the aligned I./IP. lists."""
    g, out = world.grammar, {}
    for s in world.topics:
        sg, pl = (g.categories[g.category_index[f"{c}.{s}"]].word_ids for c in ("I", "IP"))
        for a, b in zip(sg, pl, strict=True):
            out[world.vocabulary[a]], out[world.vocabulary[b]] = world.vocabulary[b], world.vocabulary[a]
    return out


def agreement_examples(corpus: Corpus, world: ToyWorld | None = None, distances=None) -> list[AgreementExample]:
    """Subject-verb agreement across ``distance - 1`` words of relative clause, prepositional phrases and
    adverbs (``tom imagines the cows that he feeds sleep``), with the wrong-number verb for LM scoring."""
    world = world or toy_world()
    sentences = _family(corpus, "long_range_agreement")
    keep = _select([s.info["distance"] for s in sentences], distances, "distances")
    other = _verb_numbers(world)
    out = []
    for s in sentences:
        info = s.info
        if info["distance"] in keep:
            verb = s.tokens[info["verb"]]
            if verb not in other:
                raise ValueError(f"verb {verb!r} is not in this world: pass the ToyWorld that generated the corpus")
            out.append(AgreementExample(list(s.tokens), info["verb"], info["number"], int(info["number"] == "pl"),
                                        info["subject"], info["distance"], verb, other[verb], info["attractor"],
                                        info["attractor_number"]))
    return out


def homograph_examples(corpus: Corpus) -> list[HomographExample]:
    """Every noun/verb homograph token with its context-decided tag (half nouns, half verbs in expectation)."""
    out = []
    for s in _family(corpus, "homograph"):
        i, tag = s.info["position"], s.info["tag"]
        out.append(HomographExample(list(s.tokens), i, s.tokens[i], tag, int(tag == "VERB"), s.info["frame"]))
    return out


def clause_depth_examples(corpus: Corpus, kinds: tuple[str, ...] = ("clause",)) -> list[DepthExample]:
    """Sentences of the given family kinds with their clause depth per token (every family sentence has one)."""
    known = [k for ks in FAMILY_KINDS.values() for k in ks]
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise ValueError(f"unknown kind(s) {unknown}: the families with depth labels are {', '.join(known)}")
    return [DepthExample(list(s.tokens), list(s.info["depth"]), kind) for kind in kinds for s in _family(corpus, kind)]


# ----------------------------------------------------------------------------- issue 20: label-scarce tasks


def many_cue_words(world: ToyWorld) -> dict[tuple[str, str], list[str]]:
    """(word, sense) -> its cue verbs in this world (twenty each at full size)."""
    g = world.grammar
    out = {(pw.word, sense): [world.vocabulary[i] for i in g.categories[g.category_index[name]].word_ids]
           for pw in MANY_CUE_WORDS for sense in pw.senses
           if (name := f"MCUE.{pw.word}.{sense}") in g.category_index}
    if not out:
        raise ValueError("this world has no many-cue family: build it with many_cue_share > 0")
    return out


def many_cue_sense_examples(corpus: Corpus, cues: tuple[int, ...] = (1,)) -> list[SenseExample]:
    """Tokens of star / cell with their sense, decided by one cue verb of twenty per sense (``cues=(1,)``, the
    task) or by two joined with "and" (``cues=(2,)``, what unlabelled text adds). ``sense_id`` = 2 * word + sense."""
    sentences = _family(corpus, "many_cue")
    keep = _select([s.info["cues"] for s in sentences], cues, "cue counts")
    words = [pw.word for pw in MANY_CUE_WORDS]
    out = []
    for s in sentences:
        info = s.info
        if info["cues"] in keep:
            pw = MANY_CUE_WORDS[words.index(info["word"])]
            label = pw.senses.index(info["sense"])
            out.append(SenseExample(list(s.tokens), info["position"], info["word"], info["sense"], label, "right",
                                    info["cue_position"], 1, 2 * words.index(info["word"]) + label))
    return out


def statement_examples(corpus: Corpus, forms: tuple[str, ...] = ("plain", "negated")) -> list[StatementExample]:
    """Statements about the character with their polarity: ``tom is glad`` good, ``tom is not glad`` bad.
    ``forms``: plain, negated (the task), and/or and, but_not (synonyms and antonyms joined: unlabelled text)."""
    sentences = _family(corpus, "statement")
    keep = _select([s.info["form"] for s in sentences], forms, "forms")
    return [StatementExample(list(s.tokens), s.tokens[0], s.info["dimension"], s.info["pole"], s.info["negated"],
                             s.info["polarity"], POLES.index(s.info["polarity"]))
            for s in sentences if s.info["form"] in keep]


class _Statements:
    """Draws statements of the world's statement family: a character, a dimension and a polarity (the meaning),
    then plain or negated with even odds and an adjective uniformly from the pole that gives that polarity."""

    def __init__(self, world: ToyWorld, rng: np.random.Generator) -> None:
        g = world.grammar
        self.adjectives = {}
        for dim, *_ in STATEMENT_DIMENSIONS:
            for pole in POLES:
                name = f"ST.{dim}.{pole}"
                if name not in g.category_index:
                    raise ValueError("this world has no statement family: build it with statement_share > 0 "
                                     "(ToyWorldConfig().with_families())")
                self.adjectives[dim, pole] = [world.vocabulary[i] for i in g.categories[g.category_index[name]].word_ids]
        self.characters = [world.vocabulary[i] for names in world._names for i in names]
        self.dimensions = [dim for dim, *_ in STATEMENT_DIMENSIONS]
        self.rng = rng

    def pick(self, items: list):
        return items[self.rng.integers(len(items))]

    def sentence(self, character: str, dimension: str, polarity: str) -> list[str]:
        negated = bool(self.rng.integers(2))
        pole = POLES[POLES.index(polarity) ^ negated]
        return [character, "is", *(["not"] if negated else []), self.pick(self.adjectives[dimension, pole])]


def entailment_pairs(world: ToyWorld, num_pairs: int = 3000, seed: int = 0,
                     other_character_share: float = 0.25) -> list[EntailmentPair]:
    """Pairs of statements of the world's statement family, a third per label. Entailment: same character,
    dimension and polarity, never the same words (``tom is glad`` / ``tom is not gloomy``); contradiction: the
    opposite polarity; neutral: the same character on another dimension, or (``other_character_share`` of
    them) another character on the same dimension.

    Each sentence's meaning (character, dimension, polarity) is uniform whatever the label, so neither sentence
    alone tells the label (chance, 1/3): only the pair does. Comparing the two names alone reaches
    ``(1 + other_character_share) / 3``.
    """
    if isinstance(num_pairs, bool) or not isinstance(num_pairs, int) or num_pairs < 3:
        raise ValueError(f"num_pairs must be an integer >= 3 (one per label), got {num_pairs!r}")
    if not 0.0 <= other_character_share <= 1.0:
        raise ValueError(f"other_character_share must be in [0, 1], got {other_character_share}")
    rng = np.random.default_rng(seed)
    st = _Statements(world, rng)
    out = []
    for k in range(num_pairs):
        label = k % 3
        character, dimension, polarity = st.pick(st.characters), st.pick(st.dimensions), st.pick(list(POLES))
        a = st.sentence(character, dimension, polarity)
        if label == 0:
            b = a
            while b == a:  # the same words would make "identical" a shortcut to entailment
                b = st.sentence(character, dimension, polarity)
        elif label == 1:
            b = st.sentence(character, dimension, POLES[1 - POLES.index(polarity)])
        elif rng.random() < other_character_share:
            b = st.sentence(st.pick([c for c in st.characters if c != character]), dimension, st.pick(list(POLES)))
        else:
            b = st.sentence(character, st.pick([d for d in st.dimensions if d != dimension]), st.pick(list(POLES)))
        out.append(EntailmentPair(a, b, label, ENTAILMENT_LABELS[label]))
    return [out[i] for i in rng.permutation(len(out))]


def statement_qa_examples(world: ToyWorld, num_examples: int = 2000, seed: int = 0,
                          statements_per_context: int = 3) -> list[QAExample]:
    """``who is glad`` over a context of statements about different characters (``tom is not gloomy ruth is
    ill ...``): the answer is the one name whose statement means the question's adjective (same dimension and
    polarity: a synonym, or a negated antonym). Span: that name, inclusive. Meanings in a context all differ."""
    cells = len(STATEMENT_DIMENSIONS) * len(POLES)
    if not 2 <= statements_per_context <= cells:
        raise ValueError(f"statements_per_context must be in 2..{cells} (one per dimension and polarity), "
                         f"got {statements_per_context}")
    if isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 1:
        raise ValueError(f"num_examples must be a positive integer, got {num_examples!r}")
    rng = np.random.default_rng(seed)
    st = _Statements(world, rng)
    meanings = [(d, p) for d in st.dimensions for p in POLES]
    out = []
    for _ in range(num_examples):
        characters = rng.choice(len(st.characters), size=statements_per_context, replace=False)
        chosen = rng.choice(len(meanings), size=statements_per_context, replace=False)
        target = int(rng.integers(statements_per_context))
        context, start = [], 0
        for j, (c, m) in enumerate(zip(characters, chosen, strict=True)):
            if j == target:
                start = len(context)
            context += st.sentence(st.characters[c], *meanings[m])
        dimension, polarity = meanings[chosen[target]]
        out.append(QAExample(["who", "is", st.pick(st.adjectives[dimension, polarity])], context, (start, start)))
    return out


def joint_examples(corpus: Corpus, with_tail: bool = False) -> list[JointExample]:
    """The noun of ``tom sees the frozen cow heats`` labelled change (left class XOR right class) or steady.
    Without the tail (default) neither side alone carries information about the label; the tailed sentences
    (``... heats unexpectedly``) name the label in the unlabelled text."""
    out = []
    for s in _family(corpus, "joint"):
        info = s.info
        if info["tail"] == with_tail:
            out.append(JointExample(list(s.tokens), info["position"], JOINT_LABELS.index(info["label"]), info["label"],
                                    info["left_position"], info["right_position"], info["left_class"],
                                    info["right_class"]))
    if not out:
        raise ValueError(f"no joint sentences with with_tail={with_tail} in this corpus: use more documents")
    return out


# ----------------------------------------------------------------------------- by name, and label budgets

FAMILY_TASKS = {  # name -> (what it labels, how it is built from (corpus, world, num_examples, seed))
    "long-range sense": ("a token: the sense, its cue d words away",
                         lambda c, w, n, s: long_range_sense_examples(c, w)),
    "agreement": ("a token: the verb's number, its subject d words away",
                  lambda c, w, n, s: agreement_examples(c, w)),
    "homograph POS": ("a token: noun or verb, decided by context", lambda c, w, n, s: homograph_examples(c)),
    "clause depth": ("every token: 0, 1 or 2 relative clauses deep", lambda c, w, n, s: clause_depth_examples(c)),
    "many-cue sense": ("a token: the sense, one cue verb of many", lambda c, w, n, s: many_cue_sense_examples(c)),
    "statement polarity": ("a sentence: good or bad", lambda c, w, n, s: statement_examples(c)),
    "joint": ("a token: left class XOR right class", lambda c, w, n, s: joint_examples(c)),
    "entailment": ("a sentence pair: entailment, contradiction or neutral",
                   lambda c, w, n, s: entailment_pairs(w, n, s)),
    "statement QA": ("a span: who is <adjective>", lambda c, w, n, s: statement_qa_examples(w, n, s)),
}


def family_task(name: str, corpus: Corpus | None = None, world: ToyWorld | None = None, num_examples: int = 2000,
                seed: int = 0) -> list:
    """The examples of one task of ``FAMILY_TASKS`` by name. Tasks cut from sentences read ``corpus`` (a toy-world
    corpus with that family on); the pair and QA tasks draw ``num_examples`` from ``world`` with ``seed``."""
    if name not in FAMILY_TASKS:
        raise ValueError(f"unknown task {name!r}: the toy world's families give "
                         + ", ".join(repr(n) for n in FAMILY_TASKS))
    from_world = name in ("entailment", "statement QA")
    if from_world and world is None:
        raise ValueError(f"task {name!r} is drawn from a world: pass the ToyWorld with its families on, e.g. "
                         "named_toy_world('toyworld-families')")
    if not from_world and corpus is None:
        raise ValueError(f"task {name!r} is cut from a corpus: pass one generated with its family on, e.g. "
                         "named_toy_world('toyworld-families').corpus('train', 0, 3000)")
    return FAMILY_TASKS[name][1](corpus, world, num_examples, seed)


def label_budget(examples: list, size: int, seed: int = 0, label=None) -> list:
    """``size`` labelled examples for one point of a learning curve, drawn without replacement from ``seed``.

    Budgets of one seed are nested: the 16 examples of ``label_budget(x, 16, s)`` are the first 16 of
    ``label_budget(x, 64, s)``. With ``label`` (a function of an example, e.g. ``lambda e: e.label``) the draw
    takes the classes in turn, so that a small budget holds every class about equally often.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"a label budget is a positive number of examples, got {size!r}")
    if size > len(examples):
        raise ValueError(f"a budget of {size} labelled examples, but the training set has only {len(examples)}: "
                         f"use at most {len(examples)}, or cut the task from more documents")
    order = np.random.default_rng(seed).permutation(len(examples)).tolist()
    if label is not None:  # round robin over the classes, each class in its shuffled order
        by_class: dict = {}
        for i in order:
            by_class.setdefault(label(examples[i]), []).append(i)
        queues = [by_class[k] for k in sorted(by_class, key=str)]
        order = [q[j] for j in range(max(map(len, queues))) for q in queues if j < len(q)]
    return [examples[i] for i in order[:size]]
