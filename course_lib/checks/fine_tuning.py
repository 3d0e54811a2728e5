"""Checkers for the exercises of notebook 10 (fine-tuning BERT): span F1, labels on first pieces, the parameter
count of feature-based use, and question answering without "no answer"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from course_lib.bert import best_spans, evaluate_qa, exact_match, predict, span_f1, span_words
from course_lib.checks.core import attempt, checker, number, report


@checker
def check_span_f1(fn: Callable[[list[str], list[str]], float]) -> bool:
    """``fn(predicted words, gold words) -> float``: SQuAD's word-overlap F1; [] is "no answer"."""
    name = "check_span_f1"
    cases = [
        (["old", "cows"], ["old", "cows"]),
        (["the", "old", "cows"], ["old", "cows"]),
        (["cows"], ["old", "cows"]),
        (["red", "boats"], ["old", "cows"]),
        ([], []),
        ([], ["old", "cows"]),
        (["old", "cows"], []),
        (["a", "a", "b"], ["a", "b", "b"]),
    ]
    for predicted, gold in cases:
        got = attempt(name, fn, list(predicted), list(gold))
        want = span_f1(predicted, gold)
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return report(name, False, f"return a float, got {type(got).__name__}.")
        if abs(float(got) - want) > 1e-6:
            if not predicted and not gold:
                hint = "two empty answers agree (both say 'no answer'): F1 = 1."
            elif not predicted or not gold:
                hint = "when only one answer is empty, F1 = 0."
            elif predicted == ["a", "a", "b"]:
                hint = "count shared words with multiplicity: Counter(p) & Counter(g)."
            else:
                hint = "precision = shared / len(predicted), recall = shared / len(gold), F1 = 2PR / (P + R)."
            return report(name, False, f"F1({predicted}, {gold}) should be {want:.3f}, got {float(got):.3f}: {hint}")
    return report(name, True, "correct: partial credit for overlapping words, and 'no answer' counted.")


@checker
def check_first_piece_labels(fn: Callable[[list[int], list[int], int], list[int]]) -> bool:
    """``fn(word_starts, labels, length) -> list of length ints``: ``[CLS]`` at 0, word w's label at
    ``1 + word_starts[w]``, -100 everywhere else (later pieces, [CLS], [SEP])."""
    name = "check_first_piece_labels"
    cases = [
        ([0, 1, 4], [7, 3, 5], 7),  # the unaffable bank -> [CLS] the un ##aff ##able bank [SEP]
        ([0, 1, 2], [1, 2, 3], 5),  # one piece per word
        ([0, 2], [4, 4], 6),
    ]
    for starts, labels, length in cases:
        got = attempt(name, fn, list(starts), list(labels), length)
        want = [-100] * length
        for s, y in zip(starts, labels, strict=True):
            want[1 + s] = y
        got = got.tolist() if isinstance(got, torch.Tensor) else got
        if not isinstance(got, list) or len(got) != length:
            return report(name, False, f"return a list of {length} ints (one per input position).")
        if got == want:
            continue
        shifted = [-100] * length
        for s, y in zip(starts, labels, strict=True):
            shifted[s] = y
        if got == shifted:
            return report(name, False, "the pieces start after [CLS]: word w's first piece is at 1 + word_starts[w].")
        return report(name, False, f"word starts {starts}, labels {labels}: expected {want}, got {got}.")
    return report(name, True, "correct: one scored position per word, -100 on the rest.")


@checker
def check_feature_parameters(fn: Callable[[int, int, int], int]) -> bool:
    """``fn(hidden_size, num_layers, num_labels) -> int``: what learns when a frozen BERT is used as features:
    a scalar mix over the L + 1 layers (L + 1 weights and γ) and a linear head H -> K with bias."""
    name = "check_feature_parameters"
    from course_lib.bert import BertConfig, BertForTokenClassification, BertModel

    for H, L, K in ((16, 2, 3), (64, 4, 9), (768, 12, 2)):
        got = attempt(name, fn, H, L, K)
        want = (L + 1) + 1 + H * K + K
        if H <= 64:  # measure it on a real model when it is small
            config = BertConfig(vocab_size=30, hidden_size=H, num_hidden_layers=L, num_attention_heads=4,
                                intermediate_size=2 * H, max_position_embeddings=16)
            model = BertForTokenClassification.from_encoder(BertModel(config), K, freeze_encoder=True, mix_layers=True)
            want = model.num_parameters(trainable_only=True)
        if not isinstance(got, int) or isinstance(got, bool):
            return report(name, False, f"return an int, got {type(got).__name__}.")
        if got == want:
            continue
        if got == H * K + K:
            return report(name, False, "the mix learns too: L + 1 layer weights and one γ.")
        if got == L + H * K + K + 1 or got == (L + 1) + H * K + K:
            return report(name, False, "there are L + 1 layers to mix (the embeddings and each layer), plus γ.")
        if got == (L + 1) + 1 + H * K:
            return report(name, False, "the linear head has a bias: K more parameters.")
        return report(name, False, f"H={H}, L={L}, K={K}: expected {want}, got {got}.")
    return report(name, True, "correct: a frozen encoder leaves only the mix and the head to learn.")


def forced_exact_match(model: torch.nn.Module, batches: Sequence[Mapping], examples: Sequence,
                       max_answer_length: int = 30) -> dict[str, float]:
    """Exact match of notebook 10's QA model when "no answer" is not allowed: the [CLS] scores are set to -inf,
    so every question gets its best span. Over all questions, the answerable ones and the unanswerable ones."""
    rows = sum(len(batch["word_index"]) for batch in batches)
    if rows != len(examples):
        raise ValueError(f"the batches hold {rows} questions but {len(examples)} examples were given")
    em, k = [], 0
    for (start, end), batch in zip(predict(model, batches), batches, strict=True):
        start, end = start.clone(), end.clone()
        start[:, 0] = end[:, 0] = float("-inf")  # [CLS] can no longer win
        in_context = torch.tensor(batch["word_index"]) >= 0
        for row, span in enumerate(best_spans(start, end, in_context, max_answer_length)):
            example = examples[k]
            k += 1
            em.append((exact_match(span_words(span, batch["word_index"][row], example.context), example.answer),
                       example.span is not None))
    answerable = [e for e, has in em if has]
    unanswerable = [e for e, has in em if not has]
    return {"exact_match": sum(e for e, _ in em) / len(em),
            "answerable": sum(answerable) / max(len(answerable), 1),
            "unanswerable": sum(unanswerable) / max(len(unanswerable), 1)}


@checker
def check_forced_answers(answer: float, model: torch.nn.Module, batches: Sequence[Mapping], examples: Sequence) -> bool:
    """``answer``: exact match over all the test questions of the fine-tuned QA ``model`` when it must always answer
    (its [CLS] scores set to -inf), within 0.001; recomputed from the notebook's ``batches`` and ``examples``."""
    name = "check_forced_answers"
    value = number(name, answer)
    if not (isinstance(model, torch.nn.Module) and hasattr(model, "qa_outputs") and isinstance(batches, Sequence)
            and isinstance(examples, Sequence) and len(examples) > 0):
        return report(name, False, "pass the notebook's QA model (`models[\"QA\"]`), its test batches "
                                   "(`test_batches[\"QA\"]`) and the test questions (`data[\"QA\"][1]`).")
    forced = forced_exact_match(model, batches, examples)
    if abs(value - forced["exact_match"]) <= 1e-3:
        free = evaluate_qa(model, batches, examples)["exact_match"]
        return report(name, True, f"correct: {forced['exact_match']:.3f} when it must answer, {free:.3f} when it may "
                                  f"say no answer (the unanswerable questions now score {forced['unanswerable']:.3f}).")
    if abs(value - evaluate_qa(model, batches, examples)["exact_match"]) <= 1e-3:
        return report(name, False, "that is the exact match with \"no answer\" allowed: set the [CLS] scores (position "
                                   "0 of start and end) to -inf before choosing the best span.")
    if abs(value - forced["answerable"]) <= 1e-3:
        return report(name, False, "that is over the answerable questions only: count every test question.")
    return report(name, False, f"forced to answer, the model's exact match over all {len(examples)} test questions is "
                               f"not {value:.3f}: best_spans on start and end logits whose position 0 is -inf, then "
                               "exact_match of the span's words against each gold answer.")
