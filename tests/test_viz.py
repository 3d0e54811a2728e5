"""course_lib.viz: static attention figures, the attention explorer (headless), PNG saving, escaping."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import ipywidgets as widgets
import matplotlib
import numpy as np
import pytest
import torch
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from course_lib.viz import (
    AttentionExplorer,
    figure_to_png,
    mpl_text,
    plot_attention,
    plot_attention_heads,
    plot_attention_lines,
    plot_attention_model_view,
    save_figure_png,
    stack_attention,
)
from tests.support.figures import assert_readable

matplotlib.use("Agg")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVIL = "<script>alert(1)</script>"
L, A = 2, 3


def fake_attention(sentence: str) -> tuple[list[str], list[torch.Tensor]]:
    """Whitespace tokens and seeded, peaked attention per layer, each (A, T, T), differing per layer/head."""
    tokens = sentence.split()
    g = torch.Generator().manual_seed(len(sentence))
    scores = 3 * torch.randn(L, A, len(tokens), len(tokens), generator=g)
    return tokens, list(scores.softmax(-1))


def png_pixels(data: bytes) -> np.ndarray:
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def html_bearing_texts(root: widgets.Widget) -> list[str]:
    """Every string of the widget tree that a browser renders as HTML."""
    texts, stack = [], [root]
    while stack:
        w = stack.pop()
        stack.extend(getattr(w, "children", ()))
        if isinstance(w, (widgets.HTML, widgets.HTMLMath)):
            texts.append(w.value)
        if getattr(w, "description_allow_html", False):
            texts.append(w.description)
    return texts


@pytest.fixture
def explorer(tmp_path) -> AttentionExplorer:
    return AttentionExplorer(fake_attention, ["the bank of the river", "a b c d e f"],
                             png_path=str(tmp_path / "attention.png"))


# ------------------------------------------------------------------------ static figures

def test_heatmap_shows_exactly_the_weights() -> None:
    tokens, attention = fake_attention("one two three four")
    fig = plot_attention(attention[0][1], tokens, selected=2, title="layer 0, head 1")
    assert isinstance(fig, Figure)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), attention[0][1].numpy(), rtol=1e-6)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == tokens
    assert figure_to_png(fig).startswith(PNG_SIGNATURE)


def test_line_view_opacity_is_the_weight_and_selection_isolates_a_token() -> None:
    tokens, attention = fake_attention("one two three four five")
    w = attention[1][0].numpy()
    fig = plot_attention_lines(w, tokens)
    (lines,) = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    shown = w >= 0.01
    assert len(lines.get_segments()) == shown.sum()
    np.testing.assert_allclose(np.sort(lines.get_colors()[:, 3]), np.sort(w[shown]), rtol=1e-6)
    fig = plot_attention_lines(w, tokens, selected=3)
    (lines,) = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    starts = np.array([seg[0] for seg in lines.get_segments()])
    assert len(starts) == (w[3] >= 0.01).sum() and (starts[:, 1] == -3).all()  # every line leaves token 3
    np.testing.assert_allclose(lines.get_colors()[:, 3], w[3][w[3] >= 0.01], rtol=1e-6)


def test_heads_grid_has_one_panel_per_head() -> None:
    tokens, attention = fake_attention("one two three")
    for kind in ("heatmap", "lines"):
        fig = plot_attention_heads(attention[0], tokens, kind=kind, title="layer 0")
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        assert titles == [f"head {h}" for h in range(A)]
    with pytest.raises(ValueError):
        plot_attention_heads(attention[0][0], tokens)
    with pytest.raises(ValueError):
        plot_attention_heads(attention[0], tokens, kind="pie")


def colorbar_labels(fig: Figure) -> list[str]:
    return [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"]


def test_model_view_labels_the_tokens_on_one_colour_scale() -> None:
    tokens = ["[CLS]", "hazel", "sees", "the", "bank", "[SEP]"]
    attention = np.stack(fake_attention(" ".join(tokens))[1])  # (L, A, T, T)
    fig = plot_attention_model_view(attention, tokens, title="model view")
    panels = np.array([ax for ax in fig.axes if ax.images]).reshape(L, A)
    for head in range(A):  # keys under the bottom row
        assert [t.get_text() for t in panels[-1, head].get_xticklabels()] == [mpl_text(t) for t in tokens]
    for layer in range(L):  # queries left of the first column
        assert [t.get_text() for t in panels[layer, 0].get_yticklabels()] == [mpl_text(t) for t in tokens]
        assert panels[layer, 0].get_ylabel() == f"layer {layer}"
    assert colorbar_labels(fig) == ["attention weight"]
    assert {ax.images[0].get_clim() for ax in panels.ravel()} == {(0.0, float(attention.max()))}
    assert_readable(fig)
    numbered = plot_attention_model_view(attention, tokens, first_layer=1)  # 0 = the embeddings, as in BERT's papers
    rows = np.array([ax for ax in numbered.axes if ax.images]).reshape(L, A)
    assert [rows[layer, 0].get_ylabel() for layer in range(L)] == [f"layer {layer + 1}" for layer in range(L)]


def test_heat_maps_have_a_colour_bar_and_stay_readable_with_many_tokens() -> None:
    tokens, attention = fake_attention("one two three four")
    assert colorbar_labels(plot_attention_heads(attention[0], tokens)) == ["attention weight"]
    assert colorbar_labels(plot_attention(attention[0][0], tokens)) == ["attention weight"]
    assert colorbar_labels(plot_attention_heads(attention[0], tokens, kind="lines")) == []  # opacity, no colours
    many = [f"token{i}" for i in range(45)]
    w = np.random.default_rng(0).dirichlet(np.ones(45), size=45)
    for fig in (plot_attention(w, many), plot_attention_heads(np.stack([w, w]), many),
                plot_attention_lines(w, many), plot_attention_model_view(w[None, None], many)):
        assert_readable(fig)


def test_tokens_with_dollars_and_tags_render_literally() -> None:
    tokens = ["$5", "a$b$c", EVIL, "x" * 40]
    fig = plot_attention(np.full((4, 4), 0.25), tokens)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[:2] == [r"\$5", r"a\$b\$c"] and labels[3].endswith("…") and len(labels[3]) == 14
    assert figure_to_png(fig).startswith(PNG_SIGNATURE)  # no mathtext error
    assert figure_to_png(plot_attention_lines(np.full((4, 4), 0.25), tokens)).startswith(PNG_SIGNATURE)
    assert mpl_text("$x$") == r"\$x\$"


def test_mismatched_tokens_and_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="3 query and 3 key tokens"):
        plot_attention(np.zeros((3, 4)), ["a", "b", "c"])


def test_stack_attention_accepts_lists_batches_of_one_and_stacks() -> None:
    per_layer = [torch.rand(1, A, 4, 4) for _ in range(L)]  # Hugging Face style: batch of one
    stacked = stack_attention(per_layer, 4)
    assert stacked.shape == (L, A, 4, 4)
    assert np.array_equal(stack_attention(torch.stack([p[0] for p in per_layer]), 4), stacked)
    with pytest.raises(ValueError, match="tokens"):
        stack_attention(per_layer, 5)


# ------------------------------------------------------------------------ saving PNGs

def test_save_figure_png_is_atomic(tmp_path, monkeypatch) -> None:
    fig = plot_attention(np.eye(3), ["a", "b", "c"])
    target = save_figure_png(fig, tmp_path / "sub" / "fig.png")
    assert target.read_bytes().startswith(PNG_SIGNATURE)
    assert png_pixels(target.read_bytes()).ndim == 3
    before = target.read_bytes()

    seen = []
    real_replace = os.replace

    def watching_replace(src, dst):  # at the rename, the target still holds the old file
        seen.append((Path(src).parent == target.parent, Path(src).read_bytes()[:8],
                     target.read_bytes() == before))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", watching_replace)
    save_figure_png(plot_attention(np.eye(2), ["x", "y"]), target)
    assert seen == [(True, PNG_SIGNATURE, True)]
    assert target.read_bytes() != before
    before = target.read_bytes()

    def broken_savefig(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fig, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        save_figure_png(fig, target)
    assert target.read_bytes() == before  # the old file is untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["fig.png"]  # no temporary file left

    def broken_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.undo()
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):  # after the temporary file was written
        save_figure_png(plot_attention(np.eye(2), ["x", "y"]), target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["fig.png"]
    with pytest.raises(ValueError, match=".png"):
        save_figure_png(fig, tmp_path / "fig.jpg")


# ------------------------------------------------------------------------------ explorer

def test_explorer_builds_its_widgets_and_a_figure(explorer) -> None:
    assert isinstance(explorer.widget, widgets.VBox)
    assert isinstance(explorer.figure, Figure)
    assert bytes(explorer.pane.widget.value).startswith(PNG_SIGNATURE)
    assert explorer.tokens == ["the", "bank", "of", "the", "river"]
    assert explorer.layer.max == L - 1
    assert [v for _, v in explorer.head.options] == ["all", *range(A)]
    assert [label for label, _ in explorer.token.options][1:] == [f"{i}: {t}" for i, t in
                                                                  enumerate(explorer.tokens)]
    assert repr(explorer) == "AttentionExplorer(2 layers x 3 heads, 5 tokens)"


def test_changing_layer_or_head_changes_the_figure(explorer) -> None:
    explorer.view.value = "heatmap"
    _, attention = fake_attention(explorer.sentence.value)

    def shown() -> np.ndarray:
        return np.asarray(explorer.figure.axes[0].images[0].get_array())

    np.testing.assert_allclose(shown(), attention[0][0].numpy(), rtol=1e-6)
    pixels = png_pixels(bytes(explorer.pane.widget.value))
    explorer.layer.value = 1
    np.testing.assert_allclose(shown(), attention[1][0].numpy(), rtol=1e-6)
    assert not np.array_equal(png_pixels(bytes(explorer.pane.widget.value)), pixels)
    explorer.head.value = 2
    np.testing.assert_allclose(shown(), attention[1][2].numpy(), rtol=1e-6)
    explorer.head.value = "all"
    assert len([ax for ax in explorer.figure.axes if ax.images]) == A


def test_model_view_draws_every_layer_and_head_headless(explorer) -> None:
    _, attention = fake_attention(explorer.sentence.value)
    explorer.view.value = "model"
    panels = [ax for ax in explorer.figure.axes if ax.images]
    assert len(panels) == L * A
    np.testing.assert_allclose(np.asarray(panels[A + 2].images[0].get_array()), attention[1][2].numpy(), rtol=1e-6)
    assert bytes(explorer.pane.widget.value).startswith(PNG_SIGNATURE)
    explorer.token.value = 1  # one query row kept in every panel
    kept = np.asarray(explorer.figure.axes[0].images[0].get_array())
    assert np.count_nonzero(kept.sum(axis=1)) == 1
    stacked = np.stack([a.numpy() for a in attention])
    fig = plot_attention_model_view(stacked, explorer.tokens, title="$x$ <b>")
    assert len([ax for ax in fig.axes if ax.images]) == L * A
    with pytest.raises(ValueError, match="tokens"):
        plot_attention_model_view(stacked, explorer.tokens[:-1])
    with pytest.raises(ValueError, match=r"\(L, A, T, T\)"):
        plot_attention_model_view(stacked[0], explorer.tokens)


def test_line_view_and_token_selection(explorer) -> None:
    explorer.view.value = "lines"
    explorer.token.value = 1
    (lines,) = [c for c in explorer.figure.axes[0].collections if isinstance(c, LineCollection)]
    assert {seg[0][1] for seg in lines.get_segments()} == {-1.0}
    assert "font-weight:bold" in explorer.tokens_html.value.split("bank")[0].rsplit("<span", 1)[1]
    explorer.token.value = -1
    (lines,) = [c for c in explorer.figure.axes[0].collections if isinstance(c, LineCollection)]
    assert len({seg[0][1] for seg in lines.get_segments()}) > 1


def test_a_new_sentence_reloads_tokens_and_a_failing_one_is_reported(explorer) -> None:
    explorer.sentence.value = "a b c d e f"
    assert explorer.tokens == list("abcdef")
    assert len(explorer.token.options) == 7 and explorer.token.value == -1
    figure = explorer.figure
    explorer.sentence.value = "   "  # no tokens: an error shown, the last figure kept
    assert "no tokens" in explorer.tokens_html.value
    assert explorer.figure is figure and explorer.tokens == list("abcdef")


def test_explorer_save_png_writes_a_png_and_shows_the_path(explorer, tmp_path) -> None:
    path = explorer.save_png(tmp_path / "out" / "head.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert png_pixels(path.read_bytes()).shape[0] > 50
    assert str(path) in explorer.saver.status.value
    explorer.saver.button.click()  # the button saves to the path box's file
    assert Path(explorer.saver.path.value).read_bytes().startswith(PNG_SIGNATURE)
    explorer.saver.path.value = str(tmp_path / "wrong.jpg")
    explorer.saver.button.click()  # an error is shown, not raised into the void
    assert "not saved" in explorer.saver.status.value
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_script_tokens_are_escaped_in_every_html_widget(tmp_path) -> None:
    sentence = f"hello {EVIL} world"
    explorer = AttentionExplorer(fake_attention, [sentence], png_path=str(tmp_path / "<script>.png"))
    explorer.token.value = 1
    explorer.save_png(tmp_path / "x.png")
    explorer.saver.path.value = str(tmp_path / "<script>.jpg")
    explorer.saver.button.click()  # the error message repeats the path
    texts = html_bearing_texts(explorer.widget)
    assert len(texts) >= 2
    assert all("<script" not in text for text in texts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in explorer.tokens_html.value
    assert "&lt;script&gt;" in explorer.saver.status.value
    explorer.sentence.value = "<b>bold"
    assert "&lt;b&gt;bold" in explorer.tokens_html.value and "<b>" not in explorer.tokens_html.value

    def failing(sentence: str):
        raise KeyError(f"unknown word {EVIL}")

    broken = AttentionExplorer(fake_attention, ["ok sentence"])
    broken.get_attention = failing
    broken.sentence.value = "anything"  # the error message quotes the input: escaped too
    assert "KeyError" in broken.tokens_html.value
    assert "<script" not in broken.tokens_html.value and "&lt;script&gt;" in broken.tokens_html.value


def test_notebook_display_has_the_widget_a_png_fallback_and_a_short_text(explorer) -> None:
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == repr(explorer)
    import base64

    assert base64.b64decode(bundle["image/png"]).startswith(PNG_SIGNATURE)


def test_explorer_runs_headless_in_a_fresh_process(tmp_path) -> None:
    code = (
        "import numpy as np\n"
        "from course_lib.viz import AttentionExplorer\n"
        "def f(s):\n"
        "    t = s.split(); a = np.full((2, 2, len(t), len(t)), 1 / len(t)); return t, a\n"
        f"e = AttentionExplorer(f, ['a b c'])\n"
        "e.layer.value = 1; e.head.value = 'all'\n"
        f"e.save_png({str(tmp_path / 'h.png')!r})\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # nothing printed at construction
    assert (tmp_path / "h.png").read_bytes().startswith(PNG_SIGNATURE)


def test_a_model_that_fails_on_the_first_example_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="no tokens"):
        AttentionExplorer(fake_attention, [" "])
    with pytest.raises(ValueError, match="at least one"):
        AttentionExplorer(fake_attention, [])


def test_static_figures_show_themselves_as_png_without_pyplot() -> None:
    fig = plot_attention_lines(np.eye(3), ["a", "b", "c"])
    assert fig._repr_png_().startswith(PNG_SIGNATURE)  # what Jupyter stores, and GitHub shows
