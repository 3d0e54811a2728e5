# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 05 · Attention: a soft dictionary lookup
#
# An LSTM (notebooks 02–04) carries everything it has read in one state vector, step by step. To
# use a word ten positions back it must have kept it all the way. **Attention** (注意力) lets a model
# look at every position directly and decide, from the content, how much of each to take.
#
# This notebook builds attention from a dictionary lookup, makes it differentiable, shows why the
# Transformer divides its scores by √d, covers additive attention and masks, and then sets attention
# pooling against plain averaging, under the same classifier heads, on a toy-world task designed so
# that the question must decide which words are read. It ends with what attention weights do, and do
# not, explain.

# %% tags=["parameters"]
# Parameters: papermill can override any of these, e.g. `-p steps 2000`.
seed = 0  # every random draw in the notebook follows from it
device = "auto"  # "auto" picks CUDA when present, else the CPU
num_documents = 1500  # toy-world training documents (their polysemous sentences make the task)
num_texts = 20000  # two-sentence training texts built from them
same_word = 0.5  # share of texts whose two sentences are about the same polysemous word (section 5)
dim = 32  # embedding size of the pooling models
hidden = 64  # hidden units of the MLP head
num_seeds = 3  # training seeds per model: a comparison is a claim about methods, not about one seed
steps = 800  # optimizer steps per model
lr = 1e-2  # peak AdamW learning rate (50 warm-up steps, then a linear decay to 0: steadier over seeds)
batch_size = 64
threads = 1  # torch CPU threads: the models are tiny, one thread is fastest and gives the same numbers everywhere

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch.testing import assert_close

from course_lib import get_device, seed_everything, show_source

seed_everything(seed)
dev = get_device(device)
torch.set_num_threads(threads)
torch.set_printoptions(precision=3, sci_mode=False)

# %% [markdown]
# ## 1 · From a hard lookup to a soft one
#
# A Python dictionary is a lookup: a **query** is compared with every **key**, and the **value**
# of the key that matches is returned (**query / key / value**, 查询 / 键 / 值). Let the keys be
# vectors, and "match" be the largest dot product: that is a *hard* lookup, one value or nothing.

# %%
keys = torch.tensor([[1.0, 0.0],   # "money"
                     [0.0, 1.0],   # "river"
                     [-1.0, 0.0]])  # "sport"
values = torch.tensor([[10.0], [20.0], [30.0]])
query = torch.tensor([0.8, 0.6])  # mostly "money", partly "river"

scores = keys @ query  # one score per key
hard = torch.nn.functional.one_hot(scores.argmax(), num_classes=3).float()
soft = torch.softmax(scores, dim=0)
print("scores        ", scores)
print("hard weights  ", hard, "-> value", (hard @ values).item())
print("soft weights  ", soft, "-> value", round((soft @ values).item(), 3))

# %% [markdown]
# The **soft** lookup replaces "take the best key" by a softmax over the scores and returns the
# weighted average of the values. Two things change. The answer blends the values of several keys
# in proportion to how well they match. And it is *differentiable*: a small move of the query
# changes the answer a little, so gradient descent can learn queries and keys. The hard lookup
# gives a zero gradient almost everywhere:

# %%
q = query.clone().requires_grad_(True)
(torch.softmax(keys @ q, 0) @ values).sum().backward()
soft_grad = q.grad.clone()
q.grad = None
hard_answer = torch.nn.functional.one_hot((keys @ q).argmax(), 3).float() @ values  # argmax: a step function
print("gradient of the soft answer w.r.t. the query:", soft_grad)
print("is the hard answer connected to the query by a gradient?", hard_answer.requires_grad)
assert soft_grad.abs().sum() > 1 and not hard_answer.requires_grad

# %% [markdown]
# That is all of attention: **scores** from query–key similarity, a softmax into **weights**, and a
# weighted average of values. With many queries at once, stacked as rows of Q, and keys and values
# as rows of K and V: out = softmax(Q Kᵀ) V.

# %% [markdown]
# ## 2 · Dot-product scores, and why we divide by √d
#
# The Transformer uses **scaled dot-product attention** (缩放点积注意力): softmax(Q Kᵀ / √d) V, with d
# the size of a query. Why √d? If the entries of q and k are independent with mean 0 and variance
# 1, the dot product q·k is a sum of d such products, so its variance is d. The scores grow like √d,
# and a softmax over large scores puts nearly all the weight on one key: it **saturates**. Let us
# measure it: 2,000 random queries, each against 16 random keys, for growing d.

# %%
def weight_stats(d: int, scale: bool, n: int = 2000, T: int = 16, generator=None):
    """Mean largest weight, mean entropy (nats) and the spread of the scores, for random q, k."""
    q = torch.randn(n, 1, d, generator=generator)
    k = torch.randn(n, T, d, generator=generator)
    scores = (q @ k.transpose(1, 2))[:, 0] / (math.sqrt(d) if scale else 1.0)  # (n, T)
    w = scores.softmax(-1)
    entropy = -(torch.xlogy(w, w)).sum(-1)
    return w.max(-1).values.mean().item(), entropy.mean().item(), scores.std().item()


dims = [2, 8, 32, 128, 512, 2048]
g = torch.Generator().manual_seed(seed)
stats = {(d, s): weight_stats(d, s, generator=g) for d in dims for s in (False, True)}
print(f"{'d':>5} | {'std of q·k':>10} {'max weight':>10} {'entropy':>8} | {'std q·k/√d':>10} {'max weight':>10} "
      f"{'entropy':>8}")
for d in dims:
    (m0, e0, s0), (m1, e1, s1) = stats[d, False], stats[d, True]
    print(f"{d:>5} | {s0:>10.2f} {m0:>10.3f} {e0:>8.3f} | {s1:>10.2f} {m1:>10.3f} {e1:>8.3f}")
print(f"uniform over 16 keys: max weight {1 / 16:.3f}, entropy {math.log(16):.3f}")

# %% [markdown]
# In the figure, the orange lines (scaled) stay flat as d grows, while the blue ones (unscaled) run
# to a one-hot distribution: the largest weight goes to 1 and the entropy to 0.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3), dpi=80)
for s, label, colour in ((False, "q·k", "C0"), (True, "q·k / √d", "C1")):
    axes[0].plot(dims, [stats[d, s][0] for d in dims], "o-", color=colour, label=label)
    axes[1].plot(dims, [stats[d, s][1] for d in dims], "o-", color=colour, label=label)
axes[0].set_ylabel("mean largest weight")
axes[1].set_ylabel("mean entropy (nats)")
axes[1].axhline(math.log(16), color="grey", ls=":", lw=1, label="uniform")
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xlabel("d (size of q and k)")
    ax.legend(fontsize=8)
fig.suptitle("softmax over 16 random keys: unscaled scores saturate as d grows", fontsize=10)
fig.tight_layout()

# %%
unscaled, scaled = [stats[d, False][0] for d in dims], [stats[d, True][0] for d in dims]
assert unscaled[-1] > 0.9 and stats[2048, False][1] < 0.3, "without scaling the softmax should saturate"
assert max(scaled) - min(scaled) < 0.1, "with 1/√d the weights should not depend on d"
print(f"largest weight at d=2048: {unscaled[-1]:.3f} unscaled vs {scaled[-1]:.3f} scaled "
      f"(scaled ranges over {min(scaled):.3f}–{max(scaled):.3f} for all d)")

# %% [markdown]
# A saturated softmax also stops learning: its gradient is w_i (δ_ij − w_j), which is ≈ 0 when
# one w_i ≈ 1. Dividing by √d keeps the scores' spread near 1 whatever the width, so the model
# starts in the region where gradients flow. (The temperature slider of notebook 00 was the same
# knob: √d is a temperature.)
#
# Here is the whole of scaled dot-product attention as a teaching sketch, then the tested version
# in `course_lib.attention`, and the check that both agree with torch's own fused kernel.

# %%
def attention_sketch(q, k, v):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, T_q, T_k)
    weights = scores.softmax(dim=-1)
    return weights @ v, weights  # (B, T_q, D_v), (B, T_q, T_k)


from course_lib.attention import scaled_dot_product_attention

q, k, v = torch.randn(2, 4, 8), torch.randn(2, 6, 8), torch.randn(2, 6, 5)  # 4 queries, 6 keys
out, weights = attention_sketch(q, k, v)
lib_out, lib_weights = scaled_dot_product_attention(q, k, v)
assert_close(out, lib_out) and assert_close(weights, lib_weights)
assert_close(lib_out, torch.nn.functional.scaled_dot_product_attention(q, k, v))
print("out", tuple(out.shape), "weights", tuple(weights.shape), "| rows sum to 1:",
      bool(torch.allclose(weights.sum(-1), torch.ones(2, 4))), "| sketch = course_lib = torch: True")

# %% [markdown]
# ## 3 · Additive attention
#
# The first attention in neural translation (Bahdanau et al., 2015) scored a query–key pair with a
# small feed-forward network instead of a dot product: score(q, k) = wᵀ tanh(W_q q + W_k k). This is
# **additive attention** (加性注意力). It can compare vectors of different sizes and learns its own
# similarity; the dot product is cheaper (one matrix product for all pairs) and, scaled, works as
# well, which is why the Transformer chose it.

# %%
def additive_sketch(q, k, v, W_q, W_k, w):
    hidden = torch.tanh((q @ W_q.T)[:, :, None] + (k @ W_k.T)[:, None])  # (B, T_q, T_k, N)
    weights = (hidden @ w).softmax(dim=-1)  # (B, T_q, T_k)
    return weights @ v, weights


from course_lib.attention import AdditiveAttention

additive = AdditiveAttention(query_dim=8, key_dim=8, hidden=16)
with torch.no_grad():
    sketch_out, sketch_w = additive_sketch(q, k, v, additive.query.weight, additive.key.weight,
                                           additive.score.weight[0])
    lib_out, lib_w = additive(q, k, v)
assert_close(sketch_out, lib_out) and assert_close(sketch_w, lib_w)
print(f"additive attention: weights {tuple(lib_w.shape)}, sketch = course_lib: True, "
      f"{sum(p.numel() for p in additive.parameters())} learned parameters (dot-product: none)")

# %% [markdown]
# ## 4 · Masks: who may look at whom
#
# Two kinds of positions must not be looked at. Sentences in a batch are padded to one length, and
# the padding is not text: a **padding mask**. A model that predicts the next word must not see it:
# a **causal mask** lets position t look at positions ≤ t only. A **mask** (掩码) in `course_lib` is
# a boolean tensor with **True = may attend**; combining two masks is a logical AND. The pictures
# show one sentence of length 4 padded to 6: rows are queries, columns keys, dark = may attend.

# %%
from course_lib.attention import causal_mask, combine_masks, padding_mask

T = 6
pad = padding_mask([4], max_length=T)[0, 0].expand(T, T)  # (T, T): the same key columns for every query
causal = causal_mask(T)
both = combine_masks(padding_mask([4], max_length=T), causal)[0, 0]
fig, axes = plt.subplots(1, 3, figsize=(9.6, 3), dpi=80, layout="constrained")
tokens6 = ["the", "bank", "near", "river", "[PAD]", "[PAD]"]
for ax, m, title in zip(axes, (pad, causal, both), ("padding mask", "causal mask", "both (AND)")):
    image = ax.imshow(m.float(), cmap="Blues", vmin=0, vmax=1.3)
    ax.set_xticks(range(T), tokens6, rotation=90, fontsize=8)
    ax.set_yticks(range(T), tokens6, fontsize=8)
    ax.set_title(title, fontsize=9)
bar = fig.colorbar(image, ax=axes, ticks=[0, 1], shrink=0.7)
bar.ax.set_yticklabels(["blocked (False)", "may attend (True)"], fontsize=8)

# %% [markdown]
# Masked scores are set to −∞ before the softmax, so their weights are exactly 0 (not small: 0),
# and each row still sums to 1. A row that may attend to nothing has no softmax at all (0/0);
# `course_lib` raises a clear error instead of returning NaN.

# %%
x = torch.randn(1, T, 8)
_, w = scaled_dot_product_attention(x, x, x, mask=combine_masks(padding_mask([4], max_length=T), causal))
print("weights of query 'near' (row 2):", w[0, 2])
assert (w[0][~both] == 0).all() and torch.allclose(w[0, :4].sum(-1), torch.ones(4))
print("masked weights exactly 0:", bool((w[0][~both] == 0).all()))
try:
    scaled_dot_product_attention(x, x, x, mask=torch.zeros(T, T, dtype=torch.bool))
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# (The padded rows 4 and 5 still attend to the real words: their outputs are ignored later.)

# %% [markdown]
# ## 5 · A task where the question decides where to look
#
# **Why.** Attention's promise is that its weights depend on the question: the same text is read
# differently for different queries. To see that promise at work we need a task that *needs* it,
# and a fair opponent: the same words, pooled by a plain average, with the same classifier heads.
#
# **How the task was designed.** In the toy world a polysemous word's sense is fixed by one **cue**
# word: *crane* is a bird when "the crane wades" and a machine when "the crane hoists". A text is two
# polysemous sentences side by side, and the question points at one polysemous word in it: *which
# sense does this crane have?* Our first version paired sentences about two *different* words. But
# every cue of the toy world belongs to one word (*wades* only ever decides *crane*), so the bag of
# words already says which cue is whose, and an average of the words with a head that can combine it
# with the question answered those texts without any attention: the "other word" column below
# measures it. So in half of the texts both sentences are about the **same** word ("the crane wades"
# beside "the crane hoists"), and the question points at one of the two occurrences. Both cues belong
# to *crane*; only where they stand says which is this one's. To let a model see where a word stands,
# each word's vector gets a learned vector for its **offset** from the asked-about word (−8 … +8;
# notebook 07 treats positions in full).

# %%
from course_lib.attention import LOOKUP_KINDS, PoolingClassifier, lookup_batch, sense_lookup_examples
from course_lib.data import sense_examples, toy_world, toyworld_corpus
from course_lib.text import Vocab

world = toy_world()
train_sentences = sense_examples(toyworld_corpus("train", seed=seed, num_documents=num_documents), world)
val_sentences = sense_examples(toyworld_corpus("validation", seed=seed, num_documents=num_documents // 3), world)
train_texts = sense_lookup_examples(train_sentences, num_texts, seed=seed, same_word=same_word)
val_texts = sense_lookup_examples(val_sentences, 2000, seed=seed + 1, same_word=same_word)
vocab = Vocab.build(e.tokens for e in train_sentences)
print(f"{len(train_sentences)} + {len(val_sentences)} polysemous sentences, {len(vocab)} word types "
      f"-> {len(train_texts)} training and {len(val_texts)} validation texts\n")
for kind in LOOKUP_KINDS:
    e = next(e for e in val_texts if e.kind == kind)
    marked = " ".join(f"[{w}]" if i == e.position else w for i, w in enumerate(e.tokens))
    print(f"{kind}: which sense of [{e.query}] ({' / '.join(world.polysemous[e.query].senses)})?  {marked}")
    print(f"    answer: {e.sense}, because of '{e.tokens[e.cue_position]}' at position {e.cue_position}")

# %% [markdown]
# Four models differ only in how they turn the words into one vector and in the head that classifies
# it. Each word's vector is its embedding plus its offset vector. Then:
#
# - **mean pooling** gives every word the weight 1 / length. The pooled vector is the same whatever
#   the question, and it adds the word parts and the offset parts up *separately*: it keeps which cues
#   occur, and which offsets occur, but not which cue stood at which offset;
# - **attention pooling** uses the asked-about word's vector as the query of a soft lookup over the
#   words: weights = softmax(q·k / √d), pooled = Σ weights · values. A key holds a word *and* its
#   offset, so the weights can favour the cue next to the asked-about word;
# - each is classified from [pooled; query] by a **linear** head, or by an **MLP** head (64 hidden ReLU
#   units), which can combine the pooled vector with the question in any way it likes.
#
# The prediction, before training: on a same-word text whose two senses differ, a mean holds both cues
# and nothing that binds either to the asked-about crane, so it can only guess, whatever the head.

# %%
show_source(PoolingClassifier._pool)

# %% [markdown]
# Each of the four is trained with 3 seeds (the initial weights and the order of the batches change;
# the texts do not), and measured on the validation texts, overall and by kind of text.

# %% tags=["nbval-ignore-output"]
from course_lib.core import TrainConfig, fit, spread

val_batch = lookup_batch(val_texts, vocab)
kinds = {kind: torch.tensor([e.kind == kind for e in val_texts]) for kind in LOOKUP_KINDS}
training_seeds = [seed + k for k in range(num_seeds)]


@torch.no_grad()
def accuracy(model) -> dict:
    logits, _ = model(*(val_batch[k].to(dev) for k in ("input_ids", "attention_mask", "query_positions")))
    right = logits.argmax(-1).cpu() == val_batch["labels"]
    by_kind = {kind: right[m].float().mean().item() for kind, m in kinds.items()}
    return {"val_acc": right.float().mean().item(), **by_kind}


models, scores = {}, {}
for pooling in ("mean", "attention"):
    for head in ("linear", "mlp"):
        for s in training_seeds:
            order = torch.randperm(len(train_texts), generator=torch.Generator().manual_seed(s)).tolist()
            batches = [lookup_batch([train_texts[i] for i in order[k : k + batch_size]], vocab)
                       for k in range(0, len(order), batch_size)]
            seed_everything(s)
            model = PoolingClassifier(len(vocab), dim=dim, num_classes=2, pooling=pooling, head=head, hidden=hidden)
            fit(model, batches, TrainConfig(steps=steps, lr=lr, warmup_steps=50, schedule="linear", eval_every=steps,
                                            device=device, seed=s, progress=False))
            models[pooling, head, s] = model.eval()
            scores[pooling, head, s] = accuracy(model)
print(f"trained {len(models)} models: 2 poolings x 2 heads x {num_seeds} seeds, {steps} steps each")

# %% tags=["nbval-ignore-output"]
columns = ["val_acc", *LOOKUP_KINDS]
results = {(p, h): {c: spread([scores[p, h, s][c] for s in training_seeds]) for c in columns}
           for p in ("mean", "attention") for h in ("linear", "mlp")}
print(f"validation accuracy, mean ± sd over seeds {training_seeds} (texts of each kind: "
      + ", ".join(f"{kind} {int(m.sum())}" for kind, m in kinds.items()) + ")\n")
print(f"{'pooling + head':>20} {'all':>14} " + " ".join(f"{c:>24}" for c in LOOKUP_KINDS))
for (p, h), row in results.items():
    print(f"{p + ' + ' + h:>20} {row['val_acc'].format():>14} " + " ".join(f"{row[c].format():>24}" for c in kinds))
print("\nmin–max over the seeds:")
for (p, h), row in results.items():
    print(f"{p + ' + ' + h:>20} {row['val_acc'].range():>14} " + " ".join(f"{row[c].range():>24}" for c in kinds))

# %% [markdown]
# In the figure, each bar is one model's accuracy on one kind of text (its whisker the lowest and
# highest seed): look at the rightmost group, where the two cues point different ways.

# %%
fig, ax = plt.subplots(figsize=(9, 3.2), dpi=80)
width = 0.2
for i, ((p, h), row) in enumerate(results.items()):
    xs = [j + (i - 1.5) * width for j in range(len(columns))]
    means = [row[c].mean for c in columns]
    errors = [[row[c].mean - row[c].low for c in columns], [row[c].high - row[c].mean for c in columns]]
    ax.bar(xs, means, width, yerr=errors, capsize=2, label=f"{p} + {h}",
           color=("#bbb" if h == "linear" else "#777") if p == "mean" else ("#9cf" if h == "linear" else "#27c"))
ax.axhline(0.5, color="k", ls=":", lw=1)
ax.set_xticks(range(len(columns)), ["all texts", *LOOKUP_KINDS], fontsize=9)
ax.set_ylabel("validation accuracy")
ax.set_ylim(0.3, 1.05)
ax.legend(fontsize=8, ncol=4, loc="lower left")
fig.tight_layout()

# %% tags=["nbval-ignore-output"]
mean_pooled = [results["mean", h]["same word, other sense"] for h in ("linear", "mlp")]
attention_pooled = [results["attention", h]["same word, other sense"] for h in ("linear", "mlp")]
gap = min(a.low for a in attention_pooled) - max(m.high for m in mean_pooled)
print(f"same word, other sense: worst attention seed {min(a.low for a in attention_pooled):.2f}, "
      f"best mean-pooling seed {max(m.high for m in mean_pooled):.2f}: a gap of {gap:.2f}")
assert gap > 0.25, "attention pooling should beat mean pooling, with either head, on every seed"
assert min(a.low for a in attention_pooled) > 0.9, "attention pooling should answer almost every hard text"
assert max(m.high for m in mean_pooled) < 0.65, "without attention these texts should be a guess"
assert min(row["same word, same sense"].low for row in results.values()) > 0.95, "agreeing cues: easy for all"
mlp_gain = results["mean", "mlp"]["other word"].low - results["mean", "linear"]["other word"].high
print(f"other word: the MLP head lifts mean pooling by at least {mlp_gain:.2f} (worst MLP seed minus best linear seed)")
assert mlp_gain > 0.1

# %% [markdown]
# The numbers, kind by kind (the cell above checks each claim on every seed, with a margin wider than
# the spread between seeds):
#
# - **Same word, same sense**: every model gets these right: both cues agree, so their mean says it.
# - **Other word**: mean pooling with a linear head is wrong often: its head sees the cues of both
#   words added up, and one weight per feature cannot tell them apart. The MLP head fixes most of it
#   by combining the pooled vector with the question; attention pooling does it with a linear head.
# - **Same word, other sense**: mean pooling, with either head, is at chance; attention pooling
#   answers almost every text. Here the answer depends on which cue stands next to the asked-about
#   word, and only the weights of attention can depend on that.
#
# So attention is not needed to *combine* a text with a question (an MLP head does that); it is needed
# when the question must decide *which words are read*.
#
# Where does attention pooling look? Each row below is one validation text of the hard kind, with
# the question on the left (the word and its position); the darker a word, the larger its weight; the
# red box marks the cue of the asked-about word, the dashed grey one the other occurrence's cue. Look
# at where the dark cell sits: hardly ever in the grey box, but not always in the red one either. The
# measurement below says why.

# %%
from collections import Counter

from course_lib.viz import draw_attention_heatmap

model = models["attention", "linear", seed]
with torch.no_grad():
    _, pool_weights = model.pool(*(val_batch[k].to(dev) for k in ("input_ids", "attention_mask", "query_positions")))
pool_weights = pool_weights.cpu()
lengths = val_batch["attention_mask"].sum(1)
hard = [i for i, e in enumerate(val_texts) if e.kind == "same word, other sense"]

fig, axes = plt.subplots(4, 1, figsize=(9.6, 5.6), dpi=80, layout="constrained")
for ax, i in zip(axes, hard[:4]):
    e, n = val_texts[i], int(lengths[i])
    image = draw_attention_heatmap(ax, pool_weights[i, :n][None], e.tokens, [f"{e.query}@{e.position}?"], vmax=1.0)
    ax.add_patch(plt.Rectangle((e.cue_position - 0.5, -0.5), 1, 1, fill=False, edgecolor="C3", lw=2))
    ax.add_patch(plt.Rectangle((e.other_cue_position - 0.5, -0.5), 1, 1, fill=False, edgecolor="0.5", lw=2, ls="--"))
fig.colorbar(image, ax=axes, shrink=0.6).set_label("attention weight", fontsize=8)

# %% [markdown]
# Now the measurement over all validation texts: how often does the largest weight fall on the
# cue, how much weight does the cue get on average (mean pooling gives it 1 / length), how much goes
# to the other occurrence's cue on the hard texts, and, word by word and sense by sense, how often the
# cue gets the largest weight.

# %% tags=["nbval-ignore-output"]
from collections import defaultdict

cues = torch.tensor([e.cue_position for e in val_texts])
other_cues = torch.tensor([e.other_cue_position for e in val_texts])
rows = torch.arange(len(val_texts))
top = pool_weights.argmax(-1)
hit_rate = (top == cues).float().mean().item()
cue_weight = pool_weights[rows, cues].mean().item()
own, other = pool_weights[hard, cues[hard]].mean().item(), pool_weights[hard, other_cues[hard]].mean().item()
print(f"largest weight on the cue: {hit_rate:.3f} of the texts")
print(f"mean weight of the cue: {cue_weight:.3f} (mean pooling: {(1 / lengths.float()).mean().item():.3f})")
print(f"same word, other sense: weight on its own cue {own:.3f}, on the other occurrence's cue {other:.3f}")
missed = top != cues
print(f"when the cue does not get the largest weight ({int(missed.sum())} texts), its weight has median "
      f"{pool_weights[rows, cues][missed].median().item():.3f}, and the largest weight is on:",
      ", ".join(f"'{w}' {c}" for w, c in Counter(val_texts[i].tokens[int(top[i])] for i in
                                                   missed.nonzero().flatten().tolist()).most_common(4)))
hits = defaultdict(list)
for e, hit in zip(val_texts, (top == cues).tolist()):
    hits[e.query, e.sense].append(hit)
print("\nshare of texts whose cue gets the largest weight, by word and sense:")
one_sided = 0
for word, entry in world.polysemous.items():
    shares = [sum(hits[word, sense]) / max(1, len(hits[word, sense])) for sense in entry.senses]
    one_sided += max(shares) > 0.9 and min(shares) < 0.5
    print(f"  {word:>8}: " + ", ".join(f"{sense} {share:.2f}" for sense, share in zip(entry.senses, shares)))
print(f"words whose cue is looked at for one sense (> 0.9) but mostly not for the other (< 0.5): "
      f"{one_sided} of {len(world.polysemous)}")
assert own > 5 * other, "on the hard texts the weight should go to the asked-about word's own cue"

# %% [markdown]
# Nobody told the model where the cue is: it was trained on the sense labels only, and on the hard
# texts it weighs the asked-about word's own cue and all but ignores the other occurrence's, the
# query-dependent weighting the task was built to need.
#
# Now look at the table by sense. Where a sense's share is low, the model did not look at that sense's
# cue and still answered right: it looks for the cue of the *other* sense, and when that cue is not
# there it puts its weight on a neutral word nearby (*the*, a tail word such as *once*) and gives the
# real cue next to nothing (the median printed above). The head reads "no cue of that sense here" as
# the other sense: a complete answer for a word with two senses. How many words the model treats this
# way changes from seed to seed (the last line counts them in this run). It is a warning for reading
# heat maps: a cue with no weight may still have decided the answer, through its *key*, which made the
# model look away. Large Transformers show the same habit of parking weight on a neutral token: heads
# put much weight on `[SEP]` or on the first token (notebook 11 looks). So a heat map shows where the
# weight went, which is not the same as what decided; the next section measures the difference.

# %% [markdown]
# ## 6 · Are attention weights an explanation?
#
# A heat map invites a story: "the model chose *money* because it looked at *lends*." Two
# measured tests of that story.
#
# **Other weights, same output.** The prediction depends on the weights only through the pooled
# vector Σ wᵢ vᵢ, and the model is very confident, so many pooled vectors give the same
# probabilities (the softmax saturates, as in section 2). We search for such alternatives: for each
# text where the model put more than half of its weight on the cue, find weights (a softmax of free
# scores, started at the learned ones) that give the cue as little weight as possible while the
# predicted probabilities stay within 0.01 of the model's.

# %% tags=["nbval-ignore-output"]
def sense_probs(model, weights, values, query):
    """The classifier's probabilities for pooling weights (B, T), word values (B, T, dim), query vectors (B, dim)."""
    pooled = torch.einsum("bt,btd->bd", weights, values)  # Σ_t w_t v_t
    return model.classify(torch.cat([pooled, query], -1)).softmax(-1)


def values_and_query(model, batch):
    """Every word's value (B, T, dim) and the asked-about word's vector (B, dim), as the model computes them."""
    x = model.word_vectors(batch["input_ids"], batch["query_positions"])  # (B, T, dim)
    return model.value(x), x[torch.arange(len(x)), batch["query_positions"]]


def same_output_weights(model, batch, weights, avoid, steps=500):
    """Weights (B, T) whose probabilities stay close to the model's but that starve position `avoid` (B,)."""
    with torch.no_grad():
        values, query = values_and_query(model, batch)
        target = sense_probs(model, weights, values, query)
    padding, rows = batch["attention_mask"] == 0, torch.arange(len(avoid))
    z = weights.clamp_min(1e-9).log().requires_grad_(True)  # free scores, starting at the learned ones
    optimizer = torch.optim.Adam([z], lr=0.05)
    for _ in range(steps):
        w = z.masked_fill(padding, float("-inf")).softmax(-1)
        change = (sense_probs(model, w, values, query) - target).abs().sum(-1)
        loss = (1e3 * change + w[rows, avoid]).sum()  # keep the output, starve `avoid`
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        w = z.masked_fill(padding, float("-inf")).softmax(-1)
        return w, (sense_probs(model, w, values, query) - target).abs().sum(-1) / 2  # total variation


model = model.cpu().requires_grad_(False)  # only the free scores are optimized
found = torch.nonzero(pool_weights[rows, cues] > 0.5)[:300, 0]  # texts where attention found the cue
subset = {key: value[found] for key, value in val_batch.items()}
alt_weights, change = same_output_weights(model, subset, pool_weights[found], cues[found])
before, after = pool_weights[found, cues[found]], alt_weights[torch.arange(len(found)), cues[found]]
starved = (after < 0.1) & (change < 0.01)
print(f"{len(found)} texts with cue weight > 0.5 (mean {before.mean().item():.3f})")
print(f"same probabilities (to 0.01) with the cue's weight below 0.1: {starved.float().mean().item():.3f} of them")
assert starved.float().mean() > 0.1

# %% [markdown]
# For a sizeable share of the texts, a pattern that all but ignores the cue gives the same output.
# Here is the first such text: learned weights above, the alternative below. A reader of the
# second heat map would tell another story about the very same decision.

# %% tags=["nbval-ignore-output"]
candidates = torch.nonzero(starved).flatten().tolist()
moved_to = {k: val_texts[int(found[k])].tokens[int(alt_weights[k].argmax())] for k in candidates}
elsewhere = [k for k in candidates  # prefer a text where the weight moves to another word, not a copy of the cue
             if moved_to[k] != val_texts[int(found[k])].tokens[cues[found[k]]]]
j = (elsewhere or candidates)[0]
e, n = val_texts[int(found[j])], int(subset["attention_mask"][j].sum())
fig, ax = plt.subplots(figsize=(9.6, 2.1), dpi=80, layout="constrained")
image = draw_attention_heatmap(ax, torch.stack([pool_weights[found[j], :n], alt_weights[j, :n]]), e.tokens,
                               ["learned", "same output"], vmax=1.0)
ax.add_patch(plt.Rectangle((e.cue_position - 0.5, -0.5), 1, 2, fill=False, edgecolor="C3", lw=2))
fig.colorbar(image, ax=ax).set_label("attention weight", fontsize=8)
print(f"'{e.query}': cue '{e.tokens[e.cue_position]}' {before[j]:.3f} -> {after[j]:.3f}; largest weight now on "
      f"'{e.tokens[int(alt_weights[j].argmax())]}'; probabilities differ by {change[j]:.4f}")

# %% [markdown]
# This is the point of Jain & Wallace (2019, *Attention is not Explanation*). The reply of Wiegreffe
# & Pinter (2019, *Attention is not not Explanation*) is that the trained model did not *choose*
# those other weights, and that the ones it chose may still matter. That can be tested by an
# intervention: **shuffle** each text's learned weights over its words and see whether the
# prediction survives.

# %% tags=["nbval-ignore-output"]
g = torch.Generator().manual_seed(seed)
with torch.no_grad():
    values, query = values_and_query(model, val_batch)
    shuffled = pool_weights.clone()
    for i, n in enumerate(lengths.tolist()):
        shuffled[i, :n] = pool_weights[i, :n][torch.randperm(n, generator=g)]
    kept = (sense_probs(model, shuffled, values, query).argmax(-1)
            == sense_probs(model, pool_weights, values, query).argmax(-1)).float().mean().item()
print(f"prediction unchanged after shuffling the weights: {kept:.3f} of the texts (coin flip: 0.5)")
assert kept < 0.75

# %% [markdown]
# Shuffled weights leave the prediction no better than a coin flip: in this model the weights it
# learned do carry the decision. Both results hold at once. The weights are not the *only* pattern
# that explains the output, so a heat map is a hint, not a proof; but they are not decoration
# either. Test a story told from a heat map with an intervention (shuffle, remove a word, swap the
# cue) before believing it.
#
# Next, notebook 06 lets a sentence attend to itself, with several heads at once.

# %% [markdown]
# ## Exercises
#
# Each exercise has a checker from `course_lib.checks.attention` that tells you what is right or
# wrong. Fill in the answer, run the cell, read the message. Worked solutions follow below.
#
# **Exercise 1 · a masked softmax.** Write `masked_softmax(scores, mask)`: a softmax over the last
# dimension in which positions where `mask` is False get weight exactly 0 (True = may attend; the
# mask broadcasts against the scores).

# %%
from course_lib.checks import attention as checks_attention


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError  # your code here


done = checks_attention.check_masked_softmax(masked_softmax)

# %% [markdown]
# **Exercise 2 · attention pooling with a learned vector.** Without a question, a sentence
# classifier can still pool by attention: one learned vector w scores every word, score_t = x_t · w.
# Write `attention_pool(x, w, attention_mask)` for x (B, T, d), w (d,) and a 0/1 attention mask
# (B, T); return `(pooled (B, d), weights (B, T))`, with padding getting weight 0.

# %%
def attention_pool(x: torch.Tensor, w: torch.Tensor, attention_mask: torch.Tensor):
    raise NotImplementedError  # your code here


done = checks_attention.check_attention_pool(attention_pool)

# %% [markdown]
# **Exercise 3 · remove the √d and watch the gradients (investigate).** Section 2 measured what the
# √d does to the weights; now measure what it does to learning. At d = 512, draw 2,000 queries and
# 16 keys per query as `weight_stats` does, then a value per key, `v = torch.randn(2000, 16,
# generator=g)` (all from `g = torch.Generator().manual_seed(seed)`, in that order). Compute the
# scores q · k *without* dividing by √d as a tensor that requires a gradient, and back-propagate the
# loss `(scores.softmax(-1) * v).sum()`. A query whose 16 scores get a gradient of norm below 0.01
# has a softmax that has all but stopped learning. Set `stalled_share` to the share of the 2,000
# queries in that state; then put the √d back and measure again.

# %%
stalled_share = ...  # your answer: a number between 0 and 1
done = checks_attention.check_unscaled_gradients(stalled_share, seed)

# %% [markdown] tags=["solution"]
# ### Solutions
#
# **1.** Fill the masked scores with −∞: exp(−∞) = 0, so they get exactly 0 and the rest still sums
# to 1. (Multiplying the weights by the mask *after* the softmax would leave rows that no longer
# sum to 1.)

# %% tags=["solution"]
def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)


assert checks_attention.check_masked_softmax(masked_softmax)

# %% [markdown] tags=["solution"]
# **2.** The scores are one matrix–vector product; the padding mask works as in exercise 1.

# %% tags=["solution"]
def attention_pool(x: torch.Tensor, w: torch.Tensor, attention_mask: torch.Tensor):
    weights = masked_softmax(x @ w, attention_mask.bool())  # (B, T)
    return (weights[:, :, None] * x).sum(dim=1), weights  # (B, d), (B, T)


assert checks_attention.check_attention_pool(attention_pool)

# %% [markdown] tags=["solution"]
# **3.** The gradient of a softmax is w_i (δ_ij − w_j): once one weight is close to 1, every entry is
# close to 0, whatever the loss above it. Without the √d the scores at d = 512 spread over tens of
# units, most softmaxes are saturated from the start, and their scores receive almost no gradient;
# with the √d none is. That is the reason for the √d: not the weights themselves, but whether
# gradient descent can move them.

# %% tags=["solution", "nbval-ignore-output"]
stalled = {}
for scale in (False, True):
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(2000, 1, 512, generator=g), torch.randn(2000, 16, 512, generator=g)
    v = torch.randn(2000, 16, generator=g)
    scores = ((q @ k.transpose(1, 2))[:, 0] / (math.sqrt(512) if scale else 1.0)).requires_grad_(True)  # (2000, 16)
    (scores.softmax(-1) * v).sum().backward()
    stalled[scale] = (scores.grad.norm(dim=-1) < 0.01).float().mean().item()
stalled_share = stalled[False]
print(f"queries whose scores get a gradient below 0.01 at d = 512: {stalled_share:.3f} without the √d, "
      f"{stalled[True]:.3f} with it")
assert checks_attention.check_unscaled_gradients(stalled_share, seed)
