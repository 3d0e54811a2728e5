"""Checkers for the exercises of notebook 09 (masking, counting BERT's parameters, the NSP ceiling, what BERT
predicts at a word it can see)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from course_lib.bert import BertConfig, BertForPreTraining, BertModel
from course_lib.checks.core import attempt, checker, number, report
from course_lib.text import WordPieceTokenizer
from course_lib.text.vocab import BERT_SPECIAL_TOKENS


def _tokenizer() -> WordPieceTokenizer:
    return WordPieceTokenizer(list(BERT_SPECIAL_TOKENS) + [f"w{i}" for i in range(95)])


@checker
def check_mask_tokens(fn: Callable) -> bool:
    """``fn(input_ids, tokenizer, generator) -> (inputs, labels)``: 15 % selected, 80/10/10, specials kept."""
    name = "check_mask_tokens"
    tok = _tokenizer()
    ids = torch.randint(5, 100, (400, 50), generator=torch.Generator().manual_seed(0))
    ids[:, 0], ids[:, -1], ids[::2, 40:] = tok.cls_token_id, tok.sep_token_id, tok.pad_token_id
    got = attempt(name, fn, ids.clone(), tok, torch.Generator().manual_seed(1))
    if not (isinstance(got, tuple) and len(got) == 2 and all(isinstance(t, torch.Tensor) for t in got)):
        return report(name, False, "return a pair of tensors (inputs, labels), each shaped like input_ids.")
    inputs, labels = got
    if inputs.shape != ids.shape or labels.shape != ids.shape:
        return report(name, False, f"inputs and labels must both have shape {tuple(ids.shape)}.")
    special = torch.isin(ids, torch.tensor(sorted(tok.special_ids)))
    selected = labels != -100
    if (selected & special).any():
        return report(name, False, "a special token ([CLS], [SEP] or [PAD]) was selected: never select them.")
    if not (labels[selected] == ids[selected]).all():
        return report(name, False, "labels must hold the original id at selected positions (-100 elsewhere).")
    if not (inputs[~selected] == ids[~selected]).all():
        return report(name, False, "positions that were not selected must keep their token.")
    rate = selected.sum().item() / (~special).sum().item()
    if abs(rate - 0.15) > 0.02:
        return report(name, False, f"{rate:.1%} of the ordinary positions were selected; BERT selects 15 %.")
    masked = (inputs[selected] == tok.mask_token_id).float().mean().item()
    kept = (inputs[selected] == ids[selected]).float().mean().item()
    if abs(masked - 0.8) > 0.05 or abs(kept - 0.1) > 0.04:
        return report(name, False, f"of the selected: {masked:.0%} [MASK], {kept:.0%} unchanged; "
                                   "BERT uses 80 % [MASK], 10 % random, 10 % unchanged.")
    return report(name, True, f"correct: {rate:.1%} selected; {masked:.0%} [MASK], {kept:.0%} unchanged.")


@checker
def check_parameter_count(fn: Callable[[BertConfig], int]) -> bool:
    """``fn(config) -> int``: the exact number of parameters of ``BertModel(config)`` (no pre-training heads)."""
    name = "check_parameter_count"
    configs = [BertConfig.base(), BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=3,
                                             num_attention_heads=2, intermediate_size=40,
                                             max_position_embeddings=24, type_vocab_size=3)]
    for config in configs:
        got = attempt(name, fn, config)
        with torch.device("meta"):
            want = BertModel(config).num_parameters()
        if got != want:
            return report(name, False, f"for L={config.num_hidden_layers}, H={config.hidden_size}, "
                                       f"I={config.intermediate_size} you said {got}, the model has {want}: "
                                       "count embeddings (V+P+S)·H + LayerNorm, per layer Q,K,V,out + FFN + "
                                       "two LayerNorms, and the pooler; biases too.")
    return report(name, True, f"correct: BERT-base has {configs[0].num_parameters():,} parameters.")


@checker
def check_nsp_ceiling(fn: Callable[[int], float]) -> bool:
    """``fn(K) -> float``: Bayes accuracy of NSP with K equally likely topics, no names, half IsNext."""
    name = "check_nsp_ceiling"
    for K in (1, 2, 10, 37):
        got = attempt(name, fn, K)
        want = 1 - 0.5 / K
        try:
            ok = abs(float(got) - want) < 1e-9
        except (TypeError, ValueError):
            return report(name, False, f"return a number (a float), not {type(got).__name__}.")
        if not ok:
            return report(name, False, f"for K={K} you said {got}, expected {want:.4f}: IsNext pairs are always "
                                       "right; which NotNext pairs look like IsNext ones?")
    return report(name, True, "correct: 1 - 1/(2K), 0.95 for ten topics.")


def selected_accuracy(model: BertForPreTraining, batches: Sequence[Mapping[str, torch.Tensor]],
                      replace: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> float:
    """MLM accuracy at the selected positions (label != -100) of ``batches`` once their input is
    ``replace(original_ids, selected)``; every other position keeps its original token."""
    correct = total = 0
    device = next(model.parameters()).device
    with torch.no_grad():
        for batch in batches:
            selected = batch["labels"] != -100
            original = torch.where(selected, batch["labels"], batch["input_ids"])  # the unmasked pair
            inputs = torch.where(selected, replace(original, selected), original)
            out, _ = model(input_ids=inputs.to(device), token_type_ids=batch["token_type_ids"].to(device),
                           attention_mask=batch["attention_mask"].to(device))
            hit = out.prediction_logits.argmax(-1).cpu() == batch["labels"]
            correct += int(hit[selected].sum())
            total += int(selected.sum())
    return correct / max(total, 1)


@checker
def check_visible_accuracy(answer: float, model: BertForPreTraining, batches: Sequence[Mapping[str, torch.Tensor]],
                           tokenizer: WordPieceTokenizer) -> bool:
    """``answer``: how often the pre-trained ``model`` predicts the word at the selected positions of ``batches``
    when that very word is in the input (nothing masked), within 0.001; recomputed here."""
    name = "check_visible_accuracy"
    value = number(name, answer)
    if not (isinstance(model, BertForPreTraining) and isinstance(batches, Sequence) and len(batches) > 0
            and all(isinstance(b, Mapping) and "labels" in b for b in batches)
            and isinstance(tokenizer, WordPieceTokenizer)):
        return report(name, False, "pass the notebook's `model`, `held_out` and `tokenizer` after your answer.")
    mask_token_id = tokenizer.mask_token_id
    visible = selected_accuracy(model, batches, lambda original, selected: original)
    if abs(value - visible) <= 1e-3:
        masked = selected_accuracy(model, batches, lambda original, selected: torch.full_like(original, mask_token_id))
        return report(name, True, f"correct: with the word in plain sight BERT predicts it {visible:.3f} of the time, "
                                  f"against {masked:.3f} at [MASK].")
    masked = selected_accuracy(model, batches, lambda original, selected: torch.full_like(original, mask_token_id))
    if abs(value - masked) <= 1e-3:
        return report(name, False, "that is the accuracy at [MASK]: put the original word back at every selected "
                                   "position (the label), so that the input shows the answer.")
    ordinary = torch.tensor(sorted(set(range(tokenizer.vocab_size)) - set(tokenizer.special_ids)))
    generator = torch.Generator().manual_seed(0)
    randomized = selected_accuracy(model, batches, lambda original, selected: ordinary[
        torch.randint(len(ordinary), original.shape, generator=generator)])
    if abs(value - randomized) <= 0.03 < abs(visible - randomized):
        return report(name, False, "that looks like random words at the selected positions: the question is about "
                                   "the original word, left as it is.")
    return report(name, False, f"with the original word at every selected position (label != -100) BERT predicts it "
                               f"{visible:.3f} of the time, not {value:.3f}: count argmax(prediction_logits) == label "
                               "at the selected positions only.")
