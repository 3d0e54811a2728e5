"""LSTMs on the CPU: the hand-written cell loop vs ``nn.LSTM``, and torch's native vs oneDNN (mkldnn) kernels.

Row 1: ``unroll`` over our ``LSTMCell`` (Python loop over time and layers) vs ``nn.LSTM`` with the same
weights, forward + backward, the course's LM sizes (2 layers x 128, B 64, T 10: one toy-world sentence).
Rows 2-4: one training step of ``LSTMLM`` (forward, backward, AdamW) with oneDNN's LSTM kernel on
(ours: ``LSTMLMConfig.mkldnn=True``, what ``course_lib`` runs) against the native kernel, at the
course's sizes and at hidden 256 / T 35. This machine's load matters: under contention the ratios move.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the harness, also when run as a script

from harness import Row, measure_pair  # noqa: E402

from course_lib.lm import LSTMLM, LSTMCell, LSTMLMConfig, native_lstm, unroll


def _train_step(config: LSTMLMConfig, B: int, T: int) -> Callable[[], None]:
    torch.manual_seed(0)
    model = LSTMLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(7, config.vocab_size, (B, T))
    y = torch.randint(7, config.vocab_size, (B, T))

    def step() -> None:
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def rows() -> Iterator[Row]:
    torch.manual_seed(0)
    B, T, H = 64, 10, 128
    lstm = nn.LSTM(H, H, 2, batch_first=True)
    cells = [LSTMCell(H, H).load_from(lstm, k) for k in range(2)]
    x = torch.randn(B, T, H, requires_grad=True)

    def ours() -> None:
        unroll(cells, x)[0].sum().backward()

    def reference() -> None:
        with native_lstm():
            lstm(x)[0].sum().backward()

    a, b = measure_pair(ours, reference, repeats=15, warmup=3)
    yield Row(f"LSTM 2x{H} fwd+bwd, B {B} T {T}: LSTMCell loop vs nn.LSTM", a, b, note="same weights")

    for what, config, B, T in (
        (f"LM train step, course size (H 128, B 64, T 10, V {LSTMLMConfig().vocab_size})", LSTMLMConfig(), 64, 10),
        (f"LM train step, long (H 128, B 64, T 35, V {LSTMLMConfig().vocab_size})", LSTMLMConfig(), 64, 35),
        ("LM train step, H 256 (B 32, T 35, V 5000)",
         LSTMLMConfig(vocab_size=5000, embedding_size=256, hidden_size=256, dropout=0.0), 32, 35),
    ):
        onednn = _train_step(config, B, T)
        native = _train_step(LSTMLMConfig(**{**vars(config), "mkldnn": False}), B, T)
        a, b = measure_pair(onednn, native, repeats=15, warmup=3)
        yield Row(f"{what}: oneDNN vs native", a, b, note="course_lib keeps oneDNN on")
