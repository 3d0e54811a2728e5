"""Pictures of ELMo's scalar mix: the learned layer weights per task, and an explorer to set them by hand.

``plot_layer_weights`` is the static figure (GitHub, HTML exports): one panel of s_j bars per task
and the γ of each task. ``LayerWeightExplorer`` is the ipywidgets version: pick a task, see its
learned s_j and γ as bars, move one slider per layer to set the weights by hand, and see the probe
accuracy of that hand-set mix next to the learned one. "save PNG" writes the figure atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from course_lib.arguments import check_number
from course_lib.elmo.scalar_mix import check_layers
from course_lib.viz import FigurePane, SavePngControl, html_text, mpl_text, new_figure


@dataclass
class TaskProbe:
    """One task's frozen features and its learned mix: what the explorer needs.

    ``train`` / ``test``: the L + 1 layers (N, C) of the probe's training and test words.
    """

    train: Sequence[torch.Tensor]
    y_train: torch.Tensor
    test: Sequence[torch.Tensor]
    y_test: torch.Tensor
    weights: Sequence[float]  # learned s_j
    gamma: float  # learned γ
    accuracy: float  # of the learned mix

    def __post_init__(self) -> None:
        if not (len(self.train) == len(self.test) == len(self.weights)):
            raise ValueError(f"{len(self.train)} train layers, {len(self.test)} test layers and "
                             f"{len(self.weights)} weights: they must match")
        check_layers(self.train, None, "TaskProbe train")
        check_layers(self.test, None, "TaskProbe test")
        if self.train[0].shape[1:] != self.test[0].shape[1:]:
            raise ValueError(f"TaskProbe: train layers are {tuple(self.train[0].shape)} but test layers are "
                             f"{tuple(self.test[0].shape)}: the features must have the same width")
        for name, layers, y in (("train", self.train, self.y_train), ("test", self.test, self.y_test)):
            if len(y) != layers[0].shape[0]:
                raise ValueError(f"TaskProbe: {len(y)} y_{name} labels for {layers[0].shape[0]} {name} rows")
        for j, w in enumerate(self.weights):
            check_number(w, f"TaskProbe weights[{j}]", minimum=0.0, maximum=1.0)  # a softmax: in [0, 1]
        check_number(self.gamma, "TaskProbe gamma")
        check_number(self.accuracy, "TaskProbe accuracy", minimum=0.0, maximum=1.0)


def _draw_weights(ax, learned: Sequence[float], hand: Sequence[float] | None = None, title: str = "") -> None:
    x = np.arange(len(learned))
    width = 0.38 if hand is not None else 0.6
    ax.bar(x - (width / 2 if hand is not None else 0), learned, width, color="C0", label="learned s_j")
    if hand is not None:
        ax.bar(x + width / 2, hand, width, color="C1", label="your s_j")
    ax.set_xticks(x, [f"layer {j}" for j in x], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("s_j", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8, loc="upper left")
    if title:
        ax.set_title(mpl_text(title), fontsize=9)


def plot_layer_weights(tasks: Mapping[str, TaskProbe | tuple[Sequence[float], float, float]]) -> Figure:
    """Static figure: the learned s_j of every task (one panel each) and every task's γ (last panel)."""
    if not tasks:
        raise ValueError("give at least one task")
    rows = {name: (t.weights, t.gamma, t.accuracy) if isinstance(t, TaskProbe) else t for name, t in tasks.items()}
    fig = new_figure(2.8 * len(rows) + 1.8, 2.6)
    axes = fig.subplots(1, len(rows) + 1, width_ratios=[3] * len(rows) + [2])
    for ax, (name, (weights, _gamma, acc)) in zip(axes, rows.items(), strict=False):
        _draw_weights(ax, weights, title=f"{name}: accuracy {acc:.3f}")
    ax = axes[-1]
    ax.bar(range(len(rows)), [g for _, g, _ in rows.values()], color="C2")
    ax.set_xticks(range(len(rows)), [mpl_text(n, 16) for n in rows], fontsize=8)
    ax.set_title("γ per task", fontsize=9)
    ax.tick_params(labelsize=8)
    return fig


class LayerWeightExplorer:
    """Pick a task, see its learned s_j and γ, set the weights by hand and see the probe accuracy change.

    ``accuracy_of(task, train, y_train, test, y_test, weights) -> float`` scores a hand-set mix
    (``elmo_probes.mixed_probe_accuracy`` in notebook 04); results are remembered per setting. The
    controls are plain widgets that tests and notebooks can set (``explorer.task.value = "sense"``,
    ``explorer.sliders[1].value = 0.8``).
    """

    def __init__(self, tasks: Mapping[str, TaskProbe],
                 accuracy_of: Callable[[Sequence[torch.Tensor], torch.Tensor, Sequence[torch.Tensor],
                                        torch.Tensor, Sequence[float]], float],
                 png_path: str = "layer_weights.png") -> None:
        if not tasks:
            raise ValueError("give at least one task")
        sizes = {len(t.weights) for t in tasks.values()}
        if len(sizes) != 1:
            raise ValueError(f"every task needs the same number of layers, got {sorted(sizes)}")
        self.tasks, self.accuracy_of = dict(tasks), accuracy_of
        self.num_layers = sizes.pop()
        self._scores: dict[tuple, float] = {}
        self.task = widgets.Dropdown(options=list(self.tasks), description="task")
        self.sliders = [widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description=f"layer {j}",
                                            continuous_update=False, readout_format=".2f")
                        for j in range(self.num_layers)]
        self.reset = widgets.Button(description="use learned weights", tooltip="set the sliders to the learned s_j",
                                    layout=widgets.Layout(width="auto"))
        self.result = widgets.HTML()
        self.pane = FigurePane()
        self.saver = SavePngControl(lambda: self.figure, png_path)
        self.widget = widgets.VBox([widgets.HBox([self.task, self.reset]), widgets.HBox(self.sliders[:3]),
                                    widgets.HBox(self.sliders[3:]), self.result, self.pane.widget,
                                    self.saver.widget])
        self._holding = False
        self._set_learned()
        self.task.observe(lambda _change: self._set_learned(), names="value")
        self.reset.on_click(lambda _button: self._set_learned())
        for slider in self.sliders:
            slider.observe(lambda _change: self._redraw(), names="value")

    @property
    def figure(self) -> Figure | None:
        return self.pane.figure

    def hand_weights(self) -> list[float]:
        """The sliders' values normalized to sum to 1 (all at zero: equal weights).

        A slider set from code to something that is not a number in [0, 1] (NaN, say) raises
        ``ValueError`` naming it; the explorer shows that message instead of a figure.
        """
        raw = [check_number(s.value, f"the slider '{s.description}'", minimum=0.0, maximum=1.0)
               for s in self.sliders]
        total = sum(raw)
        return [r / total for r in raw] if total > 0 else [1.0 / len(raw)] * len(raw)

    def accuracy(self) -> float:
        """The probe accuracy of the hand-set mix for the current task."""
        weights = self.hand_weights()
        key = (self.task.value, *(round(w, 4) for w in weights))
        if key not in self._scores:
            t = self.tasks[self.task.value]
            self._scores[key] = float(self.accuracy_of(t.train, t.y_train, t.test, t.y_test, weights))
        return self._scores[key]

    def save_png(self, path: str | os.PathLike | None = None) -> Path:
        return self.saver.save(path)

    def show(self) -> None:
        from IPython.display import display

        display(self)

    def _set_learned(self) -> None:
        weights = self.tasks[self.task.value].weights
        self._holding = True  # every slider moves: compute and draw once, at the end
        try:
            for slider, w in zip(self.sliders, weights, strict=True):
                slider.value = round(float(w) / 0.05) * 0.05
        finally:
            self._holding = False
        self._redraw()

    def _redraw(self) -> None:
        if self._holding:
            return
        name, t = self.task.value, self.tasks[self.task.value]
        try:
            acc = self.accuracy()
        except Exception as err:  # a callback's exception would be invisible in the notebook
            self.result.value = f"<span style='color:#b00'>{html_text(f'{type(err).__name__}: {err}')}</span>"
            return
        hand = self.hand_weights()
        self.result.value = (f"task <b>{html_text(name)}</b>: learned mix {t.accuracy:.3f} (trained with its "
                             f"head); your mix <b>{acc:.3f}</b> (a new probe on the weights you set)")
        fig = new_figure(7.0, 2.6)
        left, right = fig.subplots(1, 2, width_ratios=[4, 1])
        _draw_weights(left, t.weights, hand, title=f"{name}: probe accuracy, your mix {acc:.3f} "
                                                   f"(learned {t.accuracy:.3f})")
        right.bar([0], [t.gamma], color="C2")
        right.set_xticks([0], ["γ"])
        right.set_ylim(0, max(1.0, 1.2 * t.gamma))
        right.set_title("learned γ", fontsize=9)
        right.tick_params(labelsize=8)
        self.pane.draw(fig)

    def __repr__(self) -> str:
        return f"LayerWeightExplorer(tasks {list(self.tasks)}, {self.num_layers} layers)"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The live widget, plus a PNG of the current figure for viewers without widgets."""
        import base64

        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)
        if self.figure is not None:
            bundle["image/png"] = base64.b64encode(self.pane.widget.value).decode("ascii")
        return bundle
