"""The toy world's lexicon, typed here by hand (no third-party word lists), and its inflection rules.

Every surface form gets exactly one category in the grammar (``toyworld_grammar``), so a word listed
twice anywhere below makes the grammar refuse to build. Lists within a category are ordered by
frequency: the grammar gives the i-th word a Zipf weight ``1 / (i + 1) ** zipf_exponent``.
"""

from __future__ import annotations

from dataclasses import dataclass

# ----------------------------------------------------------------------------- topics


@dataclass(frozen=True)
class TopicLexicon:
    """The words only one topic uses. Nouns and verbs are lemmas; plurals and the 3rd person are derived.

    ``roles`` are (male, female) pairs of person nouns (king/queen): they feed the gender analogies.
    ``role_marks`` gives each pair a verb (3rd person) and an object noun of its own, shared by both
    members and by no other pair (the king and the queen both "rule" a "kingdom"): the pair's identity.
    """

    name: str
    nouns: tuple[str, ...]
    transitive: tuple[str, ...]  # base form = plural-subject form ("feed"); "feeds" is derived
    intransitive: tuple[str, ...]
    adjectives: tuple[str, ...]
    names: tuple[str, ...]  # the recurring characters of this topic's documents
    modifiers: tuple[str, ...]  # each noun's own modifier (dairy cow), aligned with nouns: the noun's identity
    roles: tuple[tuple[str, str], ...] = ()
    role_marks: tuple[tuple[str, str], ...] = ()  # (verb, object) of each role pair, aligned with roles


TOPICS: tuple[TopicLexicon, ...] = (
    TopicLexicon(
        "castle",
        ("knight", "tower", "sword", "shield", "throne", "gate", "dragon", "banner", "goblet", "jester"),
        ("defend", "attack", "polish", "obey", "praise", "summon"),
        ("kneel", "march", "feast", "tremble"),
        ("royal", "brave", "golden", "proud"),
        ("arthur", "elena", "percy", "rowena", "godfrey", "isolde"),
        ("armoured", "stone", "steel", "oaken", "gilded", "iron", "fiery", "silken", "silver", "merry"),
        (("king", "queen"), ("prince", "princess"), ("duke", "duchess"), ("lord", "lady"),
         ("emperor", "empress")),
        (("rules", "kingdom"), ("inherits", "palace"), ("governs", "duchy"), ("owns", "manor"),
         ("conquers", "empire")),
    ),
    TopicLexicon(
        "travel",
        ("ticket", "suitcase", "passport", "train", "hotel", "guide", "camera", "postcard", "airport", "plane"),
        ("pack", "lose", "show", "photograph", "unpack", "carry"),
        ("depart", "arrive", "explore", "linger"),
        ("foreign", "distant", "sunny", "crowded"),
        ("marco", "ines", "yusuf", "leila", "pablo", "greta"),
        ("return", "leather", "valid", "express", "luxury", "local", "digital", "scenic", "international", "jumbo"),
    ),
    TopicLexicon(
        "home",
        ("chair", "bed", "lamp", "window", "blanket", "kettle", "sofa", "carpet", "clock", "mirror"),
        ("clean", "open", "fold", "fix", "dust", "paint"),
        ("nap", "smile", "laugh", "sigh"),
        ("cosy", "warm", "tidy", "bright"),
        ("sam", "lucy", "peter", "nora", "oliver", "maya"),
        ("rocking", "double", "reading", "bay", "woollen", "electric", "velvet", "persian", "cuckoo", "oval"),
        (("father", "mother"), ("son", "daughter"), ("brother", "sister"), ("uncle", "aunt"),
         ("husband", "wife"), ("grandfather", "grandmother"), ("man", "woman"), ("boy", "girl"),
         ("nephew", "niece")),
        (("raises", "children"), ("phones", "parents"), ("hugs", "twin"), ("tells", "jokes"),
         ("kisses", "spouse"), ("recalls", "youth"), ("drives", "car"), ("kicks", "ball"), ("mails", "letter")),
    ),
    TopicLexicon(
        "farm",
        ("cow", "horse", "pig", "goat", "hen", "barn", "field", "fence", "tractor", "farmer"),
        ("feed", "milk", "chase", "brush", "herd", "plow"),
        ("graze", "sleep", "wander", "grunt"),
        ("muddy", "hungry", "brown", "lazy"),
        ("tom", "ben", "ruth", "molly", "jake", "ida"),
        ("dairy", "shire", "pink", "billy", "laying", "red", "wheat", "wooden", "diesel", "tenant"),
    ),
    TopicLexicon(
        "sea",
        ("boat", "sailor", "wave", "anchor", "net", "harbor", "captain", "whale", "shell", "island"),
        ("sail", "row", "tie", "mend", "steer", "scrub"),
        ("drift", "sink", "float", "swim"),
        ("salty", "wet", "stormy", "blue"),
        ("finn", "marina", "olaf", "nell", "hugo", "skye"),
        ("fishing", "able", "tidal", "rusty", "trawl", "safe", "sea", "humpback", "spiral", "desert"),
    ),
    TopicLexicon(
        "market",
        ("merchant", "apple", "basket", "stall", "cart", "pear", "cheese", "customer", "lemon", "scale"),
        ("sell", "buy", "weigh", "wrap", "load", "price"),
        ("haggle", "shout", "wait", "queue"),
        ("cheap", "fresh", "ripe", "busy"),
        ("fatima", "hans", "lena", "omar", "vera", "karl"),
        ("wealthy", "crisp", "wicker", "fruit", "hand", "juicy", "cheddar", "loyal", "bitter", "brass"),
    ),
    TopicLexicon(
        "school",
        ("teacher", "pupil", "book", "desk", "lesson", "pencil", "chalk", "exam", "notebook", "ruler"),
        ("read", "write", "teach", "study", "draw", "erase"),
        ("learn", "listen", "giggle", "yawn"),
        ("clever", "strict", "bored", "curious"),
        ("emma", "leo", "alice", "max", "zoe", "felix"),
        ("head", "eager", "thick", "school", "maths", "sharp", "white", "final", "lined", "metal"),
    ),
    TopicLexicon(
        "kitchen",
        ("chef", "pot", "pan", "soup", "bread", "onion", "oven", "spoon", "knife", "cake"),
        ("stir", "bake", "chop", "boil", "taste", "wash"),
        ("simmer", "bubble", "burn", "cool"),
        ("hot", "sweet", "spicy", "crispy"),
        ("julia", "remy", "clara", "bruno", "paula", "sofia"),
        ("master", "clay", "frying", "tomato", "rye", "pickled", "brick", "measuring", "carving", "birthday"),
    ),
    TopicLexicon(
        "forest",
        ("fox", "wolf", "owl", "tree", "branch", "path", "hare", "squirrel", "hunter", "nest"),
        ("follow", "hunt", "climb", "gather", "track", "hide"),
        ("howl", "creep", "vanish", "roam"),
        ("dark", "wild", "tall", "green"),
        ("robin", "hazel", "ash", "willow", "rowan", "fern"),
        ("sly", "grey", "snowy", "oak", "broken", "narrow", "swift", "bushy", "skilled", "empty"),
    ),
    TopicLexicon(
        "music",
        ("drum", "flute", "piano", "song", "band", "stage", "violin", "drummer", "choir", "trumpet"),
        ("play", "tune", "practice", "record", "hear", "compose"),
        ("sing", "dance", "clap", "perform"),
        ("loud", "soft", "lively", "gentle"),
        ("ella", "miles", "nina", "louis", "billie", "ray"),
        ("bass", "bamboo", "grand", "folk", "jazz", "outdoor", "antique", "session", "church", "muted"),
    ),
)

# (country, resident, dish, city) that every topic's characters travel to: the country analogies. The city is what
# the country, its residents and its dish share; they never stand next to each other.
COUNTRIES: tuple[tuple[str, str, str, str], ...] = (
    ("italy", "italian", "pasta", "rome"),
    ("norway", "norwegian", "herring", "oslo"),
    ("germany", "german", "sausage", "berlin"),
    ("brazil", "brazilian", "coffee", "rio"),
    ("india", "indian", "curry", "delhi"),
    ("mexico", "mexican", "salsa", "cancun"),
    ("canada", "canadian", "syrup", "toronto"),
    ("kenya", "kenyan", "tea", "nairobi"),
)

# number-marking determiners: singular noun phrases take one of the first, plural ones one of the second
SINGULAR_DETERMINERS = ("this", "each")
PLURAL_DETERMINERS = ("these", "some")
# subject pronouns: the verb's number, the same in every topic
SINGULAR_PRONOUNS = ("he", "she")
PLURAL_PRONOUNS = ("they",)

# words shared by every topic's templates
PREPOSITIONS = ("in", "behind", "beside")
NUMBERS = ("two", "three", "four", "five")

# ----------------------------------------------------------------------------- polysemous words


@dataclass(frozen=True)
class PolysemousWord:
    """A word with two senses; ``side`` says where its deciding cue stands ("right": after the word).

    Right-decided template: ``NAME <frame verb> the WORD [adverb] <cue verb>`` ("anna sees the bank floods").
    Left-decided template:  ``NAME <frame verb> the [adjective] <cue adjective> WORD <tail>``
    ("anna sees the sweaty palm once more").
    The cue stands next to the word (an adverb sometimes comes between on the right): a language model
    only carries a word's sense forward when something it must predict depends on it, and nothing
    after the cue does, so a cue further away would fade before it reaches the word (measured: a
    one-way biLM reads 0.96-1.00 of senses at distance 1, 0.94 at 2, 0.6-0.7 at 3-6).
    The frame verb and the tail are shared by both senses, so the other side says nothing about the sense.
    """

    word: str
    side: str
    senses: tuple[str, str]
    cues: tuple[tuple[str, ...], tuple[str, ...]]  # cue words of each sense, only ever used here
    tail: tuple[str, ...] = ()  # left only: the words after the polysemous word


POLYSEMOUS: tuple[PolysemousWord, ...] = (
    PolysemousWord("bank", "right", ("money", "river"),
                   (("lends", "charges", "invests"), ("floods", "erodes", "crumbles"))),
    PolysemousWord("palm", "left", ("tree", "hand"),
                   (("tropical", "leafy", "towering"), ("sweaty", "calloused", "bruised")), ("once", "more")),
    PolysemousWord("bat", "right", ("animal", "sport"),
                   (("flutters", "squeaks", "hibernates"), ("splinters", "snaps", "swings"))),
    PolysemousWord("organ", "left", ("body", "instrument"),
                   (("vital", "internal", "donated"), ("musical", "baroque", "wheezing")),
                   ("after", "lunch")),
    PolysemousWord("crane", "right", ("bird", "machine"),
                   (("wades", "preens", "migrates"), ("hoists", "lifts", "topples"))),
    PolysemousWord("pitcher", "left", ("jug", "player"),
                   (("ceramic", "cracked", "chipped"), ("talented", "injured", "veteran")), ("all", "afternoon")),
    PolysemousWord("seal", "right", ("animal", "stamp"),
                   (("barks", "dives", "basks"), ("smudges", "fades", "peels"))),
    PolysemousWord("club", "left", ("golf", "society"),
                   (("dented", "bent", "polished"), ("exclusive", "private", "social")), ("once", "more")),
    PolysemousWord("match", "right", ("fire", "game"),
                   (("ignites", "flickers", "fizzles"), ("ends", "resumes", "restarts"))),
    PolysemousWord("mouse", "right", ("animal", "computer"),
                   (("scurries", "nibbles", "gnaws"), ("clicks", "scrolls", "freezes"))),
)

# the verb before a polysemous word's noun phrase, shared by every polysemous word and both senses
POLYSEMOUS_FRAME_VERBS = ("notices", "sees", "remembers")
# distractors near a polysemous word: neutral, used by both senses alike
DISTRACTOR_ADVERBS = ("quietly", "slowly", "eagerly", "calmly", "suddenly", "proudly")
DISTRACTOR_ADJECTIVES = ("old", "new", "big", "little", "strange", "lovely")

# ----------------------------------------------------------------------------- families (off by default)
# Words of the optional sentence families (``toyworld_families``): they enter the vocabulary only when their
# family's share in ``ToyWorldConfig`` is above zero.

# long range: the frame verb before a long noun phrase ("tom imagines the bank that they feed ... floods")
LONG_RANGE_FRAME_VERBS = ("imagines", "pictures", "describes")

# context syntax: forms that are a noun after a determiner and a verb after a plural subject
# ("tom finds this saw" / "they saw behind this cow")
HOMOGRAPHS = ("saw", "duck", "fly", "watch", "ring", "park", "plant", "drill", "rock", "hammer")
HOMOGRAPH_OBJECT_VERBS = ("finds", "wants", "borrows")  # tom finds this saw
HOMOGRAPH_SUBJECT_VERBS = ("rattles", "shines", "breaks")  # this saw rattles beside this cow

# many cues: each sense decided by one of twenty verbs; "and" joins two verbs of one sense in unlabelled text
MANY_CUE_WORDS: tuple[PolysemousWord, ...] = (
    PolysemousWord("star", "right", ("sky", "celebrity"), (
        ("twinkles", "glimmers", "glows", "sparkles", "blazes", "shimmers", "dims", "flares", "gleams",
         "glistens", "explodes", "collapses", "orbits", "beams", "radiates", "flashes", "glitters", "pulsates",
         "brightens", "wanes"),
        ("poses", "signs", "acts", "bows", "autographs", "smirks", "struts", "tours", "films", "rehearses",
         "premieres", "grins", "winks", "swaggers", "retires", "endorses", "headlines", "charms", "flirts",
         "emotes"))),
    PolysemousWord("cell", "right", ("biology", "prison"), (
        ("divides", "mutates", "multiplies", "splits", "replicates", "absorbs", "secretes", "metabolizes",
         "differentiates", "swells", "shrinks", "ruptures", "regenerates", "digests", "respires", "ingests",
         "clones", "fuses", "degenerates", "duplicates"),
        ("locks", "bolts", "confines", "detains", "imprisons", "holds", "houses", "guards", "reeks", "stinks",
         "echoes", "leaks", "creaks", "rusts", "clangs", "darkens", "overflows", "empties", "fills", "smells"))),
)

# statements about the character: (dimension, adjectives of the good pole, adjectives of the bad pole)
STATEMENT_DIMENSIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("mood", ("cheerful", "glad", "joyful", "jolly", "chirpy", "elated", "upbeat", "carefree"),
     ("sad", "gloomy", "glum", "miserable", "unhappy", "morose", "sullen", "tearful")),
    ("health", ("healthy", "fit", "robust", "sturdy", "hearty", "vigorous", "sound", "hale"),
     ("sick", "ill", "feverish", "frail", "poorly", "queasy", "ailing", "sickly")),
    ("wealth", ("rich", "affluent", "prosperous", "moneyed", "flush", "solvent", "thriving", "loaded"),
     ("poor", "broke", "needy", "penniless", "destitute", "impoverished", "skint", "bankrupt")),
    ("energy", ("rested", "energetic", "alert", "refreshed", "peppy", "spry", "awake", "zestful"),
     ("tired", "sleepy", "weary", "exhausted", "drowsy", "sluggish", "fatigued", "listless")),
)

# joint context: a left adjective (cold or hot) and a right verb (cooling or heating) decide together whether
# the noun between them changes ("the frozen cow heats": change; "the frozen cow chills": steady)
JOINT_LEFT = (("chilly", "frozen", "icy", "frosty", "wintry", "freezing"),
              ("boiling", "steaming", "scorching", "heated", "roasting", "sizzling"))
JOINT_RIGHT = (("chills", "frosts", "ices", "refrigerates", "congeals", "shivers"),
               ("heats", "warms", "toasts", "scalds", "thaws", "melts"))
# the adverb that some unlabelled sentences end with: it names the joint label (steady, change)
JOINT_TAIL = (("predictably", "naturally", "unsurprisingly"), ("unexpectedly", "surprisingly", "strangely"))

# ----------------------------------------------------------------------------- inflection

_IRREGULAR_PLURALS = {"man": "men", "woman": "women", "wife": "wives", "knife": "knives", "wolf": "wolves"}


def _add_s(word: str) -> str:
    """English -s suffix: box -> boxes, lady -> ladies, go -> goes, cow -> cows."""
    if word.endswith(("s", "x", "z", "ch", "sh", "o")):
        return word + "es"
    if word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def plural(noun: str) -> str:
    """``plural("lady") -> "ladies"``, ``plural("wolf") -> "wolves"``."""
    return _IRREGULAR_PLURALS.get(noun, _add_s(noun))


def third_person(verb: str) -> str:
    """``third_person("carry") -> "carries"``, ``third_person("wash") -> "washes"``."""
    return _add_s(verb)
