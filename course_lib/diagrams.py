"""Architecture diagrams of the course, drawn with matplotlib: boxes, arrows and labels, no image files.

One function per figure, each ``draw_...(ax=None) -> Figure``: with ``ax`` it draws into that axes (its
limits and aspect are set), without it makes a new figure of its natural size.

- ``draw_lstm_cell``: one LSTM step, its four gates and the two states (notebook 02);
- ``draw_bilm``: ELMo's biLM, the shared token layer and softmax, and the 2L + 1 vectors of a word (03);
- ``draw_scalar_mix``: ELMo_k = γ Σ_j s_j h_k,j with s = softmax(w) (04);
- ``draw_multi_head``: Q, K, V projections, the split into heads, concatenation and W_O (06);
- ``draw_transformer_blocks``: the encoder and the decoder layer with Add & Norm (08);
- ``draw_bert_input``: token + segment + position embeddings (09);
- ``draw_fine_tuning_heads``: the four heads: sentence, pair, token, span start and end (10).

Coordinates are in inches of the figure drawn alone, so a font size reads the same everywhere; no text
is smaller than ``MIN_FONT`` points, and the tests check that no two labels overlap.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.text import Text

from course_lib.viz import mpl_text, new_figure

__all__ = [
    "MIN_FONT",
    "draw_bert_input",
    "draw_bilm",
    "draw_fine_tuning_heads",
    "draw_lstm_cell",
    "draw_multi_head",
    "draw_scalar_mix",
    "draw_transformer_blocks",
]

MIN_FONT = 8  # points: the smallest text of any diagram
DPI = 80  # as the notebooks' other figures: readable and small in a stored notebook

# one colour per kind of part, the same in every diagram
COLORS = {
    "input": "#dbe8f6",  # tokens, embeddings, x
    "state": "#fde3c8",  # LSTM cells, recurrent states
    "backward": "#e6dcf2",  # the backward direction
    "gate": "#f8c9a0",  # sigmoid / tanh layers
    "attention": "#d5ecd4",  # attention sub-layers
    "norm": "#fff1c2",  # Add & Norm
    "ffn": "#d3e4e8",  # feed-forward, linear layers, heads
    "output": "#f6d2d2",  # softmax, predictions
    "frame": "#f4f4f4",
}
HEAD_COLORS = ("#9ecae1", "#fdae6b", "#a1d99b", "#bcbddc", "#fc9272", "#d9d9d9")
LINE = "#333333"
ANSWER = "#7a1f1f"  # what a head outputs


# ------------------------------------------------------------------------------ drawing helpers


def _canvas(width: float, height: float, ax: Axes | None) -> tuple[Figure, Axes]:
    """A figure of ``width`` x ``height`` inches whose data units are inches (or ``ax``, set up the same way)."""
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}: pass the other settings "
                        f"by name, e.g. draw_bert_input(tokens=[...])")
    if ax is None:
        fig = new_figure(width, height, dpi=DPI)
        fig.set_layout_engine("none")
        ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax.figure, ax


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str = "", color: str = "white",
         size: float = 9, lw: float = 1.0, zorder: float = 2, edge: str = LINE, **text_kw) -> FancyBboxPatch:
    """A rounded box centred on (x, y) with centred text (``zorder`` 0: a frame behind the arrows)."""
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.06",
                           facecolor=color, edgecolor=edge, linewidth=lw, zorder=zorder)
    ax.add_patch(patch)
    if text:
        _text(ax, x, y, text, size=size, zorder=3, **text_kw)
    return patch


def _text(ax: Axes, x: float, y: float, text: str, size: float = 9, **kw) -> Text:
    kw.setdefault("ha", "center")
    kw.setdefault("va", "center")
    return ax.text(x, y, text, fontsize=max(size, MIN_FONT), **kw)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], color: str = LINE,
           lw: float = 1.1, head: bool = True, **kw) -> FancyArrowPatch:
    arrow = FancyArrowPatch(start, end, arrowstyle="-|>" if head else "-", mutation_scale=9, color=color,
                            linewidth=lw, shrinkA=0, shrinkB=0, zorder=1, **kw)
    ax.add_patch(arrow)
    return arrow


def _path(ax: Axes, points: Sequence[tuple[float, float]], color: str = LINE, lw: float = 1.1) -> None:
    """A polyline through ``points`` with an arrow head on the last segment (residuals, routed inputs)."""
    xs, ys = zip(*points[:-1], strict=True)
    ax.plot(xs, ys, color=color, linewidth=lw, zorder=1, solid_capstyle="butt")
    _arrow(ax, points[-2], points[-1], color=color, lw=lw)


def _op(ax: Axes, x: float, y: float, symbol: str, r: float = 0.15, color: str = "white") -> Circle:
    """A pointwise operation: a small circle with ×, + or Σ."""
    circle = Circle((x, y), r, facecolor=color, edgecolor=LINE, linewidth=1.0, zorder=2)
    ax.add_patch(circle)
    _text(ax, x, y, symbol, size=10, zorder=3)
    return circle


def _matrix(ax: Axes, x0: float, y0: float, w: float, h: float, stripes: int = 1,
            colors: Sequence[str] = HEAD_COLORS) -> None:
    """A matrix drawn as a rectangle, split into ``stripes`` coloured column blocks (one per head)."""
    step = w / stripes
    for a in range(stripes):
        ax.add_patch(Rectangle((x0 + a * step, y0), step, h, facecolor=colors[a % len(colors)],
                               edgecolor=LINE, linewidth=0.8, zorder=2))


# ------------------------------------------------------------------------------------- notebook 02


def draw_lstm_cell(ax: Axes | None = None) -> Figure:
    """One LSTM step: c_t = f ⊙ c_{t-1} + i ⊙ g and h_t = o ⊙ tanh(c_t), gates computed from [h_{t-1}, x_t]."""
    fig, ax = _canvas(7.4, 3.7, ax)
    _box(ax, 3.55, 1.75, 5.3, 2.7, color=COLORS["frame"], lw=0.8, zorder=0, edge="#999999")  # the cell
    _text(ax, 1.0, 2.95, "one LSTM step", size=9, ha="left", style="italic")
    top, bus, gates = 2.7, 0.75, 1.55
    # the memory line: c_{t-1} -> x f -> + i*g -> c_t
    _text(ax, 0.35, top, "$c_{t-1}$", size=10)
    _arrow(ax, (0.6, top), (1.75, top))
    _op(ax, 1.9, top, "×")
    _arrow(ax, (2.05, top), (3.35, top))
    _op(ax, 3.5, top, "+")
    _arrow(ax, (3.65, top), (7.0, top))
    _text(ax, 7.2, top, "$c_t$", size=10)
    # the inputs: h_{t-1} from the left, x_t from below, joined into one vector that feeds every gate
    _text(ax, 0.35, bus, "$h_{t-1}$", size=10)
    _text(ax, 1.3, 0.12, "$x_t$", size=10)
    ax.plot([0.65, 5.1], [bus, bus], color=LINE, linewidth=1.1, zorder=1)
    ax.plot([1.3, 1.3], [0.3, bus], color=LINE, linewidth=1.1, zorder=1)
    _text(ax, 2.4, 0.5, "$[h_{t-1}, x_t]$", size=9)
    names = (("forget $f$", "σ", 1.9), ("input $i$", "σ", 2.95), ("candidate $g$", "tanh", 4.05),
             ("output $o$", "σ", 5.15))
    for name, layer, x in names:
        _box(ax, x, gates, 0.92, 0.5, f"{name}\n{layer}", COLORS["gate"], size=8.5)
        _arrow(ax, (x, bus), (x, gates - 0.25))
    # f scales the old memory; i scales the candidate g, and the product is added
    _arrow(ax, (1.9, gates + 0.25), (1.9, top - 0.15))
    _op(ax, 3.5, 2.15, "×")
    _path(ax, [(2.95, gates + 0.25), (2.95, 2.15), (3.35, 2.15)])
    _path(ax, [(4.05, gates + 0.25), (4.05, 2.15), (3.65, 2.15)])
    _arrow(ax, (3.5, 2.3), (3.5, top - 0.15))
    # the output: h_t = o * tanh(c_t)
    _box(ax, 6.0, 2.15, 0.6, 0.32, "tanh", "white", size=8.5)  # an activation only: no weights
    _arrow(ax, (6.0, top), (6.0, 2.31))
    _op(ax, 6.0, gates, "×")
    _arrow(ax, (6.0, 1.99), (6.0, gates + 0.15))
    _arrow(ax, (5.61, gates), (5.85, gates))
    _arrow(ax, (6.15, gates), (7.0, gates))
    _text(ax, 7.2, gates, "$h_t$", size=10)
    _text(ax, 3.55, 3.45, "orange: a linear layer of $[h_{t-1}, x_t]$, then σ or tanh;   ×: element-wise "
          "product;   +: sum", size=8, color="#444444")
    return fig


# ------------------------------------------------------------------------------------- notebook 03


def draw_bilm(ax: Axes | None = None, tokens: Sequence[str] = ("the", "bank", "lends"), num_layers: int = 2,
              highlight: int = 1) -> Figure:
    """ELMo's biLM: one token layer and one softmax shared by a forward and a backward LSTM stack; the
    ``highlight`` token's 2L + 1 vectors (x_k and both directions' h_k,j) listed on the right."""
    n, L = len(tokens), num_layers
    if not 1 <= n <= 4 or not 1 <= L <= 6 or not 0 <= highlight < n:
        raise ValueError(f"draw_bilm draws 1-4 tokens and 1-6 layers with highlight < len(tokens), got {n} tokens, "
                         f"num_layers={L}, highlight={highlight}")
    panel, rows = 1.0 * n + 0.4, [1.45 + 0.85 * j for j in range(L)]
    soft_y = rows[-1] + 0.9
    height = soft_y + 1.45
    fig, ax = _canvas(2 * panel + 2.8, height, ax)
    left0, right0 = 0.45, 0.75 + panel
    x_min, x_max = left0 - 0.2, right0 + panel - 0.2
    _box(ax, (x_min + x_max) / 2, 0.75, x_max - x_min, 0.42, "token layer, shared: the vector $x_k$ of each token "
         "(word table or character CNN)", COLORS["input"])
    _box(ax, (x_min + x_max) / 2, soft_y, x_max - x_min, 0.42, "softmax, shared by both directions",
         COLORS["output"])
    for forward, x0 in ((True, left0), (False, right0)):
        xs = [x0 + 0.3 + k for k in range(n)]
        title = ("forward LSTMs read left to right:\neach position predicts the next token" if forward else
                 "backward LSTMs read right to left:\neach position predicts the one before")
        _text(ax, (xs[0] + xs[-1]) / 2, height - 0.25, title, size=9)
        _lstm_stack(ax, xs, rows, forward, highlight)
        targets = [*tokens[1:], "<eos>"] if forward else ["<bos>", *tokens[:-1]]
        for x, token, target in zip(xs, tokens, targets, strict=True):
            _text(ax, x, 0.22, mpl_text(token, 10), size=9, color="#444444")
            _arrow(ax, (x, 0.35), (x, 0.54))
            _arrow(ax, (x, 0.96), (x, rows[0] - 0.22))
            _arrow(ax, (x, rows[-1] + 0.22), (x, soft_y - 0.21))
            _arrow(ax, (x, soft_y + 0.21), (x, soft_y + 0.42))
            _text(ax, x, soft_y + 0.6, mpl_text(target, 10), size=9, color="#444444")
    # the 2L + 1 vectors of the highlighted token, one line per layer
    lx, k = right0 + panel + 0.25, highlight + 1
    _text(ax, lx, soft_y + 0.2, f"ELMo keeps 2L + 1 = {2 * L + 1}\nvectors for '{mpl_text(tokens[highlight], 10)}':"
          f"\nthe bold boxes and $x_{{{k}}}$", size=9, ha="left")
    for j, y in enumerate(rows, start=1):
        _text(ax, lx, y, f"layer {j}: $\\overrightarrow{{h}}_{{{k},{j}}}$ and $\\overleftarrow{{h}}_{{{k},{j}}}$",
              size=9, ha="left")
    _text(ax, lx, 0.75, f"layer 0: $x_{{{k}}}$", size=9, ha="left")
    return fig


def _lstm_stack(ax: Axes, xs: Sequence[float], rows: Sequence[float], forward: bool, highlight: int) -> None:
    """One direction's LSTM cells (a column per token, a row per layer), the ``highlight`` column in bold."""
    vec = r"\overrightarrow{h}" if forward else r"\overleftarrow{h}"
    color = COLORS["state"] if forward else COLORS["backward"]
    for k, x in enumerate(xs):
        for j, y in enumerate(rows):
            _box(ax, x, y, 0.72, 0.44, f"${vec}_{{{k + 1},{j + 1}}}$", color, size=9, lw=2.0 if k == highlight else 1.0)
            if j + 1 < len(rows):
                _arrow(ax, (x, y + 0.22), (x, rows[j + 1] - 0.22))
            if k + 1 < len(xs):  # the recurrence: state k feeds k + 1 (forward) or k + 1 feeds k (backward)
                a, b = (x + 0.36, xs[k + 1] - 0.36) if forward else (xs[k + 1] - 0.36, x + 0.36)
                _arrow(ax, (a, y), (b, y))


# ------------------------------------------------------------------------------------- notebook 04


def draw_scalar_mix(ax: Axes | None = None, num_layers: int = 2) -> Figure:
    """ELMo_k^task = γ Σ_j s_j h_k,j with s = softmax(w): one w_j per layer and one γ per task."""
    if not 1 <= num_layers <= 6:
        raise ValueError(f"draw_scalar_mix draws 1-6 LSTM layers, got num_layers={num_layers}")
    gap = 0.72
    height = 0.9 + gap * num_layers + 0.75
    fig, ax = _canvas(7.6, height, ax)
    ys = [0.55 + gap * j for j in range(num_layers + 1)]
    mid = (ys[0] + ys[-1]) / 2
    _text(ax, 0.95, height - 0.28, "frozen biLM layers of word k", size=9)
    for j, y in enumerate(ys):
        label = "layer 0: $h_{k,0}$ (token layer)" if j == 0 else f"layer {j}: $h_{{k,{j}}}$"
        _box(ax, 0.95, y, 1.75, 0.46, label, COLORS["input"] if j == 0 else COLORS["state"], size=8.5)
        _arrow(ax, (1.83, y), (2.45, y))
        _op(ax, 2.6, y, "×")
        _text(ax, 2.6, y + 0.27, f"$s_{j}$", size=9)
        _arrow(ax, (2.75, y), (3.55, mid + (y - mid) * 0.15))
    _op(ax, 3.72, mid, "Σ", r=0.17)
    _arrow(ax, (3.89, mid), (4.35, mid))
    _op(ax, 4.5, mid, "×")
    _text(ax, 4.5, mid - 0.3, "γ", size=10)
    _arrow(ax, (4.65, mid), (5.25, mid))
    _box(ax, 6.25, mid, 1.9, 0.5, r"$\mathrm{ELMo}_k^{task}$", COLORS["output"], size=10)
    _box(ax, 3.9, height - 0.3, 3.6, 0.42, r"$s = \mathrm{softmax}(w)$: shares that sum to 1",
         COLORS["ffn"], size=9)
    _arrow(ax, (2.6, height - 0.51), (2.6, ys[-1] + 0.42), linestyle="--")
    _text(ax, 6.25, mid - 0.5, f"learned per task: {num_layers + 1} weights $w_j$ and γ", size=8,
          color="#444444")
    return fig


# ------------------------------------------------------------------------------------- notebook 06


def draw_multi_head(ax: Axes | None = None, num_heads: int = 4) -> Figure:
    """Q, K, V from one input, each cut into A heads of D = H / A features; A attentions; concat; W_O."""
    A = num_heads
    if not 1 <= A <= len(HEAD_COLORS):
        raise ValueError(f"draw_multi_head draws 1-{len(HEAD_COLORS)} heads, got num_heads={num_heads}")
    head_xs = [4.75 + 0.72 * a for a in range(A)]
    fig, ax = _canvas(head_xs[-1] + 3.2, 4.0, ax)
    _matrix(ax, 0.25, 1.35, 0.55, 1.1, colors=[COLORS["input"]])
    _text(ax, 0.52, 1.9, "x", size=11)
    _text(ax, 0.52, 1.1, "(B, T, H)", size=8)
    for name, y in (("Q", 3.0), ("K", 1.9), ("V", 0.8)):  # three projections of the same x
        _path(ax, [(0.8, 1.9), (1.0, 1.9), (1.0, y), (1.35, y)])
        _box(ax, 1.67, y, 0.62, 0.42, f"$W_{name}$", COLORS["ffn"], size=9)
        _arrow(ax, (1.98, y), (2.2, y))
        _matrix(ax, 2.2, y - 0.25, 1.2, 0.5, stripes=A)
        _text(ax, 2.8, y + 0.4, f"{name} (B, T, H)", size=8.5)
    _arrow(ax, (3.5, 1.9), (4.3, 1.9), lw=2.0)
    _text(ax, 3.9, 2.15, "split", size=9)
    _text(ax, 3.9, 1.55, "(B, A, T, D)", size=8)
    _heads_and_output(ax, head_xs)
    return fig


def _heads_and_output(ax: Axes, head_xs: Sequence[float], outputs_y: float = 3.15) -> None:
    """Each head's Q_a, K_a, V_a slices, its attention and output; the concatenation and W_O."""
    A, first, last = len(head_xs), head_xs[0], head_xs[-1]
    for a, x in enumerate(head_xs):
        for row, name in enumerate(("V", "K", "Q")):
            y = 0.55 + 0.36 * row
            _matrix(ax, x - 0.25, y - 0.15, 0.5, 0.3, colors=[HEAD_COLORS[a]])
            _text(ax, x, y, f"${name}_{a}$", size=8.5, zorder=3)
        _box(ax, x, 1.95, 0.6, 0.44, "attn", COLORS["attention"], size=8.5)
        _arrow(ax, (x, 1.45), (x, 1.73))
        _arrow(ax, (x, 2.17), (x, outputs_y - 0.15))
        _matrix(ax, x - 0.25, outputs_y - 0.15, 0.5, 0.3, colors=[HEAD_COLORS[a]])
        _text(ax, x, outputs_y, f"head {a}", size=8, zorder=3)
    _text(ax, (first + last) / 2, 0.12, r"each head: softmax($Q_a K_a^\top / \sqrt{D}$) $V_a$", size=8.5)
    _text(ax, (first + last) / 2, 3.82, f"{A} heads, D = H / {A} features each", size=9)
    cx, join = last + 1.2, outputs_y + 0.35  # the heads' outputs are laid side by side
    for x in head_xs:
        ax.plot([x, x], [outputs_y + 0.15, join], color=LINE, linewidth=1.1, zorder=1)
    _path(ax, [(first, join), (cx, join), (cx, outputs_y + 0.2)])
    _matrix(ax, cx - 0.5, outputs_y - 0.2, 1.0, 0.4, stripes=A)
    _text(ax, cx + 0.58, outputs_y, "concat\n(B, T, H)", size=8.5, ha="left")
    _arrow(ax, (cx, outputs_y - 0.2), (cx, 2.22))
    _box(ax, cx, 2.0, 0.62, 0.42, "$W_O$", COLORS["ffn"], size=9)
    _arrow(ax, (cx, 1.78), (cx, 1.3))
    _matrix(ax, cx - 0.5, 0.85, 1.0, 0.45, colors=[COLORS["output"]])
    _text(ax, cx, 1.075, "output", size=9, zorder=3)
    _text(ax, cx, 0.62, "(B, T, H)", size=8)


# ------------------------------------------------------------------------------------- notebook 08


def _residual_block(ax: Axes, x: float, y: float, name: str, color: str, side: int, w: float = 2.2) -> float:
    """A sub-layer and its Add & Norm: the residual path goes around on ``side`` (-1 left, +1 right).
    Returns the y where the block's output leaves."""
    _arrow(ax, (x, y), (x, y + 0.2))
    _box(ax, x, y + 0.42, w, 0.44, name, color, size=9)
    _arrow(ax, (x, y + 0.64), (x, y + 0.84))
    _box(ax, x, y + 1.0, w, 0.32, "Add & Norm", COLORS["norm"], size=9)
    edge = x + side * (w / 2 + 0.22)
    _path(ax, [(x, y + 0.1), (edge, y + 0.1), (edge, y + 1.0), (x + side * w / 2, y + 1.0)])
    return y + 1.16


def draw_transformer_blocks(ax: Axes | None = None) -> Figure:
    """The encoder layer (self-attention, FFN) and the decoder layer (masked self-attention, cross-attention,
    FFN), each sub-layer followed by Add & Norm: LayerNorm(x + sublayer(x)), as in the paper (post-LN)."""
    fig, ax = _canvas(7.6, 6.2, ax)
    ex, dx = 1.85, 5.55
    # encoder
    _box(ax, ex, 0.45, 2.2, 0.46, "token + position", COLORS["input"], size=9)
    y = 1.0
    ax.add_patch(FancyBboxPatch((ex - 1.45, y - 0.05), 2.9, 2.45, boxstyle="round,pad=0,rounding_size=0.08",
                                facecolor=COLORS["frame"], edgecolor="#999999", linewidth=0.8, zorder=0))
    _arrow(ax, (ex, 0.68), (ex, y))
    y = _residual_block(ax, ex, y, "multi-head self-attention", COLORS["attention"], side=-1)
    y = _residual_block(ax, ex, y, "feed-forward", COLORS["ffn"], side=-1)
    _text(ax, ex - 1.62, 2.2, "encoder layer, × N", size=9, style="italic", rotation=90)
    # decoder
    _box(ax, dx, 0.45, 2.2, 0.46, "token + position\n(target, shifted right)", COLORS["input"], size=8.5)
    y = 1.0
    ax.add_patch(FancyBboxPatch((dx - 1.45, y - 0.05), 2.9, 3.6, boxstyle="round,pad=0,rounding_size=0.08",
                                facecolor=COLORS["frame"], edgecolor="#999999", linewidth=0.8, zorder=0))
    _arrow(ax, (dx, 0.68), (dx, y))
    y = _residual_block(ax, dx, y, "masked self-attention", COLORS["attention"], side=1)
    cross_y = y + 0.42
    y = _residual_block(ax, dx, y, "cross-attention\n(queries from below)", COLORS["attention"], side=1)
    y = _residual_block(ax, dx, y, "feed-forward", COLORS["ffn"], side=1)
    _text(ax, dx + 1.62, 2.75, "decoder layer, × N", size=9, style="italic", rotation=90)
    _arrow(ax, (dx, y), (dx, 5.2))
    _box(ax, dx, 5.42, 2.2, 0.44, "linear + softmax", COLORS["output"], size=9)
    _arrow(ax, (dx, 5.64), (dx, 5.85))
    _text(ax, dx, 6.02, "next target token", size=9)
    # the encoder's output (memory) gives the keys and values of every decoder layer's cross-attention
    _path(ax, [(ex, 3.17), (ex, 3.95), (3.7, 3.95), (3.7, cross_y), (dx - 1.1, cross_y)])
    _text(ax, 2.0, 4.2, "encoder output: the memory", size=9)
    _text(ax, 3.6, cross_y + 0.55, "keys and\nvalues", size=8.5, ha="right")
    return fig


# ------------------------------------------------------------------------------------- notebook 09


def draw_bert_input(ax: Axes | None = None,
                    tokens: Sequence[str] = ("[CLS]", "the", "cow", "sleeps", "[SEP]", "it", "eats", "ha", "##y",
                                             "[SEP]")) -> Figure:
    """BERT's input: for each position, token + segment (A up to the first [SEP], then B) + position."""
    tokens = [str(t) for t in tokens]
    if not 2 <= len(tokens) <= 14:
        raise ValueError(f"draw_bert_input draws 2-14 tokens, got {len(tokens)}")
    first_sep = tokens.index("[SEP]") if "[SEP]" in tokens else len(tokens) - 1
    col, x0 = 0.78, 1.75
    width = x0 + col * len(tokens) + 0.1
    fig, ax = _canvas(width, 3.3, ax)
    rows = {"input tokens": 2.95, "token embedding": 2.3, "segment embedding": 1.6, "position embedding": 0.9}
    for name, y in rows.items():
        _text(ax, 0.1, y, name, size=9, ha="left")
    for p, token in enumerate(tokens):
        x = x0 + col * p + col / 2
        _text(ax, x, rows["input tokens"], mpl_text(token, 8), size=9)
        _arrow(ax, (x, 2.8), (x, 2.52))
        # E(token), not E with a subscript: the token is the point, and a subscript would be under 8 pt
        _box(ax, x, rows["token embedding"], col - 0.08, 0.42, f"E({mpl_text(token, 7)})", COLORS["input"], size=8)
        segment = "A" if p <= first_sep else "B"
        _text(ax, x, 1.95, "+", size=10)
        _box(ax, x, rows["segment embedding"], col - 0.08, 0.42, f"E({segment})",
             COLORS["attention"] if segment == "A" else COLORS["state"], size=9)
        _text(ax, x, 1.25, "+", size=10)
        _box(ax, x, rows["position embedding"], col - 0.08, 0.42, f"E({p})", COLORS["backward"], size=9)
        _arrow(ax, (x, 0.69), (x, 0.5))
    _box(ax, x0 + col * len(tokens) / 2, 0.3, col * len(tokens) - 0.08, 0.38,
         "sum  →  LayerNorm  →  dropout  →  the first Transformer layer", COLORS["norm"], size=9)
    return fig


# ------------------------------------------------------------------------------------- notebook 10


def _panel_tokens(ax: Axes, x0: float, y0: float, tokens: Sequence[str], col: float,
                  hidden: Sequence[str]) -> list[float]:
    """Tokens, the encoder box and one output vector per token; returns the columns' x."""
    xs = [x0 + col * (p + 0.5) for p in range(len(tokens))]
    for x, token, h in zip(xs, tokens, hidden, strict=True):
        _text(ax, x, y0 + 0.15, mpl_text(token, 8), size=8.5)
        _arrow(ax, (x, y0 + 0.3), (x, y0 + 0.48))
        _arrow(ax, (x, y0 + 0.92), (x, y0 + 1.1))
        _box(ax, x, y0 + 1.3, col - 0.1, 0.38, h, COLORS["state"], size=8.5)
    _box(ax, (xs[0] + xs[-1]) / 2, y0 + 0.7, col * len(tokens) - 0.1, 0.44, "pre-trained BERT encoder",
         COLORS["input"], size=9)
    return xs


def draw_fine_tuning_heads(ax: Axes | None = None) -> Figure:
    """The four fine-tuning cases: a sentence and a sentence pair classified from [CLS] (pooler, then a linear
    layer); a label per token from each token's vector; an answer span from the start and end vectors S, E."""
    pw, ph = 4.7, 2.95
    fig, ax = _canvas(2 * pw + 0.2, 2 * ph, ax)
    cases = [
        (0.1, ph, "1 · a sentence: spam or not", "[CLS] win a cow [SEP]", _sentence_head, "spam / not spam"),
        (pw + 0.1, ph, "2 · a sentence pair: same sense?", "[CLS] bank lends [SEP] bank floods [SEP]",
         _sentence_head, "same / different"),
        (0.1, 0.0, "3 · a label per token: part of speech", "[CLS] the cow sleeps [SEP]", _token_head,
         "DET NOUN VERB"),
        (pw + 0.1, 0.0, "4 · a span: where the answer starts and ends", "[CLS] who sleeps [SEP] the cow sleeps [SEP]",
         _span_head, ""),
    ]
    for x0, y0, title, text, head, labels in cases:
        tokens = text.split()
        hidden = ["$C$"] + [f"$T_{{{p}}}$" for p in range(1, len(tokens))]
        col = min(0.62, (pw - 0.2) / len(tokens))
        xs = _panel_tokens(ax, x0, y0 + 0.05, tokens, col, hidden)
        _text(ax, x0 + 0.05, y0 + ph - 0.2, title, size=9.5, ha="left", weight="bold")
        head(ax, xs, y0 + 1.92, col, labels)
    return fig


def _sentence_head(ax: Axes, xs: Sequence[float], y: float, col: float, label: str) -> None:
    """[CLS]'s vector C -> pooler -> linear -> one label for the whole input."""
    _path(ax, [(xs[0], y - 0.38), (xs[0], y), (xs[0] + 0.5, y)])
    _box(ax, xs[0] + 1.55, y, 2.1, 0.42, "pooler (tanh) + linear", COLORS["ffn"], size=9)
    _arrow(ax, (xs[0] + 2.6, y), (xs[0] + 2.85, y))
    _text(ax, xs[0] + 2.9, y, label, size=9, ha="left", color=ANSWER)


def _token_head(ax: Axes, xs: Sequence[float], y: float, col: float, labels: str) -> None:
    """One linear layer, the same for every token: a label per word ([CLS] and [SEP] get none)."""
    words = xs[1:-1]
    for x, tag in zip(words, labels.split(), strict=True):
        _arrow(ax, (x, y - 0.38), (x, y - 0.2))
        _arrow(ax, (x, y + 0.2), (x, y + 0.38))
        _text(ax, x, y + 0.54, tag, size=9, color=ANSWER)
    _box(ax, (words[0] + words[-1]) / 2, y, col * len(words) - 0.1, 0.4, "linear", COLORS["ffn"], size=9)
    _text(ax, xs[-1] + 0.4, y, "the same layer\nfor every token", size=8, ha="left", color="#444444")


def _span_head(ax: Axes, xs: Sequence[float], y: float, col: float, _labels: str) -> None:
    """The start vector S and the end vector E score every token; a span at [CLS] means "no answer"."""
    for x in xs[:-1]:
        _arrow(ax, (x, y - 0.38), (x, y - 0.2))
    _box(ax, (xs[0] + xs[-2]) / 2, y, col * (len(xs) - 1) - 0.1, 0.4,
         r"$S \cdot T_i$ and $E \cdot T_i$, softmax over positions", COLORS["ffn"], size=9)
    for x, mark in ((xs[0], "no answer"), (xs[4], "start"), (xs[5], "end")):
        _arrow(ax, (x, y + 0.2), (x, y + 0.38))
        _text(ax, x, y + 0.54, mark, size=8.5, color=ANSWER)
