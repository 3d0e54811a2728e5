# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 06 · Multi-head self-attention
#
# In notebook 05 the query came from outside the text: the question "which sense does *crane*
# have?". In **self-attention** (自注意力) every word of a sentence is a query, a key and a value at
# once: each word asks the others for what it needs and builds a new vector from their answers.
# **Multi-head attention** (多头注意力) runs several such attentions side by side, each in its own
# small subspace, so that one word can look for several things at once.
#
# This notebook builds multi-head self-attention step by step with the shapes printed, checks the
# sketch against `course_lib` and against `torch.nn.MultiheadAttention`, counts its parameters
# (BERT-base included), and then trains a small self-attention model on toy-world sentences, measures
# with 1, 2, 4 and 8 heads (3 seeds each) whether its heads divide the work, and looks inside them
# with the attention explorer.

# %% tags=["parameters"]
# Parameters: papermill can override any of these, e.g. `-p num_layers 1`.
seed = 0  # every random draw in the notebook follows from it
device = "auto"  # "auto" picks CUDA when present, else the CPU
threads = 1  # torch CPU threads: the models are tiny, one thread is fastest and gives the same numbers everywhere
num_documents = 1500  # toy-world training documents (their polysemous sentences are the task)
d_model = 64  # H, the width of the model
num_heads = 4  # A, heads per layer of the model the explorer shows
head_counts = [1, 2, 4, 8]  # the heads ablation (section 6): the same width, split into this many heads
num_seeds = 3  # training seeds per head count
num_layers = 2  # self-attention layers
steps = 400  # optimizer steps per tagger
lr = 1e-2  # peak AdamW learning rate (warm-up over a tenth of the steps, then a linear decay to 0)
batch_size = 64

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.testing import assert_close

from course_lib import get_device, seed_everything

seed_everything(seed)
dev = get_device(device)
torch.set_num_threads(threads)
torch.set_printoptions(precision=3, sci_mode=False)

# %% [markdown]
# ## 1 · Queries, keys and values from one sequence
#
# Take a batch of B sentences of T words, each word a vector of size H: x has shape (B, T, H).
# Three learned H × H matrices turn every word vector into a query ("what am I looking for?"), a
# key ("what do I offer?") and a value ("what do I pass on?"). One word plays all three roles,
# through three different projections.

# %%
B, T, H, A = 2, 5, 8, 2  # tiny sizes, so that every shape is easy to read
x = torch.randn(B, T, H)
W_Q, W_K, W_V, W_O = (torch.randn(H, H) / math.sqrt(H) for _ in range(4))

Q, K, V = x @ W_Q.T, x @ W_K.T, x @ W_V.T
print("x", tuple(x.shape), "-> Q", tuple(Q.shape), "K", tuple(K.shape), "V", tuple(V.shape))

# %% [markdown]
# ## 2 · Heads as subspaces of size H / A
#
# With A heads, each head gets its own D = H / A features of every query, key and value. No new
# parameters are needed: we *reshape* (B, T, H) into (B, T, A, D), then swap T and A so that each
# head is a separate batch of (T, D) matrices. Head a holds features a·D … (a+1)·D − 1.
#
# In the figure (drawn for the A above), each of Q, K and V is cut into A colour blocks of D features:
# head a takes the blocks of its colour, attends with them on its own, and the A outputs are put side
# by side again and mixed by $W_O$ (section 3).

# %%
from course_lib.diagrams import draw_multi_head

draw_multi_head(num_heads=A)

# %%
D = H // A
q_heads = Q.view(B, T, A, D)
print("Q            ", tuple(Q.shape), "(B, T, H)")
print("view         ", tuple(q_heads.shape), "(B, T, A, D)")
q_heads = q_heads.transpose(1, 2)
k_heads, v_heads = (t.view(B, T, A, D).transpose(1, 2) for t in (K, V))
print("transpose    ", tuple(q_heads.shape), "(B, A, T, D)")
assert torch.equal(q_heads[:, 1], Q[:, :, D : 2 * D])  # head 1 = features D … 2D-1 of every token
print("head 1 is features", D, "to", 2 * D - 1, "of every word:", torch.equal(q_heads[:, 1], Q[:, :, D : 2 * D]))

# %% [markdown]
# Each head now runs the attention of notebook 05 in its own subspace, scaled by √D (the size of
# *its* queries), with its own softmax: A attention patterns per sentence.

# %%
scores = q_heads @ k_heads.transpose(-2, -1) / math.sqrt(D)  # (B, A, T, T)
weights = scores.softmax(dim=-1)
per_head = weights @ v_heads  # (B, A, T, D)
print("scores", tuple(scores.shape), "| weights", tuple(weights.shape), "| outputs", tuple(per_head.shape))
print("the two heads' weights for word 0 of sentence 0:\n", weights[0, :, 0])

# %% [markdown]
# ## 3 · Concatenate the heads, then mix them
#
# The heads' outputs are put side by side again (the inverse reshape: (B, A, T, D) → (B, T, A, D) →
# (B, T, H)) and an **output projection** W_O (H × H) mixes what the heads found.

# %%
concat = per_head.transpose(1, 2).reshape(B, T, H)  # (B, T, H): [head 0 | head 1] per word
out = concat @ W_O.T
print("concat", tuple(concat.shape), "-> out", tuple(out.shape))

# %% [markdown]
# Splitting costs nothing extra: A heads of size D do A · T² · D = T² · H multiply–adds for the
# scores, exactly what one head of size H would do. What the heads buy is A separate softmaxes:
# one head can look at the cue while another looks at the neighbour.

# %%
flops = {a: a * T * T * (H // a) for a in (1, 2, 4, 8)}
print("multiply-adds for Q Kᵀ per sentence, by number of heads:", flops)
assert len(set(flops.values())) == 1

# %% [markdown]
# ## 4 · The whole layer, and two checks
#
# Here are the three steps as one teaching sketch, with biases and an optional mask (True = may
# attend, as in notebook 05). It is then checked against the tested `MultiHeadAttention` of
# `course_lib`, using that module's own weights.

# %%
def multi_head_self_attention(x, mha, mask=None):
    B, T, H = x.shape
    A = mha.num_heads
    D = H // A
    q = mha.query(x).view(B, T, A, D).transpose(1, 2)  # (B, A, T, D)
    k = mha.key(x).view(B, T, A, D).transpose(1, 2)  # (B, A, T, D)
    v = mha.value(x).view(B, T, A, D).transpose(1, 2)  # (B, A, T, D)
    scores = q @ k.transpose(-2, -1) / math.sqrt(D)  # (B, A, T, T)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H)  # (B, T, H): heads concatenated
    return mha.out(y)


from course_lib.attention import MultiHeadAttention, padding_mask

mha = MultiHeadAttention(d_model=H, num_heads=A).eval()
mask = padding_mask([5, 3])  # sentence 1 has 3 words and 2 padding positions
with torch.no_grad():
    ours = multi_head_self_attention(x, mha, mask)
    lib, lib_weights = mha(x, x, x, mask=mask, need_weights=True)
assert_close(ours, lib)
print("sketch = course_lib.MultiHeadAttention:", True, "| weights", tuple(lib_weights.shape), "(B, A, T, T)")

# %% [markdown]
# The second check is against PyTorch's own `nn.MultiheadAttention`. `MultiHeadAttention.from_torch`
# copies its weights (torch stores W_Q, W_K, W_V stacked in one `in_proj_weight`). One trap: torch's
# boolean `key_padding_mask` means **True = ignore**, the opposite of ours.

# %%
torch_mha = nn.MultiheadAttention(embed_dim=H, num_heads=A, batch_first=True).eval()
ours_from_torch = MultiHeadAttention.from_torch(torch_mha).eval()
lengths = torch.tensor([5, 3])
with torch.no_grad():
    ref, ref_weights = torch_mha(x, x, x, key_padding_mask=torch.arange(T) >= lengths[:, None],
                                 average_attn_weights=False)
    got, got_weights = ours_from_torch(x, x, x, mask=padding_mask(lengths), need_weights=True)
assert_close(got, ref) and assert_close(got_weights, ref_weights)
print("course_lib = torch.nn.MultiheadAttention (outputs and per-head weights):", True)
print("torch's in_proj_weight", tuple(torch_mha.in_proj_weight.shape), "= W_Q, W_K, W_V stacked")

# %% [markdown]
# ## 5 · Counting the parameters: 4H² + 4H
#
# The layer has four H × H matrices (W_Q, W_K, W_V, W_O) and four bias vectors of size H:
# 4H² + 4H parameters. The number of heads does not appear: heads *split* the H features, they do
# not add any. Checked against the module for several sizes, including BERT-base (H = 768, A = 12)
# and BERT-large (H = 1024, A = 16):

# %%
from course_lib.attention import multi_head_parameter_count

print(f"{'H':>5} {'A':>3} {'4H² + 4H':>11} {'module':>11}")
for h, a in ((8, 2), (64, 4), (64, 16), (768, 12), (1024, 16)):
    formula = 4 * h * h + 4 * h
    module = MultiHeadAttention(h, a).num_parameters()
    assert formula == module == multi_head_parameter_count(h)
    print(f"{h:>5} {a:>3} {formula:>11,} {module:>11,}")

# %% [markdown]
# BERT-base worked out: 4 · 768² = 4 · 589,824 = 2,359,296 weights, plus 4 · 768 = 3,072 biases,
# gives **2,362,368** parameters per attention block; its 12 layers hold 12 × 2,362,368 =
# 28,348,416 of them, about a quarter of BERT-base's parameters (110M [BERT paper, Section 3]; notebook 09
# counts the rest).

# %%
bert_base = multi_head_parameter_count(768)
assert bert_base == 4 * 768**2 + 4 * 768 == 2_362_368
print(f"768² = {768**2:,}; weights 4 · 768² = {4 * 768**2:,}; biases 4 · 768 = {4 * 768:,}")
print(f"per layer: {bert_base:,}; 12 layers: {12 * bert_base:,}; each of the 12 heads has its own "
      f"D = {768 // 12} features of each Q, K, V")

# %% [markdown]
# ## 6 · Self-attention on toy-world sentences
#
# What do heads learn? We train a small model on a task that needs attention: tag each word of a
# polysemous toy-world sentence with its sense (`-` for the words that have none). The sense of
# *crane* is decided by its cue, the verb after it (*wades* or *hoists*, sometimes behind an adverb:
# "the crane slowly hoists"), so the only way to tag *crane* right is for it to attend to its cue.
#
# The model, `SelfAttentionTagger` from `course_lib.attention`, is embeddings, then two layers
# of x + MultiHeadAttention(x, x, x) (the *residual* sum keeps each word's own identity beside what
# it gathered; notebook 08 explains it), then a linear layer that tags every word. It has no notion
# of word order: notebook 07 adds it. We train it with 1, 2, 4 and 8 heads, 3 seeds each (the
# ablation below); the model the explorer shows is the 4-head one of the first seed.

# %%
from course_lib.attention import SelfAttentionTagger, sense_tagging_batch, sense_tagging_labels
from course_lib.data import toy_world, toyworld_corpus
from course_lib.text import Vocab

world = toy_world()
train_sentences = [s for s in toyworld_corpus("train", seed=seed, num_documents=num_documents)
                   if s.info.get("kind") == "polysemous"]
val_sentences = [s for s in toyworld_corpus("validation", seed=seed, num_documents=num_documents // 3)
                 if s.info.get("kind") == "polysemous"]
vocab = Vocab.build(s.tokens for s in train_sentences)
labels = sense_tagging_labels(train_sentences)
print(f"{len(train_sentences)} training and {len(val_sentences)} validation sentences, {len(vocab)} word types, "
      f"{len(labels)} tags: {' '.join(labels)}\n")
print(val_sentences[0].pretty())

# %%
from course_lib.core import TrainConfig, fit, spread

val_batch = sense_tagging_batch(val_sentences, vocab, labels)
training_seeds = [seed + k for k in range(num_seeds)]


@torch.no_grad()
def sense_accuracy(model) -> dict:
    logits, _ = model(val_batch["input_ids"].to(dev), val_batch["attention_mask"].to(dev))
    tags, predicted = val_batch["labels"], logits.argmax(-1).cpu()
    polysemous = tags > 0  # tag 0 is "-"
    return {"sense_acc": (predicted[polysemous] == tags[polysemous]).float().mean().item(),
            "tag_acc": (predicted[tags >= 0] == tags[tags >= 0]).float().mean().item()}


def train_tagger(heads: int, training_seed: int):
    """One tagger of width d_model with `heads` heads per layer; the seed sets its weights and batch order."""
    order = torch.randperm(len(train_sentences), generator=torch.Generator().manual_seed(training_seed)).tolist()
    batches = [sense_tagging_batch([train_sentences[i] for i in order[k : k + batch_size]], vocab, labels)
               for k in range(0, len(order), batch_size)]
    seed_everything(training_seed)
    tagger = SelfAttentionTagger(len(vocab), len(labels), d_model=d_model, num_heads=heads, num_layers=num_layers)
    config = TrainConfig(steps=steps, lr=lr, warmup_steps=steps // 10, schedule="linear", eval_every=steps,
                         device=device, seed=training_seed, progress=False)
    history = fit(tagger, batches, config, evaluate=sense_accuracy)
    return tagger.cpu().eval(), history


taggers, histories = {}, {}
for heads in sorted({*head_counts, num_heads}):
    for s in training_seeds:
        taggers[heads, s], histories[heads, s] = train_tagger(heads, s)
model, history = taggers[num_heads, seed], histories[num_heads, seed]
print(f"trained {len(taggers)} taggers: {sorted({h for h, _ in taggers})} heads x seeds {training_seeds}, "
      f"{steps} steps each")

# %% [markdown]
# How good is that? A model without context can only give each polysemous word its most frequent
# sense in the training data; that is the baseline to beat.

# %% tags=["nbval-ignore-output"]
from collections import Counter, defaultdict

counts = defaultdict(Counter)
for s in train_sentences:
    for word, sense in zip(s.tokens, s.senses):
        if sense is not None:
            counts[word][sense] += 1
majority = [counts[w].most_common(1)[0][0] == sense for s in val_sentences
            for w, sense in zip(s.tokens, s.senses) if sense is not None]
baseline = sum(majority) / len(majority)
final = history.evals[-1]
print(f"{model.layers[0].num_parameters() * num_layers:,} attention parameters "
      f"({num_layers} x (4·{d_model}² + 4·{d_model}))")
print(f"{num_heads} heads, seed {seed}: sense accuracy on validation {final['sense_acc']:.3f} (most frequent sense "
      f"per word: {baseline:.3f}); all tags: {final['tag_acc']:.3f}")
assert final["sense_acc"] > 0.95 and baseline < 0.7

# %% [markdown]
# ### Where do the heads look?
#
# For every validation sentence we take the row of the polysemous word (its query) in each layer
# and head, and measure how much weight it puts on its cue, and how often the cue gets its largest
# weight. A head that ignored the content would give the cue 1 / length on average, printed last as
# the uniform share.

# %% tags=["nbval-ignore-output"]
attention = model.attention(val_batch["input_ids"], val_batch["attention_mask"])  # per layer: (N, A, T, T)
rows = torch.arange(len(val_sentences))
word_pos = torch.tensor([s.info["position"] for s in val_sentences])
cue_pos = torch.tensor([s.info["cue_position"] for s in val_sentences])
cue_weight = torch.zeros(num_layers, num_heads)
cue_top = torch.zeros(num_layers, num_heads)
for layer, w in enumerate(attention):
    row = w[rows, :, word_pos]  # (N, A, T): what the polysemous word attends to, per head
    cue_weight[layer] = row[rows, :, cue_pos].mean(0)
    cue_top[layer] = (row.argmax(-1) == cue_pos[:, None]).float().mean(0)
for layer in range(num_layers):
    print(f"layer {layer}: weight on the cue per head {cue_weight[layer].numpy().round(3)}, "
          f"cue is the largest weight {cue_top[layer].numpy().round(3)}")
uniform = (1 / val_batch["attention_mask"].sum(1).float()).mean().item()
print(f"uniform attention would give the cue {uniform:.3f}; the best head of layer 0 gives it "
      f"{cue_weight[0].max().item() / uniform:.1f} times as much")
assert cue_weight[0].max() > 2 * uniform

cue_positions = torch.tensor([s.info["cue_position"] for s in val_sentences])
word_positions = torch.tensor([s.info["position"] for s in val_sentences])
every = torch.arange(len(val_sentences))


def head_profile(tagger, layer: int = 0) -> dict:
    """Per head of `layer`, from each polysemous word's row: mean weight on its cue and on itself, and the
    share of sentences in which the cue gets the head's largest weight."""
    row = tagger.attention(val_batch["input_ids"], val_batch["attention_mask"])[layer][every, :, word_positions]
    return {"cue": row[every, :, cue_positions].mean(0), "itself": row[every, :, word_positions].mean(0),
            "cue on top": (row.argmax(-1) == cue_positions[:, None]).float().mean(0)}  # each (A,)


by_layer = {layer: spread([head_profile(taggers[num_heads, s], layer)["cue"].mean().item() for s in training_seeds])
            for layer in range(num_layers)}
print(f"mean weight on the cue over the {num_heads} heads, {num_seeds} seeds: "
      + ", ".join(f"layer {layer} {w.format()}" for layer, w in by_layer.items()))
assert by_layer[0].low > by_layer[1].high, "layer 0 should look at the cue more than layer 1, on every seed"

# %% [markdown]
# The best head of layer 0 gives the cue more than twice the uniform share (the ratio is printed),
# although nothing in the training told any head where to look: the loss only asked for the right
# sense. Layer 1 gives the cue less on average, on every seed (the last line); once layer 0 has
# brought the cue's information into the polysemous word's vector (the residual keeps it there),
# layer 1 has little left to find.

# %% [markdown]
# ### How many heads? An ablation at equal width
#
# **Why.** The promise of several heads is that they can look for different things at once. Does
# that happen here, and does it help? We trained the same tagger with 1, 2, 4 and 8 heads per layer,
# always at width H = 64 (so a head has D = 64, 32, 16 or 8 features: the parameter count is the same,
# section 5), each with 3 seeds. For every head of layer 0 we measure, from the polysemous word's row,
# how much weight goes to the cue and how much to the word itself, and in how many sentences the cue
# gets that head's largest weight. A head that *specialised* in the cue would give it the largest
# weight in nearly every sentence (we count a head as a cue head above 0.9), while other heads
# looked elsewhere.

# %% tags=["nbval-ignore-output"]
profiles = {key: head_profile(tagger) for key, tagger in taggers.items()}
ablation = {heads: spread([histories[heads, s].evals[-1]["sense_acc"] for s in training_seeds]) for heads in head_counts}
print(f"{'heads':>5} {'D':>3} {'sense accuracy':>15} {'min–max':>12} {'best head: cue on top':>22} "
      f"{'cue heads (> 0.9)':>18}")
for heads in head_counts:
    best_head = spread([profiles[heads, s]["cue on top"].max().item() for s in training_seeds])
    cue_heads = sum(int((profiles[heads, s]["cue on top"] > 0.9).sum()) for s in training_seeds)
    print(f"{heads:>5} {d_model // heads:>3} {ablation[heads].format():>15} {ablation[heads].range():>12} "
          f"{best_head.format(2):>22} {cue_heads:>12} of {heads * num_seeds}")
all_heads = torch.cat([p["cue on top"] for (h, _), p in profiles.items() if h in head_counts])
print(f"\nover all {len(all_heads)} heads of layer 0: the cue gets a head's largest weight in at most "
      f"{all_heads.max().item():.2f} of the sentences")
specialise = bool((all_heads > 0.9).any())
print("heads specialise on the cue here:", "yes, some heads do" if specialise else "no, the heads share it")
uniform_share = (1 / val_batch["attention_mask"].sum(1).float()).mean().item()
idle = sum(int(((p["itself"] > 0.6) & (p["cue"] < 2 * uniform_share)).sum())
           for (h, _), p in profiles.items() if h in head_counts)
print(f"heads that keep to the word itself (> 0.6 on itself, < twice the uniform share on the cue): {idle} of "
      f"{len(all_heads)}")
worst_one, worst_many = ablation[1].low, min(ablation[h].low for h in head_counts if h >= 4)
print(f"worst seed: 1 head {worst_one:.3f}, 4 or 8 heads {worst_many:.3f}:",
      "one head was the less reliable in this run" if worst_many - worst_one > 0.02 else
      "one head did about as well in this run")
assert worst_many > 0.99, "with 4 or 8 heads every seed should tag the senses"
assert not specialise, "no head should find the cue in nearly every sentence on its own"

# %% [markdown]
# Each dot below is one head of layer 0 of one trained tagger (3 seeds per head count): across, the
# weight its polysemous word's row gives the cue; up, the weight it keeps on the word itself. Heads that
# specialised would form separate groups, cue heads on the right and others far from them; what to see
# is whether they do.

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=80)
for k, heads in enumerate(head_counts):
    cue = torch.cat([profiles[heads, s]["cue"] for s in training_seeds])
    itself = torch.cat([profiles[heads, s]["itself"] for s in training_seeds])
    ax.scatter(cue, itself, s=18 + 6 * k, alpha=0.8, label=f"{heads} head{'s' if heads > 1 else ''} (D = {d_model // heads})")
ax.axvline(uniform_share, color="grey", ls=":", lw=1, label="uniform share")
ax.set_xlim(0, 1)
ax.set_ylim(0, 1)
ax.set_xlabel("weight on the cue")
ax.set_ylabel("weight on the word itself")
ax.set_title("layer 0, the polysemous word's row, one dot per head", fontsize=9)
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# The table and the figure answer the two questions, for this task:
#
# - **Do the heads specialise?** No. No head of any model gives the cue its largest weight in more
#   than the share printed above (below 0.9: the cell checks it): in the figure the heads of all head
#   counts mix cue and self weights in one cloud rather than forming a group of cue heads. A head that
#   keeps to the word itself (counted above; a dot at the top left, when there is one) would not be a
#   second job either: it passes on the word's own value, which the residual already carries. The task has one thing to
#   find, the cue, and the heads share that lookup instead of dividing the work.
# - **Do more heads help?** With 4 or 8 heads every seed tags the senses (the cell checks it); one
#   head of size 64 is the setting to compare, and the line under the table says how its worst seed
#   did in this run: across the seeds we tried, some single-head runs fell short and some did not, so
#   that is not a claim we can make about one head in general. Tasks with several things to find at
#   once (the previous word, the subject, the cue) are where heads can divide the work: notebook 11
#   looks for such heads in the trained BERT.

# %% [markdown]
# ### The attention explorer
#
# Choose a sentence (or type one with words from the toy world), a layer and a head, or "all
# heads"; switch between the heat map and the line view; pick a token to isolate its lines. The
# "save PNG" button writes the current figure to a file. The explorer needs a live kernel; the
# static figure after it shows the same view for readers on GitHub.

# %%
from course_lib.data import Sentence
from course_lib.text import word_tokenize
from course_lib.viz import AttentionExplorer, plot_attention_heads


def sentence_attention(sentence: str):
    tokens = word_tokenize(sentence)
    batch = sense_tagging_batch([Sentence(tokens)], vocab, labels)
    return tokens, [w[0] for w in model.attention(batch["input_ids"], batch["attention_mask"])]


example = next(s for s in val_sentences if s.info["cue_distance"] >= 2 and s.info["cue_side"] == "right")
examples = [example.text] + [s.text for s in val_sentences if s.info["cue_distance"] >= 2 and s is not example][:7]
print(example.pretty())

# %% tags=["nbval-ignore-output"]
explorer = AttentionExplorer(sentence_attention, examples, png_path="attention_06.png")
explorer.token.value = example.info["position"]
explorer

# %% [markdown]
# The static view: layer 0, all heads, the lines of the polysemous word only. Each panel is a
# head; a line's darkness is the weight from the word on the left to the word on the right. Look
# for the heads whose strongest line runs from the polysemous word to its cue.

# %%
tokens, layers = sentence_attention(example.text)
fig = plot_attention_heads(layers[0], tokens, kind="lines", selected=example.info["position"],
                           title=f"layer 0: where '{example.info['word']}' looks (cue: "
                                 f"'{tokens[example.info['cue_position']]}')")
fig

# %% [markdown]
# And the full heat maps of the same layer, for the example followed by a second sentence (joined
# by *and*, so that some words occur twice): every row is a query word, every column a key. Only
# the polysemous words' rows were needed for the task; the other rows show what the heads do when
# nothing is asked of them. A word that occurs twice has two identical rows: without positions,
# the model cannot tell the copies apart (notebook 07 fixes that).

# %%
second = next(s for s in val_sentences if s.info["word"] != example.info["word"])
tokens, layers = sentence_attention(f"{example.text} and {second.text}")
fig = plot_attention_heads(layers[0], tokens, kind="heatmap", title="layer 0, all heads")
i = next(k for k, t in enumerate(tokens) if tokens.count(t) > 1)  # a word that occurs twice
j = tokens.index(tokens[i], i + 1)
assert torch.allclose(layers[0][:, i], layers[0][:, j])
print(f"'{tokens[i]}' at positions {i} and {j}: identical rows in every head")
fig

# %% [markdown]
# ## Exercises
#
# Each exercise has a checker from `course_lib.checks.multi_head`. Fill in the answer, run the
# cell, read the message. Worked solutions follow below.
#
# **Exercise 1 · one head, from its own weights.** Section 2 split the projected Q, K and V into
# heads. Turn it around: a head is a small attention of its own, with its own slices of the
# weights. Write `head_output(x, mha, a)` that returns what head `a` of a `MultiHeadAttention`
# passes on before W_O, (B, T, D), using only the rows of `mha.query`, `mha.key` and `mha.value`
# (weights and biases) that belong to head a; no `view` of the whole projection.

# %%
from course_lib.checks import multi_head as checks_mh


def head_output(x: torch.Tensor, mha: MultiHeadAttention, a: int) -> torch.Tensor:
    raise NotImplementedError  # your code here


done = checks_mh.check_head_output(head_output)

# %% [markdown]
# **Exercise 2 · heads that share their keys.** Section 5 showed that heads cost no parameters.
# Later models (multi-query attention) share one key head and one value head among all A heads
# to save memory when generating: W_Q and W_O stay H × H, W_K and W_V become H × D with D = H / A.
# Write `mqa_parameters(H, A)`, the parameters of such a layer, biases included. What does it
# save at BERT-base's size?

# %%
def mqa_parameters(H: int, A: int) -> int:
    raise NotImplementedError  # your code here


done = checks_mh.check_mqa_parameters(mqa_parameters)

# %% [markdown]
# **Exercise 3 · silence a head (investigate).** Section 6 measured where the heads of layer 0 look.
# Does the trained tagger need each of them? Silence one head at a time: set its D features to 0
# where the heads are concatenated, just before the output projection W_O of `model.layers[0]`
# (a forward pre-hook on `model.layers[0].out` can do it), and measure the sense accuracy on
# `val_batch` as `sense_accuracy` does (the polysemous words, tag > 0). Set `worst_ablation` to the
# lowest accuracy of the four, and compare the head that costs most with the cue weights above.

# %%
worst_ablation = ...  # your answer: a number
done = checks_mh.check_head_ablation(worst_ablation, model, val_batch)

# %% [markdown] tags=["solution"]
# ### Solutions
#
# **1.** Head a owns features a·D … (a+1)·D − 1 of each projection's output, which are rows
# a·D … (a+1)·D − 1 of its weight matrix and the same entries of its bias; its scores are scaled
# by √D, the size of its own queries.

# %% tags=["solution"]
def head_output(x: torch.Tensor, mha: MultiHeadAttention, a: int) -> torch.Tensor:
    D = x.shape[-1] // mha.num_heads
    rows = slice(a * D, (a + 1) * D)
    q, k, v = (x @ p.weight[rows].T + p.bias[rows] for p in (mha.query, mha.key, mha.value))  # (B, T, D) each
    return (q @ k.transpose(-2, -1) / math.sqrt(D)).softmax(dim=-1) @ v


assert checks_mh.check_head_output(head_output)

# %% [markdown] tags=["solution"]
# **2.** Two full H × H matrices with their biases, and two H × D ones with theirs.

# %% tags=["solution"]
def mqa_parameters(H: int, A: int) -> int:
    D = H // A
    return 2 * (H * H + H) + 2 * (H * D + D)


assert checks_mh.check_mqa_parameters(mqa_parameters)
print(f"BERT-base's attention: {multi_head_parameter_count(768):,} parameters per layer, "
      f"{mqa_parameters(768, 12):,} with one shared key and value head")

# %% [markdown] tags=["solution"]
# **3.** The pre-hook receives the input of W_O, the heads side by side, and returns it with one
# head's slice multiplied by 0. Nothing is retrained: this measures what the trained model does
# without the head. Each silenced head costs some accuracy and none costs all of it, not even down
# to the most-frequent-sense baseline: the other heads, and the residual that keeps each word's own
# vector, still carry part of what layer 1 needs. Set the two printed lines side by side to see
# whether the costliest head is the one that gives the cue the most weight.

# %% tags=["solution", "nbval-ignore-output"]
D = d_model // num_heads
polysemous = val_batch["labels"] > 0  # the words with a sense; tag 0 is "-"
ablated = {}
for head in [None, *range(num_heads)]:  # None: every head kept
    keep = torch.ones(d_model)
    if head is not None:
        keep[head * D:(head + 1) * D] = 0
    handle = model.layers[0].out.register_forward_pre_hook(lambda module, args: (args[0] * keep,))
    with torch.no_grad():
        logits, _ = model(val_batch["input_ids"], val_batch["attention_mask"])
    handle.remove()
    ablated[head] = (logits.argmax(-1)[polysemous] == val_batch["labels"][polysemous]).float().mean().item()
print(f"sense accuracy, every head: {ablated.pop(None):.3f}; with one head of layer 0 silenced:",
      {h: round(a, 3) for h, a in ablated.items()})
print("weight on the cue per head of layer 0 (section 6):", [round(w, 3) for w in cue_weight[0].tolist()])
worst_ablation = min(ablated.values())
assert worst_ablation > baseline  # no single head is indispensable
assert checks_mh.check_head_ablation(worst_ablation, model, val_batch)
