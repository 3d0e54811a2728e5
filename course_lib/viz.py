"""Figures and ipywidgets explorers, drawn with matplotlib only (no JavaScript from a CDN).

Reusable pieces for every explorer of the course:

- ``new_figure`` / ``figure_to_png`` / ``save_figure_png``: small figures (no pyplot state), PNG
  bytes, and atomic PNG files (temporary file, then rename);
- ``FigurePane``: a matplotlib figure shown in a widget as a PNG image, so it redraws in
  JupyterLab, VS Code and Colab, and also headless in tests;
- ``SavePngControl``: a "save PNG" button with a path box and a status line;
- ``mpl_text`` / ``html_text``: make arbitrary token text safe for matplotlib and for HTML.

Attention: static figures (``plot_attention``, ``plot_attention_lines``, ``plot_attention_heads``,
``plot_attention_model_view`` for every layer and head at once), which also render on GitHub and in HTML exports, and the ``AttentionExplorer`` widget.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from course_lib.files import write_atomic

__all__ = [
    "AttentionExplorer",
    "CourseFigure",
    "FigurePane",
    "SavePngControl",
    "draw_attention_heatmap",
    "draw_attention_lines",
    "figure_to_png",
    "html_text",
    "mpl_text",
    "new_figure",
    "plot_attention",
    "plot_attention_heads",
    "plot_attention_lines",
    "plot_attention_model_view",
    "save_figure_png",
    "stack_attention",
]

DPI = 90  # modest, so that notebooks with stored figures stay small


# --------------------------------------------------------------------------- generic helpers

def mpl_text(text: str, limit: int | None = None) -> str:
    """Text as matplotlib shows it literally ('$' would start mathtext), cut to ``limit`` characters."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def html_text(text: str) -> str:
    """Token text escaped for any place where it is rendered as HTML (``<`` becomes ``&lt;``)."""
    return html.escape(str(text), quote=True)


class CourseFigure(Figure):
    """A matplotlib figure that shows itself as PNG in a notebook, even where pyplot was never imported."""

    def _repr_png_(self) -> bytes:
        return figure_to_png(self)


def new_figure(width: float, height: float, dpi: int = DPI) -> CourseFigure:
    """A figure outside pyplot (no global state, no double display) with constrained layout."""
    return CourseFigure(figsize=(width, height), dpi=dpi, layout="constrained")


def figure_to_png(fig: Figure, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi or fig.dpi)
    return buffer.getvalue()


def save_figure_png(fig: Figure, path: str | os.PathLike, dpi: int | None = None) -> Path:
    """Write the figure to ``path`` as PNG atomically: a temporary file in the same folder, then a rename.

    A reader never sees a half-written file, and a failed save leaves an older file untouched.
    Returns the absolute path.
    """
    path = Path(path).expanduser().resolve()
    if path.suffix.lower() != ".png":
        raise ValueError(f"the file name must end in .png, got {path.name!r}")
    data = figure_to_png(fig, dpi)  # drawn first: a drawing error writes nothing
    # a unique temporary name in the same folder (two saves at once never share one), the user's umask
    return write_atomic(path, data, what="PNG file", make_parents=True)


class FigurePane:
    """A matplotlib figure shown in a widget as a PNG image; ``draw(fig)`` replaces it."""

    def __init__(self) -> None:
        self.widget = widgets.Image(format="png")
        self.widget.layout.align_self = "flex-start"  # natural size: stretched to the box it looks blurred
        self.figure: Figure | None = None

    def draw(self, fig: Figure) -> None:
        self.figure = fig
        self.widget.value = figure_to_png(fig)


class SavePngControl:
    """A path box, a "save PNG" button and a status line; ``get_figure`` gives the figure to save."""

    def __init__(self, get_figure: Callable[[], Figure | None], default_path: str = "figure.png") -> None:
        self.get_figure = get_figure
        self.path = widgets.Text(value=default_path, description="file", continuous_update=False)
        self.button = widgets.Button(description="save PNG", icon="download", tooltip="save the figure")
        self.status = widgets.HTML()
        self.button.on_click(self._on_click)
        self.widget = widgets.HBox([self.path, self.button, self.status])

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Save the current figure (to the path box's file unless ``path`` is given); show where."""
        fig = self.get_figure()
        if fig is None:
            raise ValueError("there is no figure to save yet")
        saved = save_figure_png(fig, self.path.value if path is None else path)
        self.status.value = f"saved to <code>{html_text(str(saved))}</code>"
        return saved

    def _on_click(self, _button: widgets.Button) -> None:
        try:
            self.save()
        except (OSError, ValueError) as err:  # shown to the learner: a callback's exception is invisible
            self.status.value = f"<span style='color:#b00'>not saved: {html_text(str(err))}</span>"


# ------------------------------------------------------------------------- attention figures

def _as_array(weights: Any) -> np.ndarray:
    """A tensor or array-like as a float64 NumPy array (detached, on the CPU)."""
    if hasattr(weights, "detach"):
        weights = weights.detach().to("cpu").double().numpy()
    return np.asarray(weights, dtype=np.float64)


def _matrix(weights: Any, key_tokens: Sequence[str], query_tokens: Sequence[str]) -> np.ndarray:
    w = _as_array(weights)
    if w.shape != (len(query_tokens), len(key_tokens)):
        raise ValueError(f"weights of shape {w.shape} do not match {len(query_tokens)} query and "
                         f"{len(key_tokens)} key tokens")
    return w


TOKEN_CHARS = 14  # longer tokens are cut in figures (the widget's token list shows them whole)
MIN_FONT = 8  # points: no text of a course figure is smaller
TOKEN_ROW = 0.13  # inches per token row or column: an 8-pt label fits, so token labels never overlap


def _fontsize(n_tokens: int) -> float:
    return 9 if n_tokens <= 20 else MIN_FONT  # figures grow with the tokens (TOKEN_ROW) instead of the text shrinking


def draw_attention_heatmap(ax: Axes, weights: Any, key_tokens: Sequence[str],
                           query_tokens: Sequence[str] | None = None, selected: int | None = None,
                           vmax: float | None = None, xlabels: bool = True, ylabels: bool = True,
                           cmap: str = "Blues") -> AxesImage:
    """Draw a (T_q, T_k) weight matrix: row = query, column = key; ``selected`` outlines one query row."""
    query_tokens = key_tokens if query_tokens is None else query_tokens
    w = _matrix(weights, key_tokens, query_tokens)
    image = ax.imshow(w, cmap=cmap, vmin=0.0, vmax=vmax or max(float(w.max()), 1e-9), aspect="auto",
                      interpolation="nearest")
    size = _fontsize(max(w.shape))
    keys = [mpl_text(t, TOKEN_CHARS) for t in key_tokens] if xlabels else []
    queries = [mpl_text(t, TOKEN_CHARS) for t in query_tokens] if ylabels else []
    ax.set_xticks(range(len(keys)), keys, rotation=90, fontsize=size)
    ax.set_yticks(range(len(queries)), queries, fontsize=size)
    if selected is not None:
        ax.add_patch(Rectangle((-0.5, selected - 0.5), len(key_tokens), 1, fill=False, edgecolor="C3", lw=2))
        if ylabels:
            ax.get_yticklabels()[selected].set_fontweight("bold")
    return image


def draw_attention_lines(ax: Axes, weights: Any, key_tokens: Sequence[str],
                         query_tokens: Sequence[str] | None = None, selected: int | None = None,
                         color: str = "C0", labels: bool = True, min_weight: float = 0.01,
                         linewidth: float = 2.0) -> LineCollection:
    """bertviz-style view: queries on the left, keys on the right, one line per pair with opacity = weight.

    ``selected`` (a query index) keeps only that token's lines and greys out the other tokens.
    Lines under ``min_weight`` are left out: they are all but invisible and make PNGs large.
    """
    query_tokens = key_tokens if query_tokens is None else query_tokens
    w = _matrix(weights, key_tokens, query_tokens)
    T_q, T_k = w.shape
    shown = w >= min_weight
    if selected is not None:
        shown[np.arange(T_q) != selected] = False
    q_idx, k_idx = np.nonzero(shown)
    segments = np.stack([np.stack([np.zeros(len(q_idx)), -q_idx], 1),
                         np.stack([np.ones(len(k_idx)), -k_idx], 1)], 1)  # (lines, 2 ends, xy)
    colors = np.tile(to_rgba(color), (len(segments), 1))
    colors[:, 3] = np.clip(w[q_idx, k_idx], 0.0, 1.0)  # opacity is the weight
    width = linewidth if selected is None else 1.5 * linewidth
    lines = LineCollection(segments, colors=colors, linewidths=width)
    ax.add_collection(lines)
    ax.set_xlim(-0.7, 1.7)
    ax.set_ylim(-max(T_q, T_k) + 0.5, 0.5)
    ax.axis("off")
    if labels:
        _label_columns(ax, query_tokens, key_tokens, selected)
    return lines


def _label_columns(ax: Axes, query_tokens: Sequence[str], key_tokens: Sequence[str],
                   selected: int | None) -> None:
    """Token texts left (queries) and right (keys) of the lines; kept out of the layout (fast)."""
    size = _fontsize(max(len(query_tokens), len(key_tokens)))
    for i, token in enumerate(query_tokens):
        dim = selected is not None and i != selected
        ax.text(-0.05, -i, mpl_text(token, TOKEN_CHARS), ha="right", va="center", fontsize=size,
                alpha=0.35 if dim else 1.0, fontweight="bold" if i == selected else "normal", in_layout=False)
    for j, token in enumerate(key_tokens):
        ax.text(1.05, -j, mpl_text(token, TOKEN_CHARS), ha="left", va="center", fontsize=size,
                in_layout=False)


def _target(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(width, height)
    return fig, fig.add_subplot()


def plot_attention(weights: Any, tokens: Sequence[str], query_tokens: Sequence[str] | None = None,
                   selected: int | None = None, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Heat map of one head's weights (T_q, T_k), with a colour bar; a static figure for any export."""
    n = max(len(tokens), len(query_tokens or ()))
    side = max(min(2.2 + 0.22 * n, 7.0), 1.6 + TOKEN_ROW * n)
    fig, ax = _target(ax, side + 0.8, side)
    image = draw_attention_heatmap(ax, weights, tokens, query_tokens, selected)
    ax.set_xlabel("key (attended to)", fontsize=8)
    ax.set_ylabel("query (attending)", fontsize=8)
    _colorbar(fig, image, ax)
    if title:
        ax.set_title(mpl_text(title), fontsize=9)
    return fig


def _colorbar(fig: Figure, image: AxesImage, ax: Axes | Sequence[Axes], label: str = "attention weight") -> None:
    """A labelled colour bar about 0.15 inch wide, however wide the grid of panels it serves."""
    width = fig.get_figwidth()
    bar = fig.colorbar(image, ax=ax, shrink=0.8 if fig.get_figheight() < 6 else 0.5, fraction=min(0.15, 0.5 / width),
                       aspect=20 if fig.get_figheight() < 6 else 40)
    bar.set_label(label, fontsize=MIN_FONT)
    bar.ax.tick_params(labelsize=MIN_FONT)


def plot_attention_lines(weights: Any, tokens: Sequence[str], query_tokens: Sequence[str] | None = None,
                         selected: int | None = None, title: str | None = None,
                         ax: Axes | None = None) -> Figure:
    """Line view of one head's weights (T_q, T_k); ``selected`` isolates one query token's lines."""
    fig, ax = _target(ax, 4.0, max(min(1.0 + 0.25 * len(tokens), 9.0), 0.6 + TOKEN_ROW * len(tokens)))
    draw_attention_lines(ax, weights, tokens, query_tokens, selected)
    if title:
        ax.set_title(mpl_text(title), fontsize=9)
    return fig


def plot_attention_heads(weights: Any, tokens: Sequence[str], kind: str = "heatmap",
                         selected: int | None = None, title: str | None = None, cols: int = 4) -> Figure:
    """All heads of one layer, ``weights`` (A, T, T), as a grid of heat maps (one colour bar for all) or of
    line views (opacity = weight). Token labels on the outer panels."""
    w = _as_array(weights)
    if w.ndim != 3:
        raise ValueError(f"expected weights (A, T_q, T_k), got shape {w.shape}")
    if kind not in ("heatmap", "lines"):
        raise ValueError(f"kind must be 'heatmap' or 'lines', got {kind!r}")
    A, cols = w.shape[0], min(cols, w.shape[0])
    rows = math.ceil(A / cols)
    T = len(tokens)
    panel = max(2.6, 0.6 + TOKEN_ROW * T) if kind == "heatmap" else max(min(0.6 + 0.15 * T, 4.0), 0.3 + TOKEN_ROW * T)
    fig = new_figure(max(2.6, 0.6 + TOKEN_ROW * T) * cols + (0.8 if kind == "heatmap" else 0),
                     panel * rows + (0.3 if title else 0))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    vmax = max(float(w.max()), 1e-9)
    image = None
    for h in range(A):  # token labels on the outer panels only: text layout is what makes grids slow
        first_col, last_row = h % cols == 0, h + cols >= A
        if kind == "heatmap":
            image = draw_attention_heatmap(axes[h], w[h], tokens, selected=selected, vmax=vmax,
                                           xlabels=last_row, ylabels=first_col)
        else:
            draw_attention_lines(axes[h], w[h], tokens, selected=selected, color=f"C{h % 10}", linewidth=1.2)
        axes[h].set_title(f"head {h}", fontsize=MIN_FONT)
    for ax in axes[A:]:
        ax.axis("off")
    if image is not None:
        _colorbar(fig, image, axes.tolist())
    if title:
        fig.suptitle(mpl_text(title), fontsize=9)
    return fig


def plot_attention_model_view(attention: Any, tokens: Sequence[str], selected: int | None = None,
                              title: str | None = None, panel: float = 1.1, first_layer: int = 0) -> Figure:
    """Every layer and head at once, ``attention`` (L, A, T, T): a grid of small heat maps, layers as
    rows and heads as columns (bertviz's "model view", drawn with matplotlib), on one colour scale.

    The tokens label the outer panels (keys under the bottom row, queries left of the first column);
    panels grow with the number of tokens so that the labels stay >= 8 pt and apart. ``selected``
    keeps one query row. ``first_layer``: the number of the first row (1 when layer 0 means the embeddings).
    """
    w = _as_array(attention)
    if w.ndim != 4 or w.shape[-1] != w.shape[-2]:
        raise ValueError(f"expected attention (L, A, T, T), got shape {w.shape}")
    L, A, T, _ = w.shape
    if len(tokens) != T:
        raise ValueError(f"attention is over {T} tokens but {len(tokens)} tokens were given")
    if selected is not None:
        w = np.where(np.arange(T)[None, None, :, None] == selected, w, 0.0)
    panel = max(panel, TOKEN_ROW * T + 0.2)
    labels = 0.09 * max(len(mpl_text(t, TOKEN_CHARS)) for t in tokens) + 0.3  # room for one column of labels
    fig = new_figure(labels + panel * A + 0.9, labels + panel * L + (0.3 if title else 0))
    axes = fig.subplots(L, A, squeeze=False)
    vmax = max(float(w.max()), 1e-9)
    image = None
    for layer in range(L):
        for head in range(A):
            image = draw_attention_heatmap(axes[layer, head], w[layer, head], tokens, selected=selected, vmax=vmax,
                                           xlabels=layer == L - 1, ylabels=head == 0)
            axes[layer, head].set_aspect("equal")
            if layer == 0:
                axes[layer, head].set_title(f"head {head}", fontsize=MIN_FONT)
            if head == 0:
                axes[layer, head].set_ylabel(f"layer {layer + first_layer}", fontsize=MIN_FONT)
    _colorbar(fig, image, axes.ravel().tolist())
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.02, hspace=0.02)
    if title:
        fig.suptitle(mpl_text(title), fontsize=9)
    return fig


# ------------------------------------------------------------------------ attention explorer

AttentionFn = Callable[[str], tuple[Sequence[str], Any]]
"""sentence -> (tokens, attention), attention per layer (A, T, T) or (1, A, T, T), or one (L, A, T, T)."""


def stack_attention(attention: Any, n_tokens: int) -> np.ndarray:
    """Per-layer attention (a list of (A, T, T) or (1, A, T, T), or one (L, A, T, T)) as (L, A, T, T)."""
    layers = list(attention) if isinstance(attention, (list, tuple)) else list(_as_array(attention))
    if not layers:
        raise ValueError("the attention function returned no layers")
    arrays = [_as_array(a) for a in layers]
    arrays = [a[0] if a.ndim == 4 and a.shape[0] == 1 else a for a in arrays]  # drop a batch of one
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or len(next(iter(shapes))) != 3:
        raise ValueError(f"expected every layer's attention as (A, T, T), got shapes {sorted(shapes)}")
    stacked = np.stack(arrays)  # (L, A, T, T)
    if stacked.shape[-2:] != (n_tokens, n_tokens):
        raise ValueError(f"attention is {stacked.shape[-2:]} but there are {n_tokens} tokens")
    return stacked


class AttentionExplorer:
    """Explore the attention of any model: sentence, layer, head (or all heads), heat map or lines.

    ``get_attention(sentence) -> (tokens, attention)`` with ``attention`` per layer (A, T, T). The
    controls are plain widgets that tests and notebooks can set (``explorer.layer.value = 1``);
    ``figure`` is the current matplotlib figure and ``save_png(path)`` writes it atomically.
    Token text reaches HTML only escaped (the token strip, error messages); the token dropdown
    shows it as plain text.

    >>> explorer = AttentionExplorer(my_model_attention, ["the bank of the river"])  # doctest: +SKIP
    >>> explorer.show()  # doctest: +SKIP
    """

    def __init__(self, get_attention: AttentionFn, examples: Sequence[str],
                 png_path: str = "attention.png") -> None:
        if not examples:
            raise ValueError("give at least one example sentence")
        self.get_attention = get_attention
        self.sentence = widgets.Combobox(value=examples[0], options=list(examples), ensure_option=False,
                                         continuous_update=False, description="sentence")
        self.layer = widgets.IntSlider(value=0, min=0, max=0, description="layer", continuous_update=False)
        self.head = widgets.Dropdown(description="head")
        self.view = widgets.ToggleButtons(options=[("heat map", "heatmap"), ("lines", "lines"),
                                                   ("model view", "model")], value="lines")
        self.token = widgets.Dropdown(description="token")
        self.tokens_html = widgets.HTML()
        self.pane = FigurePane()
        self.saver = SavePngControl(lambda: self.figure, png_path)
        self.widget = widgets.VBox([self.sentence, widgets.HBox([self.layer, self.head, self.token]),
                                    self.view, self.tokens_html, self.pane.widget, self.saver.widget])
        self._holding = False
        self.tokens: list[str] = []
        self.attention = np.zeros((0, 0, 0, 0))  # (L, A, T, T)
        self._apply(*self._compute(self.sentence.value))  # a broken model fails here, loudly
        self.sentence.observe(lambda change: self._load(change["new"]), names="value")
        for control in (self.layer, self.head, self.view, self.token):
            control.observe(lambda _change: self._redraw(), names="value")

    @property
    def figure(self) -> Figure | None:
        """The figure currently shown."""
        return self.pane.figure

    def save_png(self, path: str | os.PathLike | None = None) -> Path:
        """Save the current figure as PNG (atomically) and show the path under the figure."""
        return self.saver.save(path)

    def show(self) -> None:
        """Display the explorer (in a notebook)."""
        from IPython.display import display

        display(self)

    def _compute(self, sentence: str) -> tuple[list[str], np.ndarray]:
        """Run the model on a sentence: its tokens and attention (L, A, T, T)."""
        tokens, attention = self.get_attention(sentence)
        tokens = [str(t) for t in tokens]
        if not tokens:
            raise ValueError(f"the sentence {sentence!r} gave no tokens")
        return tokens, stack_attention(attention, len(tokens))

    def _load(self, sentence: str) -> None:
        """Widget callback for a new sentence: an error is shown (escaped), the last sentence kept."""
        try:
            tokens, stacked = self._compute(sentence)
        except Exception as err:  # a callback's exception would be invisible in the notebook
            message = html_text(f"{type(err).__name__}: {err}")
            self.tokens_html.value = f"<span style='color:#b00'>{message}</span>"
            return
        self._apply(tokens, stacked)

    def _apply(self, tokens: list[str], stacked: np.ndarray) -> None:
        """Show a new sentence: reset the controls that depend on it, then draw once."""
        self.tokens, self.attention = tokens, stacked
        L, A = stacked.shape[:2]
        self._holding = True  # the controls below change together: draw once, at the end
        try:
            self.layer.max = L - 1
            self.layer.value = min(self.layer.value, L - 1)
            old_head = self.head.value
            self.head.options = [("all heads", "all")] + [(f"head {h}", h) for h in range(A)]
            self.head.value = old_head if old_head == "all" or (old_head is not None and old_head < A) else 0
            # option labels are plain text: ipywidgets 8 renders them with textContent, not as HTML
            self.token.options = [("all tokens", -1)] + [(f"{i}: {t}", i) for i, t in enumerate(tokens)]
            self.token.value = -1
        finally:
            self._holding = False
        self._redraw()

    def _redraw(self) -> None:
        if self._holding or not self.tokens:
            return
        layer, head = self.layer.value, self.head.value
        selected = None if self.token.value in (None, -1) else self.token.value
        self.tokens_html.value = self._tokens_markup(selected)
        weights = self.attention[layer]  # (A, T, T)
        if self.view.value == "model":  # every layer and head: the layer and head controls do not apply
            L, A = self.attention.shape[:2]
            fig = plot_attention_model_view(self.attention, self.tokens, selected=selected,
                                            title=f"model view: {L} layers x {A} heads")
        elif head == "all":
            fig = plot_attention_heads(weights, self.tokens, kind=self.view.value, selected=selected,
                                       title=f"layer {layer}, all heads")
        else:
            plot = plot_attention if self.view.value == "heatmap" else plot_attention_lines
            fig = plot(weights[head], self.tokens, selected=selected, title=f"layer {layer}, head {head}")
        self.pane.draw(fig)

    def _tokens_markup(self, selected: int | None) -> str:
        """The tokens as HTML chips (escaped), the selected one highlighted."""
        chips = []
        for i, token in enumerate(self.tokens):
            style = "background:#fdd;font-weight:bold" if i == selected else "background:#eef"
            chips.append(f"<span style='{style};padding:0 3px;margin:1px;border-radius:3px'>"
                         f"{html_text(token)}</span>")
        return f"<div style='line-height:1.8'>{' '.join(chips)}</div>"

    def __repr__(self) -> str:
        L, A = self.attention.shape[:2]
        return f"AttentionExplorer({L} layers x {A} heads, {len(self.tokens)} tokens)"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The live widget, plus a PNG of the current figure for viewers without widgets (GitHub)."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)  # short and stable (for nbval), not the widget tree
        if self.figure is not None:
            bundle["image/png"] = base64.b64encode(self.pane.widget.value).decode("ascii")
        return bundle
