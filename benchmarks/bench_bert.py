"""BertModel vs transformers.BertModel: forward at BERT-base size on the CPU, same weights.

The weights go through ``load_pretrained``'s code path: transformers writes a ``save_pretrained``
folder (random BERT-base, no download) and our model reads it. Eval mode, B=8, T=128, no padding.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the harness, also when run as a script

from harness import Row, measure_pair  # noqa: E402

from course_lib.bert import BertConfig, load_pretrained

B, T = 8, 128


def rows() -> Iterator[Row]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers  # ~3 s: imported only here

    torch.manual_seed(0)
    base = BertConfig.base()
    theirs = transformers.BertModel(transformers.BertConfig(**{
        k: getattr(base, k) for k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                                      "intermediate_size", "max_position_embeddings")})).eval()
    with tempfile.TemporaryDirectory() as folder:
        theirs.save_pretrained(folder)
        ours, _ = load_pretrained(folder)
    ids = torch.randint(5, base.vocab_size, (B, T), generator=torch.Generator().manual_seed(0))
    types = torch.zeros_like(ids)
    types[:, T // 2:] = 1
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        a = ours(ids, types, mask)[0].last_hidden_state
        b = theirs(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        diff = (a - b).abs().max().item()
        if diff > 1e-4:
            raise AssertionError(f"outputs differ: max |ours - transformers| = {diff:.2e}")
        ms_ours, ms_ref = measure_pair(lambda: ours(ids, types, mask),
                                       lambda: theirs(input_ids=ids, token_type_ids=types, attention_mask=mask),
                                       repeats=5, warmup=1)
    yield Row("BertModel vs transformers.BertModel, base forward", ms_ours, ms_ref,
              note=f"B={B}, T={T}, eval, max |diff| {diff:.1e}, CPU {torch.get_num_threads()} threads, "
                   f"transformers {transformers.__version__}")


if __name__ == "__main__":
    for row in rows():
        print(f"{row.what}: ours {row.ours:.1f} {row.unit}, reference {row.reference:.1f} {row.unit}, "
              f"ratio {row.ratio:.2f} ({row.note})")
