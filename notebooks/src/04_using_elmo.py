# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 04 · Using ELMo: contextual word vectors
#
# Notebook 03 trained a biLM on the toy world. Its hidden states are **contextual embeddings**
# (上下文词向量): a vector for each *token*, computed from its sentence. This notebook uses them the
# way ELMo does, as features for other tasks, and measures what they buy:
#
# 1. **feature-based transfer** (基于特征的迁移): the biLM frozen, a small model on top;
# 2. the **scalar mix** (标量混合) γ · Σ_j s_j h_j, learned once per task, and an explorer of its weights;
# 3. **probing** (探测) each layer alone for syntax (part of speech) and for word sense;
# 4. why both directions: senses decided by the left context and by the right context;
# 5. the polysemy picture: the "bank" tokens of many sentences, layer by layer;
# 6. ELMo features against static skip-gram vectors and a task model trained from scratch;
# 7. the depth experiment: 1 to 4 LSTM layers;
# 8. ELMo's limits.

# %% tags=["parameters"]
# Parameters: papermill can override any of these, e.g. `-p depth_steps 400`.
seed = 0  # every random draw in the notebook follows from it
corpus = "toyworld"  # the tasks (part of speech, word sense) need the toy world's gold labels
probe_documents = 3000  # labelled training documents for the probes (~4k sense tokens; 500 tagged sentences)
test_documents = 1000  # labelled test documents
depth_hidden_size = 64  # the depth experiment's smaller biLMs, one per depth
depth_steps = 200
depth_documents = 3000
threads = 1  # torch CPU threads: small LSTMs run fastest on one thread here (measured)
device = "auto"  # "auto" picks CUDA when present, else the CPU

# %%
import matplotlib.pyplot as plt
import torch
from torch.testing import assert_close

from course_lib import get_device, seed_everything, show_source
from course_lib.core import majority_accuracy, probe_predictions, train_probe
from course_lib.data import pos_tagging_examples, sense_examples, toy_world, toyworld_corpus
from course_lib.elmo import (
    BiLMConfig, BiLMSettings, DIRECTIONS, Elmo, ScalarMix, TokenTagger, direction_features, layer_features, learn_scalar_mix,
    mixed_probe_accuracy, pretrained_bilm, train_scratch_tagger, within_across_cosine
)
from course_lib.lm import LMDataConfig

seed_everything(seed)
dev = get_device(device)
torch.set_num_threads(threads)
if corpus != "toyworld":
    raise ValueError("notebook 04 needs the toy world: its tasks come with gold senses and tags")
world = toy_world()

# %% [markdown]
# ## 1 · The frozen biLM
#
# The biLM comes from notebook 03's cache (`pretrained_bilm` with the same settings; if it is not
# there yet, it is trained now, in about a minute). **Feature-based** means its weights
# never change: a task only learns how to *read* its layers. `course_lib.elmo.Elmo` wraps it:
# the biLM frozen, one scalar mix per task.

# %% tags=["nbval-ignore-output"]
settings = BiLMSettings(seed=seed)  # notebook 03's defaults: its model, from the cache
bilm, history = pretrained_bilm(settings)
bilm = bilm.to(dev)
num_layers = settings.model.num_layers
print(f"biLM: {settings.model.num_layers} layers x {settings.model.hidden_size} per direction, trained for "
      f"{settings.steps} steps in {history.seconds:.0f} s")

# %%
elmo = Elmo(bilm, num_output_representations=2)  # two tasks: part of speech and word sense
trainable = [name for name, p in elmo.named_parameters() if p.requires_grad]
frozen = sum(p.numel() for p in elmo.bilm.parameters())
print(f"frozen biLM parameters: {frozen:,}")
print("trainable:", trainable)
assert all(name.startswith("scalar_mixes") for name in trainable)

# %% [markdown]
# ## 2 · The scalar mix
#
# The biLM gives each word L + 1 layers (N, 2D) (notebook 03, section 7). Which one should a task
# use? ELMo lets the task decide. The ELMo vector of word k for a task is
#
# $$\mathrm{ELMo}_k^{task} = \gamma^{task} \sum_{j=0}^{L} s_j^{task}\, h_{k,j}, \qquad s^{task} = \mathrm{softmax}(w^{task}),$$
#
# with one weight w_j per layer and one scale γ, learned with the task. The softmax keeps the s_j
# positive and summing to 1, so they read as shares; γ lets the task set the size of the vector
# (the biLM's layers are not on the task's scale). Four parameters per task here. In a few lines:

# %%
def scalar_mix_sketch(layers: list[torch.Tensor], w: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    s = torch.softmax(w, dim=0)
    return gamma * sum(s[j] * h for j, h in enumerate(layers))


mix = ScalarMix(num_layers + 1)
with torch.no_grad():
    mix.scalar_parameters.copy_(torch.tensor([0.2, 1.0, -0.5]))
    mix.gamma.fill_(2.0)
with torch.no_grad():
    layers = bilm.layers(bilm.encode([["the", "bank"]]))
assert_close(scalar_mix_sketch(layers, mix.scalar_parameters, mix.gamma), mix(layers))
print("s_j =", [round(x, 3) for x in mix.weights().tolist()], " sum", round(mix.weights().sum().item(), 6))

# %% [markdown]
# In the figure, each frozen layer of word k is multiplied by its share $s_j$, the products are summed
# and γ scales the sum: the $w_j$ and γ are all that a task learns here.

# %%
from course_lib.diagrams import draw_scalar_mix

draw_scalar_mix(num_layers=num_layers)

# %% [markdown]
# ## 3 · Two tasks from the toy world
#
# - **part of speech**: a tag for every word (noun, verb, determiner, ...). In the toy world a word's
#   tag is almost always fixed by the word itself, the easy, "syntactic" end;
# - **word sense**: ten words have two senses each (a "bank" of money or of a river, a "bat" animal
#   or for sport). The word alone says nothing; a **cue** word beside it decides: for four words an
#   adjective on the left ("the sweaty palm", "the tropical palm"), for six a verb on the right ("the
#   bank floods", "the bank lends"), sometimes behind an adverb ("the bank slowly floods"). A probe
#   predicts one of the (word, sense) classes, `sense_id` (two per word; their number is printed
#   below); which word it is, every layer knows.
#
# The labelled data: sentences of `probe_documents` training documents, and of `test_documents`
# held-out ones. The frozen features of every labelled word are computed once, so every probe below
# trains in a fraction of a second.

# %%
train_docs = toyworld_corpus("train", seed, probe_documents)
test_docs = toyworld_corpus("test", seed, test_documents)
sense_train, sense_test = sense_examples(train_docs, world), sense_examples(test_docs, world)
pos_train, pos_test = pos_tagging_examples(train_docs)[:500], pos_tagging_examples(test_docs)[:300]
tags = sorted({t for ex in pos_train for t in ex.tags})
tag_id = {t: i for i, t in enumerate(tags)}


def sense_data(examples):
    layers, _ = layer_features(bilm, [e.tokens for e in examples], [e.position for e in examples])
    return layers, torch.tensor([e.sense_id for e in examples])  # one class per (word, sense)


def pos_data(examples):
    layers, _ = layer_features(bilm, [e.tokens for e in examples])
    return layers, torch.tensor([tag_id.get(t, 0) for e in examples for t in e.tags])


S_train, ys_train = sense_data(sense_train)
S_test, ys_test = sense_data(sense_test)
P_train, yp_train = pos_data(pos_train)
P_test, yp_test = pos_data(pos_test)
sense_majority = majority_accuracy([e.word for e in sense_train], ys_train, [e.word for e in sense_test], ys_test)
pos_majority = majority_accuracy([w for e in pos_train for w in e.tokens], yp_train,
                                 [w for e in pos_test for w in e.tokens], yp_test)
print(f"word sense: {len(sense_train)} training tokens, {len(sense_test)} test tokens; "
      f"per-word majority {sense_majority:.3f}")
print(f"part of speech: {len(yp_train)} training words, {len(yp_test)} test words, {len(tags)} tags; "
      f"per-word majority {pos_majority:.3f}")
print(f"word-sense classes: {len(set(ys_train.tolist()))}; features: {len(S_train)} layers of width "
      f"{S_train[0].shape[1]}")

# %% [markdown]
# ## 4 · One mix per task
#
# We learn the scalar mix and a linear classifier together, once for each task (each layer first
# standardized, so that s_j measures how much of a layer is used, not how loud it is).

# %% tags=["nbval-ignore-output"]
learned = {"part of speech": learn_scalar_mix(P_train, yp_train, P_test, yp_test, seed=seed),
           "word sense": learn_scalar_mix(S_train, ys_train, S_test, ys_test, seed=seed)}
for task, result in learned.items():
    print(f"{task:>15}: s = {[round(s, 3) for s in result.weights]}  γ = {result.gamma:.3f}  "
          f"accuracy {result.accuracy:.3f}")
sense_weights = learned["word sense"].weights
assert sense_weights[0] < 0.1 and sense_weights[0] < min(sense_weights[1:])  # sense lives in the LSTM layers

# %%
from course_lib.elmo import LayerWeightExplorer, TaskProbe, plot_layer_weights

probes = {"part of speech": TaskProbe(P_train, yp_train, P_test, yp_test, **vars(learned["part of speech"])),
          "word sense": TaskProbe(S_train, ys_train, S_test, ys_test, **vars(learned["word sense"]))}
fig = plot_layer_weights(probes)
fig

# %% [markdown]
# Each panel shows the learned shares s_j of one task; the last panel the two γ. Part of speech
# is settled by the word itself, so any layer will do and its mix spreads out. For word sense
# the mix puts almost nothing on layer 0: the word's own vector is the same for both senses, and
# only the LSTM layers, which have read the neighbours, can tell two "bank" tokens apart.
#
# **Explore it.** Pick a task, then move the sliders to set the weights by hand (they are
# normalized to sum to 1). Each change trains a new linear probe on your mix and shows its test
# accuracy next to the learned mix's. Try all the weight on layer 0, then on layer 1, for word
# sense. (The figure above is the static version of the same weights.)

# %% tags=["nbval-ignore-output"]
explorer = LayerWeightExplorer(probes, mixed_probe_accuracy, png_path="layer_weights.png")
explorer

# %% [markdown]
# ## 5 · Probing each layer alone
#
# A **probe** asks what a layer encodes: train a linear classifier on that layer's frozen vectors
# alone and test it on new sentences. The table gives every layer on both tasks.

# %% tags=["nbval-ignore-output"]
layer_table = {task: [train_probe(a, y_tr, b, y_te, seed=seed) for a, b in zip(tr, te)]
               for task, (tr, y_tr, te, y_te) in {"part of speech": (P_train, yp_train, P_test, yp_test),
                                                  "word sense": (S_train, ys_train, S_test, ys_test)}.items()}
print(f"{'layer':>8}" + "".join(f"{task:>17}" for task in layer_table))
for j in range(num_layers + 1):
    print(f"{j:>8}" + "".join(f"{layer_table[task][j]:>17.3f}" for task in layer_table))
print(f"{'majority':>8}{pos_majority:>17.3f}{sense_majority:>17.3f}")
assert abs(layer_table["word sense"][0] - sense_majority) <= 0.05  # layer 0 is a static vector
assert min(layer_table["word sense"][1:]) >= 0.95  # the LSTM layers know the sense

# %% [markdown]
# Layer 0 is a static word vector: on word sense it can do no better than each word's majority
# sense. Part of speech is easy in the toy world (a word almost always has one tag), so every layer
# does well on it.
#
# The LSTM layers know the sense: both are far above the majority baseline, though no probe
# was ever shown a sense while the biLM trained. The language model learned it because it had to
# read each word's neighbours to predict the next word, and a vector that has read "floods"
# differs from one that has read "lends".
#
# **A caution the toy world teaches.** A language model keeps in its state what helps it predict
# the next word, nothing else. In `peter sees the bank floods` nothing to the *left* of "bank"
# depends on its sense, so the backward LM, which has just read "floods" when it reaches "bank",
# holds the cue only as "the word I read a moment ago". Put the cue further away, with nothing
# in between that depends on the sense, and it fades (the notes at the end of this notebook say
# what we saw while designing the toy world). That is why the toy world keeps its cues close to
# the word. Section 6 measures the effect of one adverb in between. In real text a sense also
# shapes the words on the far side, which gives an LM a reason to carry it further.

# %% [markdown]
# ## 6 · Why bidirectional: left cues and right cues
#
# In the toy world the cue that fixes a sense stands on the right of some polysemous words ("the
# bank floods") and on the left of others ("the sweaty palm"). We probe with the forward halves
# of the LSTM layers only, the backward halves only, and both, and split the test tokens by the
# side of their cue.

# %% tags=["nbval-ignore-output"]
side = {"left": torch.tensor([e.cue_side == "left" for e in sense_test])}
side["right"] = ~side["left"]
direction_table, hits = {}, {}
for direction in DIRECTIONS:  # one probe per feature set, read on the left-cue and on the right-cue test words
    predicted = probe_predictions(direction_features(S_train, direction), ys_train,
                                  direction_features(S_test, direction), seed=seed)
    hits[direction] = (predicted == ys_test).float()
    for cue in ("left", "right"):
        direction_table[direction, cue] = hits[direction][side[cue]].mean().item()
print(f"{'features':>10}{'left-cue words':>16}{'right-cue words':>17}")
for direction in DIRECTIONS:
    print(f"{direction:>10}{direction_table[direction, 'left']:>16.3f}{direction_table[direction, 'right']:>17.3f}")
print(f"test tokens: {int(side['left'].sum())} left-cue, {int(side['right'].sum())} right-cue")
assert direction_table["forward", "right"] < 0.6 and direction_table["backward", "left"] < 0.6  # blind side
assert direction_table["forward", "left"] >= 0.9 and direction_table["backward", "right"] >= 0.9  # own side
assert min(direction_table["both", "left"], direction_table["both", "right"]) >= 0.9  # both sides at once

# %% [markdown]
# Each one-way model is down at the majority baseline on the other side, as it must be: the forward LM at "bank" has
# not read a cue that comes after it, the backward LM has not read a cue that came before. On its
# own side each is nearly perfect. Only the concatenation knows both kinds of sense, which is
# *why* ELMo is bidirectional.
#
# **How far does a cue carry?** On the right, an adverb sometimes stands between the word and its
# cue. The backward features, split by that distance:

# %% tags=["nbval-ignore-output"]
by_distance = {}
for d in (1, 2):  # the backward probe of the table above, on the right-cue words at each distance
    keep = side["right"] & torch.tensor([e.cue_distance == d for e in sense_test])
    by_distance[d] = hits["backward"][keep].mean().item()
    print(f"right cue {d} word(s) away: {int(keep.sum()):4} test tokens, backward accuracy {by_distance[d]:.3f}")
print(f"what one word in between costs the backward probe: {by_distance[1] - by_distance[2]:.3f}")
assert by_distance[2] <= by_distance[1]

# %% [markdown]
# The last line is the price of one adverb in between: little or nothing. The backward LM carries
# the cue across a word that it had to predict without it; the caution of section 5 is about
# longer distances.

# %% [markdown]
# ## 7 · The polysemy picture
#
# Take every "bank" token of the test sentences and compare them pairwise by cosine similarity, at
# each layer, sorted by sense. Layer 0 gives the same vector every time.

# %% tags=["nbval-ignore-output"]
word = "bank"
bank = [e for e in sense_test if e.word == word][:80]
bank.sort(key=lambda e: e.label)
bank_layers, _ = layer_features(bilm, [e.tokens for e in bank], [e.position for e in bank])
bank_labels = [e.label for e in bank]
cosines = {j: within_across_cosine(h, bank_labels) for j, h in enumerate(bank_layers)}
centered = {j: within_across_cosine(h, bank_labels, centered=True) for j, h in enumerate(bank_layers) if j > 0}
senses = world.polysemous[word].senses
fig, axes = plt.subplots(1, num_layers + 1, figsize=(10, 3.4), dpi=80, layout="constrained")
middles = [(bank_labels.count(0) - 1) / 2, (bank_labels.count(0) + len(bank) - 1) / 2]  # of each sense's block
for j, (ax, h) in enumerate(zip(axes, bank_layers)):
    u = torch.nn.functional.normalize(h - h.mean(0) if j > 0 else h, dim=-1)
    image = ax.imshow(u @ u.T, vmin=-1, vmax=1, cmap="RdBu_r")
    cut = bank_labels.count(0) - 0.5
    ax.axhline(cut, color="k", lw=1)
    ax.axvline(cut, color="k", lw=1)
    title = f"layer {j}, raw: all 1" if j == 0 else f"layer {j}, centred: {centered[j][0]:.2f} vs {centered[j][1]:.2f}"
    ax.set_title(title, fontsize=8)
    ax.set_xticks(middles, senses, fontsize=8)
    ax.set_yticks(middles, senses, fontsize=8, rotation=90, va="center")
    ax.set_xlabel(f"'{word}' token (column)", fontsize=8)
axes[0].set_ylabel(f"'{word}' token (row)", fontsize=8)
bar = fig.colorbar(image, ax=axes, shrink=0.8)
bar.set_label("cosine of row and column token", fontsize=8)
bar.ax.tick_params(labelsize=8)
print(f"{len(bank)} '{word}' tokens: {bank_labels.count(0)} {senses[0]}, {bank_labels.count(1)} {senses[1]}")
for j, (within, across) in cosines.items():
    line = f"layer {j}: within-sense cosine {within:.3f}, across-sense {across:.3f}"
    if j > 0:
        line += f"   centred: within {centered[j][0]:.3f}, across {centered[j][1]:.3f}"
    print(line)
assert cosines[0] == (1.0, 1.0) or abs(cosines[0][0] - 1) < 1e-6  # layer 0: one vector per word type
gaps = {j: cosines[j][0] - cosines[j][1] for j in range(1, num_layers + 1)}
print("within minus across, layers 1..L, raw:", {j: round(g, 4) for j, g in gaps.items()},
      "  centred:", {j: round(w - a, 3) for j, (w, a) in centered.items()})
assert all(gap > 0 for gap in gaps.values())  # raw cosine: within-sense above across-sense
assert all(centered[j][0] > centered[j][1] + 0.05 for j in centered)

# %% [markdown]
# Layer 0 gives every "bank" the same vector (cosine 1 everywhere). In the LSTM layers the raw
# cosines are all close to 1 too: most of a "bank" vector says "this is bank", and that part is
# the same in every sentence. The picture takes it away (subtracts the mean "bank" vector) and
# compares what is left, with the tokens sorted by sense (money first, the black lines between).
#
# In the LSTM layers two "bank" tokens of the same sense are more alike than two of different
# senses. Raw, the gap is tiny, because the shared "this is bank" part dominates; centred, it is
# far larger (the last line puts the two side by side), and the picture shows it as two blocks
# along the diagonal. Even centred, two same-sense tokens are far from pointing the same way: the
# sense is a small part of what the vector holds. Static vectors cannot draw this picture at all.

# %% [markdown]
# ## 8 · ELMo against static vectors and against a model from scratch
#
# The same two tasks, three kinds of input:
#
# - **static skip-gram vectors** (notebook 01), trained on the same training text, one per word type;
# - **ELMo**: the learned mix of section 4 with a linear classifier;
# - **from scratch**: a small BiLSTM tagger (`ScratchTagger`: word embeddings, one bidirectional
#   LSTM, a linear layer) trained end to end on the labelled data alone (steps and batch printed
#   below), no unlabelled text.
#
# A linear classifier on a static vector gives every token of a word the same label, so it can at
# best find each word's majority label.

# %% tags=["nbval-ignore-output"]
from course_lib.wordvec import SkipGramConfig, train_skipgram

skipgram, _, sg_history = train_skipgram([list(s.tokens) for s in toyworld_corpus("train", seed, 5000)],
                                         SkipGramConfig(dim=30, window=2, epochs=2, min_count=1, seed=seed))
print(f"skip-gram: {len(skipgram)} words x {skipgram.dim}, trained in {sg_history.seconds:.1f} s")

# %% tags=["nbval-ignore-output"]
def static(words):
    return torch.stack([skipgram[w] if w in skipgram else torch.zeros(skipgram.dim) for w in words])


vocab = bilm.vocab
scratch_steps, scratch_batch = 100, 32
compare = {
    ("word sense", "static skip-gram"): train_probe(static([e.word for e in sense_train]), ys_train,
                                                    static([e.word for e in sense_test]), ys_test, seed=seed),
    ("part of speech", "static skip-gram"): train_probe(static([w for e in pos_train for w in e.tokens]), yp_train,
                                                        static([w for e in pos_test for w in e.tokens]), yp_test,
                                                        seed=seed),
    ("word sense", "ELMo"): learned["word sense"].accuracy,
    ("part of speech", "ELMo"): learned["part of speech"].accuracy,
    ("word sense", "from scratch"): train_scratch_tagger(
        vocab, [e.tokens for e in sense_train], ys_train.tolist(), [e.tokens for e in sense_test],
        ys_test.tolist(), [e.position for e in sense_train], [e.position for e in sense_test],
        steps=scratch_steps, batch_size=scratch_batch, seed=seed),
    ("part of speech", "from scratch"): train_scratch_tagger(
        vocab, [e.tokens for e in pos_train], [[tag_id[t] for t in e.tags] for e in pos_train],
        [e.tokens for e in pos_test], [[tag_id.get(t, 0) for t in e.tags] for e in pos_test], steps=scratch_steps,
        batch_size=scratch_batch, seed=seed),
}
static_pos_train = [w for e in pos_train for w in e.tokens]
static_pos_fit = train_probe(static(static_pos_train), yp_train, static(static_pos_train), yp_train, seed=seed)
print(f"{'input':>18}{'word sense':>12}{'part of speech':>16}")
for kind in ("static skip-gram", "ELMo", "from scratch"):
    print(f"{kind:>18}{compare['word sense', kind]:>12.3f}{compare['part of speech', kind]:>16.3f}")
print(f"{'majority':>18}{sense_majority:>12.3f}{pos_majority:>16.3f}")
print(f"from scratch: {scratch_steps} steps of {scratch_batch} labelled sentences")
print(f"part of speech from static vectors: skip-gram {compare['part of speech', 'static skip-gram']:.3f} "
      f"(on its own training words {static_pos_fit:.3f}), the biLM's layer 0 {layer_table['part of speech'][0]:.3f}")
assert abs(compare["word sense", "static skip-gram"] - sense_majority) <= 0.05
assert compare["word sense", "ELMo"] >= 0.95

# %% [markdown]
# On part of speech, ELMo and the model from scratch are near perfect, above the per-word majority
# baseline. The static skip-gram probe is not: it falls *below* the majority baseline. The fault
# is in these vectors, not in being static: the biLM's own layer 0, also one vector per word type,
# scores near perfect (last line, and section 5). And it is not a matter of generalising: the
# probe does hardly better on the very words it was trained on. A linear boundary between parts of
# speech is simply hard to draw in these skip-gram vectors: trained with a window of two words,
# skip-gram puts a word beside the other words of its topic, a farm noun beside the farm's verbs
# (notebook 01, section 6).
#
# On word sense, static vectors stay at the majority baseline, whatever the classifier: one vector
# per word type cannot tell two tokens apart. The ELMo vector *of the token* solves it with a
# linear classifier. So does the small BiLSTM trained from scratch on the labelled sentences alone:
# in the toy world a cue is one of three words next to the polysemous word (or one adverb away),
# easy to learn from labels. ELMo's advantage is that its features came from unlabelled text: the
# task added only a linear layer and a mix. Notebook 10 puts ELMo beside BERT on the same splits.
#
# **The same through the library's heads.** `TokenTagger` puts a linear layer on `Elmo`'s mix and
# trains it end to end with mini-batches, the biLM frozen (part of speech; steps and batch size
# printed below):

# %% tags=["nbval-ignore-output"]
from course_lib.text import pad_batch

tagger = TokenTagger(elmo, num_labels=len(tags), task=0)
optimizer = torch.optim.Adam([p for p in tagger.parameters() if p.requires_grad], lr=1e-2)
generator = torch.Generator().manual_seed(seed)
head_steps, head_batch = 80, 32
for _ in range(head_steps):
    batch = torch.randint(len(pos_train), (head_batch,), generator=generator).tolist()
    ids, _ = pad_batch([vocab.encode(pos_train[i].tokens) for i in batch], 0)
    labels, _ = pad_batch([[tag_id[t] for t in pos_train[i].tags] for i in batch], -100)
    _, loss = tagger(ids, labels=labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
with torch.no_grad():
    tagger.eval()
    ids, mask = pad_batch([vocab.encode(e.tokens) for e in pos_test], 0)
    logits, _ = tagger(ids)
head_accuracy = (logits.argmax(-1)[mask.bool()] == yp_test).float().mean().item()
print(f"Elmo + TokenTagger, {head_steps} steps of {head_batch} sentences: part-of-speech accuracy {head_accuracy:.3f}; "
      f"learned s = {[round(s, 3) for s in elmo.scalar_mixes[0].weights().tolist()]}")

# %% [markdown]
# **Try it** on word sense (`task=1`, `positions=`, labels `ys_train`) and compare with the probes
# above. Expect to need far more steps: the sense is a small direction in vectors whose
# variance is mostly "which word is this", and the probes standardized every feature and took
# hundreds of full-batch steps to find it.
# %% [markdown]
# ## 9 · The depth experiment: are more layers better?
#
# The paper used L = 2. We train small biLMs (64 per direction, 200 steps each, cached like the
# big one) with 1, 2, 3 and 4 LSTM layers on the same data, and measure each the same way: held-out
# perplexity, and linear probes for sense and for part of speech on the top layer.

# %% tags=["nbval-ignore-output"]
from course_lib.elmo import depth_experiment

held_out = [list(s.tokens) for s in test_docs][:500]  # sentences
depth_settings = BiLMSettings(model=BiLMConfig(hidden_size=depth_hidden_size), steps=depth_steps, seed=seed,
                              data=LMDataConfig(corpus=corpus, seed=seed, train_documents=depth_documents))
depth = depth_experiment(
    [1, 2, 3, 4], depth_settings, held_out,
    ([e.tokens for e in sense_train[:2000]], [e.position for e in sense_train[:2000]], ys_train[:2000],
     [e.tokens for e in sense_test], [e.position for e in sense_test], ys_test),
    ([e.tokens for e in pos_train[:200]], torch.tensor([tag_id[t] for e in pos_train[:200] for t in e.tags]),
     [e.tokens for e in pos_test[:200]], torch.tensor([tag_id.get(t, 0) for e in pos_test[:200] for t in e.tags])))
print("training seconds per depth:", [round(r.seconds) for r in depth])

# %% tags=["nbval-ignore-output"]
print(f"{'layers':>6}{'fwd ppl':>9}{'bwd ppl':>9}{'sense (top)':>13}{'sense (best layer)':>20}{'POS (top)':>11}")
for r in depth:
    print(f"{r.num_layers:>6}{r.forward_ppl:>9.3f}{r.backward_ppl:>9.3f}{r.sense_accuracy:>13.3f}"
          f"{r.best_sense_accuracy:>20.3f}{r.pos_accuracy:>11.3f}")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 2.8), dpi=80)
L_values = [r.num_layers for r in depth]
ax1.plot(L_values, [r.forward_ppl for r in depth], "o-", label="forward")
ax1.plot(L_values, [r.backward_ppl for r in depth], "s--", label="backward")
ax1.set_xlabel("LSTM layers per direction")
ax1.set_ylabel("held-out perplexity")
ax1.legend(fontsize=8)
ax2.plot(L_values, [r.sense_accuracy for r in depth], "o-", label="sense, top layer")
ax2.plot(L_values, [r.pos_accuracy for r in depth], "s--", label="POS, top layer")
ax2.set_xlabel("LSTM layers per direction")
ax2.set_ylabel("probe accuracy")
ax2.legend(fontsize=8)
for ax in (ax1, ax2):
    ax.set_xticks(L_values)
fig.tight_layout()
best_depth = min(depth, key=lambda r: r.forward_ppl + r.backward_ppl).num_layers
best_sense_depth = max(depth, key=lambda r: r.sense_accuracy).num_layers
print(f"lowest perplexity at {best_depth} layer(s); best sense probe on the top layer at {best_sense_depth}")
assert best_depth < max(L_values) and best_sense_depth < max(L_values)  # the deepest model is not the best
assert depth[1].forward_ppl < depth[0].forward_ppl and depth[1].sense_accuracy > depth[0].sense_accuracy
assert all(r.pos_accuracy > 0.95 for r in depth)

# %% [markdown]
# Read the table rather than a slogan. At this small budget (200 steps, 64 wide) a second layer
# lowers the perplexity and lifts the sense probe, but the deepest model is not the best on
# either: a deeper stack has more to train in the same 200 steps, and each of its steps costs more
# (the training seconds above). Part of speech is saturated at every depth. So "more layers is
# not always better" holds here, measured, for a reason that is partly about the budget: with
# many more steps the deeper models might catch up, which a papermill run with larger
# `depth_steps` can test.

# %% [markdown]
# ## 10 · ELMo's limits
#
# - **Sequential.** Each LSTM reads one word after the other (notebook 02, section 6); a sentence of
#   T words takes T steps, in both directions, however many cores there are.
# - **Two one-way models, concatenated.** Section 6 showed it: at each layer the forward half of a
#   word has never seen its right context and the backward half never its left. The two meet only
#   in the final concatenation and the task's mix, never inside the network, so no layer can
#   combine a cue on the left with a cue on the right.
# - **Features, not fine-tuning.** The biLM stays frozen; the task learns a handful of mix weights
#   and its own model on top.
#
# Notebooks 05–08 build attention and the Transformer, where every position reads every other in
# one step; notebook 09 trains BERT, whose every layer sees both sides at once.

# %% [markdown]
# ## Notes
#
# **How far a cue carries, measured while designing the toy world.** Early versions of the toy
# world put some cues several words away from their polysemous word, with nothing in between that
# depended on the sense. One-way probes were nearly perfect with the cue next to the word, a little
# lower with one word in between, and far lower at three to six words: the LM had no reason to
# keep the cue once it had predicted the next word. Those runs used earlier models and data, so
# their numbers are not reproduced here (they are in the README's notes); the toy world now keeps
# every cue next to its word or one adverb away.

# %% [markdown]
# ## Exercises
#
# Each exercise has a checker in `course_lib.checks.elmo`. Fill in the answer, run the cell, read
# the message. Worked solutions follow below.
#
# **Exercise 1 · one direction's features.** Write `one_direction(layers, direction)`: given the L + 1
# frozen layers (N, 2D), forward half first, return the `"forward"` or `"backward"` half of the
# LSTM layers 1 .. L, concatenated: (N, L·D). (Section 6 used `course_lib.elmo.direction_features`.)

# %%
from course_lib.checks import elmo as elmo_checks


def one_direction(layers: list[torch.Tensor], direction: str) -> torch.Tensor:
    raise NotImplementedError  # your code here


done = elmo_checks.check_direction_half(one_direction)

# %% [markdown]
# **Exercise 2 · within- and across-sense similarity.** Write `within_across(x, labels)`: the mean
# cosine similarity over pairs of *different* rows with the same label, and over pairs with
# different labels.

# %%
def within_across(x: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    raise NotImplementedError  # your code here


done = elmo_checks.check_within_across(within_across)

# %% [markdown]
# **Exercise 3 · how many labels does a probe need? (investigate)** Every sense probe of section 5
# learned from all the labelled training tokens. ELMo's promise is that its features already know
# the sense, so a task should need few labels. Train the probe of layer 1 (`train_probe`, as in
# section 5, with `seed=seed`) on the first 100 training tokens only, test it on all the test
# tokens as before, and set `few_label_accuracy` to its accuracy. Then try layer 0 with the same
# 100 tokens.

# %%
few_label_accuracy = ...  # your answer: a number
done = elmo_checks.check_few_labels(few_label_accuracy, S_train, ys_train, S_test, ys_test, seed)

# %% [markdown] tags=["solution"]
# ### Solutions
#
# **1.** Layer 0 is `[x; x]` and has no direction, so start at layer 1.

# %% tags=["solution"]
def one_direction(layers: list[torch.Tensor], direction: str) -> torch.Tensor:
    D = layers[0].shape[-1] // 2
    part = slice(0, D) if direction == "forward" else slice(D, 2 * D)
    return torch.cat([h[:, part] for h in layers[1:]], dim=-1)


assert elmo_checks.check_direction_half(one_direction)
assert_close(one_direction(S_test, "backward"), direction_features(S_test, "backward"))

# %% [markdown] tags=["solution"]
# **2.** Normalize the rows, take all dot products at once, and average them under two masks; the
# diagonal (a token with itself, cosine 1) is left out of "within".

# %% tags=["solution", "nbval-ignore-output"]
def within_across(x: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    u = torch.nn.functional.normalize(x, dim=-1)
    sim = u @ u.T
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~torch.eye(len(labels), dtype=torch.bool)
    return sim[same & off_diagonal].mean().item(), sim[~same].mean().item()


assert elmo_checks.check_within_across(within_across)
print("layer 1 'bank' tokens:", [round(v, 3) for v in within_across(bank_layers[1], torch.tensor(bank_labels))])

# %% [markdown] tags=["solution"]
# **3.** The same probe, fed the first 100 rows. Each (word, sense) class gets only a handful of
# examples, and the LSTM layer still separates most senses: the biLM did the work on unlabelled
# text, the labels only have to name the directions it found. Layer 0 cannot, however
# many labels it gets: it is the same vector for both senses.

# %% tags=["solution", "nbval-ignore-output"]
few_label_accuracy = train_probe(S_train[1][:100], ys_train[:100], S_test[1], ys_test, seed=seed)
few_label_static = train_probe(S_train[0][:100], ys_train[:100], S_test[0], ys_test, seed=seed)
print(f"sense probe from 100 labelled tokens: layer 1 {few_label_accuracy:.3f}, layer 0 {few_label_static:.3f} "
      f"(from all {len(ys_train)}: layer 1 {layer_table['word sense'][1]:.3f})")
assert elmo_checks.check_few_labels(few_label_accuracy, S_train, ys_train, S_test, ys_test, seed)
