"""The toy world's grammar: word categories, flat sentence templates, and word-to-word preferences.

A sentence is drawn in three steps (per document: a topic ``t`` and a character name ``n``):

1. a template ``e`` with probability ``p(e | t)``; each template is a fixed sequence of slots;
2. each slot's word from its category: uniformly for the character's name, from a Zipf distribution
   for most slots, or, for a slot with a *parent* (a verb after its subject, an object after its verb),
   from the parent word's preference row ``p(w | parent word)``;
3. the sentence ends (``<eos>``) when the template ends.

Every surface form belongs to exactly one category and no two templates share a category sequence,
so a token sequence has at most one derivation and ``p(sentence) = p(e) * prod p(word)``. A word's
part of speech is its category's, except in the slots where a template sets it (the noun/verb homographs of
the optional context-syntax family: ``toyworld_families``). Every template belongs to one topic (topic
words or the topic's character names), which the sentence-level probability sums out:
``p(s) = sum_t p(t) p(s | t) = p(t_s) p(s | t_s)``.

The analogy families (``tasks.analogy_pairs``) are built so that word vectors can solve them by
3CosAdd: a word ``(identity, attribute)`` gets its neighbours (within two words) from two independent
sources, contexts of its identity that both members of a pair share and contexts of its attribute that
every word with that attribute shares, in every topic; the two members never stand next to each other.

- plural and verb number (``pronoun`` family, the most frequent one): ``he feeds this dairy cow`` /
  ``they feed these dairy cows``. The noun's own modifier (dairy) is its identity, this/each vs
  these/some its number; the verb's objects are its identity, he/she vs they its number.
- gender: ``the king rules his kingdom and the duchess governs her duchy``: each role pair has its
  own verb and object (identity), his/her is the gender.
- countries: ``NAME flies to rome italy``, ``NAME meets the rome italian``, ``NAME eats rome pasta``:
  the city is the country's identity; the country, its residents and its dish never meet. Every
  topic's characters travel, so these sentences come in every topic.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from course_lib.data import toyworld_lexicon as lex
from course_lib.data.toyworld_families import FAMILY_KINDS, MAX_DISTANCE, SUGGESTED_SHARES, add_families

TAGS = ("DET", "NOUN", "PROPN", "VERB", "ADJ", "ADV", "ADP", "PRON", "CCONJ", "NUM")

# part of speech of every word that templates spell out literally
LITERAL_TAGS = {
    "the": "DET", "all": "DET", "that": "PRON", "his": "PRON", "her": "PRON", "their": "PRON", "and": "CCONJ",
    "to": "ADP", "after": "ADP", "once": "ADV", "more": "ADV", "afternoon": "NOUN", "not": "ADV", "but": "CCONJ",
    "lunch": "NOUN", "flies": "VERB", "meets": "VERB", "eats": "VERB", "is": "VERB", "are": "VERB",
}

# share of a topic's non-polysemous sentences per template family (renormalized over the families a topic has)
FAMILY_WEIGHTS = {
    "name_svo": 0.15, "pronoun": 5.0, "predicate": 1.0, "svo": 0.06, "svo_plural": 0.06, "count": 0.06,
    "intransitive": 0.06, "agreement": 0.1,
}
# the travel templates of every country (C country, R resident, F dish, CITY its city)
COUNTRY_FRAMES = (("NAME", "flies", "to", "CITY", "C"), ("NAME", "meets", "the", "CITY", "R"),
                  ("NAME", "eats", "CITY", "F"))
# the analogy families' fixed share of their topic's non-polysemous sentences (the rest: FAMILY_WEIGHTS)
SPECIAL_SHARES = {"roles": 0.45, "countries": 0.1, "countries.travel": 0.3}
# distractors near a polysemous word, with their probabilities: on the right an adverb between the word and
# its cue verb (cue distance 2), on the left an adjective before the cue adjective (the cue stays next to the word)
RIGHT_DISTRACTORS = (((), 0.75), (("ADV",), 0.25))
LEFT_DISTRACTORS = (((), 0.75), (("ADJD",), 0.25))


@dataclass
class ToyWorldConfig:
    """Size and shape of the toy world. Defaults give ~800 word types and ~0.8M training tokens."""

    num_topics: int = 10  # topics used, in the order of ``toyworld_lexicon.TOPICS`` (at most 10)
    names_per_topic: int = 6  # recurring characters per topic (at most 6); NSP keys on them
    words_per_category: int | None = None  # cap on every word list (None: all typed words); tiny() uses 2
    num_polysemous: int = 10  # polysemous words, alternating right- and left-decided (at most 10)
    num_countries: int = 8  # (country, resident, dish, city) of the travel sentences (at most 8)
    polysemous_share: float = 0.3  # share of sentences drawn from the polysemous templates (of what families leave)
    min_sentences: int = 3  # sentences per document, uniform in [min_sentences, max_sentences]
    max_sentences: int = 6
    zipf_exponent: float = 0.8  # the i-th word of a category weighs 1 / (i + 1) ** zipf_exponent
    content_zipf_exponent: float = 0.4  # the same for a topic's nouns, verbs, adjectives and modifiers
    preference_boost: float = 30.0  # each noun's 2 own verbs weigh x this in those verbs' object rows
    subject_boost: float = 1.0  # each noun's 2 favourite verbs as its subject weigh x this
    own_choice: float = 0.9  # a role pair's own verb (and that verb's own object) has at least this probability
    grammar_seed: int = 1234  # fixes those favourites (the world's "meaning"), not the corpus sample
    train_documents: int = 30_000  # default number of documents per split (~0.8M training tokens)
    validation_documents: int = 3_000
    test_documents: int = 3_000
    split_shares: tuple[float, float, float] = (0.8, 0.1, 0.1)  # a document's split is a hash of its text
    # optional families (``toyworld_families``): each one's share of all sentences; 0.0 leaves it out entirely
    # (no words, no templates). Switch one on by default here, or per world with ``with_families()``.
    long_range_share: float = 0.0  # sense cue / agreement subject d words away
    context_syntax_share: float = 0.0  # noun/verb homographs, nested relative clauses
    many_cue_share: float = 0.0  # senses decided by one of twenty cue verbs each
    statement_share: float = 0.0  # "tom is (not) glad": polarity and entailment
    joint_share: float = 0.0  # a label decided by the left and the right context together (XOR)
    long_range_distances: tuple[int, ...] = (1, 2, 4, 8, 12)  # cue distances d of the long-range family

    @classmethod
    def tiny(cls) -> ToyWorldConfig:
        """Two topics, two words per category: small enough to enumerate every sentence."""
        return cls(num_topics=2, names_per_topic=2, words_per_category=2, num_polysemous=2, num_countries=2,
                   train_documents=200, validation_documents=50, test_documents=50,
                   long_range_distances=(1, 2, 4))  # longer fillers: too many sentences to enumerate

    def with_families(self, **shares: float) -> ToyWorldConfig:
        """This config with every family switched on at its suggested share, unless ``shares`` say otherwise
        (``ToyWorldConfig().with_families(joint_share=0.1)``)."""
        from dataclasses import replace

        unknown = set(shares) - set(FAMILY_KINDS)
        if unknown:
            raise ValueError(f"unknown family share(s) {sorted(unknown)}: use {', '.join(FAMILY_KINDS)}")
        return replace(self, **{**SUGGESTED_SHARES, **shares})

    def __post_init__(self) -> None:
        limits = {"num_topics": len(lex.TOPICS), "names_per_topic": 6, "num_polysemous": len(lex.POLYSEMOUS),
                  "num_countries": len(lex.COUNTRIES)}
        for name, most in limits.items():
            if not 1 <= getattr(self, name) <= most:
                raise ValueError(f"{name} must be in 1..{most}, got {getattr(self, name)}")
        if self.words_per_category is not None and self.words_per_category < 1:
            raise ValueError(f"words_per_category must be >= 1 or None, got {self.words_per_category}")
        if not 0.0 < self.polysemous_share < 1.0:
            raise ValueError(f"polysemous_share must be in (0, 1), got {self.polysemous_share}")
        if not 1 <= self.min_sentences <= self.max_sentences:
            raise ValueError(f"need 1 <= min_sentences <= max_sentences, got {self.min_sentences}, "
                             f"{self.max_sentences}")
        if len(self.split_shares) != 3 or min(self.split_shares) <= 0 or abs(sum(self.split_shares) - 1) > 1e-9:
            raise ValueError(f"split_shares must be three positive shares summing to 1, got {self.split_shares}")
        for name in FAMILY_KINDS:
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if sum(getattr(self, name) for name in FAMILY_KINDS) >= 1.0:
            raise ValueError(f"the family shares ({', '.join(FAMILY_KINDS)}) must sum to less than 1")
        d = self.long_range_distances
        if (not isinstance(d, tuple) or not d or len(set(d)) != len(d)
                or not all(isinstance(x, int) and 1 <= x <= MAX_DISTANCE for x in d)):
            raise ValueError(f"long_range_distances must be a tuple of distinct distances the generator can build "
                             f"(integers 1..{MAX_DISTANCE}), got {d!r}")


@dataclass
class Category:
    """A word class: its words (ids), their part of speech, and their probability when drawn alone."""

    name: str
    tag: str
    word_ids: np.ndarray  # (n,) int64
    probs: np.ndarray  # (n,) float64, sums to 1
    topic: int | None = None


@dataclass
class Template:
    """One flat sentence shape: slot categories, each slot's parent slot (-1: none), and ``log p(e)``."""

    slots: tuple[int, ...]  # category id per position
    parents: tuple[int, ...]  # parent position per position, -1 for none
    topic: int
    prob_given_topic: float  # p(e | topic)
    logp: float  # log p(e) = log p(topic) + log p(e | topic)
    kind: str
    info: dict = field(default_factory=dict)
    senses: tuple[str | None, ...] = ()
    name_slot: int = -1  # position of the character's name, -1 if the template has none
    tags: tuple[str, ...] = ()  # part of speech per slot where the context decides it (empty: the categories')


def _shifted(slots: list, offset: int) -> list:
    """Template slots moved ``offset`` positions to the right (their parent positions with them)."""
    return [(s[0], s[1] + offset) if isinstance(s, tuple) else s for s in slots]


def zipf(n: int, exponent: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


class Grammar:
    """Categories, templates and preference tables built from ``toyworld_lexicon`` under a config."""

    def __init__(self, config: ToyWorldConfig) -> None:
        self.config = config
        self.words: list[str] = []
        self.word_index: dict[str, int] = {}
        self.word_category: list[int] = []
        self.categories: list[Category] = []
        self.category_index: dict[str, int] = {}
        self.templates: list[Template] = []
        self.tables: dict[tuple[int, int], np.ndarray] = {}  # (parent cat, child cat) -> (n_parent, n_child)
        self._rng = np.random.default_rng(config.grammar_seed)
        self.topics = [t.name for t in lex.TOPICS[: config.num_topics]]
        self.topic_prior = np.full(len(self.topics), 1.0 / len(self.topics))
        self.polysemous = self._alternate_sides(lex.POLYSEMOUS)[: config.num_polysemous]
        self.countries = lex.COUNTRIES[: config.num_countries]
        for t, topic in enumerate(lex.TOPICS[: config.num_topics]):
            self._add_topic(t, topic)
        self._add_shared()
        # the optional families take their shares; the others keep their proportions in what is left (x 1.0 when
        # every family is off, so the default world is bit for bit what it was)
        self.rest_share = 1.0 - sum(getattr(config, f) for f in FAMILY_KINDS)
        for t, topic in enumerate(lex.TOPICS[: config.num_topics]):
            self._add_topic_templates(t, topic)
            self._add_polysemous_templates(t)
        add_families(self)  # after every other template: template ids and word ids stay as they were
        self._check_unambiguous()

    # ------------------------------------------------------------------ categories
    def cap(self, words: tuple | list) -> list:
        k = self.config.words_per_category
        return list(words if k is None else words[:k])

    @staticmethod
    def _alternate_sides(words: tuple[lex.PolysemousWord, ...]) -> list[lex.PolysemousWord]:
        right = [w for w in words if w.side == "right"]
        left = [w for w in words if w.side == "left"]
        out = []
        for i in range(max(len(right), len(left))):
            out += right[i : i + 1] + left[i : i + 1]
        return out

    def add_category(self, name: str, words: list[str], tag: str, topic: int | None = None,
                     probs: np.ndarray | None = None, exponent: float | None = None) -> int:
        if name in self.category_index:
            raise ValueError(f"category {name!r} defined twice")
        cid = len(self.categories)
        ids = []
        for w in words:
            if w in self.word_index:
                other = self.categories[self.word_category[self.word_index[w]]].name
                raise ValueError(f"word {w!r} in two categories: {other!r} and {name!r}")
            self.word_index[w] = len(self.words)
            self.words.append(w)
            self.word_category.append(cid)
            ids.append(self.word_index[w])
        exponent = self.config.zipf_exponent if exponent is None else exponent
        probs = zipf(len(words), exponent) if probs is None else probs
        self.categories.append(Category(name, tag, np.array(ids, dtype=np.int64), probs, topic))
        self.category_index[name] = cid
        return cid

    def literal(self, word: str) -> str:
        """The one-word category of a word a template spells out (created on first use)."""
        name = f"'{word}'"
        if name not in self.category_index:
            self.add_category(name, [word], LITERAL_TAGS[word])
        return name

    def preferences(self, n_parent: int, n_child: int, boost: float) -> np.ndarray:
        """(n_parent, n_child) rows p(child | parent): Zipf, with two favourite children per parent boosted."""
        base = zipf(n_child, self.config.content_zipf_exponent)
        rows = np.tile(base, (n_parent, 1))
        for row in rows:
            fav = self._rng.choice(n_child, size=min(2, n_child), replace=False)
            row[fav] *= boost
        return rows / rows.sum(axis=1, keepdims=True)

    def own_pairs(self, n_nouns: int, n_other: int) -> np.ndarray:
        """(n_nouns, n_other) 0/1: each noun's own pair of words of the other category (distinct pairs while
        there are enough), so those words tell the noun from the other nouns of its topic."""
        combos = list(itertools.combinations(range(n_other), min(2, n_other)))
        order = self._rng.permutation(len(combos))
        own = np.zeros((n_nouns, n_other))
        for noun in range(n_nouns):
            own[noun, list(combos[order[noun % len(combos)]])] = 1.0
        return own

    def boosted(self, own: np.ndarray) -> np.ndarray:
        """Rows p(child | parent): Zipf over the children plus ``preference_boost`` / n on the parent's own ones."""
        n = own.shape[1]
        rows = zipf(n, self.config.content_zipf_exponent) + own * self.config.preference_boost / n
        return rows / rows.sum(axis=1, keepdims=True)

    def own_choice(self, n: int) -> np.ndarray:
        """(n, n) rows p(child | parent) for aligned lists: the parent's own child with ``own_choice``, the rest
        spread evenly over all children (so every sentence keeps a positive probability)."""
        leak = 1.0 - self.config.own_choice
        return np.full((n, n), leak / n) + np.eye(n) * self.config.own_choice

    def add_table(self, parent: str, child: str, table: np.ndarray) -> None:
        key = (self.category_index[parent], self.category_index[child])
        shape = (len(self.categories[key[0]].word_ids), len(self.categories[key[1]].word_ids))
        if table.shape != shape:
            raise ValueError(f"table {parent}->{child} has shape {table.shape}, expected {shape}")
        self.tables[key] = table

    def _add_topic(self, t: int, topic: lex.TopicLexicon) -> None:
        s, content = topic.name, self.config.content_zipf_exponent
        nouns, tr, intr = self.cap(topic.nouns), self.cap(topic.transitive), self.cap(topic.intransitive)
        self.add_category(f"N.{s}", nouns, "NOUN", t, exponent=content)
        self.add_category(f"NS.{s}", [lex.plural(n) for n in nouns], "NOUN", t, exponent=content)
        self.add_category(f"V.{s}", [lex.third_person(v) for v in tr], "VERB", t, exponent=content)
        self.add_category(f"VP.{s}", tr, "VERB", t, exponent=content)
        self.add_category(f"I.{s}", [lex.third_person(v) for v in intr], "VERB", t, exponent=content)
        self.add_category(f"IP.{s}", intr, "VERB", t, exponent=content)
        self.add_category(f"A.{s}", self.cap(topic.adjectives), "ADJ", t, exponent=content)
        self.add_category(f"M.{s}", self.cap(topic.modifiers), "ADJ", t, exponent=content)
        names = list(topic.names[: self.config.names_per_topic])
        self.add_category(f"NAME.{s}", names, "PROPN", t, probs=np.full(len(names), 1.0 / len(names)))
        # lemma-level preferences shared by singular and plural forms
        boost = self.config.subject_boost
        adjective = self.boosted(self.own_pairs(len(nouns), len(self.cap(topic.adjectives))))  # "the cow is lazy"
        subj_tr, subj_in, obj = (self.preferences(len(nouns), len(tr), boost),
                                 self.preferences(len(nouns), len(intr), boost), self.boosted(self.own_pairs(len(nouns), len(tr)).T))
        for number in ("", "S"):
            verb = "V" if number == "" else "VP"
            self.add_table(f"N{number}.{s}", f"{verb}.{s}", subj_tr)
            self.add_table(f"N{number}.{s}", f"{'I' if number == '' else 'IP'}.{s}", subj_in)
            for obj_number in ("", "S"):
                self.add_table(f"{verb}.{s}", f"N{obj_number}.{s}", obj)
            self.add_table(f"N{number}.{s}", f"A.{s}", adjective)
            self.add_table(f"M.{s}", f"N{number}.{s}", self.own_choice(len(nouns)))  # the dairy cow(s)
            self.add_table(f"{verb}.{s}", f"M.{s}", obj)
        if topic.roles:
            roles, marks = self.cap(topic.roles), self.cap(topic.role_marks)
            even = np.full(len(roles), 1.0 / len(roles))  # every pair as frequent: each one is an analogy
            self.add_category(f"RM.{s}", [m for m, _ in roles], "NOUN", t, probs=even)
            self.add_category(f"RF.{s}", [f for _, f in roles], "NOUN", t, probs=even)
            self.add_category(f"RV.{s}", [v for v, _ in marks], "VERB", t)
            self.add_category(f"RO.{s}", [o for _, o in marks], "NOUN", t)
            own = self.own_choice(len(roles))  # king and queen share a row: the pair's own verb, mostly
            self.add_table(f"RM.{s}", f"RV.{s}", own)
            self.add_table(f"RF.{s}", f"RV.{s}", own)
            self.add_table(f"RV.{s}", f"RO.{s}", own)
        if s == "travel":
            for country, resident, dish, city in self.countries:
                self.add_category(f"C.{country}", [country], "PROPN", t)
                self.add_category(f"R.{country}", [resident], "NOUN", t)
                self.add_category(f"F.{country}", [dish], "NOUN", t)
                self.add_category(f"CITY.{country}", [city], "PROPN", t)

    def _add_shared(self) -> None:
        self.add_category("PREP", self.cap(lex.PREPOSITIONS), "ADP")
        self.add_category("NUM", self.cap(lex.NUMBERS), "NUM")
        self.add_category("ADV", self.cap(lex.DISTRACTOR_ADVERBS), "ADV")
        self.add_category("ADJD", self.cap(lex.DISTRACTOR_ADJECTIVES), "ADJ")
        self.add_category("DS", self.cap(lex.SINGULAR_DETERMINERS), "DET")
        self.add_category("DP", self.cap(lex.PLURAL_DETERMINERS), "DET")
        self.add_category("PRS", self.cap(lex.SINGULAR_PRONOUNS), "PRON")
        self.add_category("PRP", self.cap(lex.PLURAL_PRONOUNS), "PRON")
        self.add_category("FVP", self.cap(lex.POLYSEMOUS_FRAME_VERBS), "VERB")
        for pw in self.polysemous:
            self.add_category(f"W.{pw.word}", [pw.word], "NOUN")
            for sense, cues in zip(pw.senses, pw.cues, strict=True):
                self.add_category(f"CUE.{pw.word}.{sense}", self.cap(cues), "VERB" if pw.side == "right" else "ADJ")

    # ------------------------------------------------------------------ templates
    def add_template(self, topic: int, kind: str, prob: float, slots: list, info: dict | None = None,
                     senses: dict[int, str] | None = None, tags: dict[int, str] | None = None) -> None:
        """``slots``: literal words, category names, or (category name, parent position) pairs; ``tags``: part of
        speech of the slots whose category does not decide it."""
        cats, parents = [], []
        for slot in slots:
            name, parent = slot if isinstance(slot, tuple) else (slot, -1)
            if name not in self.category_index:
                name = self.literal(name)
            cats.append(self.category_index[name])
            parents.append(parent)
        for pos, parent in enumerate(parents):
            if parent >= pos:
                raise ValueError(f"{kind}: slot {pos} has parent {parent}; a parent must come first")
            if parent >= 0 and (cats[parent], cats[pos]) not in self.tables:
                raise ValueError(f"{kind}: no preference table for slot {pos} given slot {parent}")
        name_slot = next((i for i, c in enumerate(cats) if self.categories[c].name.startswith("NAME.")), -1)
        senses = senses or {}
        slot_tags = () if not tags else tuple(tags.get(i, self.categories[c].tag) for i, c in enumerate(cats))
        self.templates.append(Template(
            tuple(cats), tuple(parents), topic, prob, float(np.log(self.topic_prior[topic] * prob)), kind,
            dict(info or {}), tuple(senses.get(i) for i in range(len(cats))), name_slot, slot_tags))

    def _families(self, t: int, s: str, has_roles: bool) -> dict[str, list[tuple[float, list, dict]]]:
        """Each family's variants: (probability within the family, slots, info).

        Noun phrases outside ``name_svo`` objects and the agreement family open with a number-marking
        determiner (``this cow``, ``these cows``): the same words mark number in every topic. ``pronoun``
        (``he feeds this dairy cow``) and ``predicate`` (``these cows are lazy``) carry most of the
        plural and verb-number evidence; ``roles`` and ``countries`` the gender and country analogies.
        """
        fam: dict[str, list] = {}
        det = {"N": "DS", "NS": "DP", "": "DS", "S": "DP"}
        where = ([], ["PREP", "DS", f"N.{s}"])  # an optional place at the end
        fam["name_svo"] = [(0.125, ["NAME." + s, f"V.{s}", "the", *mod, (f"{obj}.{s}", 3 if mod else 1), *loc],
                            {"subject": (0, 0), "verb": 1, "object": (3, 3 + len(mod))})
                           for mod in ([], [(f"M.{s}", 1)]) for obj in ("N", "NS") for loc in where]
        fam["svo"] = [(0.125, ["DS", *adj, f"N.{s}", (f"V.{s}", 1 + len(adj)), det[obj],
                               (f"{obj}.{s}", 2 + len(adj)), *loc], {})
                      for adj in ([], [f"A.{s}"]) for obj in ("N", "NS") for loc in where]
        fam["svo_plural"] = [(0.25, ["DP", f"NS.{s}", (f"VP.{s}", 1), det[obj], *adj, (f"{obj}.{s}", 2)], {})
                             for obj in ("N", "NS") for adj in ([], [f"A.{s}"])]
        fam["pronoun"] = [(0.25, [pron, verb, det[obj], (f"M.{s}", 1), (f"{obj}.{s}", 3)], {})
                          for pron, verb in (("PRS", f"V.{s}"), ("PRP", f"VP.{s}")) for obj in ("N", "NS")]
        fam["predicate"] = [(0.5, ["DS", f"N.{s}", "is", (f"A.{s}", 1)], {}),
                             (0.5, ["DP", f"NS.{s}", "are", (f"A.{s}", 1)], {})]
        fam["count"] = [(1.0, ["NAME." + s, f"V.{s}", "NUM", (f"NS.{s}", 1), "PREP", "DS", f"N.{s}"],
                         {"subject": (0, 0), "verb": 1, "object": (2, 3)})]
        fam["intransitive"] = [(0.25, [det[n], f"N{n}.{s}", (f"{'I' if n == '' else 'IP'}.{s}", 1), "PREP", "DS",
                                       *adj, f"N.{s}"], {}) for n in ("", "S") for adj in ([], [f"A.{s}"])]
        agreement = []
        for head, attractor, adj in itertools.product(("sg", "pl"), ("sg", "pl", "name"), ([], [f"A.{s}"])):
            head_n = "N" if head == "sg" else "NS"
            main_v = "I" if head == "sg" else "IP"
            h = 1 + len(adj)  # position of the head noun
            if attractor == "name":
                clause = ["NAME." + s, f"V.{s}"]
            else:
                att_v = "V" if attractor == "sg" else "VP"
                clause = ["the", f"{'N' if attractor == 'sg' else 'NS'}.{s}", (f"{att_v}.{s}", h + 3)]
            slots = ["the", *adj, f"{head_n}.{s}", "that", *clause, (f"{main_v}.{s}", h)]
            agreement.append((1 / 12, slots, {"subject": h, "verb": len(slots) - 1, "number": head,
                                              "attractor": h + 2 if attractor == "name" else h + 3,
                                              "attractor_number": "sg" if attractor == "name" else attractor}))
        fam["agreement"] = agreement
        if has_roles:  # the pair's own verb and object carry its identity, his/her its gender
            clause = {"male": ["the", f"RM.{s}", (f"RV.{s}", 1), "his", (f"RO.{s}", 2)],
                      "female": ["the", f"RF.{s}", (f"RV.{s}", 1), "her", (f"RO.{s}", 2)]}
            fam["roles"] = [(0.25, clause[g] + ["and"] + _shifted(clause[h], len(clause[g]) + 1),
                             {"gender": g, "second_gender": h}) for g in clause for h in clause]
        if "travel" in self.topics:  # the city is the country's identity; country, resident and dish never meet
            k = len(self.countries)
            fill = {"NAME": "NAME." + s}  # every topic's characters travel
            fam["countries"] = [(1 / (len(COUNTRY_FRAMES) * k),
                                 [fill.get(w, f"{w}.{c}" if w in ("C", "R", "F", "CITY") else w) for w in frame],
                                 {"country": c}) for c, *_ in self.countries for frame in COUNTRY_FRAMES]
        return fam

    def _add_topic_templates(self, t: int, topic: lex.TopicLexicon) -> None:
        families = self._families(t, topic.name, bool(topic.roles))
        shares = {f: SPECIAL_SHARES.get(f"{f}.{topic.name}", SPECIAL_SHARES[f])
                  for f in families if f in SPECIAL_SHARES}
        special = sum(shares.values())
        total = sum(FAMILY_WEIGHTS[f] for f in families if f not in SPECIAL_SHARES)
        for family, variants in families.items():
            within = shares[family] if family in shares else (1 - special) * FAMILY_WEIGHTS[family] / total
            share = (1 - self.config.polysemous_share) * within * self.rest_share
            for prob, slots, info in variants:
                self.add_template(t, family, share * prob, slots, info)

    def _add_polysemous_templates(self, t: int) -> None:
        s = lex.TOPICS[t].name
        share = self.config.polysemous_share / len(self.polysemous) * self.rest_share
        for pw in self.polysemous:
            for sense in pw.senses:
                cue = f"CUE.{pw.word}.{sense}"
                if pw.side == "right":  # NAME sees the bank [quietly] floods
                    for dist, p in RIGHT_DISTRACTORS:
                        slots = ["NAME." + s, "FVP", "the", f"W.{pw.word}", *dist, cue]
                        self._add_sense_template(t, share * 0.5 * p, slots, pw, sense, 3, len(slots) - 1)
                else:  # NAME sees the [old] sweaty palm once more
                    for dist, p in LEFT_DISTRACTORS:
                        slots = ["NAME." + s, "FVP", "the", *dist, cue, f"W.{pw.word}", *pw.tail]
                        self._add_sense_template(t, share * 0.5 * p, slots, pw, sense, 4 + len(dist), 3 + len(dist))

    def _add_sense_template(self, t: int, prob: float, slots: list, pw: lex.PolysemousWord, sense: str,
                            position: int, cue: int) -> None:
        info = {"word": pw.word, "sense": sense, "position": position, "cue_side": pw.side, "cue_position": cue,
                "cue_distance": abs(cue - position)}
        self.add_template(t, "polysemous", prob, slots, info, senses={position: sense})

    # ------------------------------------------------------------------ checks
    def _check_unambiguous(self) -> None:
        """No two templates share a category sequence; p(e | t) sums to 1 per topic; cues stay in their sense's
        templates; a template names at most one character (the bounds take the name as the document's)."""
        seen: dict[tuple[int, ...], int] = {}
        for i, tpl in enumerate(self.templates):
            if tpl.slots in seen:
                raise ValueError(f"templates {seen[tpl.slots]} and {i} have the same category sequence")
            seen[tpl.slots] = i
        for t in range(len(self.topics)):
            total = sum(tpl.prob_given_topic for tpl in self.templates if tpl.topic == t)
            if abs(total - 1) > 1e-9:
                raise ValueError(f"template probabilities of topic {self.topics[t]!r} sum to {total}")
        for tpl in self.templates:
            names = [self.categories[c].name for c in tpl.slots]
            for name in names:
                own = (tpl.kind in ("polysemous", "long_range_sense")
                       and name == f"CUE.{tpl.info['word']}.{tpl.info['sense']}")
                if name.startswith("CUE.") and not own:
                    raise ValueError(f"cue category {name} used outside its sense template")
            if sum(name.startswith("NAME.") for name in names) > 1:
                raise ValueError(f"a {tpl.kind} template names two characters")
        self.signature = seen
