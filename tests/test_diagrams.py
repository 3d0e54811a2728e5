"""course_lib.diagrams: every architecture figure draws headless, with its labelled parts, readable text
(>= 8 pt), no two labels overlapping, and every label inside the figure and inside its box."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from course_lib import diagrams
from course_lib.viz import figure_to_png
from tests.support.figures import MIN_FONT, assert_readable, drawn_texts

matplotlib.use("Agg")

# each figure and labels it must show (substrings of its texts)
EXPECTED = {
    "draw_lstm_cell": ["forget $f$", "input $i$", "candidate $g$", "output $o$", "tanh", "$c_{t-1}$", "$c_t$",
                       "$h_{t-1}$", "$h_t$", "$x_t$", "×", "+"],
    "draw_bilm": ["token layer, shared", "softmax, shared", "forward LSTMs", "backward LSTMs", "2L + 1 = 5",
                  "layer 0", "layer 1", "layer 2", "<bos>", "<eos>"],
    "draw_scalar_mix": ["layer 0", "layer 1", "layer 2", "$s_0$", "$s_1$", "$s_2$", "Σ", "γ", "softmax",
                        r"\mathrm{ELMo}"],
    "draw_multi_head": ["$W_Q$", "$W_K$", "$W_V$", "$W_O$", "split", "head 0", "head 3", "concat", "(B, A, T, D)",
                        "$Q_0$", "$K_3$", "$V_2$"],
    "draw_transformer_blocks": ["multi-head self-attention", "masked self-attention", "cross-attention",
                                "feed-forward", "Add & Norm", "encoder layer", "decoder layer", "keys and",
                                "linear + softmax", "token + position"],
    "draw_bert_input": ["token embedding", "segment embedding", "position embedding", "E([CLS])", "E(##y)",
                        "E(A)", "E(B)", "E(0)", "E(9)", "LayerNorm"],
    "draw_fine_tuning_heads": ["a sentence:", "a sentence pair", "a label per token", "a span", "pooler",
                               "$C$", "DET", "start", "end", "no answer", r"$S \cdot T_i$"],
}


def drawn(fig: Figure):
    """Draw ``fig``; its renderer and its drawn texts."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer(), [t for t, _ in drawn_texts(fig)]


def test_every_figure_function_is_tested() -> None:
    assert sorted(EXPECTED) == sorted(n for n in diagrams.__all__ if n.startswith("draw_"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_draws_a_figure_with_its_labelled_parts(name: str) -> None:
    fig = getattr(diagrams, name)()
    assert isinstance(fig, Figure)
    assert figure_to_png(fig).startswith(b"\x89PNG")
    _, texts = drawn(fig)
    joined = "\n".join(t.get_text() for t in texts)
    missing = [label for label in EXPECTED[name] if label not in joined]
    assert not missing, f"{name} lacks {missing}"
    width, height = fig.get_size_inches()
    assert width <= 10.5 and height <= 6.5 and fig.dpi <= 90  # modest: small in a stored notebook


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_text_is_readable_and_no_two_labels_overlap(name: str) -> None:
    assert diagrams.MIN_FONT == MIN_FONT
    assert_readable(getattr(diagrams, name)())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_label_centred_in_a_box_fits_inside_it(name: str) -> None:
    fig = getattr(diagrams, name)()
    renderer, texts = drawn(fig)
    boxes = [p.get_window_extent(renderer) for p in fig.findobj(FancyBboxPatch) if p.get_zorder() > 0]
    spilled = []
    for t in texts:
        e = t.get_window_extent(renderer)
        cx, cy = (e.x0 + e.x1) / 2, (e.y0 + e.y1) / 2
        for box in boxes:
            if box.contains(cx, cy) and not (box.x0 <= e.x0 and e.x1 <= box.x1 and box.y0 <= e.y0 and e.y1 <= box.y1):
                spilled.append(t.get_text())
    assert not spilled, f"labels wider or taller than their box: {spilled}"


def test_drawn_into_a_given_axes_it_returns_that_figure() -> None:
    fig = Figure(figsize=(12, 4))
    left, right = fig.subplots(1, 2)
    assert diagrams.draw_scalar_mix(ax=left) is fig
    assert diagrams.draw_lstm_cell(ax=right) is fig
    assert len(left.texts) > 5 and len(right.texts) > 5 and not left.axison


def test_the_sizes_follow_the_arguments() -> None:
    _, texts = drawn(diagrams.draw_bilm(num_layers=3, tokens=("a", "b")))
    joined = "\n".join(t.get_text() for t in texts)
    assert "2L + 1 = 7" in joined and "layer 3" in joined
    _, texts = drawn(diagrams.draw_multi_head(num_heads=2))
    heads = sorted(t.get_text() for t in texts if t.get_text().startswith("head "))
    assert heads == ["head 0", "head 1"]
    _, texts = drawn(diagrams.draw_scalar_mix(num_layers=3))
    assert sum(t.get_text().startswith("layer ") for t in texts) == 4
    for fig in (diagrams.draw_bilm(num_layers=6), diagrams.draw_scalar_mix(num_layers=6)):  # the largest drawn
        assert_readable(fig)


def test_segments_switch_after_the_first_sep_and_tokens_render_literally() -> None:
    _, texts = drawn(diagrams.draw_bert_input(tokens=("[CLS]", "a", "[SEP]", "$b", "[SEP]")))
    labels = [t.get_text() for t in texts]
    assert labels.count("E(A)") == 3 and labels.count("E(B)") == 2
    assert r"E(\$b)" in labels  # a "$" is text, not the start of mathtext


def test_bad_sizes_are_refused_with_the_argument_named() -> None:
    with pytest.raises(ValueError, match="num_layers=7"):
        diagrams.draw_bilm(num_layers=7)
    with pytest.raises(ValueError, match="highlight=3"):
        diagrams.draw_bilm(highlight=3)
    with pytest.raises(ValueError, match="num_heads=9"):
        diagrams.draw_multi_head(num_heads=9)
    with pytest.raises(ValueError, match="num_layers=0"):
        diagrams.draw_scalar_mix(num_layers=0)
    with pytest.raises(ValueError, match="2-14 tokens"):
        diagrams.draw_bert_input(tokens=["[CLS]"])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None, got list.*by name"):
        diagrams.draw_bert_input(["[CLS]", "a", "[SEP]"])
