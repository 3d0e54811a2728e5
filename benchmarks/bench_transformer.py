"""TransformerEncoderLayer vs torch.nn.TransformerEncoderLayer: forward + backward on the CPU.

The sizes of the course's Transformer notebooks: B=32, T=128, H=256, 4 heads, FFN 1024, post-LN,
dropout 0.1, training mode. Ours is made with ``from_torch``, so both hold the same weights.
Target: ratio <= 1.15.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the harness, also when run as a script

from harness import Row, fwd_bwd_step, measure_pair  # noqa: E402

from course_lib.transformer import TransformerEncoderLayer

B, T, H, A, FF = 32, 128, 256, 4, 1024


def rows() -> Iterator[Row]:
    torch.manual_seed(0)
    reference = nn.TransformerEncoderLayer(H, A, FF, dropout=0.1, batch_first=True)
    ours = TransformerEncoderLayer.from_torch(reference)
    x = torch.randn(B, T, H, requires_grad=True)
    mine = fwd_bwd_step(ours, lambda t: ours(t)[0], x)
    theirs = fwd_bwd_step(reference, reference, x)
    ms_ours, ms_ref = measure_pair(mine, theirs, repeats=9)
    yield Row("TransformerEncoderLayer vs nn.TransformerEncoderLayer", ms_ours, ms_ref,
              note=f"B={B}, T={T}, H={H}, heads={A}, ff={FF}, post-LN, dropout 0.1, fwd+bwd, "
                   f"CPU {torch.get_num_threads()} threads")


if __name__ == "__main__":
    for row in rows():
        print(f"{row.what}: ours {row.ours:.1f} {row.unit}, reference {row.reference:.1f} {row.unit}, "
              f"ratio {row.ratio:.2f} ({row.note})")
