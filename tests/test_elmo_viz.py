"""course_lib.elmo_viz: the layer-weight explorer (built headless) and its static figure."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from course_lib.elmo import LayerWeightExplorer, TaskProbe, mixed_probe_accuracy, plot_layer_weights
from course_lib.viz import figure_to_png
from tests.support.figures import assert_readable

matplotlib.use("Agg")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_task(informative: int, seed: int, n: int = 120) -> TaskProbe:
    """Three layers of random features; only layer ``informative`` carries the label."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(2, (2 * n,), generator=g)
    layers = [torch.randn(2 * n, 6, generator=g) for _ in range(3)]
    layers[informative][:, 0] += 3 * (2 * y - 1)
    weights = [0.1, 0.1, 0.1]
    weights[informative] = 0.8
    return TaskProbe([h[:n] for h in layers], y[:n], [h[n:] for h in layers], y[n:], weights, 1.3, 0.99)


@pytest.fixture
def tasks() -> dict[str, TaskProbe]:
    return {"syntax": make_task(0, seed=0), "sense": make_task(2, seed=1)}


@pytest.fixture
def explorer(tasks, tmp_path) -> LayerWeightExplorer:
    return LayerWeightExplorer(tasks, mixed_probe_accuracy, png_path=str(tmp_path / "weights.png"))


def test_built_headless_with_the_labels_the_browser_test_uses(explorer):
    assert explorer.task.description == "task"
    assert list(explorer.task.options) == ["syntax", "sense"]
    assert [s.description for s in explorer.sliders] == ["layer 0", "layer 1", "layer 2"]
    assert explorer.saver.path.description == "file" and explorer.saver.button.description == "save PNG"
    assert explorer.figure is not None and bytes(explorer.pane.widget.value).startswith(PNG_SIGNATURE)
    # the sliders start at the learned weights of the first task
    assert [round(s.value, 2) for s in explorer.sliders] == [0.8, 0.1, 0.1]


def test_changing_the_task_changes_the_figure_and_the_sliders(explorer):
    before = bytes(explorer.pane.widget.value)
    explorer.task.value = "sense"
    assert bytes(explorer.pane.widget.value) != before
    assert [round(s.value, 2) for s in explorer.sliders] == [0.1, 0.1, 0.8]
    assert "sense" in explorer.result.value
    bars = [p.get_height() for p in explorer.figure.axes[0].patches]
    assert bars[:3] == pytest.approx([0.1, 0.1, 0.8])  # the learned s_j of the new task


def test_sliders_change_the_accuracy(explorer):
    good = explorer.accuracy()
    assert good > 0.9
    for slider, value in zip(explorer.sliders, [0.0, 1.0, 0.0], strict=True):
        slider.value = value  # all the weight on an uninformative layer
    assert explorer.hand_weights() == [0.0, 1.0, 0.0]
    bad = explorer.accuracy()
    assert bad < 0.75
    assert f"{bad:.3f}" in explorer.result.value
    explorer.reset.click()  # back to the learned weights
    assert explorer.accuracy() == good


def test_save_png_writes_a_file_atomically(explorer, tmp_path):
    path = explorer.save_png()
    assert path == tmp_path / "weights.png"
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert [p.name for p in tmp_path.iterdir()] == ["weights.png"]  # no temporary file left behind
    explorer.saver.path.value = str(tmp_path / "figure.txt")
    explorer.saver.button.click()  # a bad name is reported, not raised
    assert "not saved" in explorer.saver.status.value
    assert not (tmp_path / "figure.txt").exists()


def test_static_figure_and_bad_input(tasks):
    fig = plot_layer_weights(tasks)
    assert len(fig.axes) == 3 and figure_to_png(fig).startswith(PNG_SIGNATURE)
    assert_readable(plot_layer_weights({"part of speech": tasks["syntax"], "word sense": tasks["sense"]}))
    with pytest.raises(ValueError):
        plot_layer_weights({})
    with pytest.raises(ValueError, match="same number of layers"):
        bad = make_task(0, seed=2)
        bad.weights = [0.5, 0.5]
        bad.train, bad.test = bad.train[:2], bad.test[:2]
        LayerWeightExplorer({"a": make_task(0, seed=0), "b": bad}, mixed_probe_accuracy)
    with pytest.raises(ValueError, match="must match"):
        TaskProbe([torch.zeros(2, 3)], torch.zeros(2), [torch.zeros(2, 3)], torch.zeros(2), [0.5, 0.5], 1.0, 0.5)
