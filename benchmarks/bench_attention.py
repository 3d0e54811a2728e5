"""MultiHeadAttention vs torch.nn.MultiheadAttention: forward + backward on the CPU.

Shapes of the course's Transformer notebooks: B=32, T=128, H=256, 4 heads, self-attention.
Row 1 compares the fast paths (no weights returned); row 2 the paths that return per-head
weights (ours written out, torch's with ``average_attn_weights=False``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the harness, also when run as a script

from harness import Row, fwd_bwd_step, measure_pair  # noqa: E402

from course_lib.attention import MultiHeadAttention

B, T, H, A = 32, 128, 256, 4


def rows() -> Iterator[Row]:
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(H, A, batch_first=True)
    ours = MultiHeadAttention.from_torch(reference)
    x = torch.randn(B, T, H, requires_grad=True)
    shape = f"B={B}, T={T}, H={H}, heads={A}, fwd+bwd, CPU {torch.get_num_threads()} threads"

    mine = fwd_bwd_step(ours, lambda t: ours(t, t, t)[0], x)
    theirs = fwd_bwd_step(reference, lambda t: reference(t, t, t, need_weights=False)[0], x)
    ms_ours, ms_ref = measure_pair(mine, theirs)
    yield Row("MultiHeadAttention vs nn.MultiheadAttention", ms_ours, ms_ref, note=shape)

    mine_w = fwd_bwd_step(ours, lambda t: ours(t, t, t, need_weights=True)[0], x)
    theirs_w = fwd_bwd_step(reference, lambda t: reference(t, t, t, need_weights=True,
                                                     average_attn_weights=False)[0], x)
    ms_ours, ms_ref = measure_pair(mine_w, theirs_w)
    yield Row("MultiHeadAttention vs nn.MultiheadAttention, weights", ms_ours, ms_ref,
              note=shape + ", need_weights=True, per-head weights")


if __name__ == "__main__":
    for row in rows():
        print(f"{row.what}: ours {row.ours:.1f} {row.unit}, reference {row.reference:.1f} {row.unit}, "
              f"ratio {row.ratio:.2f} ({row.note})")
