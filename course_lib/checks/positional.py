"""Checkers for the exercises of notebook 07 (the dot product at a distance, offsets as linear maps, inputs
longer than any in training)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from course_lib.checks.core import attempt, checker, close, number, report
from course_lib.transformer import sinusoidal_positions


@checker
def check_dot_at_distance(fn: Callable[[int, int], float]) -> bool:
    """``fn(k, d) -> float``: PE[p] · PE[p + k] for the sinusoidal encoding of width d, the same for every p."""
    name = "check_dot_at_distance"
    for k, d in ((0, 8), (1, 64), (5, 16), (-3, 64), (40, 32)):
        got = attempt(name, fn, k, d)
        try:
            value = float(got)
        except (TypeError, ValueError):
            return report(name, False, f"return a number, got {type(got).__name__}.")
        pe = sinusoidal_positions(60, d).double()
        want = float(pe[10] @ pe[10 + k])
        if abs(value - want) <= 1e-4:
            continue
        if abs(value - d / 2) <= 1e-4:
            return report(name, False, f"d/2 = {d / 2:g} is the dot product of a position with itself (k = 0); at "
                                       f"k = {k} the pairs are turned against each other by kω_i.")
        return report(name, False, f"for k = {k}, d = {d} expected {want:.4f}, got {value:.4f}: each frequency pair "
                                   "contributes sin(pω)sin((p+k)ω) + cos(pω)cos((p+k)ω), which is cos(kω).")
    return report(name, True, "correct: Σ_i cos(k ω_i), the same at every position, largest at k = 0.")


@checker
def check_offset_matrix(fn: Callable[[int, int], torch.Tensor]) -> bool:
    """``fn(k, d)`` -> (d, d) matrix M_k with PE[p + k] = M_k @ PE[p] at every position p."""
    name = "check_offset_matrix"
    pe = sinusoidal_positions(80, 16)
    for k in (1, 3, -2, 0):
        got = attempt(name, fn, k, 16)
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != (16, 16):
            return report(name, False, f"expected a (16, 16) tensor for d=16, got {tuple(getattr(got, 'shape', ()))}.")
        got = got.double()
        p = torch.arange(10, 70)
        moved = pe[p].double() @ got.T  # row p: M_k @ PE[p]
        if close(moved, pe[p + k].double(), atol=1e-4):
            continue
        if close(pe[p].double() @ got, pe[p + k].double(), atol=1e-4):
            return report(name, False, f"your matrix is the transpose of M_{k}: M_k @ PE[p] must give PE[p + k] "
                                       "(sin row first: [cos kω, sin kω], then the cos row: [-sin kω, cos kω]).")
        return report(name, False, f"M_{k} @ PE[p] is not PE[p + {k}]: build 2 x 2 rotation blocks by the angle "
                                   "k·ω_i on the diagonal, one per frequency.")
    return report(name, True, "correct: a shift by k is one rotation per frequency, the same at every position.")


def long_accuracies(models: Mapping[str, torch.nn.Module], collate: Callable, examples: Sequence,
                    batch_size: int = 512) -> dict[str, float]:
    """Accuracy of each of notebook 07's order classifiers on ``examples`` ((tokens, label) pairs), batched with
    the notebook's ``collate``."""
    accuracies = {}
    for kind, model in models.items():
        device = next(model.parameters()).device
        correct = 0
        with torch.no_grad():
            for start in range(0, len(examples), batch_size):
                batch = collate(list(examples[start:start + batch_size]))
                logits, _ = model(batch["input_ids"].to(device), batch["attention_mask"].to(device))
                correct += (logits.argmax(-1).cpu() == batch["labels"]).sum().item()
        accuracies[kind] = correct / len(examples)
    return accuracies


def _long_test_problem(examples: object, longest: int, max_len: int) -> str | None:
    """What is wrong with the learner's long test set, or None."""
    if examples is ... or not isinstance(examples, Sequence) or len(examples) < 50:
        return "build `long_test`: a list of at least 50 (tokens, label) pairs, as order_examples returns"
    if not all(isinstance(e, (tuple, list)) and len(e) == 2 and isinstance(e[0], (list, tuple)) and e[1] in (0, 1)
               for e in examples):
        return "`long_test` must hold (tokens, label) pairs: a list of words and 1 (in order) or 0 (shuffled)"
    lengths = [len(tokens) for tokens, _ in examples]
    if min(lengths) <= longest:
        return (f"some sequences of `long_test` have {min(lengths)} tokens: keep only those longer than the longest "
                f"training sentence ({longest})")
    if max(lengths) > max_len:
        return f"the models have {max_len} positions: keep sequences of at most {max_len} tokens"
    if sum(label for _, label in examples) * 2 != len(examples):
        return "pair every sequence in order with a shuffle of it (order_examples(..., paired=True)), half each"
    return None


@checker
def check_long_inputs(answer: float, models: Mapping[str, torch.nn.Module], collate: Callable,
                      examples: Sequence, longest: int) -> bool:
    """``answer``: the accuracy of the learned-position model on ``examples``, pairs of sequences longer than any
    training sentence (``longest``), recomputed with the notebook's ``models`` and ``collate`` (within 0.001)."""
    name = "check_long_inputs"
    value = number(name, answer)
    if not (isinstance(models, Mapping) and {"none", "sinusoidal", "learned"} <= set(models) and callable(collate)
            and isinstance(longest, int)):
        return report(name, False, "pass the notebook's `models`, `collate`, your `long_test` and `longest`.")
    problem = _long_test_problem(examples, longest, models["learned"].config.max_len)
    if problem:
        return report(name, False, problem + ".")
    accuracy = long_accuracies(models, collate, examples)
    if abs(value - accuracy["learned"]) <= 1e-3:
        return report(name, True, f"correct: on {len(examples)} sequences of {longest + 1} tokens or more, learned "
                                  f"positions {accuracy['learned']:.3f}, sinusoidal {accuracy['sinusoidal']:.3f}, "
                                  f"none {accuracy['none']:.3f}.")
    for kind in ("sinusoidal", "none"):
        if abs(value - accuracy[kind]) <= 1e-3:
            return report(name, False, f"that is the model with positions = {kind!r}: the answer is the learned one's.")
    return report(name, False, f"models['learned'] scores {accuracy['learned']:.3f} on your long_test, not "
                               f"{value:.3f}: batch it with collate and count argmax(logits) == label.")
