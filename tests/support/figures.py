"""What a reader sees of a matplotlib figure: its drawn texts and their extents, for readability tests."""

from __future__ import annotations

import itertools

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

MIN_FONT = 8  # points, at the figure's stored size


def drawn_texts(fig: Figure) -> list[tuple[Text, Bbox]]:
    """The texts drawn on ``fig`` (titles, axis and tick labels of visible axes, legends, colour bars, free
    text), each with its extent in pixels, measured on an Agg canvas after a full draw."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += [ax.title, *ax.texts]
        if ax.axison:
            texts += [ax.xaxis.label, ax.yaxis.label, *_shown_ticklabels(ax.xaxis), *_shown_ticklabels(ax.yaxis)]
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
    renderer = canvas.get_renderer()
    return [(t, t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text().strip()]


def _shown_ticklabels(axis) -> list[Text]:
    """The tick labels matplotlib draws: those of ticks inside the view limits."""
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * max(1.0, abs(high - low))
    return [label for loc, label in zip(axis.get_ticklocs(), axis.get_ticklabels(), strict=False)
            if low - slack <= loc <= high + slack]


def assert_readable(fig: Figure, min_font: float = MIN_FONT) -> None:
    """Every text at least ``min_font`` points, no two texts overlapping, none cut off at the figure's edge."""
    texts = drawn_texts(fig)
    small = [(t.get_text(), t.get_fontsize()) for t, _ in texts if t.get_fontsize() < min_font]
    assert not small, f"text under {min_font} pt: {small[:8]}"
    overlapping = [(a.get_text(), b.get_text()) for (a, ea), (b, eb) in itertools.combinations(texts, 2)
                   if ea.overlaps(eb)]
    assert not overlapping, f"overlapping texts: {overlapping[:8]}"
    page = fig.bbox
    outside = [t.get_text() for t, e in texts
               if e.x0 < page.x0 - 1 or e.y0 < page.y0 - 1 or e.x1 > page.x1 + 1 or e.y1 > page.y1 + 1]
    assert not outside, f"texts cut off at the figure's edge: {outside[:8]}"
