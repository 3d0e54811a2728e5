"""CNN vs RNN vs self-attention, one layer each of the same width (notebook 08).

Each question is answered by measuring, beside the formula that predicts it:

- **receptive field**: which input positions can change output position t? (``receptive_field``,
  from the gradient, so it is what the layer does, not what a formula says);
- **path length**: how many steps separate the first token from the last (``path_lengths``);
- **sequential operations**: the longest chain of operations from input to output, read from the
  autograd graph (``dependency_depth``): it grows with T for the LSTM, not for attention;
- **work**: multiply-adds counted by torch as the layer runs (``multiply_adds``) against the per-layer
  formulas O(n·d²), O(k·n·d²), O(n²·d) (``layer_costs``);
- **time**: milliseconds against sequence length (``time_layers``), and on 1 or 2 CPU threads or a GPU
  (``parallel_times``, notebooks 02 and 08).

>>> layers = matched_layers(width=64)
>>> receptive_field(layers["1-D CNN"], T=9, position=4)
[3, 4, 5]
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from course_lib.attention import MultiHeadAttention
from course_lib.core.timing import step_times


class ConvLayer(nn.Module):
    """A 1-D convolution over positions, padded so that T stays T: (B, T, C) -> (B, T, C)."""

    def __init__(self, width: int, kernel_size: int = 3) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"use an odd kernel_size so the window is centred, got {kernel_size}")
        self.width, self.kernel_size = width, kernel_size
        self.conv = nn.Conv1d(width, width, kernel_size, padding=kernel_size // 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x.transpose(1, 2)).transpose(1, 2)  # Conv1d wants (B, C, T)


class LSTMLayer(nn.Module):
    """One left-to-right LSTM layer: (B, T, C) -> (B, T, C), the hidden state at every step."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width
        self.lstm = nn.LSTM(width, width, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.lstm(x)[0]


class SelfAttentionLayer(nn.Module):
    """Multi-head self-attention (no mask): (B, T, C) -> (B, T, C)."""

    def __init__(self, width: int, num_heads: int = 4) -> None:
        super().__init__()
        self.width = width
        self.attn = MultiHeadAttention(width, num_heads)

    def forward(self, x: Tensor) -> Tensor:
        return self.attn(x, x, x)[0]


def matched_layers(width: int = 128, kernel_size: int = 3, num_heads: int = 4) -> dict[str, nn.Module]:
    """One layer of each kind, input and output width ``width``: 8C² (LSTM), kC² (CNN), 4C² (attention)."""
    return {"LSTM": LSTMLayer(width), "1-D CNN": ConvLayer(width, kernel_size),
            "self-attention": SelfAttentionLayer(width, num_heads)}


def receptive_field(layer: nn.Module, T: int, position: int, num_layers: int = 1) -> list[int]:
    """Input positions whose change moves output ``position``: the non-zero rows of its gradient.

    ``num_layers`` applies the same layer that many times (a stack with shared weights is enough to
    see how far information travels).
    """
    width = layer.width
    x = torch.randn(1, T, width, dtype=torch.float64, requires_grad=True)
    layer = copy.deepcopy(layer).double()  # float64: a tiny true gradient is not lost to rounding
    y = x
    for _ in range(num_layers):
        y = layer(y)
    y[0, position].sum().backward()
    return (x.grad[0].abs().sum(-1) > 0).nonzero().flatten().tolist()


def path_lengths(n: int, kernel_size: int = 3) -> dict[str, dict[str, int]]:
    """For a sentence of ``n`` tokens: layers needed for the first token to reach the last one, and the
    sequential steps and the longest path (in steps) between them (Vaswani et al. 2017, Table 1)."""
    cnn_layers = math.ceil((n - 1) / (kernel_size // 2))  # a centred window of k moves k // 2 positions
    return {
        "LSTM": {"layers": 1, "sequential steps": n, "max path length": n - 1},
        "1-D CNN": {"layers": cnn_layers, "sequential steps": 1, "max path length": cnn_layers},
        "self-attention": {"layers": 1, "sequential steps": 1, "max path length": 1},
    }


def time_layers(lengths: Sequence[int], batch_size: int = 16, width: int = 128, repeats: int = 5, seed: int = 0,
                names: Sequence[str] | None = None, backward: bool = True, threads: int | None = None,
                device: str | torch.device = "cpu", statistic: str = "median",
                max_seconds: float | None = None, lstm_kernel: str = "native") -> dict[str, dict[int, float]]:
    """Milliseconds per forward (+ backward) call of each layer of ``matched_layers(width)``, per length.

    ``names`` picks layers (default: all three); ``threads``, ``statistic`` and ``max_seconds`` as in
    ``course_lib.core.step_times``. ``lstm_kernel``: on the CPU the LSTM runs torch's ``"native"``
    kernel (its T steps written out, as ``dependency_depth`` reads them) or oneDNN's fused one
    (``"onednn"``); which is faster depends on the machine and the load (``benchmarks/bench_lm.py``).
    The convolution keeps oneDNN, its fast path.
    """
    if lstm_kernel not in ("native", "onednn"):
        raise ValueError(f"lstm_kernel must be 'native' or 'onednn', got {lstm_kernel!r}")
    device = torch.device(device)
    torch.manual_seed(seed)
    layers = matched_layers(width)
    names = list(layers) if names is None else list(names)
    unknown = [n for n in names if n not in layers]
    if unknown:
        raise ValueError(f"unknown layer names {unknown}; choose from {list(layers)}")
    out: dict[str, dict[int, float]] = {}
    for name in names:
        layer = layers[name].to(device)
        with _lstm_kernel(native=name == "LSTM" and lstm_kernel == "native"):
            out[name] = step_times(layer, lengths, batch_size, width, backward=backward, repeats=repeats,
                                   seed=seed, threads=threads, statistic=statistic, max_seconds=max_seconds)
    return out


def timing_settings(threads: Sequence[int] = (1, 2), cuda: bool | None = None) -> dict[str, tuple[str, int | None]]:
    """Where to time: ``{"1 thread": ("cpu", 1), "2 threads": ("cpu", 2), "cuda": ("cuda", None)}``.

    ``cuda=None`` adds the CUDA setting when a GPU is present; ``True`` demands one.
    """
    if not threads or any(t < 1 for t in threads):
        raise ValueError(f"threads must be a non-empty list of counts >= 1, got {list(threads)}")
    if cuda and not torch.cuda.is_available():
        raise ValueError("cuda=True but torch sees no CUDA device: pass cuda=None to time the CPU only")
    settings = {f"{t} thread{'s' if t > 1 else ''}": ("cpu", t) for t in threads}
    if cuda or (cuda is None and torch.cuda.is_available()):
        settings["cuda"] = ("cuda", None)
    return settings


def parallel_times(lengths: Sequence[int], names: Sequence[str] = ("LSTM", "self-attention"),
                   threads: Sequence[int] = (1, 2), cuda: bool | None = None, batch_size: int = 16,
                   width: int = 128, repeats: int = 5, seed: int = 0, max_seconds: float | None = 2.0,
                   lstm_kernel: str = "native") -> dict[str, dict[str, dict[int, float]]]:
    """Forward milliseconds per setting of ``timing_settings(threads, cuda)``, per layer, per length.

    ``{"1 thread": {"LSTM": {T: ms}, ...}, "2 threads": {...}, "cuda": {...}}``: the fastest of
    ``repeats`` calls (other programs sharing the cores can only slow a call down), each length
    stopped after ``max_seconds`` of repeats.
    """
    return {label: time_layers(lengths, batch_size, width, repeats, seed, names=names, backward=False,
                               threads=n, device=device, statistic="min", max_seconds=max_seconds,
                               lstm_kernel=lstm_kernel)
            for label, (device, n) in timing_settings(threads, cuda).items()}


def dependency_depth(layer: nn.Module, T: int) -> int:
    """The longest chain of operations from the input to the output of ``layer`` on (1, T, C) input.

    Read from the autograd graph: an operation can only start when the operations it reads have
    finished, so this many operations run one after the other however many cores there are. The
    LSTM runs its native kernel here (oneDNN's fused kernel hides its T steps inside one operation).
    """
    x = torch.randn(1, T, layer.width, requires_grad=True)
    with _lstm_kernel(native=True):
        root = layer(x).sum().grad_fn
    depth: dict[object, int] = {}
    stack = [(root, False)]
    while stack:  # iterative post-order: a graph of thousands of nodes would overflow recursion
        node, children_done = stack.pop()
        if node in depth:
            continue
        children = [child for child, _ in node.next_functions if child is not None]
        if children_done:
            depth[node] = 1 + max((depth[c] for c in children), default=0)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if c not in depth)
    return depth[root]


def multiply_adds(layer: nn.Module, T: int) -> int:
    """Multiply-adds of one forward call of ``layer`` on one sequence (1, T, C), counted by torch.

    ``torch.utils.flop_counter.FlopCounterMode`` counts the matrix products as they run (2 FLOPs per
    multiply-add); the fused attention kernel of the CPU is counted with torch's own formula for it.
    """
    from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

    def fused_attention(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
        return sdpa_flop_count(query_shape, key_shape, value_shape)

    custom = {}
    if hasattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu"):
        custom[torch.ops.aten._scaled_dot_product_flash_attention_for_cpu] = fused_attention
    x = torch.randn(1, T, layer.width)
    with torch.no_grad(), _lstm_kernel(native=True), FlopCounterMode(display=False, custom_mapping=custom) as counter:
        layer(x)
    return counter.get_total_flops() // 2


def layer_costs(n: int, d: int, kernel_size: int = 3) -> dict[str, dict[str, object]]:
    """Per-layer cost of each layer of ``matched_layers(d)`` on ``n`` tokens (Vaswani et al. 2017, Table 1).

    For each layer: ``complexity`` (the paper's order), ``multiply-adds`` (the exact count of its
    matrix products for this module: 8·n·d² for the LSTM's four gates on x and h, k·n·d² for the
    convolution, 4·n·d² + 2·n²·d for attention's four projections, scores and weighted sum),
    ``sequential operations`` and ``max path length`` (as orders, and for this n as numbers).
    """
    k = kernel_size
    paths = path_lengths(n, kernel_size)
    rows = {
        "LSTM": ("O(n·d²)", 8 * n * d * d, "O(n)", "O(n)"),
        "1-D CNN": ("O(k·n·d²)", k * n * d * d, "O(1)", "O(n/k)"),
        "self-attention": ("O(n²·d)", 4 * n * d * d + 2 * n * n * d, "O(1)", "O(1)"),
    }
    return {name: {"complexity": complexity, "multiply-adds": macs, "sequential operations": sequential,
                   "max path length": path, "sequential steps": paths[name]["sequential steps"],
                   "path steps": paths[name]["max path length"]}
            for name, (complexity, macs, sequential, path) in rows.items()}


@contextmanager
def _lstm_kernel(native: bool) -> Iterator[None]:
    """oneDNN off for the block when ``native`` (torch then runs its reference LSTM kernel)."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = before and not native  # not mkldnn.flags(): it warns about Intel GPUs
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before
