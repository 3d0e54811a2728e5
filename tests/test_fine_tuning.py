"""course_lib.fine_tuning: fixed batches in seeded orders, the evaluators on hand-made models, pooling."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from course_lib.bert import (
    ClassifierOutput,
    QAOutput,
    collate_sense_tagging,
    evaluate_classifier,
    evaluate_qa,
    evaluate_tagger,
    mean_pool,
    pair_features,
    shuffled_epochs,
    task_batches,
)
from course_lib.data.tasks import QAExample, SenseExample, SpamMessage
from course_lib.text import WordPieceTokenizer, collate_classification, collate_qa

TOKENIZER = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "what", "does", "tom", "feed",
                                "the", "old", "cows", "sleeps", "hi", "win", "prize"])


def test_task_batches_collate_once_and_reshuffle_every_epoch():
    calls = []

    def collate(chunk):
        calls.append(list(chunk))
        return {"x": torch.tensor(chunk)}

    epoch, batches = task_batches(list(range(10)), collate, batch_size=4, seed=0)
    assert [b["x"].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    orders = [[b["x"][0].item() for b in epoch()] for _ in range(6)]
    assert all(sorted(o) == [0, 4, 8] for o in orders)
    assert len({tuple(o) for o in orders}) > 1, "the order of the batches should change between epochs"
    assert len(calls) == 3, "examples are collated once, not every epoch"
    again, _ = task_batches(list(range(10)), collate, batch_size=4, seed=0)
    assert [b["x"][0].item() for b in again()] == orders[0]
    with pytest.raises(ValueError, match="batch_size"):
        task_batches([1], collate, batch_size=0)


def test_shuffled_epochs_one_per_run_gives_every_run_the_same_order():
    batches = [{"x": torch.tensor([k])} for k in range(8)]

    def first_orders(epoch, n=3):
        return [[b["x"].item() for b in epoch()] for _ in range(n)]

    shared = shuffled_epochs(batches, seed=1)
    run_a, run_b = first_orders(shared), first_orders(shared)
    assert run_a != run_b, "a shared epoch function continues: the second run sees other orders"
    assert first_orders(shuffled_epochs(batches, seed=1)) == run_a  # a fresh one per run: the same orders
    assert all(sorted(order) == list(range(8)) for order in run_a + run_b)


class Fixed(nn.Module):
    """Returns given outputs batch after batch: a stand-in for a trained head."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs, self.i = outputs, 0
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, **_):
        out = self.outputs[self.i]
        self.i += 1
        return out, None


def test_evaluate_classifier_and_tagger_by_hand():
    batches = collate_classification([SpamMessage(["hi"], 0), SpamMessage(["win", "prize"], 1),
                                      SpamMessage(["hi"], 1)], TOKENIZER)
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])  # predicts 0, 1, 0: two of three right
    assert evaluate_classifier(Fixed([ClassifierOutput(logits, None)]), [batches])["accuracy"] == pytest.approx(2 / 3)
    tag_batch = {"input_ids": torch.zeros(1, 4, dtype=torch.long), "labels": torch.tensor([[-100, 1, 0, -100]])}
    tag_logits = torch.tensor([[[0.0, 9.0], [0.0, 1.0], [0.0, 1.0], [9.0, 0.0]]])  # right, wrong, ignored
    assert evaluate_tagger(Fixed([ClassifierOutput(tag_logits, None)]), [tag_batch])["accuracy"] == 0.5


def test_evaluate_qa_counts_no_answer_both_ways():
    context = ["tom", "feed", "the", "old", "cows"]
    examples = [QAExample(["what", "does", "tom", "feed"], context, (3, 4)),
                QAExample(["what", "does", "tom", "feed"], context, None),
                QAExample(["what", "does", "tom", "feed"], context, None)]
    batch = collate_qa(examples, TOKENIZER)
    T = batch["input_ids"].shape[1]  # [CLS] what does tom feed [SEP] tom feed the old cows [SEP]
    start, end = torch.zeros(3, T), torch.zeros(3, T)
    start[0, 9], end[0, 10] = 5.0, 5.0  # "old cows": right
    start[1, 0], end[1, 0] = 5.0, 5.0  # [CLS] wins: "no answer", right
    start[2, 10], end[2, 10] = 5.0, 5.0  # "cows" where there is no answer: wrong
    scores = evaluate_qa(Fixed([QAOutput(start, end, None)]), [batch], examples)
    assert scores["exact_match"] == pytest.approx(2 / 3) and scores["f1"] == pytest.approx(2 / 3)
    assert scores["exact_match_answerable"] == 1.0 and scores["exact_match_unanswerable"] == 0.5


def test_mean_pool_and_pair_features():
    words = torch.arange(10.0).view(5, 2)
    assert_close(mean_pool(words, [2, 3]), torch.tensor([[1.0, 2.0], [6.0, 7.0]]))
    with pytest.raises(ValueError, match="add up"):
        mean_pool(words, [2, 2])
    u, v = torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0, 1.0]])
    assert pair_features(u, v).tolist() == [[1.0, -2.0, 3.0, 1.0, 2.0, 3.0, 3.0, -2.0]]


def test_collate_sense_tagging_labels_only_the_polysemous_word():
    examples = [SenseExample(["tom", "feed", "the", "old", "cows"], 3, "old", "age", 1, "right", 4, 1, 1),
                SenseExample(["the", "cows"], 0, "the", "x", 0, "right", 1, 1, 0)]
    batch = collate_sense_tagging(examples, TOKENIZER)
    assert batch["labels"].tolist() == [[-100, -100, -100, -100, 1, -100, -100], [-100, 0, -100, -100, -100, -100, -100]]
    assert batch["input_ids"].shape == batch["labels"].shape
