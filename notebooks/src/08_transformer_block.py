# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 08 · The Transformer block
#
# Notebooks 05–07 built attention, multi-head self-attention and positional encodings. A **Transformer**
# (Transformer（变换器）) stacks them into blocks with two more ingredients: a **residual connection**
# (残差连接) with **layer normalization** (层归一化) around every sub-layer ("Add & Norm"), and a small
# **feed-forward network** (前馈网络, FFN) applied to each position. This notebook builds the encoder layer
# piece by piece and checks it against `course_lib` and against PyTorch, builds the decoder, trains an
# **encoder / decoder** (编码器 / 解码器) model to reorder toy-world sentences, decodes greedily, looks at
# its attention, and measures why attention replaced recurrence: CNN vs RNN vs self-attention, and whether
# attention's short path lets a model keep a distant cue.

# %% tags=["parameters"]
# Parameters: papermill can override any of these, e.g. `-p steps 800 -p device cuda`.
seed = 0  # every random draw in the notebook follows from it
corpus = "toyworld"  # the reordering task is generated from the toy world's tagged sentences
num_documents = 2000  # training documents (about 4.5 sentence pairs each)
d_model = 128  # width of the seq2seq Transformer
num_heads = 4
d_ff = 512  # hidden width of the FFN (4 x d_model, as in the paper)
num_layers = 2  # encoder layers, and as many decoder layers
dropout = 0.0  # the generated data is plentiful: no dropout needed, and training is faster
steps = 450  # optimizer steps of the seq2seq model
lr = 2e-3
batch_size = 64
timing_lengths = [16, 32, 64, 128, 256, 512]  # sequence lengths of the CNN / RNN / attention timing
device = "auto"  # "auto" picks CUDA when present, else the CPU
range_steps = 300  # section 9: steps of each language model (LSTM and Transformer alike)
range_documents = 3000  # their pre-training documents (the toy world with its families on)
range_probe_documents = 8000  # labelled documents for the probes
range_test_documents = 6000
threads = 1  # torch CPU threads: the models are small, one thread is fastest and gives the same numbers everywhere

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.testing import assert_close

from course_lib import TrainConfig, fit, get_device, seed_everything, show_source, toyworld_corpus
from course_lib.attention import causal_mask
from course_lib.data import phrase_reversal_examples
from course_lib.text import Vocab
from course_lib.text.collate import collate_seq2seq
from course_lib.transformer import (
    FeedForward, Seq2SeqTransformer, TransformerConfig, TransformerDecoder, TransformerEncoderLayer,
    joint_attention, seq2seq_batches, sequence_exact_match, translate
)
from course_lib.viz import AttentionExplorer, plot_attention

seed_everything(seed)
torch.set_num_threads(threads)
dev = get_device(device)
assert corpus == "toyworld", "the reordering task is generated from the toy world"

# %% [markdown]
# ## 1 · Add & Norm
#
# **Why.** Deep stacks are hard to train: each layer multiplies the gradient by its own Jacobian, and
# after many layers the signal that reaches the bottom can vanish. A **residual connection** computes
# x + sublayer(x) instead of sublayer(x): the identity path carries the input, and its gradient, through
# every layer untouched. **Layer normalization** then rescales each token vector to mean 0 and variance 1
# (with a learned scale and shift), so that the sums do not grow from layer to layer.
#
# **Build.** LayerNorm in three lines, checked against torch's:

# %%
def layer_norm_sketch(x, weight, bias, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, unbiased=False, keepdim=True)  # over the features of one token, not over the batch
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


norm = nn.LayerNorm(16)
x = torch.randn(2, 5, 16) * 3 + 1
assert_close(layer_norm_sketch(x, norm.weight, norm.bias), norm(x))
y = norm(x)
print(f"before: token means {x.mean(-1).abs().max():.2f} (largest), stds up to {x.std(-1, unbiased=False).max():.2f}")
print(f"after:  every token has mean {y.mean(-1).abs().max():.3f} and std {y.std(-1, unbiased=False).mean():.3f}")

# %% [markdown]
# **Measure what the residual path does.** Two stacks of 12 freshly initialized FFN blocks with
# LayerNorm, identical weights; one adds the residual. We push 200 random token vectors through each
# and ask: does the output still resemble its input, and are different tokens still different? Three
# seeds draw three sets of weights and tokens.

# %% tags=["nbval-ignore-output"]
import torch.nn.functional as F

from course_lib.core import spread


def random_stack(s: int):
    """12 freshly initialized FFN blocks (32 -> 64 -> 32), their LayerNorms and 200 random tokens, from seed s."""
    seed_everything(s)
    return (nn.ModuleList(FeedForward(32, 64) for _ in range(12)), nn.ModuleList(nn.LayerNorm(32) for _ in range(12)),
            torch.randn(200, 32))


@torch.no_grad()
def through_stack(residual: bool, blocks, norms, tokens) -> tuple[float, float]:
    h = tokens
    for block, ln in zip(blocks, norms):
        h = ln(h + block(h)) if residual else ln(block(h))
    unit = F.normalize(h, dim=-1)
    between = (unit @ unit.T)[~torch.eye(len(h), dtype=torch.bool)].mean()
    return F.cosine_similarity(h, tokens).mean().item(), between.item()


stack_seeds = [seed, seed + 1, seed + 2]
runs = {s: random_stack(s) for s in stack_seeds}
blocks, norms, tokens = runs[seed]  # the stack of this notebook's seed, for the exercises
stacks = {name: [through_stack(residual, *runs[s]) for s in stack_seeds]
          for name, residual in (("with residual", True), ("without residual", False))}
keep = {name: spread(k for k, _ in rows) for name, rows in stacks.items()}
between = {name: spread(b for _, b in rows) for name, rows in stacks.items()}
print(f"12 blocks, mean ± sd over seeds {stack_seeds}")
print(f"{'':18} {'cos(output, its input)':>23} {'mean cos between tokens':>25}")
for name in stacks:
    print(f"{name:18} {keep[name].format(2):>23} {between[name].format(2):>25}")
assert keep["with residual"].low > 0.5 > keep["without residual"].high
assert between["without residual"].low > 0.8 > between["with residual"].high

# %% [markdown]
# With residuals each output is still close to its own input, and tokens stay apart. Without them the
# input is forgotten after 12 blocks, and all 200 tokens point in nearly the same direction, on every
# seed: a deep stack without residuals starts out destroying the very information it should refine.

# %% [markdown]
# ## 2 · The position-wise feed-forward network
#
# After attention has mixed information *between* positions, the FFN transforms each position *on its
# own*: FFN(x) = W₂ ReLU(W₁ x + b₁) + b₂, with a hidden layer 4 times wider than the model. "Position-wise"
# is a testable claim: running the FFN on the whole sequence or on one token alone gives the same vector.

# %%
ffn = FeedForward(d_model=16, d_ff=64)
x = torch.randn(2, 5, 16)
assert_close(ffn(x)[:, 3], ffn(x[:, 3:4])[:, 0])
assert_close(ffn(x), ffn.linear2(torch.relu(ffn.linear1(x))))
n_ffn = sum(p.numel() for p in ffn.parameters())
print(f"FFN(16 -> 64 -> 16): {n_ffn} parameters = 2·16·64 + 64 + 16 = {2 * 16 * 64 + 64 + 16}")
print("position 3 alone gives the same output as position 3 in the sequence: True")

# %% [markdown]
# ## 3 · The encoder layer, piece by piece
#
# One encoder layer is: self-attention → Add & Norm → FFN → Add & Norm. That is the whole sketch — the
# parts are the multi-head attention of notebook 06, a LayerNorm and the FFN above:

# %%
def encoder_layer_sketch(x, attention, norm1, ffn, norm2):
    a, _ = attention(x, x, x)  # 1. every token attends to every token
    x = norm1(x + a)  # 2. Add & Norm
    f = ffn(x)  # 3. each position alone
    return norm2(x + f)  # 4. Add & Norm


# %% [markdown]
# The tested layer in `course_lib.transformer` keeps exactly these parts as attributes (`self_attn`,
# `norm1`, `ffn`, `norm2`), so we can feed them to the sketch and compare. Then we copy a PyTorch
# `nn.TransformerEncoderLayer` into our layer with `from_torch` and compare with torch's own output.

# %%
seed_everything(seed)
layer = TransformerEncoderLayer(d_model=32, num_heads=4, d_ff=128).eval()
x = torch.randn(3, 7, 32)
ours, _ = layer(x)
assert_close(encoder_layer_sketch(x, layer.self_attn, layer.norm1, layer.ffn, layer.norm2), ours)

reference = nn.TransformerEncoderLayer(32, 4, 128, batch_first=True).eval()
copied = TransformerEncoderLayer.from_torch(reference)
assert_close(copied(x)[0], reference(x))
print("sketch == course_lib layer; course_lib layer (from_torch) == nn.TransformerEncoderLayer")

# %%
show_source(TransformerEncoderLayer.forward)

# %% [markdown]
# The `norm_first` branch is **pre-LN**: normalize *before* each sub-layer and add the raw residual
# after. The original paper and BERT use post-LN (the other branch); pre-LN trains more stably in very
# deep models and is what GPT-2 and most later models use. torch has the same switch, and they agree:

# %%
reference_pre = nn.TransformerEncoderLayer(32, 4, 128, batch_first=True, norm_first=True).eval()
assert_close(TransformerEncoderLayer.from_torch(reference_pre)(x)[0], reference_pre(x))
H, F_ = 32, 128
formula = (4 * H * H + 4 * H) + (2 * H * F_ + F_ + H) + 2 * (2 * H)
count = sum(p.numel() for p in layer.parameters())
print(f"pre-LN agrees with torch too. Parameters of one layer: {count:,} = attention 4H²+4H "
      f"+ FFN 2H·d_ff+d_ff+H + two LayerNorms 4H = {formula:,}")
assert count == formula

# %% [markdown]
# ## 4 · The decoder: masked self-attention and encoder–decoder attention
#
# The decoder writes the output one token at a time. Each decoder layer has three sub-layers, each with
# Add & Norm:
#
# 1. **masked self-attention**: position t may look only at positions ≤ t (the **mask** (掩码) of notebook
#    05) — at generation time the later tokens do not exist yet;
# 2. **encoder–decoder (cross-) attention**: queries from the decoder, keys and values from the encoder's
#    output, the *memory*: this is where the decoder reads the source sentence;
# 3. the FFN.
#
# In the figure, the encoder layer of section 3 (left) beside the decoder layer (right): follow each
# residual arrow around its sub-layer into an Add & Norm, and the encoder's output entering every
# decoder layer's cross-attention as its keys and values.

# %%
from course_lib.diagrams import draw_transformer_blocks

draw_transformer_blocks()

# %% [markdown]
# **Causality, measured by perturbation.** Change the decoder inputs after step t: the outputs up to t
# must not move, those after t must.

# %%
seed_everything(seed)
decoder = TransformerDecoder(num_layers=2, d_model=32, num_heads=4, d_ff=64, dropout=0.0).eval()
memory = torch.randn(1, 6, 32)  # an encoded source sentence of 6 tokens
y = torch.randn(1, 8, 32)  # 8 decoder inputs
with torch.no_grad():
    out, weights = decoder(y, memory, need_weights=True)
    for t in (2, 5):
        changed = y.clone()
        changed[:, t + 1:] += torch.randn(1, 7 - t, 32)
        out2, _ = decoder(changed, memory)
        before = (out2[:, :t + 1] - out[:, :t + 1]).abs().max().item()
        after = (out2[:, t + 1:] - out[:, t + 1:]).abs().max().item()
        print(f"inputs after step {t} changed: outputs 0..{t} move by {before:.1f}, outputs {t + 1}..7 by {after:.2f}")
        assert before < 1e-6 and after > 0.01
print("self-attention weights:", tuple(weights[0].self_attention.shape),
      "  cross-attention weights:", tuple(weights[0].cross_attention.shape), "(B, heads, T_target, T_source)")

# %% [markdown]
# Left: the causal mask (True = may attend). Middle: the first decoder layer's masked self-attention
# (head 0), zero above the diagonal. Right: its cross-attention, a full rectangle: every target
# position may read every source token.

# %%
fig, axes = plt.subplots(1, 3, figsize=(10.5, 3), dpi=80, layout="constrained")
panels = [(causal_mask(8).float(), "causal mask"), (weights[0].self_attention[0, 0], "masked self-attention"),
          (weights[0].cross_attention[0, 0], "cross-attention")]
for ax, (w, title) in zip(axes, panels):
    image = ax.imshow(w, cmap="Blues", vmin=0, vmax=1)  # one scale: mask True = 1, weights in [0, 1]
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("target position")
    ax.set_xlabel("source position" if "cross" in title else "target position")
fig.colorbar(image, ax=axes, shrink=0.8).set_label("attention weight (mask: 1 = may attend)", fontsize=8)

# %% [markdown]
# ## 5 · A sequence-to-sequence task: reversing phrase order
#
# The toy world's reordering task: the source is a sentence, the target has the same phrases in reverse
# order ("the old cow sleeps" → "sleeps the old cow"). The model must read the whole source, find the
# phrase boundaries, and copy the phrases back in the other order — a job for cross-attention. We train
# on pairs from the training split and measure on pairs from the held-out test split.

# %%
train = phrase_reversal_examples(toyworld_corpus("train", seed=seed, num_documents=num_documents))
val = phrase_reversal_examples(toyworld_corpus("validation", seed=seed, num_documents=100))[:300]
test = phrase_reversal_examples(toyworld_corpus("test", seed=seed, num_documents=200))
vocab = Vocab.build(e.source for e in train)
print(f"{len(train)} training, {len(val)} validation, {len(test)} test pairs; vocabulary {len(vocab)}")
for e in test[:3]:
    print(f"  {' '.join(e.source):45} -> {' '.join(e.target)}")

# %% [markdown]
# **Teacher forcing.** In training the decoder gets the true previous tokens: its input is `<bos>` +
# target, and at each position it must predict the next token, target + `<eos>`. One forward pass
# trains all positions at once — the causal mask keeps it honest.

# %%
batch = collate_seq2seq(test[:1], vocab)
for name in ("src_ids", "tgt_in", "tgt_out"):
    print(f"{name:8}", vocab.decode(batch[name][0].tolist()))

# %%
config = TransformerConfig(vocab_size=len(vocab), d_model=d_model, num_heads=num_heads, d_ff=d_ff,
                           num_encoder_layers=num_layers, num_decoder_layers=num_layers, dropout=dropout,
                           max_len=32)
seed_everything(seed)
model = Seq2SeqTransformer(config)
print(config)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")

# %% tags=["nbval-ignore-output"]
history = fit(model, seq2seq_batches(train, vocab, batch_size, seed=seed),
              TrainConfig(steps=steps, lr=lr, warmup_steps=100, schedule="linear", eval_every=100,
                          monitor="exact_match", mode="max", seed=seed, device=device, desc="seq2seq"),
              evaluate=lambda m: {"exact_match": sequence_exact_match(m, val, vocab)})
print(f"trained {steps} steps in {history.seconds:.1f} s")

# %% [markdown]
# **Exact match** counts an output as right only if every token is right, in order, and it stops at the
# right place. The validation curve (below) rises steeply once the model has found the phrase boundaries.

# %% tags=["nbval-ignore-output"]
test_em = sequence_exact_match(model, test, vocab)
print("validation exact match by step:", [(e["step"], round(e["exact_match"], 2)) for e in history.evals])
print(f"held-out test exact match: {test_em:.2f} on {len(test)} pairs")
assert test_em >= 0.9

# %%
fig, ax = plt.subplots(figsize=(6, 3), dpi=80)
ax2 = ax.twinx()
history.plot(metrics=(), ax=ax)
ax2.plot(*history.metric("exact_match"), "o-", color="C1", ms=4, label="validation exact match")
ax2.set_ylim(0, 1.05)
ax2.set_ylabel("exact match")
ax2.legend(fontsize=8, loc="center right")
ax.set_ylabel("training loss")
fig.tight_layout()

# %% [markdown]
# The loss (left axis) falls fast; exact match (right axis) lags behind, because one wrong token anywhere
# makes a whole output wrong.
#
# ## 6 · Greedy decoding
#
# At test time there is no target to feed in. **Greedy decoding** (贪心解码) starts from `<bos>`, runs the
# decoder, appends the single most probable token, and repeats until the model says `<eos>` or a maximum
# length is reached. The encoder runs once; the decoder once per output token. The sketch:

# %%
@torch.no_grad()
def greedy_sketch(model, source: list[str], max_len: int = 20) -> list[str]:
    model.eval()
    memory, _ = model.encode(torch.tensor([vocab.encode(source)], device=dev))
    ys = [vocab.bos_id]
    for _ in range(max_len):
        logits, _ = model.decode(torch.tensor([ys], device=dev), memory)
        next_id = logits[0, -1].argmax().item()  # the single most probable next token
        if next_id == vocab.eos_id:
            break
        ys.append(next_id)
    return vocab.decode(ys[1:])


outputs = translate(model, [e.source for e in test[:6]], vocab)
for e, out in zip(test[:6], outputs):
    assert greedy_sketch(model, e.source) == out  # the sketch and the library's batched decoder agree
    print(f"{'✓' if out == e.target else '✗'} {' '.join(e.source):42} -> {' '.join(out)}")

# %% [markdown]
# The library's `greedy_decode` does the same for a whole batch, fills finished rows with `[PAD]`, and
# never writes more than `max_len` tokens. With `max_len=3` every output is cut after three tokens:

# %% tags=["nbval-ignore-output"]
short = translate(model, [e.source for e in test[:3]], vocab, max_len=3)
print([" ".join(s) for s in short])
assert all(len(s) <= 3 for s in short)
wrong = [(e, o) for e, o in zip(test, translate(model, [e.source for e in test], vocab)) if o != e.target]
print(f"{len(wrong)} of {len(test)} test outputs are wrong" + (", for example:" if wrong else ""))
for e, o in wrong[:2]:
    print(f"  {' '.join(e.source)}\n    model:  {' '.join(o)}\n    target: {' '.join(e.target)}")

# %% [markdown]
# ## 7 · Looking at the attention
#
# Three kinds of attention for one test sentence, last layer, averaged over the heads. The rows of the
# decoder panels are labelled with the token each position *predicts*. What to see: the
# cross-attention (right) is close to a permutation — each output token reads exactly the source word
# it copies, so going down the rows the source phrases are visited in reverse order. The decoder's
# self-attention (middle) stays on or below the diagonal; the encoder's (left) is spread out: each
# source word gathers context from several others, which is how it learns where phrases begin.

# %% tags=["nbval-ignore-output"]
example = test[1]
predicted = translate(model, [example.source], vocab)[0]
src = torch.tensor([vocab.encode(example.source)], device=dev)
tgt_in = torch.tensor([[vocab.bos_id, *vocab.encode(predicted)]], device=dev)
att = model.attention(src, tgt_in)
inputs = ["<bos>", *predicted]
predicts = [f"→ {w}" for w in [*predicted, "<eos>"]]

fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), dpi=80, layout="constrained")
plot_attention(att.encoder[-1][0].mean(0).cpu(), example.source, ax=axes[0], title="encoder self-attention")
plot_attention(att.decoder_self[-1][0].mean(0).cpu(), inputs, predicts, ax=axes[1],
               title="decoder masked self-attention")
plot_attention(att.cross[-1][0].mean(0).cpu(), example.source, predicts, ax=axes[2], title="cross-attention")
cross = att.cross[-1][0].mean(0)  # (T_target, T_source)
reads_its_word = [example.source[j] == w for w, j in zip(predicted, cross.argmax(-1).tolist())]
print("source:", " ".join(example.source), "| output:", " ".join(predicted))
print(f"output tokens whose strongest cross-attention is on the word they copy: "
      f"{sum(reads_its_word)} of {len(predicted)}")
assert sum(reads_its_word) >= 0.6 * len(predicted)

# %% [markdown]
# **The explorer.** All layers and heads of the same model, for any sentence you type (words of the
# toy world). To show the three kinds in one square map, rows and columns are the source tokens
# followed by the decoder's input tokens (marked ▸): the top-left block is encoder self-attention, the
# bottom-right block the decoder's masked self-attention, the bottom-left block cross-attention (each
# decoder row holds two distributions, each summing to 1). Layer l shows encoder layer l and decoder
# layer l. The static figure above is what GitHub and HTML exports show.

# %% tags=["nbval-ignore-output"]
def seq2seq_attention(sentence: str):
    source = sentence.split()
    output = translate(model, [source], vocab)[0]
    s = torch.tensor([vocab.encode(source)], device=dev)
    t = torch.tensor([[vocab.bos_id, *vocab.encode(output)]], device=dev)
    tokens = source + [f"▸{w}" for w in ["<bos>", *output]]
    return tokens, joint_attention(model.attention(s, t)).cpu()


explorer = AttentionExplorer(seq2seq_attention, [" ".join(e.source) for e in test[:8]])
explorer.head.value = "all"
explorer.view.value = "heatmap"
explorer

# %% [markdown]
# ## 8 · CNN vs RNN vs self-attention
#
# Why did attention replace recurrence? Take one layer of each kind, all of the same width C: an LSTM
# (notebook 02), a 1-D convolution with a window of 3 tokens, and multi-head self-attention. Three
# questions: what can one output position see (its **receptive field**), how many steps separate the
# first token from the last (the **path length** a dependency must travel), and how many steps must run
# one after another? The receptive fields below are *measured*: the input positions whose gradient at
# output position 4 (of 9) is non-zero.

# %%
from course_lib.transformer import matched_layers, path_lengths, receptive_field

n = 9
small = matched_layers(width=16)
paths = path_lengths(n, kernel_size=3)
C = 128
print(f"{'layer':15} {'position 4 sees':28} {'layers: 1st→9th':>15} {'sequential':>10} {'max path':>9} "
      f"{'parameters (C=128)':>19}")
for name, layer in small.items():
    seen = receptive_field(layer, T=n, position=4)
    needed = next(L for L in range(1, n + 1) if 0 in receptive_field(layer, T=n, position=n - 1, num_layers=L))
    assert needed == paths[name]["layers"]
    params = sum(p.numel() for p in matched_layers(width=C)[name].parameters())
    p = paths[name]
    print(f"{name:15} {str(seen):28} {needed:>15} {p['sequential steps']:>10} {p['max path length']:>9} "
          f"{params:>19,}")

# %% [markdown]
# Read the table row by row. The LSTM sees everything to its left, but the first token reaches the last
# only through n − 1 = 8 sequential steps, and those steps cannot run in parallel. The CNN runs every
# position in parallel but sees only 3 tokens per layer: 8 stacked layers before token 1 reaches token
# 9. Self-attention sees every token in one layer, with a path of length 1, all in parallel. What does
# each pay for that?
#
# **The cost per layer, formula beside measurement.** The Transformer paper sums it up in three
# columns [Vaswani et al. 2017, Table 1]: the work per layer, the operations that must run one after
# another, and the longest path between two positions. For n tokens of width d and a window of k:
# self-attention costs O(n²·d) (every position against every other), a recurrent layer O(n·d²) (a d × d
# product per position), a convolution O(k·n·d²). Below, the exact multiply-adds of our three layers
# (the formula for each module, with its constant) beside what torch counts as the layer runs
# (`multiply_adds`), the chain of operations read from the autograd graph (`dependency_depth`, as in
# notebook 02), and the path length of the table above, at the longest length we time.

# %%
from course_lib.transformer import dependency_depth, layer_costs, multiply_adds, parallel_times

n_long = timing_lengths[-1]
layers = matched_layers(width=C)
costs = layer_costs(n_long, C, kernel_size=3)
chains = {name: {n: dependency_depth(layer, n) for n in (n_long // 2, n_long)} for name, layer in layers.items()}
print(f"n = {n_long} tokens, d = {C}, k = 3")
print(f"{'layer':15} {'work':>10} {'multiply-adds: formula':>23} {'counted':>14} {'sequential':>11} "
      f"{'chain at n/2, n':>16} {'max path':>9} {'path at n':>10}")
for name, layer in layers.items():
    c = costs[name]
    counted = multiply_adds(layer, n_long)
    assert counted == c["multiply-adds"]
    print(f"{name:15} {c['complexity']:>10} {c['multiply-adds']:>23,} {counted:>14,} {c['sequential operations']:>11} "
          f"{str(tuple(chains[name].values())):>16} {c['max path length']:>9} {c['path steps']:>10}")
assert chains["LSTM"][n_long] > 1.9 * chains["LSTM"][n_long // 2]  # the chain doubles with n
assert chains["self-attention"][n_long] == chains["self-attention"][n_long // 2]  # and does not for attention
two_d = 2 * C
print(f"attention's 2·n²·d (scores and weighted sum) equals its 4·n·d² (projections) at n = 2d = {two_d}; "
      f"at n = {n_long} it is {2 * n_long / (4 * C):.1f}x as large")
work_ratio = costs["self-attention"]["multiply-adds"] / costs["LSTM"]["multiply-adds"]
print(f"at n = {n_long}, attention does {work_ratio:.2f}x the LSTM's multiply-adds")

# %% [markdown]
# The counted column equals the formula for every layer: the formulas are what the layers do. The last
# line compares attention's work with the LSTM's at this length: past n = 2d its n² term leads, and at
# the default longest length attention does more work than the LSTM. Yet it is the LSTM whose chain of
# operations grows with n. Work and sequence are different costs; which one
# decides the time depends on the hardware.
#
# **Measured on this machine:** the forward time of each layer (width 128, batch 16) against the
# sequence length, on one CPU thread and on two (and on the GPU when torch sees one), the fastest of
# five runs. The numbers vary from machine to machine and with the load, so these cells' outputs are
# not compared.

# %% tags=["nbval-ignore-output"]
times = parallel_times(timing_lengths, names=list(layers), threads=(1, 2), batch_size=16, width=C, repeats=5,
                       seed=seed, max_seconds=1.0, lstm_kernel="onednn")
for where, by_layer in times.items():
    print(f"{where}: milliseconds per forward pass")
    print(f"{'T':>6} " + " ".join(f"{name:>15}" for name in by_layer))
    for T in timing_lengths:
        print(f"{T:>6} " + " ".join(f"{by_layer[name][T]:>15.2f}" for name in by_layer))
one = times["1 thread"]
half = timing_lengths[-2]
print(f"\ndoubling T from {half} to {n_long} (one thread): multiply-adds x (formula) and time x (measured)")
for name in layers:
    formula = layer_costs(n_long, C)[name]["multiply-adds"] / layer_costs(half, C)[name]["multiply-adds"]
    print(f"{name:15} work x{formula:.2f}   time x{one[name][n_long] / one[name][half]:.2f}")
for where, by_layer in times.items():
    ranked = sorted(by_layer, key=lambda name: by_layer[name][n_long])
    print(f"{where}, T = {n_long}: fastest {ranked[0]}, slowest {ranked[-1]}")
if "2 threads" in times:
    print(f"a second thread at T = {n_long}: " + ", ".join(
        f"{name} x{one[name][n_long] / times['2 threads'][name][n_long]:.2f}" for name in layers))
assert one["LSTM"][n_long] > 3 * one["LSTM"][timing_lengths[2]], "the LSTM's time must grow with T"

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=80)
for where, style in zip(times, ("o-", "s--", "^:")):
    for (name, row), colour in zip(times[where].items(), ("C0", "C1", "C2")):
        ax.plot(timing_lengths, [row[T] for T in timing_lengths], style, color=colour, ms=4, label=f"{name}, {where}")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("sequence length T")
ax.set_ylabel("ms per forward pass")
ax.set_title("one layer, width 128, batch 16 (this machine)", fontsize=10)
ax.legend(fontsize=8, ncol=2)
fig.tight_layout()

# %% [markdown]
# What to see, with the printed ratios beside the plot (both are this run's): on one thread the time
# follows the work column. Doubling T doubles the LSTM's and the CNN's work; attention's grows by more
# once its n² term leads; the "work ×" line gives the formula's ratio and the "time ×" line the
# measured one, and the slopes of the solid lines tell the same. A second thread (dashed) shares the
# work that is there at once. With a batch of 16 sentences, each LSTM step is a product over 16 rows,
# which two threads can share too: compare the printed speed-ups. The chain of T steps shows when
# there is little work per step and many cores: one sentence at a time (notebook 02 measured it), or a
# GPU with thousands of cores. The CNN is the cheapest per layer, but with a window of 3 it needs T − 1
# layers to connect the two ends. So the Transformer did not replace recurrence by doing less work (at
# long lengths it does more); it replaced a chain of T steps by a constant one, which hardware with
# many cores can run at once.

# %% [markdown]
# ## 9 · Does a short path carry a cue further?
#
# Self-attention connects any two positions in one step; an LSTM passes a word on through every step
# in between. Does the short path let a model keep a distant cue? Notebook 04 (section 9) measured
# how a sense cue fades in the biLM's features over d = 1 to 12 words. Here the same question is put
# to a Transformer, with everything else held equal:
#
# - **the same objective and context**: predict the next word from the words to the left. The
#   Transformer is a causal one (a GPT: self-attention with a causal mask, notebook 12), the LSTM is
#   the forward half of notebook 04's 2-layer biLMs, and only left cues are tested ("the sweaty old
#   lazy palm"), which both have read;
# - **the same data and budget**: the corpus with the toy world's families on, the same documents,
#   batches of 64 sentences and number of steps, two layers of width 64 each (sizes printed below);
# - **the same probe**: a linear classifier on the concatenated layers 1 and 2 at the polysemous word,
#   three training seeds per model.

# %% tags=["nbval-ignore-output"]
import math

from course_lib.core import majority_accuracy, probe_accuracy_by, spread
from course_lib.data import long_range_sense_examples, named_toy_world
from course_lib.elmo import BiLMConfig, BiLMSettings, direction_features, layer_features, pretrained_bilm
from course_lib.gpt import GPTConfig, GPTSettings, gpt_layer_features, pretrained_gpt
from course_lib.lm import LMDataConfig

family_world = named_toy_world("toyworld-families")
cue_train = long_range_sense_examples(family_world.corpus("train", seed + 1000, range_probe_documents), family_world,
                                      sides=["left"])
cue_test = long_range_sense_examples(family_world.corpus("test", seed + 1000, range_test_documents), family_world,
                                     sides=["left"])
y_cue_train = torch.tensor([e.sense_id for e in cue_train])
y_cue_test = torch.tensor([e.sense_id for e in cue_test])
cue_distances = sorted({e.cue_distance for e in cue_test})
print(f"left-cue sense tokens: {len(cue_train)} training, {len(cue_test)} test, at distances {cue_distances}")


def lstm_features(model, examples):
    layers, _ = layer_features(model, [e.tokens for e in examples], [e.position for e in examples])
    return direction_features(layers, "forward")  # the forward LSTM's layers 1..L: the left context only


def gpt_features(model, examples):
    return torch.cat(gpt_layer_features(model, [e.tokens for e in examples], [e.position for e in examples])[1:], -1)


range_seeds = [seed + k for k in range(3)]
by_distance = {"LSTM (forward)": {}, "Transformer (causal)": {}}
for s in range_seeds:
    data = LMDataConfig(corpus="toyworld-families", seed=s, train_documents=range_documents)
    lstm_lm, lstm_history = pretrained_bilm(BiLMSettings(model=BiLMConfig(hidden_size=64, num_layers=2),
                                                         steps=range_steps, seed=s, data=data))
    causal, causal_history = pretrained_gpt(GPTSettings(model=GPTConfig(hidden_size=64, num_layers=2, num_heads=4),
                                                        steps=range_steps, seed=s, data=data))
    for name, model, features in (("LSTM (forward)", lstm_lm, lstm_features),
                                  ("Transformer (causal)", causal, gpt_features)):
        by_distance[name][s] = probe_accuracy_by(features(model, cue_train), y_cue_train, features(model, cue_test),
                                                 y_cue_test, [e.cue_distance for e in cue_test], seed=seed)
lstm_weights = sum(p.numel() for n, p in lstm_lm.named_parameters() if "forward" in n)
causal_weights = sum(p.numel() for n, p in causal.named_parameters() if n.startswith("blocks"))
print(f"{range_steps} steps each; weights past the embeddings: forward LSTM {lstm_weights:,}, "
      f"Transformer blocks {causal_weights:,}")
print(f"held-out nats per word, next-word prediction (seed {range_seeds[-1]}): forward LSTM "
      f"{math.log(lstm_history.best['forward_ppl']):.3f}, Transformer {causal_history.best['val_loss']:.3f}")

# %% tags=["nbval-ignore-output"]
range_majority = majority_accuracy([e.word for e in cue_train], y_cue_train, [e.word for e in cue_test], y_cue_test)
accuracy = {name: {d: spread(runs[s][d] for s in range_seeds) for d in cue_distances} for name, runs in by_distance.items()}
print(f"{'model':>22}" + "".join(f"{f'd={d}':>15}" for d in cue_distances))
for name, row in accuracy.items():
    print(f"{name:>22}" + "".join(f"{row[d].format():>15}" for d in cue_distances))
print(f"{'per-word majority':>22}{range_majority:>15.3f}")
fig, ax = plt.subplots(figsize=(5, 3), dpi=80, layout="constrained")
for (name, row), marker in zip(accuracy.items(), "os"):
    ax.errorbar(cue_distances, [row[d].mean for d in cue_distances], yerr=[row[d].sd for d in cue_distances],
                marker=marker, capsize=3, label=name)
ax.axhline(range_majority, color="grey", ls=":", lw=1, label="per-word majority")
ax.set_xticks(cue_distances)
ax.set_xlabel("distance d from the cue to the word (words)", fontsize=8)
ax.set_ylabel("sense probe accuracy (test)", fontsize=8)
ax.tick_params(labelsize=8)
ax.legend(fontsize=8)
near, far = cue_distances[:2], cue_distances[-2:]


def pooled(name, ds):  # the mean over some distances, per seed
    return spread(sum(by_distance[name][s][d] for d in ds) / len(ds) for s in range_seeds)


for name in accuracy:
    loss = spread(a - b for a, b in zip(pooled(name, near).values, pooled(name, far).values))
    print(f"{name}: d in {near} {pooled(name, near).format()}, d in {far} {pooled(name, far).format()}, "
          f"lost {loss.format()}")
lstm_near, causal_near = pooled("LSTM (forward)", near), pooled("Transformer (causal)", near)
lstm_loss = spread(a - b for a, b in zip(lstm_near.values, pooled("LSTM (forward)", far).values))
assert lstm_loss.mean >= 0.15 and lstm_loss.mean > 2 * lstm_loss.sd  # the LSTM's features lose the distant cue
assert lstm_near.mean - causal_near.mean > lstm_near.sd + causal_near.sd  # the Transformer's are weaker near

# %% [markdown]
# The figure gives each model's sense accuracy against the distance of the cue (± one sd over three
# training seeds). What to see: the LSTM's features hold most of the sense when the cue is near and
# lose most of it over a few words. The Transformer's features lose less with distance, but only
# because they hold less of the sense to begin with: near, they are clearly below the LSTM's (the
# lines above), and far, both models are close to the majority baseline.
#
# So the short path does not, by itself, make a model keep a cue. A path is what a model *can* use;
# what it keeps is what its objective rewards. A causal LM needs the sense of "palm" only to predict
# the words after it, and in these sentences they do not depend on it, so neither model is asked to
# hold it. The "short path" argument predicts a Transformer that loses less than half of what the
# LSTM loses, with as much to lose; these numbers do not show it, and we know no budget that does:
# in a longer run (`-p range_steps 2000 -p range_documents 6000`; the README's notes give its
# numbers) the Transformer's features held less of the sense near the word, not more. Notebook 09
# changes the objective: a masked LM must predict a hidden word from both sides, which asks for
# exactly the cues this section's models were free to forget.

# %% [markdown]
# ## Exercises
#
# Each exercise has a checker from `course_lib.checks.transformer` that tells you what is right or
# wrong. Fill in the answer, run the cell, read the message. Worked solutions follow below.
#
# **Exercise 1 · the size of a decoder layer.** Section 3 counted an encoder layer's parameters.
# Write `decoder_layer_parameters(H, d_ff)`: the parameters of one `TransformerDecoderLayer` of
# width H and FFN width d_ff (section 4 lists its sub-layers), biases and LayerNorms included.

# %%
from course_lib.checks import transformer as checks_tf


def decoder_layer_parameters(H: int, d_ff: int) -> int:
    raise NotImplementedError  # your code here


done = checks_tf.check_decoder_layer_parameters(decoder_layer_parameters)

# %% [markdown]
# **Exercise 2 · how deep must a CNN be?** Write `cnn_layers(n, k)`: the number of stacked convolutions
# with a centred window of k tokens (k odd) needed before the first of n tokens can affect the last.
# Check your answer against the measured column of the table in section 8.

# %%
def cnn_layers(n: int, k: int) -> int:
    raise NotImplementedError  # your code here


done = checks_tf.check_cnn_layers(cnn_layers)

# %% [markdown]
# **Exercise 3 · how deep before the tokens blur? (investigate)** Section 1 pushed 200 random
# tokens through all 12 blocks. Stop earlier: for each depth k = 1 … 12, run `tokens` through the
# first k of `blocks` (each followed by its LayerNorm from `norms`) *without* the residual, and
# compute the mean cosine between different tokens, as `through_stack` does. Set `blur_depth` to the
# smallest k at which it exceeds 0.8. Then do the same with the residual.

# %%
blur_depth = ...  # your answer: a number of blocks
done = checks_tf.check_blur_depth(blur_depth, blocks, norms, tokens)

# %% [markdown] tags=["solution"]
# ### Solutions
#
# **1.** Three sub-layers, each with its Add & Norm: masked self-attention and cross-attention
# (4H² + 4H each, whatever the number of heads), the FFN (H·d_ff + d_ff + d_ff·H + H), and three
# LayerNorms of 2H.

# %% tags=["solution"]
def decoder_layer_parameters(H: int, d_ff: int) -> int:
    attention = 4 * H * H + 4 * H
    return 2 * attention + (2 * H * d_ff + d_ff + H) + 3 * (2 * H)


assert checks_tf.check_decoder_layer_parameters(decoder_layer_parameters)
print(f"one decoder layer of the seq2seq model: {decoder_layer_parameters(d_model, d_ff):,} parameters")

# %% [markdown] tags=["solution"]
# **2.** A centred window of k tokens reaches k // 2 positions to each side, so each layer carries
# information k // 2 positions further; n − 1 positions need ⌈(n − 1) / (k // 2)⌉ layers.

# %% tags=["solution"]
def cnn_layers(n: int, k: int) -> int:
    return -(-(n - 1) // (k // 2))  # ceiling division


assert checks_tf.check_cnn_layers(cnn_layers)

# %% [markdown] tags=["solution"]
# **3.** One loop, one cosine per depth, with and without the residual. Without it the tokens close
# in on each other block after block (not quite steadily); with it they stay far apart at every
# depth. Each block without the residual replaces what the tokens were by what the block makes of
# them, and a freshly initialized block makes much the same of everything.

# %% tags=["solution", "nbval-ignore-output"]
cosines = {}
for residual in (False, True):
    h, cosines[residual] = tokens, []
    with torch.no_grad():
        for block, ln in zip(blocks, norms):
            h = ln(h + block(h)) if residual else ln(block(h))
            unit = F.normalize(h, dim=-1)
            cosines[residual].append((unit @ unit.T)[~torch.eye(len(h), dtype=torch.bool)].mean().item())
for residual, row in cosines.items():
    print(f"{'with' if residual else 'without'} residual, mean cosine after 1 … 12 blocks:", [round(c, 2) for c in row])
blur_depth = next(k for k, c in enumerate(cosines[False], start=1) if c > 0.8)
print(f"without the residual the tokens pass 0.8 after {blur_depth} blocks")
assert max(cosines[True]) < 0.8
assert checks_tf.check_blur_depth(blur_depth, blocks, norms, tokens)
