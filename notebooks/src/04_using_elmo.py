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
train_documents = 20000  # the biLM of notebook 03: the same settings load it from the cache
hidden_size = 128
num_layers = 2
steps = 1000
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
from course_lib.data import pos_tagging_examples, sense_examples, toy_world, toyworld_corpus
from course_lib.elmo import BiLMConfig, ScalarMix
from course_lib.elmo_heads import Elmo, TokenTagger, layer_features, pretrained_bilm, train_probe
from course_lib.elmo_probes import (DIRECTIONS, direction_features, learn_scalar_mix, majority_accuracy,
                                    mixed_probe_accuracy, train_scratch_tagger, within_across_cosine)
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
# there yet, it is trained now, in about a minute and a half). **Feature-based** means its weights
# never change: a task only learns how to *read* its layers. `course_lib.elmo_heads.Elmo` wraps it:
# the biLM frozen, one scalar mix per task.

# %% tags=["nbval-ignore-output"]
data = LMDataConfig(corpus=corpus, seed=seed, train_documents=train_documents)
bilm, history = pretrained_bilm(seed=seed, config=BiLMConfig(hidden_size=hidden_size, num_layers=num_layers),
                                steps=steps, data=data)
bilm = bilm.to(dev)
print(f"biLM: {num_layers} layers x {hidden_size} per direction, trained for {steps} steps in {history.seconds:.0f} s")

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
# ## 3 · Two tasks from the toy world
#
# - **part of speech**: a tag for every word (noun, verb, determiner, ...). In the toy world a word's
#   tag is almost always fixed by the word itself, the easy, "syntactic" end;
# - **word sense**: ten words have two senses each (a "bank" of money or of a river, a "bat" animal
#   or for sport). The word alone says nothing; a cue word elsewhere in the sentence decides, on the
#   right for six of them and on the left for four, sometimes behind distractor words.
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
    return layers, torch.tensor([e.label for e in examples])


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
print(f"features: {len(S_train)} layers of width {S_train[0].shape[1]}")

# %% [markdown]
# ## 4 · One mix per task
#
# We learn the scalar mix and a linear classifier together, once for each task (each layer first
# standardized, so that s_j measures how much of a layer is used, not how loud it is).

# %%
learned = {"part of speech": learn_scalar_mix(P_train, yp_train, P_test, yp_test, seed=seed),
           "word sense": learn_scalar_mix(S_train, ys_train, S_test, ys_test, seed=seed)}
for task, result in learned.items():
    print(f"{task:>15}: s = {[round(s, 3) for s in result.weights]}  γ = {result.gamma:.3f}  "
          f"accuracy {result.accuracy:.3f}")

# %%
from course_lib.elmo_viz import LayerWeightExplorer, TaskProbe, plot_layer_weights

probes = {"part of speech": TaskProbe(P_train, yp_train, P_test, yp_test, **vars(learned["part of speech"])),
          "word sense": TaskProbe(S_train, ys_train, S_test, ys_test, **vars(learned["word sense"]))}
fig = plot_layer_weights(probes)
fig

# %% [markdown]
# Each panel shows the learned shares s_j of one task; the last panel the two γ. Part of speech
# is settled by the word itself, and its mix leans on layer 0, the word's own vector. For word
# sense the mix finds little to use in any layer: its accuracy stays near the majority baseline
# (sections 5–7 measure why), so its weights, and its small γ, mean little here.
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

# %%
layer_table = {task: [train_probe(a, y_tr, b, y_te, seed=seed) for a, b in zip(tr, te)]
               for task, (tr, y_tr, te, y_te) in {"part of speech": (P_train, yp_train, P_test, yp_test),
                                                  "word sense": (S_train, ys_train, S_test, ys_test)}.items()}
print(f"{'layer':>8}" + "".join(f"{task:>17}" for task in layer_table))
for j in range(num_layers + 1):
    print(f"{j:>8}" + "".join(f"{layer_table[task][j]:>17.3f}" for task in layer_table))
print(f"{'majority':>8}{pos_majority:>17.3f}{sense_majority:>17.3f}")
assert abs(layer_table["word sense"][0] - sense_majority) <= 0.05  # layer 0 is a static vector
assert min(layer_table["word sense"][1:]) > sense_majority + 0.05  # the LSTM layers know *something*

# %% [markdown]
# Layer 0 is a static word vector: on word sense it can do no better than each word's majority
# sense. Part of speech is easy in the toy world (a word almost always has one tag), so every layer
# does well on it.
#
# The LSTM layers know the sense only a little: above the majority baseline, but far from
# perfect. **Why so little?** A language model keeps in its state what helps it predict the next
# word, nothing else. Look at how the toy world writes a polysemous sentence:
# `peter watches the crane above the marsh`: the cue (marsh) decides the sense, and everything on
# the *other* side of "crane" (peter watches the) is drawn the same way for both senses. So the
# backward LM, which reads "marsh" before it reaches "crane", has no reason to carry the sense
# along: from "crane" leftwards the sense predicts nothing. Whatever survives is a side effect.
# In real text a sense also shapes the words on the far side, and that is what ELMo exploits;
# the toy world, written so that one side alone decides, removes exactly that pressure.

# %% [markdown]
# ## 6 · Why bidirectional: left cues and right cues
#
# In the toy world the cue that fixes a sense stands on the right of some polysemous words ("the
# bank lent money") and on the left of others. We probe with the forward halves of the LSTM layers
# only, the backward halves only, and both, and split the test tokens by the side of their cue.

# %%
side = {"left": torch.tensor([e.cue_side == "left" for e in sense_test])}
side["right"] = ~side["left"]
direction_table = {}
for direction in DIRECTIONS:
    x_train, x_test = direction_features(S_train, direction), direction_features(S_test, direction)
    for cue in ("left", "right"):
        keep = side[cue]
        direction_table[direction, cue] = train_probe(x_train, ys_train, x_test[keep], ys_test[keep], seed=seed)
print(f"{'features':>10}{'left-cue words':>16}{'right-cue words':>17}")
for direction in DIRECTIONS:
    print(f"{direction:>10}{direction_table[direction, 'left']:>16.3f}{direction_table[direction, 'right']:>17.3f}")
print(f"test tokens: {int(side['left'].sum())} left-cue, {int(side['right'].sum())} right-cue")
chance = 0.5
assert direction_table["forward", "right"] < 0.6 and direction_table["backward", "left"] < 0.6
assert direction_table["forward", "left"] > direction_table["forward", "right"] + 0.1
assert direction_table["backward", "right"] > direction_table["backward", "left"]

# %% [markdown]
# Each one-way model is at chance on the other side, as it must be: the forward LM at "bank" has
# not read a cue that comes after it, the backward LM has not read a cue that came before. Only
# the concatenation can know both kinds of sense, which is *why* ELMo is bidirectional. On its own
# side each direction does better than chance, but (section 5) far from perfectly: what it read
# was not worth remembering for predicting the rest of the sentence.

# %% [markdown]
# ## 7 · The polysemy picture
#
# Take every "bank" token of the test sentences and compare them pairwise by cosine similarity, at
# each layer, sorted by sense. Layer 0 gives the same vector every time.

# %%
word = "bank"
bank = [e for e in sense_test if e.word == word][:80]
bank.sort(key=lambda e: e.label)
bank_layers, _ = layer_features(bilm, [e.tokens for e in bank], [e.position for e in bank])
bank_labels = [e.label for e in bank]
cosines = {j: within_across_cosine(h, bank_labels) for j, h in enumerate(bank_layers)}
centered = {j: within_across_cosine(h, bank_labels, centered=True) for j, h in enumerate(bank_layers) if j > 0}
fig, axes = plt.subplots(1, num_layers + 1, figsize=(10, 3.2), dpi=80)
for j, (ax, h) in enumerate(zip(axes, bank_layers)):
    u = torch.nn.functional.normalize(h - h.mean(0) if j > 0 else h, dim=-1)
    image = ax.imshow(u @ u.T, vmin=-1, vmax=1, cmap="RdBu_r")
    cut = bank_labels.count(0) - 0.5
    ax.axhline(cut, color="k", lw=1)
    ax.axvline(cut, color="k", lw=1)
    title = f"layer {j}, raw: all 1" if j == 0 else f"layer {j}, centred: {centered[j][0]:.2f} vs {centered[j][1]:.2f}"
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(image, ax=axes, shrink=0.8)
senses = world.polysemous[word].senses
print(f"{len(bank)} '{word}' tokens: {bank_labels.count(0)} {senses[0]}, {bank_labels.count(1)} {senses[1]}")
for j, (within, across) in cosines.items():
    line = f"layer {j}: within-sense cosine {within:.3f}, across-sense {across:.3f}"
    if j > 0:
        line += f"   centred: within {centered[j][0]:.3f}, across {centered[j][1]:.3f}"
    print(line)
assert cosines[0] == (1.0, 1.0) or abs(cosines[0][0] - 1) < 1e-6  # layer 0: one vector per word type
gaps = {j: cosines[j][0] - cosines[j][1] for j in range(1, num_layers + 1)}
print("within minus across, layers 1..L:", {j: round(g, 4) for j, g in gaps.items()})

# %% [markdown]
# Layer 0 gives every "bank" the same vector (cosine 1 everywhere). In the LSTM layers the raw
# cosines are all close to 1 too: most of a "bank" vector says "this is bank", and that part is
# the same in every sentence. The picture takes it away (subtracts the mean "bank" vector) and
# compares what is left, with the tokens sorted by sense (money first, the black lines between).
#
# **Read the numbers honestly:** on this biLM the within-sense and across-sense similarities are
# equal to two or three decimals, raw or centred. There is no two-block pattern: the "bank" vectors
# do not separate the senses. This is the same finding as sections 5 and 6, seen from another
# side: "bank" is decided by a cue on its right, and nothing on its left depends on the sense, so
# the backward LM, the only half that has read the cue, had no reason to carry the sense back to
# "bank". (On real text, where senses shape both sides, ELMo's paper found that contextual vectors
# do separate senses; a toy world needs that pressure built in for the picture to show it.)

# %% [markdown]
# ## 8 · ELMo against static vectors and against a model from scratch
#
# The same two tasks, three kinds of input:
#
# - **static skip-gram vectors** (notebook 01), trained on the same training text, one per word type;
# - **ELMo**: the learned mix of section 4 with a linear classifier;
# - **from scratch**: a small BiLSTM tagger (embedding 64, 64 per direction) trained end to end on the
#   labelled data alone (100 steps of 32 sentences), no unlabelled text.
#
# A linear classifier on a static vector can at best find each word's majority label.

# %% tags=["nbval-ignore-output"]
from course_lib.embeddings import SkipGramConfig, train_skipgram

skipgram, _, sg_history = train_skipgram([list(s.tokens) for s in toyworld_corpus("train", seed, 5000)],
                                         SkipGramConfig(dim=30, window=2, epochs=2, min_count=1, seed=seed))
print(f"skip-gram: {len(skipgram)} words x {skipgram.dim}, trained in {sg_history.seconds:.1f} s")

# %%
def static(words):
    return torch.stack([skipgram[w] if w in skipgram else torch.zeros(skipgram.dim) for w in words])


vocab = bilm.vocab
compare = {
    ("word sense", "static skip-gram"): train_probe(static([e.word for e in sense_train]), ys_train,
                                                    static([e.word for e in sense_test]), ys_test, seed=seed),
    ("part of speech", "static skip-gram"): train_probe(static([w for e in pos_train for w in e.tokens]), yp_train,
                                                        static([w for e in pos_test for w in e.tokens]), yp_test,
                                                        seed=seed),
    ("word sense", "ELMo"): learned["word sense"].accuracy,
    ("part of speech", "ELMo"): learned["part of speech"].accuracy,
    ("word sense", "from scratch"): train_scratch_tagger(
        vocab, [e.tokens for e in sense_train], [e.label for e in sense_train], [e.tokens for e in sense_test],
        [e.label for e in sense_test], [e.position for e in sense_train], [e.position for e in sense_test],
        steps=100, seed=seed),
    ("part of speech", "from scratch"): train_scratch_tagger(
        vocab, [e.tokens for e in pos_train], [[tag_id[t] for t in e.tags] for e in pos_train],
        [e.tokens for e in pos_test], [[tag_id.get(t, 0) for t in e.tags] for e in pos_test], steps=100, seed=seed),
}
print(f"{'input':>18}{'word sense':>12}{'part of speech':>16}")
for kind in ("static skip-gram", "ELMo", "from scratch"):
    print(f"{kind:>18}{compare['word sense', kind]:>12.3f}{compare['part of speech', kind]:>16.3f}")
print(f"{'majority':>18}{sense_majority:>12.3f}{pos_majority:>16.3f}")
assert abs(compare["word sense", "static skip-gram"] - sense_majority) <= 0.05
assert compare["word sense", "ELMo"] > compare["word sense", "static skip-gram"]

# %% [markdown]
# On part of speech, a word's own identity nearly settles its tag, so all three do well. On word
# sense, static vectors stay at the majority baseline, whatever the classifier: one vector per
# word type cannot tell two tokens apart. The ELMo vector *of the token* does better than that,
# but on this toy world not by much (sections 5–7 say why), while the small BiLSTM trained from
# scratch on ~4000 labelled sentences solves the task: it reads the whole sentence and learns from
# the labels which words are cues. A fair summary of this measurement: feature-based transfer
# gives a task only what the language model found worth keeping at each word.
#
# **The same through the library's heads.** `TokenTagger` puts a linear layer on `Elmo`'s mix and
# trains it end to end, the biLM frozen (a few steps, on the sense data):

# %% tags=["nbval-ignore-output"]
from course_lib.text import pad_batch

tagger = TokenTagger(elmo, num_labels=2, task=1)
optimizer = torch.optim.Adam([p for p in tagger.parameters() if p.requires_grad], lr=1e-2)
generator = torch.Generator().manual_seed(seed)
for _ in range(80):
    batch = torch.randint(len(sense_train), (32,), generator=generator).tolist()
    ids, _ = pad_batch([vocab.encode(sense_train[i].tokens) for i in batch], 0)
    _, loss = tagger(ids, labels=ys_train[batch], positions=torch.tensor([sense_train[i].position for i in batch]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
with torch.no_grad():
    tagger.eval()
    ids, _ = pad_batch([vocab.encode(e.tokens) for e in sense_test], 0)
    logits, _ = tagger(ids, positions=torch.tensor([e.position for e in sense_test]))
head_accuracy = (logits.argmax(-1) == ys_test).float().mean().item()
print(f"Elmo + TokenTagger, 80 steps: sense accuracy {head_accuracy:.3f}; "
      f"learned s = {[round(s, 3) for s in elmo.scalar_mixes[1].weights().tolist()]}")

# %% [markdown]
# ## 9 · The depth experiment: are more layers better?
#
# The paper used L = 2. We train small biLMs (64 per direction, 200 steps each, cached like the
# big one) with 1, 2, 3 and 4 LSTM layers on the same data, and measure each the same way: held-out
# perplexity, and linear probes for sense and for part of speech on the top layer.

# %% tags=["nbval-ignore-output"]
from course_lib.elmo_probes import depth_experiment

held_out = [list(s.tokens) for s in test_docs][:500]  # sentences
depth_data = LMDataConfig(corpus=corpus, seed=seed, train_documents=depth_documents)
depth = depth_experiment(
    [1, 2, 3, 4], BiLMConfig(hidden_size=depth_hidden_size), depth_steps, depth_data, held_out,
    ([e.tokens for e in sense_train[:2000]], [e.position for e in sense_train[:2000]], ys_train[:2000],
     [e.tokens for e in sense_test], [e.position for e in sense_test], ys_test),
    ([e.tokens for e in pos_train[:200]], torch.tensor([tag_id[t] for e in pos_train[:200] for t in e.tags]),
     [e.tokens for e in pos_test[:200]], torch.tensor([tag_id.get(t, 0) for e in pos_test[:200] for t in e.tags])),
    seed=seed)
print("training seconds per depth:", [round(r.seconds) for r in depth])

# %%
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
print(f"lowest perplexity at {best_depth} layer(s)")
assert all(a.forward_ppl > b.forward_ppl and a.backward_ppl > b.backward_ppl for a, b in zip(depth, depth[1:]))
assert all(r.pos_accuracy > 0.95 for r in depth) and all(r.sense_accuracy < 0.7 for r in depth)

# %% [markdown]
# Read the table rather than a slogan. Here, at this small budget (200 steps, 64 wide), every
# extra layer still lowered the perplexity, so on this measurement more layers *were* better for
# the language model, while each step of a deeper model cost more (the training seconds above).
# The probes tell the other half: part of speech is saturated at every depth, and word sense stays
# near chance at every depth, for the reason of section 5, which no depth removes. The paper's claim that more is not always better is about
# what the *features* buy a task; on this toy world, the depth of the biLM buys them nothing
# measurable either way.

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
# ## Exercises
#
# Each exercise has a checker in `course_lib.checks.elmo`. Fill in the function, run the cell, read
# the message. Worked solutions follow below.
#
# **Exercise 1 · the scalar mix.** Write `scalar_mix(layers, w, gamma)`: γ · Σ_j softmax(w)_j · layers[j].

# %%
from course_lib.checks import elmo as elmo_checks


def scalar_mix(layers: list[torch.Tensor], w: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError  # your code here


done = elmo_checks.check_scalar_mix(scalar_mix)

# %% [markdown]
# **Exercise 2 · one direction's features.** Write `one_direction(layers, direction)`: given the L + 1
# frozen layers (N, 2D), forward half first, return the `"forward"` or `"backward"` half of the
# LSTM layers 1 .. L, concatenated: (N, L·D). (Section 6 used `course_lib.elmo_probes.direction_features`.)

# %%
def one_direction(layers: list[torch.Tensor], direction: str) -> torch.Tensor:
    raise NotImplementedError  # your code here


done = elmo_checks.check_direction_half(one_direction)

# %% [markdown]
# **Exercise 3 · within- and across-sense similarity.** Write `within_across(x, labels)`: the mean
# cosine similarity over pairs of *different* rows with the same label, and over pairs with
# different labels.

# %%
def within_across(x: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    raise NotImplementedError  # your code here


done = elmo_checks.check_within_across(within_across)

# %% [markdown]
# ### Solutions
#
# **1.** The softmax turns any w into shares that sum to 1; γ scales the sum.

# %%
def scalar_mix(layers: list[torch.Tensor], w: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    s = torch.softmax(w, dim=0)
    return gamma * sum(s[j] * h for j, h in enumerate(layers))


assert elmo_checks.check_scalar_mix(scalar_mix)

# %% [markdown]
# **2.** Layer 0 is `[x; x]` and has no direction, so start at layer 1.

# %%
def one_direction(layers: list[torch.Tensor], direction: str) -> torch.Tensor:
    D = layers[0].shape[-1] // 2
    part = slice(0, D) if direction == "forward" else slice(D, 2 * D)
    return torch.cat([h[:, part] for h in layers[1:]], dim=-1)


assert elmo_checks.check_direction_half(one_direction)
assert_close(one_direction(S_test, "backward"), direction_features(S_test, "backward"))

# %% [markdown]
# **3.** Normalize the rows, take all dot products at once, and average them under two masks; the
# diagonal (a token with itself, cosine 1) is left out of "within".

# %%
def within_across(x: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    u = torch.nn.functional.normalize(x, dim=-1)
    sim = u @ u.T
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~torch.eye(len(labels), dtype=torch.bool)
    return sim[same & off_diagonal].mean().item(), sim[~same].mean().item()


assert elmo_checks.check_within_across(within_across)
print("layer 1 'bank' tokens:", [round(v, 3) for v in within_across(bank_layers[1], torch.tensor(bank_labels))])
