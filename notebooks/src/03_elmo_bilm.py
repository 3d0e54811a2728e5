# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 03 · ELMo's bidirectional language model
#
# Notebook 01 gave every word *type* one vector, so "bank" by a river and "bank" that lends money
# got the same one. Notebook 02 trained a language model that reads a sentence from the left.
# ELMo (Peters et al., 2018) puts the two ideas together: train a **bidirectional language model**
# (双向语言模型, biLM) on plain text, then use its hidden states as word vectors that depend on the
# sentence. This notebook builds and trains the biLM; notebook 04 uses it.
#
# 1. two language models, one reading forwards and one backwards, and their joint likelihood;
# 2. what the two directions share (the token layer and the softmax) and what they do not (the LSTMs);
# 3. the token layer: a word embedding, or a **character CNN** (字符卷积网络) with **highway layers**;
# 4. training on the toy world, and held-out perplexity in each direction against an n-gram model
#    and the exact bound;
# 5. the 2L + 1 representations of every word, drawn;
# 6. a perturbation test: the forward half never sees the future, the backward half never the past.

# %% tags=["parameters"]
# Parameters: papermill can override any of these, e.g. `-p steps 2000`.
seed = 0  # every random draw in the notebook follows from it
corpus = "toyworld"  # the toy world has an exact bound; a load_corpus name or a path also works (no bound then)
train_documents = 20000  # ~90k training sentences; 1000 steps of 64 sentences read about 70 % of them
test_documents = 1000  # held-out documents (~4.5k sentences)
hidden_size = 128  # D: the token layer and every LSTM layer, per direction
num_layers = 2  # L: LSTM layers per direction, as in the paper
steps = 1000  # optimizer steps of the biLM (batches of 64 sentences)
bilm_seeds = 3  # section 6 trains the biLM with the seeds seed, seed + 1, ... and compares them all
threads = 1  # torch CPU threads: small LSTMs train fastest on one thread here (measured)
device = "auto"  # "auto" picks CUDA when present, else the CPU

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch.nn import functional as F
from torch.testing import assert_close

from course_lib import get_device, seed_everything, show_source
from course_lib.elmo import BiLM, BiLMConfig, BiLMSettings, CharEncoder, pretrained_bilm, word_characters
from course_lib.lm import LMDataConfig, NGramLM, lm_vocab, load_lm_corpus, perplexity

seed_everything(seed)
dev = get_device(device)
torch.set_num_threads(threads)
test = load_lm_corpus(corpus, "test", seed, test_documents)
test_sentences = [list(s.tokens) for s in test]
train_corpus = load_lm_corpus(corpus, "train", seed, train_documents)
vocab = lm_vocab(corpus, train_corpus)
print(train_corpus)
print(test)
print(f"vocabulary: {len(vocab)} tokens (7 special tokens, then the words)")

# %% [markdown]
# ## 1 · Two language models
#
# The **forward** language model of notebook 02 factors the probability of a sentence of N words
# from the left, the **backward** one from the right:
#
# $$p(t_1 \dots t_N) = \prod_{k=1}^{N} p(t_k \mid t_1 \dots t_{k-1}) = \prod_{k=1}^{N} p(t_k \mid t_{k+1} \dots t_N).$$
#
# Both are exact: the chain rule works in either order, so both directions aim at the same
# distribution, and the toy world's exact bound holds for each of them. What differs is what the
# hidden state at word k has seen: the forward LSTM has read t_1 .. t_k, the backward LSTM t_k .. t_N.
# ELMo trains the two together, maximizing the **joint log-likelihood**
#
# $$\sum_{k=1}^{N} \Big(\log p(t_k \mid t_1 \dots t_{k-1};\ \Theta_x, \overrightarrow{\Theta}_{LSTM}, \Theta_s)
#   + \log p(t_k \mid t_{k+1} \dots t_N;\ \Theta_x, \overleftarrow{\Theta}_{LSTM}, \Theta_s)\Big).$$
#
# Θx is the token layer, Θs the softmax: the same parameters in both terms. The LSTM parameters
# carry an arrow: each direction has its own.
#
# **The boundaries.** Every sentence is wrapped as `<bos> w_1 .. w_n <eos>`. The forward LM reads
# from `<bos>` and predicts w_1 .. w_n, `<eos>`; the backward LM reads from `<eos>` leftwards and
# predicts w_n .. w_1, `<bos>`: n + 1 predictions each, as in notebook 02.

# %%
sentence = test_sentences[0]
words = ["<bos>", *sentence, "<eos>"]
print("forward reads  →  predicts")
for k in range(1, len(words)):
    print(f"  {' '.join(words[:k]):>40}  →  {words[k]}")
print("backward reads  →  predicts")
for k in range(len(words) - 2, -1, -1):
    print(f"  {' '.join(words[k + 1:][::-1]):>40}  →  {words[k]}")

# %% [markdown]
# ## 2 · The biLM in a few lines
#
# Here is the whole loss as a sketch, for one sentence without padding: embed the wrapped ids
# once (Θx), run the forward LSTMs on them and the backward LSTMs on them *reversed*, and score both
# with the one softmax (Θs). Between LSTM layers there is a **residual connection** (残差连接): a layer
# adds its output to its input, as in the paper. We borrow the weights of a small untrained
# `course_lib.elmo.BiLM` and check that the sketch gives the library's loss.

# %%
def bilm_loss_sketch(bilm: BiLM, wrapped: torch.Tensor) -> torch.Tensor:
    """wrapped (1, n + 2) = <bos> w_1 .. w_n <eos>: forward NLL + backward NLL, nats per prediction."""
    x = bilm.embedding(wrapped)  # (1, n + 2, D): Θx, shared

    def stack(layers, h):
        for j, lstm in enumerate(layers):
            out, _ = lstm(h)
            h = out + h if j > 0 else out  # residual between LSTM layers
        return h

    forward = stack(bilm.forward_layers, x)  # position k has read <bos> .. token k
    backward = stack(bilm.backward_layers, x.flip(1)).flip(1)  # position k has read <eos> .. token k
    fwd_nll = F.cross_entropy(bilm.softmax(forward[0, :-1]), wrapped[0, 1:])  # k predicts k + 1
    bwd_nll = F.cross_entropy(bilm.softmax(backward[0, 1:]), wrapped[0, :-1])  # k + 1 predicts k
    return fwd_nll + bwd_nll


torch.manual_seed(seed)
small = BiLM(BiLMConfig(vocab_size=len(vocab), hidden_size=16, num_layers=2), vocab).eval()
ids = small.encode([sentence])  # the words only: the model adds <bos> and <eos>
wrapped, _ = small.wrap(ids)
_, loss = small(ids)
assert_close(bilm_loss_sketch(small, wrapped), loss)
print(f"wrapped ids {wrapped.tolist()[0]}")
print(f"sketch and course_lib agree: loss {loss.item():.4f} nats ≈ 2 · log V = {2 * math.log(len(vocab)):.4f} untrained")

# %% [markdown]
# The library's `BiLM` does the same on padded batches. Reversing a padded row is the one subtle
# step: only the real part of each sentence is reversed, the padding stays at the end, so the
# backward LSTM never reads padding before a real word (exercise 1 asks you to write it).

# %%
show_source(BiLM.states)

# %% [markdown]
# ## 3 · What is shared, what is not
#
# **The LSTMs are separate.** A forward LSTM's state summarizes the *past*, a backward one's the
# *future*; one set of weights would have to do two different jobs, reading a sentence in both
# orders. Separate weights let each direction specialize, and they keep the two halves of every
# ELMo vector independent: the forward half of a word never depends on the words after it (section 7).
#
# **The token layer and the softmax are shared.** Both map between words and vectors, and a word is
# the same word whichever direction reads it. Sharing them halves the parameters that grow with the
# vocabulary, and every word's input vector is trained by both directions' gradients. With **tied
# embeddings** the softmax reuses the token embedding as well (as in notebook 02).
#
# In the figure, the token layer (bottom) and the softmax (top) are one box each, used by both stacks,
# the horizontal arrows show which way each stack reads, and the bold boxes with $x_2$ are the 2L + 1
# vectors that ELMo keeps for one word (section 7).

# %%
from course_lib.diagrams import draw_bilm

draw_bilm(num_layers=num_layers)

# %%
config = BiLMConfig(vocab_size=len(vocab), hidden_size=hidden_size, num_layers=num_layers)
bilm_shape = BiLM(config, vocab)
count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
print(config)
print(f"token layer (Θx, shared):      {count(bilm_shape.embedding):>8,}")
print(f"forward LSTMs:                 {count(bilm_shape.forward_layers):>8,}")
print(f"backward LSTMs:                {count(bilm_shape.backward_layers):>8,}")
print(f"softmax bias (Θs, weight tied to Θx): {bilm_shape.softmax.bias.numel():>,}")
assert bilm_shape.softmax.weight is bilm_shape.embedding.weight
assert not {id(p) for p in bilm_shape.forward_layers.parameters()} & {id(p) for p in bilm_shape.backward_layers.parameters()}

# %% [markdown]
# ## 4 · The token layer: words or characters
#
# The paper's token layer does not look words up in a table. It reads each word's **characters**:
# character vectors → convolutions of several widths, max-pooled over the word → two **highway
# layers** (高速公路层), y = g ⊙ relu(W x) + (1 − g) ⊙ x, whose gate g decides how much to transform
# and how much to carry through → a projection to D. A word never seen in training still gets a
# vector built from its spelling, and words that share a stem or a suffix (*feed*, *feeds*) start
# close. The option is `BiLMConfig(char_encoder=True)`:

# %%
show_source(CharEncoder.forward)
encoder = CharEncoder(output_size=8, char_embedding_size=4, filters=((1, 4), (2, 4), (3, 8)))
chars = word_characters(["bank", "banks", "zyzzyva"], max_chars=10)  # (3, W): <bow>, bytes + 1, <eow>, padding
print("character ids of 'bank':", chars[0].tolist())
print("vectors:", tuple(encoder(chars[None]).shape), "(B, T, D) for 3 words, one of them never seen anywhere")

# %% [markdown]
# The toy world has a closed vocabulary, so a word embedding loses nothing here and is much cheaper
# on a CPU; we train with `char_encoder=False` (the configuration printed in section 3). On real
# text with rare words and typos, the character layer is what lets ELMo read anything.

# %% [markdown]
# ## 5 · Training the biLM
#
# `course_lib.elmo.pretrained_bilm` trains the model with the course's loop
# (`course_lib.core.fit`): batches of sentences of similar length, every sentence read on its
# own from zero states (the exact bound is per sentence), Adam with a short warm-up and a learning
# rate decayed to zero, gradients clipped, a fixed number of steps, seeded. The trained weights go
# to the cache, so notebook 04 (and a second run of this one) loads them instead of training.

# %% tags=["nbval-ignore-output"]
data = LMDataConfig(corpus=corpus, seed=seed, train_documents=train_documents)
settings = BiLMSettings(model=config, data=data, steps=steps, seed=seed)  # every choice that shapes the weights
bilm, history = pretrained_bilm(settings)
bilm = bilm.to(dev)
print(f"{count(bilm):,} parameters; {settings.steps} steps of {data.batch_size} sentences, trained in "
      f"{history.seconds:.0f} s")

# %% tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(6, 3), dpi=80)
steps_done, fwd = history.metric("forward_ppl")
_, bwd = history.metric("backward_ppl")
ax.plot(steps_done, fwd, "o-", label="forward LM")
ax.plot(steps_done, bwd, "s--", label="backward LM")
if corpus == "toyworld":
    from course_lib.data.toyworld import toy_world

    world = toy_world()
    bound = world.perplexity_bound(test)
    validation = list(load_lm_corpus(corpus, "validation", seed, 200))[: data.validation_sentences]
    ax.axhline(world.perplexity_bound(validation).perplexity, color="k", ls=":", label="exact bound")
ax.set_ylim(top=min(12, max(fwd + bwd) * 1.05))
ax.set_xlabel("step")
ax.set_ylabel("validation perplexity")
ax.legend(fontsize=8)
fig.tight_layout()
print("validation perplexity, forward:", [round(x, 2) for x in fwd])
print("validation perplexity, backward:", [round(x, 2) for x in bwd])

# %% [markdown]
# Both directions fall together and level off near the dotted line: reading the sentences
# backwards is neither easier nor harder, as the chain rule promised.

# %% [markdown]
# ## 6 · Held-out perplexity: each direction against counting and against the bound
#
# The baselines are Kneser–Ney trigram models from notebook 02, one counting the sentences forwards
# and one counting them reversed, fitted on the same training documents.

# %% tags=["nbval-ignore-output"]
forward_trigram = NGramLM.fit(train_corpus, vocab, order=3)
backward_trigram = NGramLM.fit([s.tokens[::-1] for s in train_corpus], vocab, order=3)
table = {
    "trigram, forward": perplexity(forward_trigram, test),
    "trigram, backward": perplexity(backward_trigram, [s[::-1] for s in test_sentences]),
}
bilm_forward, bilm_backward = bilm.perplexities(test_sentences)
table["biLM, forward"], table["biLM, backward"] = bilm_forward, bilm_backward
if corpus == "toyworld":
    table["exact bound"] = bound.perplexity
for name, value in table.items():
    print(f"{name:>18}: {value:7.3f}")
if corpus == "toyworld":
    ratios = bilm_forward / bound.perplexity, bilm_backward / bound.perplexity
    print(f"\nbiLM / exact bound: forward {ratios[0]:.3f}, backward {ratios[1]:.3f}")
    for direction in ("forward", "backward"):
        trigram, ours = table[f"trigram, {direction}"], table[f"biLM, {direction}"]
        print(f"{direction}: biLM / trigram {ours / trigram:.3f}; the biLM closes "
              f"{(trigram - ours) / (trigram - bound.perplexity):.0%} of the trigram's distance to the bound")

# %% [markdown]
# Both directions of the biLM beat counting, but not by much (the ratios above): on sentences this
# short a trigram already sees most of what decides the next word. Measured against what was left to
# win, the distance from the trigram to the exact bound, the gain looks better: the last two lines
# give the share of that distance each direction closes.
#
# That is one trained biLM. Its initial weights and the order of its batches follow the training
# seed, so the same recipe is trained with two more seeds on the same text, and every biLM is held
# against the same trigrams (the training time of each is printed; the cache keeps them):

# %% tags=["nbval-ignore-output"]
import dataclasses

from course_lib.core import spread

training_seeds = [seed + k for k in range(bilm_seeds)]
seed_ppl, seed_seconds = {seed: (bilm_forward, bilm_backward)}, {seed: history.seconds}
for s in training_seeds[1:]:
    other, other_history = pretrained_bilm(dataclasses.replace(settings, seed=s))
    seed_ppl[s], seed_seconds[s] = other.to(dev).perplexities(test_sentences), other_history.seconds
print("training seconds (as recorded when trained):", ", ".join(f"{seed_seconds[s]:.0f}" for s in training_seeds))
for k, direction in enumerate(("forward", "backward")):
    vs_trigram = spread(seed_ppl[s][k] / table[f"trigram, {direction}"] for s in training_seeds)
    print(f"{direction:>8}: test perplexity per seed " + ", ".join(f"{seed_ppl[s][k]:.3f}" for s in training_seeds)
          + f"; biLM / trigram {vs_trigram.format()} (min–max {vs_trigram.range()})", end="")
    assert vs_trigram.mean < 1 - 2 * vs_trigram.sd, f"the {direction} LMs should beat the trigram"
    if corpus == "toyworld":
        vs_bound = spread(seed_ppl[s][k] / bound.perplexity for s in training_seeds)
        print(f"; biLM / exact bound {vs_bound.format()}", end="")
        assert vs_bound.mean < 1.08, f"the {direction} LMs should come within 8 % of the exact bound, on average"
    print()

# %% [markdown]
# Over the seeds the biLM keeps its lead over the trigram in each direction (the mean is below 1 by
# more than twice the spread, which the assert checks). The biLM is a good language model *both
# ways*; what that buys is the subject of notebook 04.
#
# **Why not as good as notebook 02's LSTM?** On the same test sentences, notebook 02's one-way LSTM
# came closer to the bound than this biLM's forward half (its table in section 8). The forward half
# is the same kind of network and the same size; what differs is the training recipe, printed below:
# the biLM trained for fewer steps, and with a warm-up that notebook 02's model goes without. A run
# with more `steps` (papermill `-p steps 2300`) is the experiment that tells how much of the gap the
# budget explains.

# %%
from course_lib.lm import LSTMLMSettings

for name, recipe in (("this biLM", settings), ("notebook 02's LSTM LM", LSTMLMSettings(seed=seed))):
    run = recipe.train_config(progress=False)
    print(f"{name:>22}: {run.steps} steps, {run.warmup_steps} warm-up steps, peak learning rate {run.lr}")

# %% [markdown]
# ## 7 · The 2L + 1 representations of a word
#
# For each word the biLM computes 2L + 1 vectors: the token vector x (layer 0, the same in every
# sentence) and, in each of the L layers, a forward state and a backward state. `BiLM.layers`
# returns them as L + 1 tensors of width 2D: layer 0 is `[x; x]`, layer j is
# `[forward h_j; backward h_j]`, with the `<bos>`/`<eos>` positions removed so that position k is
# word k. Here are the five vectors of every word of one sentence, each row one word:

# %%
example = test_sentences[1]
with torch.no_grad():
    layers = bilm.layers(bilm.encode([example]))
D = hidden_size
print([tuple(h.shape) for h in layers], "(B, T, 2D) per layer")
assert_close(layers[0][..., :D], layers[0][..., D:])
panels = [("layer 0: x", layers[0][0, :, :D])]
for j in range(1, len(layers)):
    panels += [(f"layer {j}: forward h", layers[j][0, :, :D]), (f"layer {j}: backward h", layers[j][0, :, D:])]
fig, axes = plt.subplots(1, len(panels), figsize=(10, 2.9), dpi=80, sharey=True, layout="constrained")
scale = max(h.abs().max().item() for _, h in panels)  # one scale for all panels, from the data
for ax, (title, h) in zip(axes, panels):
    image = ax.imshow(h.cpu(), aspect="auto", cmap="RdBu_r", vmin=-scale, vmax=scale, interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
axes[0].set_yticks(range(len(example)), example, fontsize=8)
fig.supxlabel(f"the {D} dimensions of each vector", fontsize=8)
bar = fig.colorbar(image, ax=axes, shrink=0.9, aspect=15)
bar.set_label("value", fontsize=8)
bar.ax.tick_params(labelsize=8)

# %% [markdown]
# Each panel is one kind of vector, one row per word of the sentence. Layer 0 is a look-up: the same word
# always gets the same row, whatever surrounds it. The LSTM panels mix in the context, forwards or
# backwards, and their rows change from sentence to sentence.

# %% [markdown]
# ## 8 · The forward half never sees the future
#
# A perturbation test: change one word (position m) and measure, at every position, how much the
# forward and the backward halves of the top layer move. The forward LSTM at position k < m has not
# read word m yet, so it cannot move; the backward LSTM at k > m has not read it either.

# %%
sentence_ids = bilm.encode([example])
m = len(example) // 2
changed = sentence_ids.clone()
changed[0, m] = vocab.encode(["the" if example[m] != "the" else "all"])[0]
with torch.no_grad():
    before, after = bilm.layers(sentence_ids)[-1][0], bilm.layers(changed)[-1][0]  # (T, 2D)
forward_change = (after[:, :D] - before[:, :D]).norm(dim=-1)
backward_change = (after[:, D:] - before[:, D:]).norm(dim=-1)
fig, ax = plt.subplots(figsize=(7, 2.8), dpi=80)
positions = torch.arange(len(example))
ax.bar(positions - 0.2, forward_change.cpu(), 0.4, label="forward half")
ax.bar(positions + 0.2, backward_change.cpu(), 0.4, label="backward half")
ax.axvline(m, color="k", ls=":")
ax.set_xticks(positions.tolist(), [f"{w}\n(changed)" if k == m else w for k, w in enumerate(example)], fontsize=8)
ax.set_ylabel(f"change of layer {num_layers}", fontsize=8)
ax.legend(fontsize=8)
fig.tight_layout()
print(f"word {m} '{example[m]}' -> '{vocab.itos[changed[0, m]]}'")
print("forward change at positions before it: ", [round(x, 6) for x in forward_change[:m].tolist()])
print("backward change at positions after it:", [round(x, 6) for x in backward_change[m + 1:].tolist()])
assert (forward_change[:m] == 0).all() and (backward_change[m + 1:] == 0).all()
assert forward_change[m:].min() > 0 and backward_change[: m + 1].min() > 0

# %% [markdown]
# Exactly zero, not just small: left of the change only the backward half moves, right of it only
# the forward half, and at the changed word both. So an ELMo vector is two one-way views glued
# together: neither half alone sees the whole sentence. Notebook 04 measures what that means for
# word senses decided by the left or by the right context, and notebook 09 shows the model that
# lets every layer see both sides.

# %% [markdown]
# ## Exercises
#
# Each exercise has a checker in `course_lib.checks.elmo` that tells you what is right or wrong.
# Fill in the function, run the cell, read the message. Worked solutions follow below.
#
# **Exercise 1 · reverse with padding.** Write `reverse(x, lengths)`: for x (B, T, C) and the true
# lengths (B,), reverse the first `lengths[b]` positions of each row and leave the padding where it is.

# %%
from course_lib.checks import elmo as elmo_checks


def reverse(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError  # your code here


done = elmo_checks.check_reverse(reverse)

# %% [markdown]
# **Exercise 2 · the backward LM's inputs and targets.** Given wrapped ids (B, T + 2),
# `<bos> w_1 .. w_n <eos>` padded with 0, return `(inputs, targets)` of the backward LM in its reading
# order: inputs `<eos> w_n .. w_1`, targets `w_n .. w_1 <bos>`, both (B, T + 1), padding at the end.
# (`<bos>` = 5 and `<eos>` = 6 in the course's vocabularies.)

# %%
def backward_shift(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    raise NotImplementedError  # your code here


done = elmo_checks.check_backward_shift(backward_shift)

# %% [markdown]
# **Exercise 3 · one LSTM for both directions? (investigate)** Section 3 gave each direction its own
# LSTMs, arguing that one set of weights would have to do two jobs. Test what the forward LSTMs
# learned: give the trained biLM the first 1,000 test sentences with the order of their words
# reversed, so that the forward LM reads each sentence from its end, which is the backward LM's job.
# Set `reversed_forward_ppl` to the forward perplexity you measure (`bilm.perplexities` returns the
# forward and the backward one), and compare it with the forward perplexity of section 6.

# %%
reversed_forward_ppl = ...  # your answer: a number
done = elmo_checks.check_reversed_perplexity(reversed_forward_ppl, bilm, test_sentences)

# %% [markdown] tags=["solution"]
# ### Solutions
#
# **1.** Build, for every row, the index to read from: position t < n reads n − 1 − t, position
# t ≥ n reads itself. One `gather` does the whole batch.

# %% tags=["solution"]
def reverse(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    B, T = x.shape[:2]
    t = torch.arange(T).expand(B, T)
    index = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (B, T)
    return x.gather(1, index[..., None].expand_as(x))


assert elmo_checks.check_reverse(reverse)

# %% [markdown] tags=["solution"]
# **2.** Reverse the real part of each row (`<bos> .. <eos>` becomes `<eos> .. <bos>`), then shift by
# one, as for the forward LM: the inputs drop the last token (`<bos>` is never read), the targets
# drop the first (`<eos>` is never predicted by the backward LM).

# %% tags=["solution"]
def backward_shift(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = (ids != 0).sum(1)
    reversed_ids = reverse(ids[..., None], lengths)[..., 0]
    inputs = reversed_ids[:, :-1].masked_fill(reversed_ids[:, :-1] == 5, 0)  # a short row's <bos> is padding
    return inputs, reversed_ids[:, 1:]


assert elmo_checks.check_backward_shift(backward_shift)

# %% [markdown] tags=["solution"]
# **3.** Reverse each sentence's word list and let `perplexities` wrap it as usual. The forward LSTMs
# now predict each word from the words that follow it in the real sentence: a job they were never
# trained for. The printed numbers show how badly they do it: worse than a uniform guess over the
# vocabulary, because they are confidently wrong, while the backward LSTMs do the same job within a
# few per cent of the bound. Reading in each direction is a skill of its own; with shared weights,
# one network would have to hold both.

# %% tags=["solution", "nbval-ignore-output"]
with torch.no_grad():
    reversed_forward_ppl, reversed_backward_ppl = bilm.perplexities([s[::-1] for s in test_sentences[:1000]])
print(f"forward LSTMs reading backwards: perplexity {reversed_forward_ppl:.3f} (as trained, section 6: "
      f"{bilm_forward:.3f}); backward LSTMs reading forwards: {reversed_backward_ppl:.3f}; a uniform guess: "
      f"{len(vocab)}")
assert reversed_forward_ppl > len(vocab) > bilm_forward
assert elmo_checks.check_reversed_perplexity(reversed_forward_ppl, bilm, test_sentences)
