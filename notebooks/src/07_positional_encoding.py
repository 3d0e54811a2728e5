# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 07 · Positional encoding: giving order to an order-blind layer
#
# Self-attention (notebooks 05–06) compares every token with every other token, but nothing in its
# formula says *where* a token stands. "the dog bites the man" and "the man bites the dog" contain the
# same words, so they look the same to it. This notebook proves that with a test on real outputs, then
# builds the two standard fixes: the **sinusoidal positional encoding** (位置编码) of the original
# Transformer and the learned position embeddings of BERT. It ends by measuring what each buys on a
# task that cannot be solved without order.

# %% tags=["parameters"]
# Parameters: papermill can override any of these, e.g. `-p steps 800`.
seed = 0  # every random draw in the notebook follows from it
corpus = "toyworld"  # the course's generated corpus (the order task needs its sentences)
num_documents = 1500  # training documents for the order task (about 4.5 sentences each)
d_model = 64  # width of the small encoders trained in section 4
num_layers = 2
steps = 400  # optimizer steps per model (three models are trained)
lr = 3e-3
batch_size = 64
device = "auto"  # "auto" picks CUDA when present, else the CPU
threads = 1  # torch CPU threads: the models are small, one thread is fastest and gives the same numbers everywhere

# %%
import random

import matplotlib.pyplot as plt
import torch
from torch.testing import assert_close

from course_lib import TrainConfig, fit, get_device, seed_everything, show_source, toyworld_corpus
from course_lib.text import Vocab, pad_batch
from course_lib.transformer import (
    LearnedPositionalEmbedding, TransformerClassifier, TransformerConfig, TransformerEncoder, offset_matrix,
    sinusoidal_positions
)

seed_everything(seed)
torch.set_num_threads(threads)
dev = get_device(device)
assert corpus == "toyworld", "the order task of this notebook is built from the toy world's sentences"

# %% [markdown]
# ## 1 · Self-attention does not see order
#
# **Why.** An attention weight is softmax(q · k / √d): it depends on *what* the query and key tokens
# are, not on where they stand. Shuffle the input tokens, and every token meets the same partners with
# the same scores, so its output is the same — it just appears at its new place. A function with this
# property is called **permutation-equivariant** (置换等变性): f(shuffled x) = shuffled f(x).
#
# **Test it on real outputs.** We take a toy-world sentence, give its words random vectors, run them
# through a two-layer Transformer encoder from `course_lib` (no positions added), and compare the
# output of the shuffled sentence with the shuffled output.

# %%
sentence = toyworld_corpus("validation", seed=seed, num_documents=20).documents[0].sentences[0].tokens
vocab_demo = {w: i for i, w in enumerate(dict.fromkeys(sentence))}
embed = torch.nn.Embedding(len(vocab_demo), 32)
encoder = TransformerEncoder(num_layers=2, d_model=32, num_heads=4, d_ff=64, dropout=0.0).eval()
x = embed(torch.tensor([[vocab_demo[w] for w in sentence]]))  # (1, T, 32)
perm = torch.randperm(len(sentence))

with torch.no_grad():
    y, _ = encoder(x)
    y_shuffled, _ = encoder(x[:, perm])
gap_blind = (y_shuffled - y[:, perm]).abs().max().item()
print("sentence:", " ".join(sentence))
print("shuffled:", " ".join(sentence[i] for i in perm))
print(f"max |f(shuffled x) - shuffled f(x)| < 1e-5: {gap_blind < 1e-5}  (output values are of size ~1)")
assert_close(y_shuffled, y[:, perm], atol=1e-5, rtol=1e-5)

# %% [markdown]
# The difference is float rounding: the encoder gives each word the same vector wherever it stands.
# Averaged into one sentence vector, a sentence and any shuffle of it are *identical*:

# %%
with torch.no_grad():
    same = (y.mean(1) - y_shuffled.mean(1)).abs().max().item()
print(f"sentence vector vs shuffled sentence vector: max difference < 1e-5: {same < 1e-5}")
assert same < 1e-5

# %% [markdown]
# So the model needs to be told where each token is. The fix in every Transformer: add to each token
# vector a vector that depends only on its position, PE[p], before the first layer.

# %% [markdown]
# ## 2 · The sinusoidal encoding
#
# **Build.** The original Transformer uses fixed waves. Column pair i of PE (i = 0 … d/2 − 1) is a
# sine and a cosine of the position at frequency ω_i = 1 / 10000^(2i/d):
#
# PE[p, 2i] = sin(p·ω_i),  PE[p, 2i+1] = cos(p·ω_i).
#
# Pair i makes a full turn every 2π/ω_i positions. The first pair turns fast (ω_0 = 1: a turn every
# 2π ≈ 6.3 positions), the last very slowly: for i = d/2 − 1 the period is 2π·10000^((d−2)/d),
# about 47,100 positions at d = 64. The often-quoted 2π·10000 ≈ 62,800 is only the limit that the
# slowest period approaches as d grows. Here is the table in five lines, checked against the
# library, with the periods printed.

# %%
def sinusoidal_sketch(T: int, d: int) -> torch.Tensor:
    omega = 10000 ** (-torch.arange(0, d, 2) / d)  # (d/2,) frequencies
    angles = torch.arange(T)[:, None] * omega  # (T, d/2)
    pe = torch.zeros(T, d)
    pe[:, 0::2], pe[:, 1::2] = angles.sin(), angles.cos()
    return pe


pe = sinusoidal_positions(64, 64)
assert_close(sinusoidal_sketch(64, 64), pe, atol=1e-5, rtol=0)
print("sketch == course_lib.transformer.sinusoidal_positions:", tuple(pe.shape))
base, d = 10000, pe.shape[1]
periods = 2 * torch.pi * base ** (torch.arange(0, d, 2, dtype=torch.float64) / d)  # 2π / ω_i, one per pair
print(f"base {base}, d = {d}: pair 0 turns once every {periods[0]:.3f} positions, pair {d // 2 - 1} every "
      f"{periods[-1]:,.0f}; the limit 2π·{base} = {2 * torch.pi * base:,.0f}")

# %% [markdown]
# **Show.** Left: the whole table, one row per position. Read it like a binary counter: the left
# columns flip quickly from row to row, the right columns hardly change, so each row is a different
# mix. Right: four columns as curves; the fast ones repeat, but the slow ones tell repeats apart.

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=80)
image = ax0.imshow(pe, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
ax0.set_xlabel("dimension")
ax0.set_ylabel("position p")
ax0.set_title("PE for 64 positions, d = 64", fontsize=10)
fig.colorbar(image, ax=ax0, shrink=0.8)
for column in (0, 1, 10, 30):
    ax1.plot(pe[:, column], label=f"dim {column} ({'sin' if column % 2 == 0 else 'cos'})")
ax1.set_xlabel("position p")
ax1.set_title("four columns of PE", fontsize=10)
ax1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4, frameon=False)
fig.tight_layout()

# %% [markdown]
# **Measure its properties.** Three claims, each checked with a number.
#
# *Every position is distinct.* Among 512 positions at d = 64, the two closest rows are still clearly
# apart (values are between −1 and 1, and every row has the same length √(d/2) = 5.66):

# %%
pe512 = sinusoidal_positions(512, 64)
distances = torch.cdist(pe512, pe512) + torch.eye(512) * 1e9  # ignore each row's distance to itself
closest = distances.min().item()
i, j = divmod(distances.argmin().item(), 512)
print(f"closest pair of positions: {min(i, j)} and {max(i, j)}, distance {closest:.3f}")
print(f"every row has length {pe512.norm(dim=1).mean():.3f} (√32 = {32 ** 0.5:.3f})")
assert closest > 0.1 and torch.allclose(pe512.norm(dim=1), torch.full((512,), 32 ** 0.5))

# %% [markdown]
# *A shift by k is one fixed linear map.* For each frequency, going from p to p + k turns the pair
# (sin pω, cos pω) by the angle kω — a 2 × 2 rotation that does not depend on p. Stack these
# rotations into a block-diagonal matrix M_k and PE[p + k] = M_k PE[p] at *every* position. So a
# layer can learn "look k words back" once, as one linear map, instead of once per position.

# %%
p = torch.arange(0, 400)
print(" k   max over 400 positions of |PE[p+k] - M_k PE[p]|")
for k in (1, 2, 5, 50, -3):
    M = offset_matrix(k, 64)
    error = (pe512[p + 3] @ M.T - pe512[p + 3 + k]).abs().max().item()
    print(f"{k:3d}   {'< 1e-4' if error < 1e-4 else f'{error:.1e}'}")
    assert error < 1e-4
M1 = offset_matrix(1, 64)
print("M_1 is a rotation (M_1 M_1ᵀ = I):", torch.allclose(M1 @ M1.T, torch.eye(64), atol=1e-5))
print(M1[:4, :4].numpy().round(3))

# %% [markdown]
# The top-left 2 × 2 block is the rotation of the fastest pair by 1 radian: cos 1 = 0.540, sin 1 = 0.841.
#
# *Similarity depends on distance only.* Because M_k is a rotation, PE[p] · PE[p + k] is the same for
# every p. The matrix of all dot products is therefore constant along each diagonal; it is largest on
# the main diagonal and falls off with distance.

# %%
similarity = pe @ pe.T  # (64, 64)
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.2), dpi=80)
image = ax0.imshow(similarity, cmap="viridis")
ax0.set_xlabel("position")
ax0.set_ylabel("position")
ax0.set_title("PE · PEᵀ (constant along diagonals)", fontsize=10)
fig.colorbar(image, ax=ax0, shrink=0.8)
ax1.plot(similarity[20, :].numpy(), label="from position 20")
ax1.plot(similarity[40, :].numpy(), label="from position 40")
ax1.axvline(20, color="C0", ls=":")
ax1.axvline(40, color="C1", ls=":")
ax1.set_xlabel("position")
ax1.set_ylabel("dot product")
ax1.legend(fontsize=8)
fig.tight_layout()
spread = max((similarity.diagonal(k).max() - similarity.diagonal(k).min()).item() for k in range(1, 30))
print(f"largest spread of the values along any diagonal < 1e-3: {spread < 1e-3}")
assert spread < 1e-3

# %% [markdown]
# In the right panel the two curves are the same shape, shifted: what a position "sees" depends only
# on how far away the other position is.
#
# **Positions break the symmetry.** Add PE to the token vectors and repeat the test of section 1:

# %%
with torch.no_grad():
    T = x.shape[1]
    y_pos, _ = encoder(x + sinusoidal_positions(T, 32))
    y_pos_shuffled, _ = encoder(x[:, perm] + sinusoidal_positions(T, 32))
gap_positions = (y_pos_shuffled - y_pos[:, perm]).abs().max().item()
print(f"without positions: gap < 1e-5;   with sinusoidal positions: gap {gap_positions:.2f}")
assert gap_positions > 0.1

# %% [markdown]
# ## 3 · Learned position embeddings, as in BERT
#
# BERT does not use waves. It keeps a table with one learned vector per position — 512 positions ×
# 768 dimensions in BERT-base — trained like the word embeddings, and adds row p to the token at
# position p. The course's version:

# %%
show_source(LearnedPositionalEmbedding)

# %%
learned = LearnedPositionalEmbedding(max_len=512, d_model=768)
print(f"BERT-base position table: {tuple(learned.weight.shape)} = {learned.weight.numel():,} parameters")
try:
    learned(torch.zeros(1, 600, 768))
except ValueError as err:
    print("a 600-token input:", err)

# %% [markdown]
# The trade-off in one sentence each: **sinusoidal** costs no parameters, gives every position a
# vector (even lengths never seen in training) and builds in the shift-by-k structure; **learned**
# vectors can fit whatever the task needs, but only for positions seen in training, and a fixed
# maximum length. Section 4 measures both.

# %% [markdown]
# ## 4 · What positions buy: a task that needs order
#
# **The task.** Is this word sequence a real sentence, or the same words shuffled? A model without
# positions sees the same bag of words in both cases, so it *cannot* do better than a coin. We test
# on pairs — each held-out sentence once in order and once shuffled — so the order-blind model scores
# exactly 0.5. (A few shuffles are grammatical again, e.g. swapping two names, so no model reaches 1.)

# %%
def order_examples(sentences, seed: int, paired: bool) -> list[tuple[list[str], int]]:
    """(tokens, 1) for a sentence in order, (shuffled tokens, 0) for a shuffle of it."""
    rng, out = random.Random(seed), []
    for s in sentences:
        tokens = list(s.tokens)
        if len(set(tokens)) < 2:
            continue
        shuffled = tokens[:]
        while shuffled == tokens:
            rng.shuffle(shuffled)
        if paired:
            out += [(tokens, 1), (shuffled, 0)]
        else:
            out.append((tokens, 1) if rng.random() < 0.5 else (shuffled, 0))
    return out


train = order_examples(toyworld_corpus("train", seed=seed, num_documents=num_documents), seed, paired=False)
test = order_examples(toyworld_corpus("validation", seed=seed, num_documents=100), seed + 1, paired=True)
vocab = Vocab.build(tokens for tokens, _ in train)
print(f"{len(train)} training and {len(test)} test sequences, {len(vocab)} tokens in the vocabulary")
for tokens, label in test[:2]:
    print(f"  label {label}: {' '.join(tokens)}")

# %%
def collate(examples):
    ids, mask = pad_batch([vocab.encode(tokens) for tokens, _ in examples], vocab.pad_id)
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([y for _, y in examples])}


order_rng = random.Random(seed)


def epoch():
    idx = list(range(len(train)))
    order_rng.shuffle(idx)
    return [collate([train[i] for i in idx[s:s + batch_size]]) for s in range(0, len(idx), batch_size)]


test_batches = [collate(test[s:s + 512]) for s in range(0, len(test), 512)]


def accuracy(model) -> dict[str, float]:
    correct = 0
    for b in test_batches:
        logits, _ = model(b["input_ids"].to(dev), b["attention_mask"].to(dev))
        correct += (logits.argmax(-1).cpu() == b["labels"]).sum().item()
    return {"accuracy": correct / len(test)}


# %% [markdown]
# Three identical small encoders (mean of the token outputs, then a linear layer), differing only in
# what is added to the token vectors: nothing, the sinusoidal encoding, or learned vectors.

# %% tags=["nbval-ignore-output"]
models, histories = {}, {}
for kind in ("none", "sinusoidal", "learned"):
    config = TransformerConfig(vocab_size=len(vocab), d_model=d_model, num_heads=4, d_ff=2 * d_model,
                               num_encoder_layers=num_layers, dropout=0.0, max_len=32, positions=kind)
    seed_everything(seed)
    models[kind] = TransformerClassifier(config, num_classes=2)
    histories[kind] = fit(models[kind], epoch, TrainConfig(
        steps=steps, lr=lr, warmup_steps=30, eval_every=50, monitor="accuracy", mode="max",
        restore_best=False, seed=seed, device=device, desc=f"positions={kind}"), evaluate=accuracy)
print(", ".join(f"{k}: {h.seconds:.1f} s" for k, h in histories.items()))

# %% tags=["nbval-ignore-output"]
results = {kind: h.evals[-1]["accuracy"] for kind, h in histories.items()}
print("positions     test accuracy (real vs shuffled, chance = 0.5)")
for kind, acc in results.items():
    print(f"{kind:12}  {acc:.2f}")
assert results["none"] == 0.5, "an order-blind model must score exactly 0.5 on paired tests"
assert results["sinusoidal"] > 0.8 and results["learned"] > 0.8

# %% [markdown]
# The order-blind encoder is stuck at exactly 0.5, as the permutation test predicted: it gives a
# sentence and its shuffle the same score. Either kind of position lifts it far above chance.
#
# The curves show *how* they get there. Look at the first evaluations: the sinusoidal model knows
# every position from step 0 and climbs at once, while the learned table starts as random noise and
# must first learn which vector means "first word".

# %%
fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80)
for kind, h in histories.items():
    ax.plot(*h.metric("accuracy"), "o-", ms=3, label=f"positions = {kind}")
ax.axhline(0.5, color="grey", ls=":", lw=1)
ax.set_xlabel("training step")
ax.set_ylabel("test accuracy")
ax.set_ylim(0.4, 1.0)
ax.legend(fontsize=8)
fig.tight_layout()
early = {k: h.evals[1]["accuracy"] for k, h in histories.items()}
print(f"accuracy at step {histories['none'].evals[1]['step']}: sinusoidal {early['sinusoidal']:.2f}, "
      f"learned {early['learned']:.2f}")

# %% [markdown]
# **The learned table only learns what it sees.** Our training sentences are short (the longest is
# printed below), so the rows of the learned table past that length never received a gradient:
# they are still their random start.
# A model with learned positions has nothing sensible to say about longer inputs — BERT therefore
# caps inputs at the 512 positions it was trained on. The sinusoidal encoding has a vector for any p,
# but having a vector is not the same as a model that has learned to use it: exercise 3 gives both
# models sentences longer than any they were trained on and measures what that is worth.

# %% tags=["nbval-ignore-output"]
longest = max(len(tokens) for tokens, _ in train)
table = models["learned"].positions.weight.detach().cpu()
seed_everything(seed)
start = TransformerClassifier(models["learned"].config, num_classes=2).positions.weight.detach()
moved = (table - start).norm(dim=1)
print(f"longest training sentence: {longest} tokens")
print(f"rows 0-{longest - 1}: mean change {moved[:longest].mean():.2f};  rows {longest}-31: largest change "
      f"{moved[longest:].max():.1f}")
assert moved[longest:].max() == 0 and moved[:longest].min() > 0.1

# %% [markdown]
# ## Exercises
#
# Each exercise has a checker from `course_lib.checks.positional` that tells you what is right or
# wrong. Fill in the answer, run the cell, read the message. Worked solutions follow below.
#
# **Exercise 1 · a shift as a matrix.** Write `shift_matrix(k, d)`: the (d, d) matrix M_k with
# M_k @ PE[p] = PE[p + k] for every p. Hint: use sin(a + b) and cos(a + b) for each frequency pair.

# %%
from course_lib.checks import positional as checks_pos


def shift_matrix(k: int, d: int) -> torch.Tensor:
    raise NotImplementedError  # your code here


done = checks_pos.check_offset_matrix(shift_matrix)

# %% [markdown]
# **Exercise 2 · similarity as a function of distance.** Section 2 found PE · PEᵀ constant along
# its diagonals. Derive the constant: write `dot_at_distance(k, d)`, the dot product PE[p] · PE[p + k]
# of the sinusoidal encoding of width d, as a formula in k and the frequencies ω_i alone (no table
# of encodings). Where is it largest?

# %%
def dot_at_distance(k: int, d: int) -> float:
    raise NotImplementedError  # your code here


done = checks_pos.check_dot_at_distance(dot_at_distance)

# %% [markdown]
# **Exercise 3 · longer than anything seen in training (investigate).** The trained models have
# 32 positions, but no training sentence had more than `longest` tokens. Build `long_test`:
# sequences longer than `longest` (and at most 32 tokens), for instance two validation sentences
# joined by *and*, each once in order and once shuffled (`order_examples(..., paired=True)` does
# the pairing; it wants objects with `.tokens`, such as `course_lib.data.Sentence(tokens)`). Measure
# the accuracy of each of the three models on it, as `accuracy` does for the test set, and set
# `long_accuracy` to the learned-position model's. Which kind of position carries over to
# positions it was never trained on?

# %%
long_test = ...  # your long sequences: (tokens, label) pairs
long_accuracy = ...  # your answer: a number
done = checks_pos.check_long_inputs(long_accuracy, models, collate, long_test, longest)

# %% [markdown] tags=["solution"]
# ### Solutions
#
# **1.** sin(ω(p+k)) = cos(kω)·sin(pω) + sin(kω)·cos(pω) and cos(ω(p+k)) = −sin(kω)·sin(pω) + cos(kω)·cos(pω):
# one 2 × 2 block per frequency, on the diagonal.

# %% tags=["solution"]
def shift_matrix(k: int, d: int) -> torch.Tensor:
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    M = torch.zeros(d, d, dtype=torch.float64)
    for i, w in enumerate(omega):
        c, s = torch.cos(k * w), torch.sin(k * w)
        M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = torch.stack([torch.stack([c, s]), torch.stack([-s, c])])
    return M.float()


assert checks_pos.check_offset_matrix(shift_matrix)

# %% [markdown] tags=["solution"]
# **2.** Each frequency pair contributes sin(pω)·sin((p+k)ω) + cos(pω)·cos((p+k)ω) = cos(kω): the
# position p cancels. The sum of d/2 cosines is d/2 at k = 0 (every cosine is 1) and smaller at any
# other distance, which is the bright main diagonal of section 2's picture.

# %% tags=["solution"]
def dot_at_distance(k: int, d: int) -> float:
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    return float(torch.cos(k * omega).sum())


assert checks_pos.check_dot_at_distance(dot_at_distance)
assert abs(dot_at_distance(7, 64) - float(pe[20] @ pe[27])) < 1e-3

# %% [markdown] tags=["solution"]
# **3.** Two consecutive validation sentences joined by *and* make sequences between `longest` + 1
# and 32 tokens. The order-blind model stays at one half, as always on paired tests. The other two
# meet positions that no gradient ever reached, and both fall far below what they scored on the
# test set of section 4 (the second printed line). For the learned table that was to be
# expected: its rows there are still their random start. The sinusoidal encoding does give those
# positions proper vectors, built by the same rule as the trained ones, yet the model never learned
# what they mean: having a vector for every position is not the same as generalizing to every
# length. (A joined sequence is also a new kind of input for both models.)

# %% tags=["solution", "nbval-ignore-output"]
from course_lib.data import Sentence

validation = list(toyworld_corpus("validation", seed=seed, num_documents=100))
joined = [Sentence([*a.tokens, "and", *b.tokens]) for a, b in zip(validation, validation[1:])]
long_test = order_examples([s for s in joined if longest < len(s.tokens) <= 32], seed + 2, paired=True)
long_accuracies = {}
for kind, model in models.items():
    correct = 0
    for start in range(0, len(long_test), 512):
        batch = collate(long_test[start:start + 512])
        with torch.no_grad():
            logits, _ = model(batch["input_ids"].to(dev), batch["attention_mask"].to(dev))
        correct += (logits.argmax(-1).cpu() == batch["labels"]).sum().item()
    long_accuracies[kind] = correct / len(long_test)
print(f"{len(long_test)} sequences of {min(len(t) for t, _ in long_test)}-{max(len(t) for t, _ in long_test)} tokens "
      f"(training: at most {longest}):", {kind: round(a, 3) for kind, a in long_accuracies.items()})
print("on the test set of section 4:", {kind: round(a, 3) for kind, a in results.items()})
long_accuracy = long_accuracies["learned"]
assert abs(long_accuracies["none"] - 0.5) < 0.02  # order-blind: a sequence and its shuffle score alike
assert max(long_accuracies["learned"], long_accuracies["sinusoidal"]) < min(results["learned"], results["sinusoidal"])
assert checks_pos.check_long_inputs(long_accuracy, models, collate, long_test, longest)
