"""Optional sentence families of the toy world, each switched on by its share in ``ToyWorldConfig``.

A family with share 0.0 adds no word, category or template, so the default world is unchanged. Switched on,
its templates take that share of every topic's sentences (the other families shrink in proportion) and obey
the grammar's rules: no two templates share a category sequence (one derivation per sentence), each template
reveals its topic and names at most one character, so exact log-probabilities and the perplexity, cloze and
next-sentence bounds stay exact. Every family template carries ``info["depth"]``, one clause depth per token
(0 main clause, 1 inside a complement or relative clause, 2 inside a clause inside that).

- ``long_range_share``: a polysemous word whose deciding cue stands ``d`` words away, ``d`` in
  ``long_range_distances``, across a relative clause, prepositional phrases and adverbs that do not depend on
  the sense (``tom imagines the bank that these cows feed beside this dairy cow floods``); on the left, across
  adjectives (``tom imagines the sweaty old lazy palm once more``). Half the family: subject-verb agreement
  across the same material (``tom imagines the cow that they feed in these barns sleeps``).
- ``context_syntax_share``: noun/verb homographs whose part of speech only the context decides (``tom finds this
  saw`` / ``they saw behind this cow``), and relative clauses nested to depth 2, right-branching and
  centre-embedded (``this cow that these pigs that he feeds chase sleeps``), for structural labels.
- ``many_cue_share``: two polysemous words (star, cell) whose senses each have twenty cue verbs, drawn
  uniformly; half the sentences join two cues of one sense (``the star twinkles and glows``), which is how
  unlabelled text tells which cues go together.
- ``statement_share``: what a character is, on four dimensions with eight adjectives per pole, plain or
  negated (``tom is glad``, ``tom is not gloomy``); unlabelled text also joins synonyms (``tom is glad and
  jolly``) and antonyms (``tom is glad but not glum``). Source of the polarity and entailment tasks.
- ``joint_share``: ``tom sees the frozen cow heats``: a left adjective (cold or hot) and a right verb (cooling
  or heating) decide *together* whether the noun changes (XOR); each side alone says nothing. Half the
  sentences end with an adverb that names the label (``... heats unexpectedly``): unlabelled text only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.data import toyworld_lexicon as lex

# config field -> the sentence kinds (``info["kind"]``) of that family
FAMILY_KINDS: dict[str, tuple[str, ...]] = {
    "long_range_share": ("long_range_sense", "long_range_agreement"),
    "context_syntax_share": ("homograph", "clause"),
    "many_cue_share": ("many_cue",),
    "statement_share": ("statement",),
    "joint_share": ("joint",),
}
# shares to start from when the families go into the pre-training corpus (``ToyWorldConfig.with_families()``)
SUGGESTED_SHARES: dict[str, float] = {"long_range_share": 0.1, "context_syntax_share": 0.05,
                                      "many_cue_share": 0.05, "statement_share": 0.05, "joint_share": 0.05}
MAX_DISTANCE = 24  # the longest cue distance the long-range family builds
NUMBERS = ("sg", "pl")
POLES = ("good", "bad")
JOINT_LEFT_CLASSES = ("cold", "hot")
JOINT_RIGHT_CLASSES = ("cooling", "heating")
JOINT_LABELS = ("steady", "change")  # label = left class index XOR right class index


@dataclass(frozen=True)
class Segment:
    """Filler material: slots (a parent given as an offset within the segment), whether it is a relative
    clause (one level deeper), and the offset and number of its noun or pronoun (an agreement attractor)."""

    slots: tuple
    relative: bool
    noun: int
    number: str


def segments(s: str) -> dict[str, Segment]:
    """The filler segments of topic ``s``: prepositional phrases (pp) and relative clauses (rel) of 3 or 4
    words, singular or plural (``beside this dairy cow``, ``that they feed``)."""
    out = {}
    for number, det, noun, verb, pron, vpron in (("sg", "DS", f"N.{s}", f"V.{s}", "PRS", f"V.{s}"),
                                                 ("pl", "DP", f"NS.{s}", f"VP.{s}", "PRP", f"VP.{s}")):
        out[f"pp3.{number}"] = Segment(("PREP", det, noun), False, 2, number)
        out[f"pp4.{number}"] = Segment(("PREP", det, f"M.{s}", (noun, 2)), False, 3, number)
        out[f"rel3.{number}"] = Segment(("that", pron, vpron), True, 1, number)
        out[f"rel4.{number}"] = Segment(("that", det, noun, (verb, 2)), True, 2, number)
    return out


def filler_plans(n: int) -> list[tuple[str, ...]]:
    """Segment names that fill exactly ``n`` words: adverbs below 3; from 3 on, four plans (a relative clause
    or a prepositional phrase first, singular or plural), then phrases of the same number, then adverbs."""
    if n < 3:
        return [("adv",) * n]
    plans = []
    for first in ("rel", "pp"):
        for number in NUMBERS:
            size = 4 if n >= 4 else 3
            plan, rest = [f"{first}{size}.{number}"], n - size
            while rest >= 3:
                size = 4 if rest >= 4 else 3
                plan.append(f"pp{size}.{number}")
                rest -= size
            plans.append(tuple(plan + ["adv"] * rest))
    return plans


def _expand(plan: tuple[str, ...], s: str, start: int, depth: int) -> tuple[list, list[int], list[tuple[int, str]]]:
    """(slots with absolute parents, depth per slot, [(position, number) of each noun]) of a filler at ``start``."""
    table = segments(s)
    slots, depths, nouns = [], [], []
    for name in plan:
        if name == "adv":
            seg = Segment(("ADV",), False, -1, "")
        else:
            seg = table[name]
        at = start + len(slots)
        for slot in seg.slots:
            slots.append((slot[0], at + slot[1]) if isinstance(slot, tuple) else slot)
            depths.append(depth + seg.relative)
        if seg.noun >= 0:
            nouns.append((at + seg.noun, seg.number))
    return slots, depths, nouns


def active(config) -> dict[str, float]:
    """The families switched on, with their shares."""
    return {f: getattr(config, f) for f in FAMILY_KINDS if getattr(config, f) > 0}


def add_families(g) -> None:
    """Add the categories and templates of every family switched on in ``g.config`` to grammar ``g``."""
    on = active(g.config)
    if not on:
        return
    builders = {"long_range_share": (_long_range_categories, _long_range_templates),
                "context_syntax_share": (_syntax_categories, _syntax_templates),
                "many_cue_share": (_many_cue_categories, _many_cue_templates),
                "statement_share": (_statement_categories, _statement_templates),
                "joint_share": (_joint_categories, _joint_templates)}
    for field in on:
        builders[field][0](g)
    for t, topic in enumerate(g.topics):
        for field, share in on.items():
            builders[field][1](g, t, topic, share)


def _category(g, name: str, words, tag: str, uniform: bool = False) -> None:
    if name not in g.category_index:
        words = g.cap(words)
        g.add_category(name, words, tag, probs=np.full(len(words), 1.0 / len(words)) if uniform else None)


# ----------------------------------------------------------------------------- long range


def _long_range_categories(g) -> None:
    _category(g, "LRV", lex.LONG_RANGE_FRAME_VERBS, "VERB")


def _long_range_templates(g, t: int, s: str, share: float) -> None:
    distances = g.config.long_range_distances
    words = g.polysemous
    for d in distances:
        n = d - 1
        for pw in words:
            for sense in pw.senses:
                cue = f"CUE.{pw.word}.{sense}"
                if pw.side == "right":  # NAME imagines the bank <filler> floods
                    plans = filler_plans(n)
                    for plan in plans:
                        filler, depths, _ = _expand(plan, s, 4, 1)
                        slots = [f"NAME.{s}", "LRV", "the", f"W.{pw.word}", *filler, cue]
                        info = {"word": pw.word, "sense": sense, "position": 3, "cue_side": "right",
                                "cue_position": len(slots) - 1, "cue_distance": d, "filler": "+".join(plan),
                                "depth": (0, 0, 1, 1, *depths, 1)}
                        prob = share * 0.5 / len(distances) / len(words) / 2 / len(plans)
                        g.add_template(t, "long_range_sense", prob, slots, info, senses={3: sense})
                else:  # NAME imagines the sweaty <adjectives> palm once more
                    adjectives = ["ADJD" if i % 2 == 0 else f"A.{s}" for i in range(n)]
                    slots = [f"NAME.{s}", "LRV", "the", cue, *adjectives, f"W.{pw.word}", *pw.tail]
                    position = 4 + n
                    info = {"word": pw.word, "sense": sense, "position": position, "cue_side": "left",
                            "cue_position": 3, "cue_distance": d, "filler": "adjectives" if n else "",
                            "depth": (0,) * len(slots)}
                    prob = share * 0.5 / len(distances) / len(words) / 2
                    g.add_template(t, "long_range_sense", prob, slots, info, senses={position: sense})
        # agreement: NAME imagines the cow(s) <filler> sleep(s); the verb depends on its subject only
        plans = filler_plans(n)
        for number in NUMBERS:
            head, verb = (f"N.{s}", f"I.{s}") if number == "sg" else (f"NS.{s}", f"IP.{s}")
            for plan in plans:
                filler, depths, nouns = _expand(plan, s, 4, 1)
                slots = [f"NAME.{s}", "LRV", "the", head, *filler, (verb, 3)]
                attractor, attractor_number = nouns[-1] if nouns else (-1, None)
                info = {"subject": 3, "verb": len(slots) - 1, "number": number, "distance": d,
                        "attractor": attractor, "attractor_number": attractor_number, "filler": "+".join(plan),
                        "depth": (0, 0, 1, 1, *depths, 1)}
                g.add_template(t, "long_range_agreement", share * 0.5 / len(distances) / 2 / len(plans), slots, info)


# ----------------------------------------------------------------------------- context syntax


def _syntax_categories(g) -> None:
    _category(g, "H", lex.HOMOGRAPHS, "NOUN")  # the tag is the template's: NOUN or VERB by context
    _category(g, "HOV", lex.HOMOGRAPH_OBJECT_VERBS, "VERB")
    _category(g, "HSV", lex.HOMOGRAPH_SUBJECT_VERBS, "VERB")


def _syntax_templates(g, t: int, s: str, share: float) -> None:
    # homographs: a noun after a determiner (or its adjective), a verb after a plural subject (or its adverb)
    frames = [("NOUN", "object", lambda m: [f"NAME.{s}", "HOV", "DS", *m, "H"], ["ADJD"]),
              ("NOUN", "subject", lambda m: ["DS", *m, "H", "HSV", "PREP", "DS", f"N.{s}"], ["ADJD"]),
              ("VERB", "pronoun", lambda m: ["PRP", *m, "H", "PREP", "DS", f"N.{s}"], ["ADV"]),
              ("VERB", "coordination", lambda m: [f"NAME.{s}", "and", "DS", f"N.{s}", *m, "H"], ["ADV"])]
    for tag, frame, build, modifier in frames:
        for mod in ([], modifier):
            slots = build(mod)
            position = slots.index("H")
            info = {"position": position, "tag": tag, "frame": frame, "cue_position": position - 1,
                    "depth": (0,) * len(slots)}
            g.add_template(t, "homograph", share * 0.5 / 8, slots, info, tags={position: tag})
    # relative clauses: right-branching and centre-embedded, to depth 2
    n, ns, v, vp, i = f"N.{s}", f"NS.{s}", f"V.{s}", f"VP.{s}", f"I.{s}"
    clauses = {
        "main": ([f"NAME.{s}", v, "DS", (n, 1)], (0, 0, 0, 0)),
        "right": ([f"NAME.{s}", v, "DS", (n, 1), "that", (v, 3), "DP", (ns, 5)], (0, 0, 0, 0, 1, 1, 1, 1)),
        "centre": (["DS", n, "that", f"NAME.{s}", v, (i, 1)], (0, 0, 1, 1, 1, 0)),
        "centre2": (["DS", n, "that", "DP", ns, "that", "PRS", v, (vp, 4), (i, 1)], (0, 0, 1, 1, 1, 2, 2, 2, 1, 0)),
        "right2": ([f"NAME.{s}", v, "DS", (n, 1), "that", (v, 3), "DP", (ns, 5), "that", (vp, 7), "DS", (n, 9)],
                   (0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2)),
    }
    for shape, (slots, depth) in clauses.items():
        g.add_template(t, "clause", share * 0.5 / len(clauses), slots, {"shape": shape, "depth": depth})


# ----------------------------------------------------------------------------- many cues


def _many_cue_categories(g) -> None:
    for pw in lex.MANY_CUE_WORDS:
        _category(g, f"MW.{pw.word}", [pw.word], "NOUN")
        for sense, cues in zip(pw.senses, pw.cues, strict=True):
            _category(g, f"MCUE.{pw.word}.{sense}", cues, "VERB", uniform=True)


def _many_cue_templates(g, t: int, s: str, share: float) -> None:
    words = lex.MANY_CUE_WORDS
    for pw in words:
        for sense in pw.senses:
            cue = f"MCUE.{pw.word}.{sense}"
            for slots in ([f"NAME.{s}", "FVP", "the", f"MW.{pw.word}", cue],
                          [f"NAME.{s}", "FVP", "the", f"MW.{pw.word}", cue, "and", cue]):
                info = {"word": pw.word, "sense": sense, "position": 3, "cue_side": "right", "cue_position": 4,
                        "cue_distance": 1, "cues": 1 if len(slots) == 5 else 2, "depth": (0,) * len(slots)}
                g.add_template(t, "many_cue", share / len(words) / 2 / 2, slots, info, senses={3: sense})


# ----------------------------------------------------------------------------- statements


def _statement_categories(g) -> None:
    for dim, good, bad in lex.STATEMENT_DIMENSIONS:
        for pole, words in zip(POLES, (good, bad), strict=True):
            _category(g, f"ST.{dim}.{pole}", words, "ADJ", uniform=True)


def _statement_templates(g, t: int, s: str, share: float) -> None:
    dims = lex.STATEMENT_DIMENSIONS
    name = f"NAME.{s}"
    for dim, *_ in dims:
        for p, pole in enumerate(POLES):
            adj, other = f"ST.{dim}.{pole}", f"ST.{dim}.{POLES[1 - p]}"
            forms = (("plain", 0.3, [name, "is", adj], False, 2),
                     ("negated", 0.3, [name, "is", "not", adj], True, 3),
                     ("and", 0.2, [name, "is", adj, "and", adj], False, 2),  # synonyms go together
                     ("but_not", 0.2, [name, "is", adj, "but", "not", other], False, 2))  # antonyms oppose
            for form, prob, slots, negated, position in forms:
                polarity = POLES[p ^ negated]
                info = {"character_position": 0, "dimension": dim, "pole": pole, "negated": negated,
                        "polarity": polarity, "position": position, "form": form, "depth": (0,) * len(slots)}
                g.add_template(t, "statement", share * prob / len(dims) / 2, slots, info)


# ----------------------------------------------------------------------------- joint left and right context


def _joint_categories(g) -> None:
    for k, words in enumerate(lex.JOINT_LEFT):
        _category(g, f"JL.{JOINT_LEFT_CLASSES[k]}", words, "ADJ", uniform=True)
    for k, words in enumerate(lex.JOINT_RIGHT):
        _category(g, f"JR.{JOINT_RIGHT_CLASSES[k]}", words, "VERB", uniform=True)
    for k, words in enumerate(lex.JOINT_TAIL):
        _category(g, f"JT.{JOINT_LABELS[k]}", words, "ADV", uniform=True)


def _joint_templates(g, t: int, s: str, share: float) -> None:
    for a, left in enumerate(JOINT_LEFT_CLASSES):
        for b, right in enumerate(JOINT_RIGHT_CLASSES):
            label = JOINT_LABELS[a ^ b]
            for tail in ([], [f"JT.{label}"]):  # the tail names the label: unlabelled text only
                slots = [f"NAME.{s}", "FVP", "the", f"JL.{left}", f"N.{s}", f"JR.{right}", *tail]
                info = {"position": 4, "left_position": 3, "right_position": 5, "left_class": left,
                        "right_class": right, "label": label, "tail": bool(tail), "depth": (0,) * len(slots)}
                g.add_template(t, "joint", share / 4 / 2, slots, info)
