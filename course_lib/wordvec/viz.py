"""Pictures of word vectors: a 2-D PCA map coloured by word class and a nearest-neighbour explorer.

``plot_word_map`` is the static figure (GitHub, HTML exports); ``NeighbourExplorer`` is the ipywidgets
version: pick a word and k, see its neighbours listed and highlighted on the map.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib.arguments import check_int, check_text
from course_lib.viz import FigurePane, html_text, mpl_text, new_figure
from course_lib.wordvec.vectors import WordVectors


def plot_word_map(vectors: WordVectors, words: Sequence[str], labels: Sequence[str] | None = None,
                  highlight: Sequence[str] = (), query: str | None = None, ax: Axes | None = None,
                  annotate: int = 40, title: str = "") -> Figure:
    """Scatter ``words`` on their first two principal components, one colour per label.

    ``highlight`` words get a ring and their name; ``query`` is drawn as a star. At most ``annotate``
    other words are named (the first ones given), and only where the name overlaps no other name and
    not the legend (``place_labels``), so the map stays readable.
    """
    points = vectors.project_2d(words).numpy()
    fig = ax.figure if ax is not None else new_figure(6.5, 4.2)
    ax = ax or fig.add_subplot()
    labels = list(labels) if labels is not None else ["word"] * len(words)
    classes = list(dict.fromkeys(labels))
    colours = {c: f"C{i % 10}" for i, c in enumerate(classes)}
    markers = {c: "os^Dv"[i // 10 % 5] for i, c in enumerate(classes)}
    for c in classes:
        rows = [i for i, lab in enumerate(labels) if lab == c]
        ax.scatter(points[rows, 0], points[rows, 1], s=14, color=colours[c], marker=markers[c], label=mpl_text(c),
                   alpha=0.8)
    index = {w: i for i, w in enumerate(words)}
    for w in highlight:
        if w in index:
            ax.scatter(*points[index[w]], s=80, facecolors="none", edgecolors="black", linewidths=1.2)
    if query in index:
        ax.scatter(*points[index[query]], s=160, marker="*", color="black")
    if len(classes) > 1:
        ax.legend(fontsize=FONT, ncol=2 if len(classes) > 8 else 1, loc="best", markerscale=0.8)
    ax.set_xlabel("PC 1", fontsize=FONT)
    ax.set_ylabel("PC 2", fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    if title:
        ax.set_title(mpl_text(title), fontsize=9)
    must = [w for w in ([query] if query else []) + list(highlight) if w in index]
    optional = [w for w in list(words)[:annotate] if w in index and w not in must]
    place_labels(ax, [(w, tuple(points[index[w]])) for w in dict.fromkeys(must + optional)], keep=len(set(must)))
    return fig


FONT = 8  # points: the smallest text of the map
# where a word's name may go, in points from its dot: right-above first, then the other corners and sides
_OFFSETS = ((3, 3, "left", "bottom"), (-3, 3, "right", "bottom"), (3, -3, "left", "top"),
            (-3, -3, "right", "top"), (5, 0, "left", "center"), (-5, 0, "right", "center"),
            (0, 5, "center", "bottom"), (0, -5, "center", "top"))


def place_labels(ax: Axes, named: Sequence[tuple[str, tuple[float, float]]], keep: int = 0) -> list[str]:
    """Name points without two names overlapping: each name tries eight places around its dot, in order,
    and takes the first that overlaps no placed name, the legend or the edge of the axes; a name with no
    free place is left out, except the first ``keep`` (the query and the highlighted words), drawn at the
    first place. Returns the names drawn."""
    ax.figure.draw_without_rendering()  # the final layout: extents measured now are where names will be drawn
    frame = ax.get_window_extent()
    taken = [ax.get_legend().get_window_extent()] if ax.get_legend() is not None else []
    drawn = []
    for rank, (word, xy) in enumerate(named):
        for dx, dy, ha, va in _OFFSETS:
            text = _name(ax, word, xy, dx, dy, ha, va)
            box = text.get_window_extent()
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in taken):
                taken.append(box)
                drawn.append(word)
                break
            text.remove()
        else:
            if rank < keep:
                taken.append(_name(ax, word, xy, *_OFFSETS[0]).get_window_extent())
                drawn.append(word)
    return drawn


def _name(ax: Axes, word: str, xy: tuple[float, float], dx: float, dy: float, ha: str, va: str):
    text = ax.annotate(mpl_text(word), xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, fontsize=FONT)
    text.set_in_layout(False)  # names inside the axes never move the layout
    return text


MAX_K = 20  # neighbours the explorer lists at most


class NeighbourExplorer:
    """A word box and a k slider; shows the word's k nearest neighbours as a list and on the 2-D map."""

    def __init__(self, vectors: WordVectors, words: Sequence[str], labels: Sequence[str] | None = None,
                 start: str | None = None, k: int = 5) -> None:
        words = list(words)
        if labels is not None and len(labels) != len(words):
            raise ValueError(f"NeighbourExplorer: {len(labels)} labels for {len(words)} words: give one label "
                             f"per word, or labels=None")
        check_int(k, "k", minimum=1, maximum=MAX_K)
        if start is not None:
            check_text(start, "start")
        self.vectors, self.words = vectors, [w for w in words if w in vectors]
        if not self.words:
            raise ValueError(f"NeighbourExplorer: none of the {len(words)} words has a vector "
                             f"(e.g. {words[:3]}): give words of the vectors' vocabulary")
        self.labels = None if labels is None else [lab for w, lab in zip(words, labels, strict=True) if w in vectors]
        self.word = widgets.Combobox(value=start or self.words[0], options=sorted(self.vectors.words),
                                     description="word", ensure_option=False, continuous_update=False)
        self.k = widgets.IntSlider(value=k, min=1, max=MAX_K, description="k")
        self.table = widgets.HTML()
        self.pane = FigurePane()
        self.word.observe(self._redraw, names="value")
        self.k.observe(self._redraw, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.word, self.k]),
                                    widgets.HBox([self.pane.widget, self.table])])
        self._redraw()

    def neighbours(self) -> list[tuple[str, float]]:
        return self.vectors.most_similar(self.word.value, self.k.value)

    def _redraw(self, _change=None) -> None:
        try:
            found = self.neighbours()
        except KeyError as err:
            self.table.value = f"<span style='color:#b00'>{html_text(err.args[0])}</span>"
            return
        rows = "".join(f"<tr><td>{html_text(w)}</td><td>{s:.3f}</td></tr>" for w, s in found)
        self.table.value = f"<table><tr><th>neighbour</th><th>cosine</th></tr>{rows}</table>"
        shown = list(dict.fromkeys(self.words + [self.word.value] + [w for w, _ in found]))
        labels = None if self.labels is None else self.labels + ["other"] * (len(shown) - len(self.labels))
        self.pane.draw(plot_word_map(self.vectors, shown, labels, highlight=[w for w, _ in found],
                                     query=self.word.value, annotate=0,
                                     title=f"{self.word.value} and its {self.k.value} nearest neighbours"))

    def show(self) -> None:
        from IPython.display import display

        display(self.widget)
