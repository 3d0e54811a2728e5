"""Checkers for the exercises of notebook 12 (design choices): next-token targets, what each model family can see,
and GPT read after the cue."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from course_lib.checks.core import attempt, checker, number, report
from course_lib.core import probe_predictions
from course_lib.text import pad_batch

KINDS = ("gpt", "elmo-forward", "elmo-backward", "elmo", "bert")


def _next_token_case(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 50, (3, 6), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0
    mask[2, 2:] = 0
    ids[mask == 0] = 0
    return ids, mask


def _next_token_answer(ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    targets = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
    return ids[:, :-1], targets


@checker
def check_next_token_targets(fn: Callable[[torch.Tensor, torch.Tensor], tuple]) -> bool:
    """``fn(ids (B, T), attention_mask (B, T)) -> (inputs (B, T-1), targets (B, T-1))``: each position
    predicts the next token; a target that is padding is -100 (not scored)."""
    name = "check_next_token_targets"
    for seed in (0, 1):
        ids, mask = _next_token_case(seed)
        got = attempt(name, fn, ids.clone(), mask.clone())
        inputs, targets = _next_token_answer(ids, mask)
        if not (isinstance(got, tuple) and len(got) == 2 and all(isinstance(x, torch.Tensor) for x in got)):
            return report(name, False, f"return a pair of tensors (inputs, targets), got {got!r:.60}")
        if got[0].shape != inputs.shape or got[1].shape != targets.shape:
            return report(name, False, f"both should be (B, T - 1) = {tuple(inputs.shape)}, got "
                                       f"{tuple(got[0].shape)} and {tuple(got[1].shape)}")
        if torch.equal(got[1], ids[:, 1:]):
            return report(name, False, "padding targets must be -100, so the loss skips them.")
        if torch.equal(got[0], ids[:, 1:]) or torch.equal(got[1], ids[:, :-1].masked_fill(mask[:, :-1] == 0, -100)):
            return report(name, False, "shifted the wrong way: the input at t is token t, its target token t + 1.")
        if not (torch.equal(got[0], inputs) and torch.equal(got[1], targets)):
            return report(name, False, f"expected targets {targets.tolist()}, got {got[1].tolist()}")
    return report(name, True, "correct: inputs ids[:, :-1], targets ids[:, 1:] with padding as -100.")


def _visible(kind: str, t: int, T: int) -> set[int]:
    return {"gpt": set(range(t + 1)), "elmo-forward": set(range(t + 1)), "elmo-backward": set(range(t, T)),
            "elmo": set(range(T)), "bert": set(range(T))}[kind]


@checker
def check_visible_positions(fn: Callable[[str, int, int], set]) -> bool:
    """``fn(kind, t, T) -> set`` of the positions whose words the representation of position t depends on,
    for ``kind`` in ``KINDS`` ("elmo" is the concatenation of both directions)."""
    name = "check_visible_positions"
    for kind in KINDS:
        for t, T in ((0, 4), (2, 5), (4, 5)):
            got = attempt(name, fn, kind, t, T)
            try:
                got_set = {int(i) for i in got}
            except (TypeError, ValueError):
                return report(name, False, f"return a set of positions, got {got!r:.60}")
            want = _visible(kind, t, T)
            if got_set != want:
                hint = " (the word itself counts)" if got_set | {t} == want else ""
                return report(name, False, f"{kind} at t={t} of T={T}: expected {sorted(want)}, "
                                           f"got {sorted(got_set)}{hint}")
    return report(name, True, "correct: only BERT and ELMo's concatenation see both sides.")


@torch.no_grad()
def gpt_top_layer(gpt: torch.nn.Module, vocab, examples: Sequence, at_cue: bool, batch_size: int = 256
                  ) -> torch.Tensor:
    """GPT's top layer (N, H) for each sense example, read at its word or, with ``at_cue``, at the later of its word
    and its cue (GPT reads ``<bos>`` first, so word k stands at position k + 1)."""
    device = next(gpt.parameters()).device
    out = []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start:start + batch_size]
        ids, _ = pad_batch([[vocab.bos_id, *vocab.encode(e.tokens)] for e in chunk], vocab.pad_id)
        at = torch.tensor([(max(e.position, e.cue_position) if at_cue else e.position) + 1 for e in chunk])
        top = gpt.hidden_states(ids.to(device))[0].cpu()  # (B, T, H); causal, so right padding changes nothing
        out.append(top[torch.arange(len(chunk)), at])
    return torch.cat(out)


def gpt_probe_by_side(gpt: torch.nn.Module, vocab, train: Sequence, test: Sequence, seed: int,
                      at_cue: bool) -> dict[str, float]:
    """Accuracy of notebook 12's sense probe on GPT's top layer, on the left-cue and the right-cue test words."""
    y_train = torch.tensor([e.sense_id for e in train])
    y_test = torch.tensor([e.sense_id for e in test])
    hits = (probe_predictions(gpt_top_layer(gpt, vocab, train, at_cue), y_train, gpt_top_layer(gpt, vocab, test, at_cue),
                              seed=seed) == y_test).float()
    left = torch.tensor([e.cue_side == "left" for e in test])
    return {"left": hits[left].mean().item(), "right": hits[~left].mean().item(), "all": hits.mean().item()}


@checker
def check_gpt_at_cue(answer: float, gpt: torch.nn.Module, vocab, train: Sequence, test: Sequence, seed: int) -> bool:
    """``answer``: the right-cue accuracy of the sense probe on GPT's top layer read at the later of each word and
    its cue, within 0.001; recomputed from the notebook's ``gpt``, ``vocab``, probe examples and ``seed``."""
    name = "check_gpt_at_cue"
    value = number(name, answer)
    if not (hasattr(gpt, "hidden_states") and hasattr(vocab, "bos_id") and isinstance(train, Sequence)
            and isinstance(test, Sequence) and len(train) > 0 and len(test) > 0 and isinstance(seed, int)):
        return report(name, False, "pass the notebook's `gpt`, `vocab`, `probe_train`, `probe_test` and `seed` after "
                                   "your answer.")
    later = gpt_probe_by_side(gpt, vocab, train, test, seed, at_cue=True)
    if abs(value - later["right"]) <= 1e-3:
        at_word = gpt_probe_by_side(gpt, vocab, train, test, seed, at_cue=False)
        return report(name, True, f"correct: right-cue senses {later['right']:.3f} once GPT has read the cue, "
                                  f"{at_word['right']:.3f} at the word itself.")
    if abs(value - later["all"]) <= 1e-3:
        return report(name, False, "that is over every test word: count the right-cue words only.")
    if abs(value - gpt_probe_by_side(gpt, vocab, train, test, seed, at_cue=False)["right"]) <= 1e-3:
        return report(name, False, "that is GPT read at the word, before its cue: read it at the cue's position "
                                   "(the later of the word and the cue), for the training and the test words.")
    return report(name, False, f"the probe on GPT's top layer read at max(word, cue) + 1 gives another right-cue "
                               f"accuracy than {value:.3f}: train it with probe_predictions(..., seed=seed) on all the "
                               "training words, then score the right-cue test words.")
