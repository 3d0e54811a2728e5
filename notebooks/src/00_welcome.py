# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 00 · Welcome: from word vectors to BERT
#
# This course builds, one idea per notebook, the road from **word embeddings** (词嵌入) to **BERT**.
# Every model is written out in a few readable lines, then imported in its tested form from the
# companion package `course_lib`, and the notebook checks that the two agree. Every notebook runs
# on a laptop CPU in a couple of minutes, on data the course generates itself.
#
# This first notebook checks your set-up, shows the road map, explains the two tools every later
# notebook uses (**parameters** and **widgets**), and ends with a bilingual glossary.

# %% tags=["parameters"]
# Parameters: papermill can override any of these, e.g. `-p seed 1` (see "Running with other parameters").
seed = 0  # every random draw in the notebook follows from it
device = "auto"  # "auto" picks CUDA when present, else the CPU; or "cpu", "cuda", "mps"

# %% [markdown]
# ## 1 · Is everything installed?
#
# The first code cell of every notebook holds its **parameters**; the second usually seeds the
# random number generators and picks the device. Versions differ from machine to machine, so this
# cell's output is not compared when the notebooks are tested.

# %% tags=["nbval-ignore-output"]
import platform

import ipywidgets
import matplotlib
import numpy as np
import torch

import course_lib
from course_lib import get_device, seed_everything

dev = get_device(device)
seed_everything(seed)
print(f"Python {platform.python_version()} | torch {torch.__version__} | numpy {np.__version__} | "
      f"matplotlib {matplotlib.__version__} | ipywidgets {ipywidgets.__version__} | course_lib {course_lib.__version__}")
print(f"device: {dev}" + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""))

# %% [markdown]
# These checks hold on every machine, so they are asserted: a failure here means the set-up is wrong,
# not the course.

# %%
import sys

NEEDS_PYTHON, NEEDS_IPYWIDGETS = (3, 10), 8  # the oldest versions the course supports (pyproject.toml)
assert sys.version_info >= NEEDS_PYTHON, "the course needs Python 3.10 or newer"
assert int(ipywidgets.__version__.split(".")[0]) >= NEEDS_IPYWIDGETS, "the explorers need ipywidgets 8"
assert dev.type == ("cuda" if torch.cuda.is_available() else "cpu"), "device='auto' must pick CUDA when present"
print(f"set-up OK: Python >= {'.'.join(map(str, NEEDS_PYTHON))}, ipywidgets >= {NEEDS_IPYWIDGETS}")

# %% [markdown]
# **Seeds make runs repeatable.** `seed_everything` seeds Python, NumPy and torch at once: the same
# seed gives the same numbers, so the outputs stored in these notebooks are exactly what you get.

# %%
seed_everything(seed)
first = torch.randn(3)
seed_everything(seed)
again = torch.randn(3)
assert torch.equal(first, again)
print("same seed, same draw:", torch.equal(first, again))

# %% [markdown]
# ## 2 · The road map
#
# Two tracks meet at BERT. The **recurrent track** (top) goes from one vector per word to
# contextual vectors from a bidirectional LSTM language model (ELMo). The **attention track**
# (bottom) goes from a soft dictionary lookup to the Transformer block. BERT (09) joins them:
# a Transformer encoder trained so that every layer sees both sides of every word. Notebook 12
# measures what each design choice buys.
#
# In the figure, each arrow points from an idea to a notebook that builds on it; follow the top row
# for ELMo, the bottom row for the Transformer, and see both arrive at 09.

# %%
from course_lib.course_map import LESSONS, plot_road_map

fig = plot_road_map()

# %%
print(f"{len(LESSONS)} notebooks:")
for lesson in LESSONS:
    print(f"  {lesson.number}_{lesson.slug:<28} {lesson.idea}")

# %% [markdown]
# ### The toy world: the data of the whole course
#
# Every notebook trains on the **toy world**, a text generator written for this course. It is
# small enough to train each model on a CPU in seconds, and it knows the truth about every
# sentence it writes:
#
# - the part of speech of every token, and the **sense** of every polysemous word: *bank* is money or
#   a river bank, and for some words only the words *after* it decide which (a left-to-right model
#   cannot know yet), for others only the words before it;
# - documents of several sentences on one topic, linked by a recurring character, so that
#   "does sentence B follow sentence A?" can be learned;
# - the exact probability of every sentence, so we know the best perplexity any model can reach.

# %%
from course_lib.data import toy_world, toyworld_corpus

world = toy_world()
facts = world.describe()
print(f"{facts['words']} word types, {facts['tags']} parts of speech, {len(facts['topics'])} topics: "
      f"{', '.join(facts['topics'])}")
print("polysemous words (the side whose words decide the sense):")
for word, (side, senses) in facts["polysemous"].items():
    print(f"  {word:8} {' / '.join(senses):22} decided on the {side}")

# %% [markdown]
# One generated document from the validation split. Under each token stands its gold part of
# speech, and under a polysemous word its sense; each sentence's exact log-probability comes from
# the generator itself.

# %%
validation = toyworld_corpus("validation", seed=seed, num_documents=200)
document = validation.documents[0]
print(f"topic: {document.topic}, recurring character: {document.info['character']}\n")
for sentence in document.sentences:
    print(sentence.pretty())
    print(f"log p = {sentence.logprob:.3f}   ({sentence.info['kind']})\n")

# %% [markdown]
# A polysemous sentence keeps the facts a model must discover: which sense, where the deciding
# word (the **cue**) stands, and how far away it is.

# %%
polysemous = next(s for s in validation if s.info["kind"] == "polysemous" and s.info["cue_side"] == "right")
print(polysemous.pretty())
info = polysemous.info
print(f"'{info['word']}' means {info['sense']}: the cue is the word at position {info['cue_position']}, "
      f"{info['cue_distance']} words to the {info['cue_side']}")

# %% [markdown]
# Because the generator knows every probability, it also knows the best any model can do. Later
# notebooks compare their models with these **ceilings**.

# %%
bound = world.perplexity_bound(validation)
print(f"best achievable perplexity of a sentence-level language model: {bound.perplexity:.2f} "
      f"(on {bound.num_tokens} validation tokens, <eos> included)")
print(f"best achievable next-sentence-prediction accuracy: {world.nsp_ceiling():.3f}")
assert 1 < bound.perplexity < 20 and world.nsp_ceiling() >= 0.95

# %% [markdown]
# ## 3 · Widgets: move a slider, see the model change
#
# Several notebooks have an **explorer**: an ipywidgets control panel over a matplotlib figure
# (attention heads in 06 and 11, ELMo's layer weights in 04). They need no JavaScript from the
# internet, and each comes with a static figure that also shows on GitHub and in HTML exports.
#
# Here is the smallest one. A softmax turns scores into probabilities; dividing the scores by a
# **temperature** first makes the distribution sharper (T < 1) or flatter (T > 1). Attention
# (notebook 05) uses exactly this softmax, and its √d scaling is a temperature. Move the slider.

# %% tags=["nbval-ignore-output"]
import matplotlib.pyplot as plt

words = ["bank", "river", "money", "the"]
scores = torch.tensor([2.0, 1.0, 0.5, -1.0])


def plot_softmax(temperature: float = 1.0, ax=None):
    probs = torch.softmax(scores / temperature, dim=-1)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 2.2), dpi=80)
    ax.bar(words, probs.numpy(), color="#4c72b0")
    ax.set_ylim(0, 1)
    ax.set_title(f"softmax(scores / {temperature:g})", fontsize=9)
    return probs


slider = ipywidgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05, description="temperature")
explorer = ipywidgets.interact(plot_softmax, temperature=slider, ax=ipywidgets.fixed(None))

# %% [markdown]
# The static version of the same figure, for readers on GitHub: three temperatures side by side.
# At T = 0.3 almost all the mass sits on "bank"; at T = 3 the largest probability is less than three
# times the smallest (the printed max/min).

# %%
fig, axes = plt.subplots(1, 3, figsize=(9, 2.2), dpi=80)
table = {t: plot_softmax(t, ax) for t, ax in zip((0.3, 1.0, 3.0), axes)}
fig.tight_layout()
for t, probs in table.items():
    print(f"T = {t}: p(bank) = {probs[0]:.3f}, max/min = {probs.max() / probs.min():.1f}")
assert table[0.3][0] > 0.9 and table[3.0].max() / table[3.0].min() < 3

# %% [markdown]
# If the slider above shows as text such as `interactive(children=...)` instead of a control, your
# Jupyter front end lacks the widget extension: `pip install "ipywidgets>=8"` in the environment
# that runs JupyterLab (the course's `make lab` does this for you).

# %% [markdown]
# ## 4 · Parameters and papermill
#
# Every notebook's first code cell is tagged `parameters`. The tool **papermill** runs a notebook
# from the command line and can replace those values: it inserts a cell with your values right
# after the tagged one. This is how you scale a notebook up (a real corpus, more epochs, a GPU)
# without editing it:
#
# ```bash
# .venv/bin/papermill notebooks/00_welcome.ipynb build/00_seed1.ipynb -p seed 1
# .venv/bin/papermill notebooks/03_elmo_bilm.ipynb build/03_gpu.ipynb -p device cuda -p steps 2000
# ```
#
# The injected cell comes right after the tagged one and wins, because it runs later. Every
# notebook of the course works this way; the notes at the end of this notebook show papermill doing
# it on a two-cell notebook made on the spot.

# %% [markdown]
# ## 5 · Running the course and its tests
#
# From the repository root, on a machine with the Python that section 1 checks for:
#
# | command | what it does |
# |---|---|
# | `make course` | builds `.venv`, runs every notebook into `build/` (with HTML exports), prints a table of times |
# | `make test` | the unit tests of `course_lib` and every notebook under **nbval**, which re-runs each notebook and compares its outputs with the stored ones |
# | `make notebooks` | re-executes the notebooks and stores their outputs (after you change one) |
# | `make lab` | opens JupyterLab on the notebooks |
#
# nbval compares text outputs; cells whose output legitimately differs between runs (timings,
# progress bars, versions, widgets) carry the tag `nbval-ignore-output`. Key results are
# also asserted in the notebooks themselves, so a silent regression fails the tests.

# %% [markdown]
# ## 6 · Glossary · 术语表
#
# The key terms of the course in English and Chinese, with the notebook where each is built.
# Terms appear in **bold** the first time a notebook uses them.

# %%
from IPython.display import Markdown, display

from course_lib.course_map import GLOSSARY, glossary_markdown

display(Markdown(glossary_markdown()))
print(f"{len(GLOSSARY)} terms")

# %% [markdown]
# ## Notes
#
# **papermill at work.** A two-cell notebook made on the spot: its tagged cell says
# `greeting = "hello"`, and we run it from the command line with `-p greeting "good morning"`. The
# printout lists each cell of the result with its tags: papermill's `injected-parameters` cell sits
# right after the tagged one.

# %%
import subprocess
import tempfile
from pathlib import Path

import nbformat
import papermill
from nbformat.v4 import new_code_cell, new_notebook

with tempfile.TemporaryDirectory() as tmp:
    demo, out = Path(tmp) / "demo.ipynb", Path(tmp) / "out.ipynb"
    nbformat.write(new_notebook(cells=[
        new_code_cell('greeting = "hello"', metadata={"tags": ["parameters"]}),
        new_code_cell("print(greeting, 'from the toy world')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}), demo)
    print("parameters papermill finds:", {k: v["default"] for k, v in papermill.inspect_notebook(demo).items()})
    command = [sys.executable, "-m", "papermill", str(demo), str(out), "-p", "greeting", "good morning",
               "-k", "python3", "--no-progress-bar"]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    ran = nbformat.read(out, as_version=4)

for cell in ran.cells:
    tags = cell.metadata.get("tags", [])
    printed = "".join(o.get("text", "") for o in cell.outputs).strip()
    print(f"{str(tags):26} {cell.source!r:42} -> {printed}")
assert ran.cells[-1].outputs[0]["text"].startswith("good morning")

# %% [markdown]
# ## Exercises
#
# Each exercise has a checker from `course_lib.checks` that tells you what is right or wrong.
# Fill in the answer, run the cell, read the message. Worked solutions follow below.
#
# **Exercise 1 · softmax.** Write `softmax(x)` over the last dimension. It must not overflow for
# large inputs such as `[1000, 1001, 1002]` (hint: softmax(x) = softmax(x − max x)).

# %%
from course_lib import checks


def softmax(x: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError  # your code here


done = checks.check_softmax(softmax)

# %% [markdown]
# **Exercise 2 · how hot for a tie? (investigate)** In section 3, "bank" is the most probable of
# the four words at every temperature, and the figure shows its share falling as T grows. At which
# temperature does "bank" get exactly one half of the probability? Try temperatures on `scores`
# (the slider, or `torch.softmax(scores / T, dim=-1)` in a loop), narrow it down, and set
# `half_temperature` to the T you found, within 1 %.

# %%
half_temperature = ...  # your answer: a number
done = checks.check_half_temperature(half_temperature, scores)

# %% [markdown]
# **Exercise 3 · the best perplexity, by hand.** Section 2 printed the best perplexity any
# sentence-level language model can reach on the validation sentences. Compute it yourself: write
# `perplexity_bound(sentences)` for a list of toy-world sentences, each with its exact
# log-probability `s.logprob` (natural log) and its words `s.tokens`. The perplexity is the
# exponential of minus the mean log-probability per predicted token, where every sentence has its
# words and one end-of-sentence token to predict. It should reproduce `bound.perplexity`.

# %%
def perplexity_bound(sentences: list) -> float:
    raise NotImplementedError  # your code here


done = checks.check_perplexity_bound(perplexity_bound)

# %% [markdown] tags=["solution"]
# ### Solutions
#
# **1.** Subtracting the maximum leaves the softmax unchanged (it cancels between numerator and
# denominator) and keeps every exponent ≤ 0, so nothing overflows.

# %% tags=["solution"]
def softmax(x: torch.Tensor) -> torch.Tensor:
    z = x - x.max(dim=-1, keepdim=True).values
    e = z.exp()
    return e / e.sum(dim=-1, keepdim=True)


assert checks.check_softmax(softmax)

# %% [markdown] tags=["solution"]
# **2.** The share of "bank" falls steadily as T grows (towards one quarter), so halving an interval
# of temperatures that brackets one half finds it: a bisection.

# %% tags=["solution"]
low, high = 1.0, 10.0  # p(bank) > 0.5 at T = 1 (the figure), < 0.5 at T = 10
for _ in range(30):
    middle = (low + high) / 2
    if torch.softmax(scores / middle, dim=-1)[0] > 0.5:
        low = middle
    else:
        high = middle
half_temperature = (low + high) / 2
print(f"p(bank) = {torch.softmax(scores / half_temperature, dim=-1)[0]:.3f} at T = {half_temperature:.3f}")
assert checks.check_half_temperature(half_temperature, scores)

# %% [markdown] tags=["solution"]
# **3.** Sum the log-probabilities, count the predicted tokens (words plus one end each), and take
# the exponential of minus their ratio.

# %% tags=["solution"]
def perplexity_bound(sentences: list) -> float:
    logprob = sum(s.logprob for s in sentences)
    tokens = sum(len(s.tokens) + 1 for s in sentences)
    return float(np.exp(-logprob / tokens))


assert checks.check_perplexity_bound(perplexity_bound)
assert abs(perplexity_bound(list(validation.sentences())) - bound.perplexity) < 1e-9
