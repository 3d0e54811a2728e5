"""What the input checks at a model's boundary cost (issue 22: under 2 % of a forward at the course's sizes).

Every model checks its inputs once per call (ids in the vocabulary, positions, the mask's shape and values), then
runs its layers inside ``checked_inputs()``; running a forward inside ``checked_inputs()`` skips the boundary
checks too, which gives the unchecked reference. Two rows per size, eval mode, inference mode, one CPU thread:

- ``checks alone``: ``model.check_inputs(...)`` (ours) against the whole checked forward (reference): the ratio
  is the share of a forward the checks take. This is the number to read; it is steady under load.
- ``forward, checked vs not``: the checked forward (ours) against the same forward inside ``checked_inputs()``
  (reference), interleaved. Its ratio should be 1.00 to within the machine's noise (a few % on a shared CPU).

Sizes: the toy BERT of the course (H 64, L 2, A 4, B 128, T 64, V 1000) and a BERT-base-wide model with two
layers (H 768, A 12, B 8, T 128, V 30522): fewer layers make the checks' share larger, so 12 layers cost a sixth
of it. Every fourth row is padded to half its length, so the mask is read and used. Last, the toy world's GPT
(H 64, L 2, B 64, T 12), the smallest forward of the course, where the checks weigh most.

The checks are a handful of small reductions with one read back each (a host sync on a GPU): their time hardly
depends on the sizes, so their share grows as the forward gets faster (more threads, a GPU).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the harness, also when run as a script

from harness import Row, measure_pair  # noqa: E402

from course_lib.arguments import checked_inputs  # noqa: E402
from course_lib.bert import BertConfig, BertModel  # noqa: E402
from course_lib.gpt import GPT, GPTConfig  # noqa: E402

SIZES = {  # name: (config, B, T, repeats)
    "toy BERT (H 64, L 2, B 128, T 64)": (
        BertConfig(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                   intermediate_size=256, max_position_embeddings=128), 128, 64, 21),
    "BERT-base width, 2 layers (H 768, B 8, T 128)": (BertConfig(num_hidden_layers=2), 8, 128, 7),
}


def _inputs(vocab_size: int, B: int, T: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab_size, (B, T), generator=g)
    types = torch.zeros_like(ids)
    types[:, T // 2:] = 1
    mask = torch.ones_like(ids)
    mask[::4, T // 2:] = 0  # a padded row in four
    return ids, types, mask


def _unchecked(model: torch.nn.Module, *args, **kwargs):
    with checked_inputs():  # what the layers of a checked model run under: the boundary checks are skipped
        return model(*args, **kwargs)


def _bert_rows(name: str, config: BertConfig, B: int, T: int, repeats: int) -> Iterator[Row]:
    torch.manual_seed(0)
    model = BertModel(config).eval()
    ids, types, mask = _inputs(config.vocab_size, B, T)
    with torch.inference_mode():
        checks, forward = measure_pair(lambda: model.check_inputs(ids, types, mask), lambda: model(ids, types, mask),
                                       repeats=repeats, warmup=2)
        checked, unchecked = measure_pair(lambda: model(ids, types, mask),
                                          lambda: _unchecked(model, ids, types, mask), repeats=repeats, warmup=2)
    yield Row(f"{name}: checks alone / checked forward", checks, forward,
              note=f"the checks' share: {100 * checks / forward:.2f} % ({checks * 1e3:.0f} us of {forward:.1f} ms)")
    yield Row(f"{name}: forward, checked vs unchecked", checked, unchecked, note="interleaved")


def _gpt_rows() -> Iterator[Row]:
    torch.manual_seed(0)
    gpt = GPT(GPTConfig()).eval()  # the toy world's GPT: sentences of <= 12 tokens, batches of 64
    ids, _, mask = _inputs(gpt.config.vocab_size, 64, 12)
    with torch.inference_mode():
        checks, forward = measure_pair(lambda: gpt.check_inputs(ids, mask), lambda: gpt(ids, attention_mask=mask),
                                       repeats=21, warmup=2)
    yield Row("toy GPT (H 64, L 2, B 64, T 12): checks alone / checked forward", checks, forward,
              note=f"the checks' share: {100 * checks / forward:.2f} % ({checks * 1e3:.0f} us of {forward:.1f} ms)")


def rows() -> Iterator[Row]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the recipes train; more threads (or a GPU) speed the forward more than the checks
    try:
        for name, (config, B, T, repeats) in SIZES.items():
            yield from _bert_rows(name, config, B, T, repeats)
        yield from _gpt_rows()
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    for row in rows():
        print(f"{row.what}: ours {row.ours:.3f} {row.unit}, reference {row.reference:.3f} {row.unit}, "
              f"ratio {row.ratio:.4f} ({row.note})")
