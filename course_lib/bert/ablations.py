"""BERT's ablations at toy scale: the same network pre-trained with other objectives, directions and sizes.

The BERT paper backs its design with ablations (its section 5): without next-sentence prediction;
left-to-right (LTR) without the masked LM, i.e. a GPT-style model; LTR with a randomly initialised BiLSTM
on top for fine-tuning; and bigger or smaller models. Each is the toy BERT's recipe with one field changed,
everything else equal to notebook 09's (tokenizer, config, PPMI initialisation, batches, training loop):

- ``ToyBertSettings(objective="mlm")``: the masked LM alone (the NSP head never learns);
- ``ToyBertSettings(objective="ltr")``: a **causal** encoder (``BertConfig(is_decoder=True)``: position t
  attends to 0 .. t) trained to predict the next token of the unmasked input, as GPT; no MLM, no NSP.
  It stays causal when fine-tuned (the paper kept the left-only constraint at fine-tuning too);
- ``with_bilstm(encoder)``: a fresh ``PackedBiLSTM`` (``course_lib.bert.heads``) on top of a (causal) encoder, so a
  left-to-right model can be fine-tuned with right context again (the paper's "LTR & No NSP + BiLSTM" row);
- ``ToyBertSettings(hidden_size=..., num_hidden_layers=...)``: other sizes.

>>> model, tokenizer, history = pretrained_toy_bert(ToyBertSettings(objective="ltr", steps=400))  # doctest: +SKIP
"""

from __future__ import annotations

import copy

import torch

from course_lib.bert.heads import PackedBiLSTM
from course_lib.bert.model import BertModel


def with_bilstm(encoder: BertModel, seed: int = 0) -> BertModel:
    """A copy of ``encoder`` (weights, direction) with a new ``PackedBiLSTM`` as its ``top`` (its init follows ``seed``)."""
    if not isinstance(encoder, BertModel):
        raise TypeError(f"with_bilstm needs a course_lib.bert.BertModel, got {type(encoder).__name__}; "
                        "for a BertForPreTraining pass its .bert")
    model = copy.deepcopy(encoder)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model.top = PackedBiLSTM(encoder.config.hidden_size)
    return model.to(next(encoder.parameters()).device)
