# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 01 · Word vectors: from one-hot to skip-gram
#
# A neural network reads numbers, so every word needs a vector. This notebook builds three answers:
# **one-hot vectors** (独热向量), count-based vectors from **PPMI** (正点互信息) and **SVD**
# (奇异值分解), and **skip-gram** (跳字模型) vectors trained with **negative sampling** (负采样). We
# measure them with nearest neighbours, analogies and a similarity set. No method wins every test:
# counting finds a word's class best, skip-gram solves the analogies, and the measurements show why.
# The notebook ends with the limit the rest of the course removes: one vector per word *type*
# cannot tell the two senses of "bank" apart.

# %% tags=["parameters"]
# Parameters: papermill can override any of these, e.g. `-p corpus lee` or `-p epochs 10`.
seed = 0  # every random draw in the notebook follows from it
corpus = "toyworld"  # "toyworld", "lee" (gensim's news corpus), "kjv" (Debian's bible-kjv), or a .txt path
num_documents = 30000  # documents of the toy world's training split, its default size (ignored for real text)
dim = 30  # size of the word vectors
window = 2  # context words on each side
epochs = 5  # skip-gram passes over the corpus
device = "auto"  # "auto" picks CUDA when present, else the CPU

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib import get_device, seed_everything, show_source
from course_lib.data.loaders import load_corpus
from course_lib.wordvec import (
    SkipGramConfig, WordVectors, category_precision, cooccurrence_counts, one_hot, ppmi, ppmi_svd,
    sense_classification, sgns_loss, svd_vectors, train_skipgram
)

seed_everything(seed)
dev = get_device(device)
toy = corpus in ("toyworld", "toy")

# %% [markdown]
# ## 1 · The corpus
#
# By default we use the course's **toy world**: generated English-like sentences about ten topics
# (castle, farm, sea, ...), with a gold word class for every word and a gold sense for every
# ambiguous token. Because we know the truth, every claim below is measured, not just shown.

# %%
if toy:
    from course_lib.data import tasks
    from course_lib.data.toyworld import toy_world

    world = toy_world()
    text = world.corpus("train", seed=seed, num_documents=num_documents)
    grammar = world.grammar
    word_class = {w: grammar.categories[c].name for w, c in zip(world.vocabulary, grammar.word_category)}
else:
    text = load_corpus(corpus, split="all", seed=seed)
sentences = [s.tokens for s in text]
print(text)
for s in sentences[:3]:
    print("  ", " ".join(s))

# %% [markdown]
# ## 2 · One-hot vectors, and why they know nothing
#
# The simplest vector for word number *i* of a vocabulary of *V* words is a **one-hot vector**: V
# zeros with a single 1 at position *i*. It is a fine identifier, but as a representation it is
# empty: every two different words are orthogonal and exactly √2 apart, so "cow" is as far from
# "pig" as from "throne".

# %%
vocabulary = sorted(set(w for s in sentences for w in s))
index = {w: i for i, w in enumerate(vocabulary)}
probe = ["cow", "pig", "throne"] if toy else vocabulary[:3]
x = one_hot([index[w] for w in probe], len(vocabulary))
distances = torch.cdist(x, x)
print(f"V = {len(vocabulary)}: one-hot vectors of length {x.shape[1]}")
for i, a in enumerate(probe):
    print(f"  {a:>8}: " + "  ".join(f"{b} {distances[i, j]:.3f}" for j, b in enumerate(probe) if j != i))
assert torch.allclose(distances[~torch.eye(3, dtype=bool)], torch.tensor(math.sqrt(2)))

# %% [markdown]
# ## 3 · Word classes as hard clusters, embeddings as soft classes
#
# Linguists group words into **classes**: farm animals, castle people, sea verbs. A class is a hard
# cluster: a word is in it or not, and every member is treated the same. The toy world is built
# from such classes, so we can list them:

# %%
if toy:
    classes = {}
    for w, c in word_class.items():
        classes.setdefault(c, []).append(w)
    for name in ("N.farm", "NS.farm", "V.farm", "N.sea", "RM.castle"):
        print(f"{name:>10}: {' '.join(classes[name])}")
    print(f"{len(classes)} classes for {len(word_class)} words")

# %% [markdown]
# A hard class is like a one-hot vector over classes: "cow" and "cows" end up as unrelated as "cow"
# and "boat". A **word embedding** (词嵌入) is a *soft* class: a dense vector of a few dozen numbers
# in which each direction can mean "farm-ness", "plural-ness" or "is a verb", and a word can have
# some of each. Words that occur in similar contexts get similar vectors: the **distributional
# hypothesis** (分布假说). The two methods below learn such vectors from text alone.
#
# ## 4 · Count, weigh, compress: PPMI + SVD
#
# Count how often each pair of words occurs within `window` words of each other: the
# **co-occurrence matrix** (共现矩阵). Raw counts are dominated by frequent words ("the"), so we
# weigh them by **pointwise mutual information**, PMI(w, c) = log p(w, c) / (p(w) p(c)): how much
# more often two words meet than chance predicts. Negative and undefined values are set to 0
# (PPMI). Here is the whole idea in four lines, checked against the library version:

# %%
min_count = 1 if toy else 5  # real text: rare words make a huge, noisy V x V matrix
counts, count_words = cooccurrence_counts(sentences, window=window, min_count=min_count)


def ppmi_sketch(counts: torch.Tensor) -> torch.Tensor:
    p_wc = counts / counts.sum()
    p_w, p_c = p_wc.sum(1, keepdim=True), p_wc.sum(0, keepdim=True)
    pmi = torch.log(p_wc / (p_w * p_c))
    return torch.where(counts > 0, pmi.clamp(min=0), 0.0)


torch.testing.assert_close(ppmi_sketch(counts.double()), ppmi(counts, alpha=1.0))
shown = ["the", "cow", "feeds", "milks", "boat"] if toy else count_words[:5]
rows = [count_words.index(w) for w in shown]
print("counts".ljust(8) + "".join(f"{w:>8}" for w in shown))
for w, r in zip(shown, rows):
    print(f"{w:<8}" + "".join(f"{counts[r, c]:8.0f}" for c in rows))
print("PPMI".ljust(8) + "".join(f"{w:>8}" for w in shown))
weights = ppmi(counts, alpha=1.0)
for w, r in zip(shown, rows):
    print(f"{w:<8}" + "".join(f"{weights[r, c]:8.2f}" for c in rows))

# %% [markdown]
# "the" meets every word often, so its PPMI is small; "cow" and "feeds" meet more than chance
# predicts. A V × V matrix is too big to use as vectors, so we keep its top `dim` directions with a
# truncated **singular value decomposition**: M ≈ U Σ Vᵀ, word vectors = U_k Σ_k^½, with k = `dim`.
# (The library also smooths the context distribution with the exponent printed below, as
# Levy et al. 2015 recommend: rare contexts count a little more.)

# %%
alpha = 0.75  # context smoothing: p(c) ∝ count(c)^alpha
ppmi_vectors = ppmi_svd(sentences, dim=dim, window=window, min_count=min_count, alpha=alpha)
print(f"{ppmi_vectors}, context smoothing exponent {alpha}")
assert torch.allclose(ppmi_vectors.vectors,
                      svd_vectors(ppmi(cooccurrence_counts(sentences, window, words=ppmi_vectors.words)[0], alpha=alpha), dim),
                      atol=1e-4)

# %% [markdown]
# ## 5 · Skip-gram with negative sampling, trained from scratch
#
# Skip-gram turns counting into prediction: from a centre word, predict the words around it.
# Each word has two vectors: **v** when it is the centre, **u** when it is a context. A true pair
# (centre c, context o) should get a high score u_o · v_c; K **noise words** drawn from the corpus
# (rare words a little more often: p ∝ count^0.75) should get a low one:
#
# loss = −log σ(u_o · v_c) − Σ_k log σ(−u_k · v_c)
#
# This is a few logistic regressions instead of a softmax over the whole vocabulary. In a few lines,
# checked against the library:

# %%
def sgns_sketch(v, u, noise):
    positive = torch.nn.functional.logsigmoid((v * u).sum(-1))
    negative = torch.nn.functional.logsigmoid(-(noise @ v.unsqueeze(-1)).squeeze(-1)).sum(-1)
    return -(positive + negative).mean()


v, u, noise = torch.randn(8, dim), torch.randn(8, dim), torch.randn(8, 5, dim)
torch.testing.assert_close(sgns_sketch(v, u, noise), sgns_loss(v, u, noise))
print(f"loss on random vectors: {sgns_loss(v, u, noise).item():.3f}")

# %% [markdown]
# word2vec adds three tricks, all in `SkipGramData`: **subsampling** drops a token of a very frequent
# word with a probability that grows with its frequency ("the" carries little information); a
# **dynamic window** draws each centre's reach from 1..window, so near words count more; and all
# pairs of an epoch are built at once with NumPy and fed in shuffled batches, with no Python loop
# per pair. Read how the pairs of one epoch are made:

# %%
from course_lib.wordvec import SkipGramData

show_source(SkipGramData.pairs)

# %% [markdown]
# Training is word2vec's own loop: plain **stochastic gradient descent** on just the rows a batch
# uses, with the gradient of the loss above written out by hand (d loss / d score = σ(score) − label)
# and a learning rate that decays linearly to zero. A progress bar shows it running; the loss of
# every step is kept for the plot.

# %% tags=["nbval-ignore-output"]
config = SkipGramConfig(dim=dim, window=window, epochs=epochs, min_count=5 if toy else 3, seed=seed,
                        device=str(dev))
start = time.perf_counter()
sg_vectors, sg_model, history = train_skipgram(sentences, config)
print(f"{len(history.steps)} steps in {time.perf_counter() - start:.1f} s")

# %%
ax = history.plot(metrics=())
ax.set_title("skip-gram training loss", fontsize=9)
first, last = np.mean(history.train_loss[:20]), np.mean(history.train_loss[-20:])
print(f"{sg_vectors}; mean loss of the first 20 steps {first:.2f}, of the last 20 {last:.2f}")
assert last < 0.7 * first

# %% [markdown]
# The loss falls fast and then flattens: the noise words of a small vocabulary are often true
# contexts too, so it cannot reach zero.
#
# ## 6 · Nearest neighbours
#
# The **cosine similarity** (余弦相似度) of two vectors is the cosine of the angle between them. The
# nearest neighbours of a word should be words of its class. Look at the numbers as well as the
# words: PPMI-SVD's neighbours are not just close, they point the same way to two decimals. Section 7
# explains why.

# %% tags=["nbval-ignore-output"]
queries = ["cow", "sailor", "feeds", "king", "italy"] if toy else [w for w in sg_vectors.words[30:35]]
for name, wv in (("PPMI-SVD", ppmi_vectors), ("skip-gram", sg_vectors)):
    print(name)
    for q in queries:
        print(f"  {q:>8}: " + ", ".join(f"{w} {s:.2f}" for w, s in wv.most_similar(q, 5)))

# %% [markdown]
# To put a number on it: **category precision@5** is the share of each word's five nearest
# neighbours (searched over the whole vocabulary) that belong to its own class, averaged over every
# word whose class has more than five members.

# %% tags=["nbval-ignore-output"]
if toy:
    precision = {name: category_precision(wv, word_class, k=5)
                 for name, wv in (("PPMI-SVD", ppmi_vectors), ("skip-gram", sg_vectors))}
    for name, p in precision.items():
        print(f"category precision@5, {name:>9}: {p:.3f}")
    assert precision["skip-gram"] >= 0.8

# %% [markdown]
# Here counting wins: almost all of PPMI-SVD's nearest neighbours are in the word's class, a larger
# share than skip-gram's. Section 7 shows what that costs.
#
# Where do skip-gram's misses go? Into the word's own topic: a noun of the farm lands beside the
# farm's verbs and adjectives, because they all share the farm's contexts. And a good share goes to
# the *same* word in the other number: "cow" and "cows" share the contexts that say which animal it
# is (*dairy*, *feeds*), yet the toy world files them in two classes. That closeness is no mistake:
# the next section needs it.

# %% tags=["nbval-ignore-output"]
if toy:
    number_pairs = {("N", "NS"), ("NS", "N"), ("V", "VP"), ("VP", "V"), ("I", "IP"), ("IP", "I")}
    misses = same_topic_misses = number_misses = 0
    for w, c in word_class.items():
        if w not in sg_vectors:
            continue
        for n, _ in sg_vectors.most_similar(w, 5):
            other = word_class.get(n, "?")
            if other != c:
                misses += 1
                same_topic = other.split(".")[1:] == c.split(".")[1:]
                same_topic_misses += same_topic
                number_misses += same_topic and (c.split(".")[0], other.split(".")[0]) in number_pairs
    print(f"skip-gram: {misses} neighbours outside the word's class; "
          f"{same_topic_misses / misses:.0%} of them from its own topic, "
          f"{number_misses / misses:.0%} the same topic's words of the other number")
    assert same_topic_misses / misses > 0.5

# %% [markdown]
# ## 7 · Analogies
#
# A **word analogy** (词类比) a : b :: c : ? is answered by vector arithmetic (3CosAdd): the word
# nearest to b − a + c, leaving out a, b and c. If "plural" is one direction, cow − cows + boats
# lands near boat.

# %% tags=["nbval-ignore-output"]
if toy:
    examples = [("king", "queen", "prince"), ("italy", "italian", "norway"), ("italy", "pasta", "mexico"),
                ("cow", "cows", "pig"), ("feeds", "feed", "milks")]
    for a, b, c in examples:
        print(f"{a} : {b} :: {c} : " + ", ".join(f"{w} {s:.2f}" for w, s in sg_vectors.analogy(a, b, c, k=3)))

# %% [markdown]
# The toy world has five analogy families. We score every method on all of them: accuracy is the
# share of questions whose first answer is exactly right.

# %%
if toy:
    questions = tasks.analogy_set(seed=seed)
    results = {name: wv.evaluate_analogy(questions)
               for name, wv in (("PPMI-SVD", ppmi_vectors), ("skip-gram", sg_vectors))}
    families = list(results["skip-gram"].by_section)
    print(f"{'family':<18}" + "".join(f"{n:>11}" for n in results))
    for f in families:
        print(f"{f:<18}" + "".join(f"{r.by_section[f]:>11.2f}" for r in results.values()))
    print(f"{'all':<18}" + "".join(f"{r.accuracy:>11.2f}" for r in results.values()))
    print(f"{len(questions)} questions, coverage {results['skip-gram'].coverage:.2f}")

# %% [markdown]
# Analogies work when a word's contexts come from two independent sources: some that say *which*
# word it is, shared by both members of a pair (the king and the queen both *rule* a *kingdom*),
# and some that say *which side of the relation* it is on, shared across all pairs (*his* and
# *her*; *this cow* and *these cows*). Then queen − king removes the pair and keeps the relation,
# and adding prince lands on princess. The toy world is written that way on purpose; real text is
# noisier, which is why word2vec's analogy scores on real corpora are far lower.
#
# Skip-gram's offsets agree (the first line below). PPMI-SVD fails the same questions; the
# next cell shows why.

# %%
if toy:
    pairs = tasks.analogy_pairs()["gender"]
    offsets = torch.stack([sg_vectors[b] - sg_vectors[a] for a, b in pairs])
    offsets = torch.nn.functional.normalize(offsets, dim=1)
    cos = offsets @ offsets.T
    mean_offset_cos = cos[~torch.eye(len(pairs), dtype=bool)].mean().item()
    print(f"mean cosine between the {len(pairs)} gender offsets (queen - king, aunt - uncle, ...): "
          f"{mean_offset_cos:.2f}")
    print(f"skip-gram analogy accuracy {results['skip-gram'].accuracy:.2f}, "
          f"PPMI-SVD {results['PPMI-SVD'].accuracy:.2f}")
    assert results["skip-gram"].coverage == 1.0
    assert results["skip-gram"].accuracy >= 0.7
    assert mean_offset_cos > 0.3

# %% [markdown]
# **Why PPMI-SVD fails here, and why its neighbours scored 1.00.** In the toy world the words of one
# class fill the same slots of the same sentence patterns, so their rows of the PPMI matrix are
# nearly the same; what tells *king* from *prince* (his kingdom, his principality) is a small part
# of each row. A truncated SVD keeps only the `dim` directions that carry the most weight, and those
# are the ones that whole classes and topics share. The small differences fall below the cut, and
# the words of a class end up with almost one vector: a word class **collapses**. That is perfect
# for finding a word's class (the precision@5 above), and useless for an analogy, which must land
# on one member of a class: king : queen :: prince lands on a crowd of words, men and women alike,
# all at cosine 1.00, and which comes first is down to rounding. Skip-gram's class members stay
# further apart (the first line). Keep more directions and PPMI-SVD's members come apart too: the
# same counts with a larger `dim` (last line) answer far more analogies.
#
# The measure: the mean cosine between two different words of the same class.

# %% tags=["nbval-ignore-output"]
def within_class_cosine(wv: WordVectors) -> float:
    """Mean cosine of two different words of one class, over every class with two or more words."""
    means = []
    for members in classes.values():
        x = torch.stack([wv[w] for w in members if w in wv])
        if len(x) > 1:
            cos = torch.nn.functional.normalize(x, dim=1) @ torch.nn.functional.normalize(x, dim=1).T
            means.append(cos[~torch.eye(len(x), dtype=bool)].mean())
    return torch.stack(means).mean().item()


if toy:
    print(f"within-class cosine: PPMI-SVD {within_class_cosine(ppmi_vectors):.3f}, "
          f"skip-gram {within_class_cosine(sg_vectors):.3f}")
    print("PPMI-SVD, king : queen :: prince :",
          ", ".join(f"{w} {s:.2f}" for w, s in ppmi_vectors.analogy("king", "queen", "prince", k=4)))
    wide = WordVectors(count_words, svd_vectors(ppmi(counts, alpha=alpha), 100))  # the same counts, 100 directions
    print(f"PPMI-SVD with dim = {wide.dim}: within-class cosine {within_class_cosine(wide):.3f}, "
          f"analogy accuracy {wide.evaluate_analogy(questions).accuracy:.2f} (dim = {dim}: "
          f"{results['PPMI-SVD'].accuracy:.2f})")
    assert within_class_cosine(ppmi_vectors) > within_class_cosine(sg_vectors)
    assert wide.evaluate_analogy(questions).accuracy > results["PPMI-SVD"].accuracy

# %% [markdown]
# ## 8 · A picture: the vectors in two dimensions
#
# Principal component analysis (PCA) keeps the two directions along which the vectors vary most.
# Each dot is a word, coloured by its class; words of one class should gather.

# %%
from course_lib.wordvec import NeighbourExplorer, plot_word_map

if toy:
    map_classes = ["N.farm", "NS.farm", "V.farm", "N.sea", "NS.sea", "V.sea", "N.castle", "A.castle"]
    in_map = [[w for w in classes[c] if w in sg_vectors] for c in map_classes]
    named = [w for words in in_map for w in words[:2]]  # the first `annotate` words get their names
    map_words = named + [w for words in in_map for w in words[2:]]
    map_labels = [word_class[w] for w in map_words]
else:
    map_words = sg_vectors.words[20:80]
    map_labels = None
fig = plot_word_map(sg_vectors, map_words, map_labels, annotate=16, title="skip-gram vectors, PCA")
fig

# %% [markdown]
# Topic is the widest direction: farm, sea and castle words sit far apart, found from text alone.
# Within a topic the classes overlap in these two directions; the other dimensions tell them apart,
# as the category precision above measured.
#
# **Explorer.** Pick a word and k; its neighbours are listed and ringed on the map (needs a live
# kernel; the static figure below shows the same for "cow").

# %% tags=["nbval-ignore-output"]
explorer = NeighbourExplorer(sg_vectors, map_words, map_labels, start=map_words[0], k=5)
explorer.show()

# %%
fig = plot_word_map(sg_vectors, map_words, map_labels, highlight=[w for w, _ in explorer.neighbours()],
                    query=explorer.word.value, annotate=0,
                    title=f"{explorer.word.value} and its 5 nearest neighbours")
print(f"neighbours of {explorer.word.value}:", ", ".join(w for w, _ in explorer.neighbours()))
fig

# %% [markdown]
# ## 9 · Evaluation on similarity sets
#
# A similarity set lists word pairs with graded scores from people (or, in the toy world, from the
# grammar: 3 same class, 2 same topic, 1 same part of speech, 0 unrelated). We report Spearman's
# rank correlation between the cosines and the scores, and the **coverage**: the share of pairs
# whose two words have vectors. A score on 10 % of a set says little.

# %% tags=["nbval-ignore-output"]
from course_lib.data.loaders import load_similarity_set

sets = {}
if toy:
    sets["toy world"] = [(p.word_a, p.word_b, p.score) for p in tasks.similarity_set(seed=seed)]
for name in ("wordsim353", "simlex999"):
    try:
        sets[name] = load_similarity_set(name)
    except FileNotFoundError as err:  # gensim's test data is not installed
        print(f"{name}: not available ({err})")
print(f"{'set':<11}{'method':>10}{'Spearman':>10}{'coverage':>10}")
scores = {}
for set_name, pairs in sets.items():
    for name, wv in (("PPMI-SVD", ppmi_vectors), ("skip-gram", sg_vectors)):
        r = scores[set_name, name] = wv.evaluate_similarity(pairs)
        print(f"{set_name:<11}{name:>10}{r.spearman:>10.3f}{r.coverage:>10.3f}")
if toy:
    assert scores["toy world", "skip-gram"].spearman > 0.6

# %% [markdown]
# On the toy world both methods rank the graded pairs well. WordSim353 and SimLex-999 are real
# English: the toy vocabulary covers only a handful of their pairs, so those rows mean little here;
# run this notebook with `-p corpus lee` (or `kjv`) to see real-text scores with real coverage.
#
# ## 10 · The limit: one vector per word type
#
# Every **token** (词例) of a **word type** (词型) gets the same vector. A polysemous word
# (**polysemy**, 一词多义) such as "bank" (money / river) therefore gets one vector for both senses.
# Below, each neighbour of "bank" is marked with the polysemous word and sense it is a cue for
# (`-` for none).

# %% tags=["nbval-ignore-output"]
if toy:
    bank = world.polysemous["bank"]
    for sense, cues in zip(bank.senses, bank.cues):
        print(f"bank as {sense:<6} is decided by: {', '.join(cues[:6])}")
    cue_of = {c: f"{w}/{sense}" for w, p in world.polysemous.items() for sense, cs in zip(p.senses, p.cues) for c in cs}
    print("neighbours of bank:", ", ".join(f"{w} {s:.2f} ({cue_of.get(w, '-')})"
                                           for w, s in sg_vectors.most_similar("bank", 8)))
    sims = {sense: np.mean([sg_vectors.similarity("bank", c) for c in cues if c in sg_vectors])
            for sense, cues in zip(bank.senses, bank.cues)}
    print("mean cosine of bank with each sense's cue words:", {s: round(float(x), 2) for s, x in sims.items()})

# %% [markdown]
# The neighbours are cue words: some are the cues of bank's own two senses, the others cues of
# *other* polysemous words, which stand in the same slot, right after a polysemous noun. Its
# cosine with its money cues and with its river cues (last line) is about the same: the one
# vector sits between the two senses and favours neither.
#
# Can a classifier tell the sense of a "bank" token from its vector? Its input is the same for every
# token of the word, so the best it can do is to guess each word's most frequent sense: the
# **majority baseline**. We train it on the senses of the training corpus and test on new text.

# %%
if toy:
    train_senses = tasks.sense_examples(text)
    test_senses = tasks.sense_examples(world.corpus("test", seed=seed, num_documents=1000))
    sense_acc, majority = sense_classification(sg_vectors, train_senses, test_senses)
    print(f"{len(train_senses)} training tokens, {len(test_senses)} test tokens of {len(world.polysemous)} words")
    print(f"sense accuracy from static vectors: {sense_acc:.3f}   majority baseline: {majority:.3f}")
    assert abs(sense_acc - majority) <= 0.05

# %% [markdown]
# Stuck at the baseline, whatever the training. Deciding the sense needs the *context* of each token
# ("bank" near "money" or near "river"): contextual vectors, which the rest of the course builds,
# from an LSTM language model (02) to ELMo (03, 04) and BERT (09, 10).

# %% [markdown]
# ## Exercises
#
# Each exercise has a checker from `course_lib.checks.word_vectors` that tells you what is right or
# wrong. Fill in the answer, run the cell, read the message. Worked solutions follow below.
#
# **Exercise 1 · an analogy query.** Write `my_analogy(wv, a, b, c)` returning the word d of
# a : b :: c : d by 3CosAdd, using `wv.words` and `wv.vectors` only (not `wv.analogy`).

# %%
from course_lib.checks import word_vectors as checks_wv


def my_analogy(wv: WordVectors, a: str, b: str, c: str) -> str:
    raise NotImplementedError  # your code here


done = checks_wv.check_analogy(my_analogy)

# %% [markdown]
# **Exercise 2 · the noise distribution.** Skip-gram draws its K noise words with probability
# p(w) ∝ count(w)^0.75 (section 5). Write `noise_distribution(counts, exponent)` for a 1-D tensor of
# word counts: the probability of drawing each word. What does the exponent do to a rare word?

# %%
def noise_distribution(counts: torch.Tensor, exponent: float) -> torch.Tensor:
    raise NotImplementedError  # your code here


done = checks_wv.check_noise_distribution(noise_distribution)

# %% [markdown]
# **Exercise 3 · more dimensions, better vectors? (investigate)** PPMI-SVD keeps the top `dim` = 30
# directions of the PPMI matrix. Rebuild it with 60 dimensions instead (the same corpus, window and
# `min_count`; the co-occurrence counts of section 4 can be reused), measure its category
# precision@5 as in section 6, and set `ppmi_precision_60` to that number (three decimals).
# Better or worse than at 30, and why might that be? (Needs the toy world's word classes.)

# %%
ppmi_precision_60 = ...  # your answer: a number
done = checks_wv.check_ppmi_dimensions(ppmi_precision_60, counts, count_words, word_class if toy else None)

# %% [markdown] tags=["solution"]
# ### Solutions
#
# **1.** Normalise every vector first, so each word counts by direction only; then b − a + c and the
# highest cosine among the other words.

# %% tags=["solution"]
def my_analogy(wv: WordVectors, a: str, b: str, c: str) -> str:
    unit = wv.vectors / wv.vectors.norm(dim=1, keepdim=True)
    i = {w: k for k, w in enumerate(wv.words)}
    scores = unit @ (unit[i[b]] - unit[i[a]] + unit[i[c]])
    scores[[i[a], i[b], i[c]]] = -float("inf")
    return wv.words[int(scores.argmax())]


assert checks_wv.check_analogy(my_analogy)

# %% [markdown] tags=["solution"]
# **2.** Raise, then normalise. An exponent below 1 flattens the distribution: frequent words are
# drawn less often than their frequency, rare ones more often, so the rare words also get pushed
# away from contexts they do not belong to.

# %% tags=["solution"]
def noise_distribution(counts: torch.Tensor, exponent: float) -> torch.Tensor:
    weights = counts.double() ** exponent
    return (weights / weights.sum()).to(counts.dtype)


assert checks_wv.check_noise_distribution(noise_distribution)

# %% [markdown] tags=["solution"]
# **3.** `ppmi` and `svd_vectors` are the two steps of `ppmi_svd`; starting from the counts skips the
# counting. The printed line compares the two dimensions.

# %% tags=["solution", "nbval-ignore-output"]
if toy:
    vectors_60 = WordVectors(count_words, svd_vectors(ppmi(counts, alpha=0.75), 60))
    ppmi_precision_60 = category_precision(vectors_60, word_class, k=5)
    print(f"category precision@5 of PPMI-SVD: {precision['PPMI-SVD']:.3f} at {dim} dimensions, "
          f"{ppmi_precision_60:.3f} at 60")
    assert checks_wv.check_ppmi_dimensions(ppmi_precision_60, counts, count_words, word_class if toy else None)
