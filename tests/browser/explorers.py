"""Which explorers the browser test checks: one entry per notebook.

An entry names the notebook, the controls that make up its explorer (the first cell output holding
all of them *is* the explorer), the changes to make (each one must change the figure) and whether it
has a "save PNG" button. A notebook that does not exist yet is skipped with a printed note.

Controls are found by what the learner sees: a slider, dropdown or text box by its description
label, a toggle button or button by the text on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("slider", "dropdown", "text", "toggle", "button")


@dataclass(frozen=True)
class Control:
    kind: str  # one of KINDS
    label: str  # the widget's description; for a toggle or a button, the text on the button

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown control kind {self.kind!r}, expected one of {KINDS}")

    def __str__(self) -> str:
        return f"{self.kind} {self.label!r}"


@dataclass(frozen=True)
class Change:
    """Set a control, then expect the figure to change (and ``expect_text``, a regex, to appear)."""

    control: Control
    value: str | int | None = None  # typed (slider, text); option label or index (dropdown); None = click
    expect_text: str | None = None

    def __str__(self) -> str:
        if self.value is None:
            return f"click {self.control}"
        how = f"option #{self.value}" if isinstance(self.value, int) else repr(self.value)
        return f"{self.control} -> {how}"


@dataclass(frozen=True)
class Explorer:
    notebook: str  # file name under notebooks/
    controls: tuple[Control, ...]  # all present in one cell output: that output is the explorer
    changes: tuple[Change, ...]  # each must change the figure (the first <img> in the explorer)
    save_png: bool = False  # a course_lib.viz.SavePngControl: text box "file" and button "save PNG"
    parameters: dict[str, object] = field(default_factory=dict)  # papermill-style, to keep the run short
    run_timeout_s: float = 150.0  # for "run all cells"


def slider(label: str) -> Control:
    return Control("slider", label)


def dropdown(label: str) -> Control:
    return Control("dropdown", label)


def text(label: str) -> Control:
    return Control("text", label)


def toggle(label: str) -> Control:
    return Control("toggle", label)


def button(label: str) -> Control:
    return Control("button", label)


# course_lib.viz.AttentionExplorer, as in notebooks 06 and 11 (view starts on "lines", head on "head 0")
ATTENTION_CONTROLS = (slider("layer"), dropdown("head"), dropdown("token"), toggle("heat map"),
                      toggle("lines"), button("save PNG"))
ATTENTION_CHANGES = (
    Change(dropdown("head"), "head 1"),  # another head
    Change(toggle("heat map")),  # the other view
    Change(dropdown("token"), 2),  # one query token's row: option 0 is "all tokens"
)

EXPLORERS: tuple[Explorer, ...] = (
    Explorer("00_welcome.ipynb",
             controls=(slider("temperature"),),
             # the slider moves in steps of 0.05 in log10 T; at T = 0.316, p("bank") = 0.951
             changes=(Change(slider("temperature"), "0.316", expect_text=r"tensor\(\[9\.51"),)),
    Explorer("01_word_vectors.ipynb",  # course_lib.embeddings_viz.NeighbourExplorer
             controls=(text("word"), slider("k")),
             changes=(Change(slider("k"), "8"),)),  # more neighbours ringed on the map
    Explorer("04_using_elmo.ipynb",  # course_lib.elmo_viz.LayerWeightExplorer
             controls=(dropdown("task"), slider("layer 0"), slider("layer 1"), slider("layer 2"),
                       button("use learned weights"), button("save PNG")),
             changes=(Change(dropdown("task"), 1),  # another task: its learned s_j and γ
                      # all the weight on layer 0 (the sliders step by 0.05): a new probe, a new accuracy
                      Change(slider("layer 0"), "1", expect_text=r"your mix"),
                      Change(button("use learned weights"))),  # back to the learned s_j
             save_png=True, run_timeout_s=300.0),
    Explorer("06_multi_head_self_attention.ipynb", ATTENTION_CONTROLS, ATTENTION_CHANGES, save_png=True),
    Explorer("11_looking_inside.ipynb",  # the toy BERT of 09 (cached), plus the model view: every layer and head
             ATTENTION_CONTROLS + (toggle("model view"),),
             ATTENTION_CHANGES + (Change(toggle("model view")),),
             save_png=True),
)
