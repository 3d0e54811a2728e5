import pytest
import torch
from torch import nn

from course_lib.core import (
    TrainConfig,
    fit,
    learning_rate,
    load_checkpoint,
    save_checkpoint,
)


class Regressor(nn.Module):
    """A model in the course's convention: forward returns (output, loss)."""

    def __init__(self, d_in: int = 4, d_out: int = 2):
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)

    def forward(self, x, y=None):
        out = self.linear(x)
        return out, (None if y is None else nn.functional.mse_loss(out, y))


def toy_batches(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(4, 2, generator=g)
    xs = [torch.randn(8, 4, generator=g) for _ in range(n)]
    return [(x, x @ w) for x in xs]


def test_fit_overfits_one_batch_and_records_history():
    model, batch = Regressor(), toy_batches(1)
    history = fit(model, batch, TrainConfig(steps=300, lr=0.05, progress=False))
    assert len(history.train_loss) == 300 and history.steps[-1] == 300
    assert history.train_loss[-1] < 1e-3 < history.train_loss[0]


def test_fit_is_repeatable_with_a_seed():
    a, b = Regressor(), Regressor()
    b.load_state_dict(a.state_dict())
    cfg = TrainConfig(steps=20, lr=0.01, progress=False, seed=3)
    assert fit(a, toy_batches(), cfg).train_loss == fit(b, toy_batches(), cfg).train_loss


def test_evaluation_early_stopping_and_best_weights(tmp_path):
    model = Regressor()
    calls = []

    def evaluate(m):  # gets worse after the second evaluation
        calls.append(m.training)
        return {"val_loss": [3.0, 1.0, 2.0, 2.5, 4.0][len(calls) - 1]}

    cfg = TrainConfig(steps=100, eval_every=10, patience=2, progress=False, checkpoint=tmp_path / "best.pt")
    history = fit(model, toy_batches(), cfg, evaluate=evaluate)
    assert history.stopped_early and len(history.evals) == 4 and history.best["step"] == 20
    assert calls == [False] * 4  # evaluation runs in eval mode
    assert load_checkpoint(Regressor(), tmp_path / "best.pt")["step"] == 20


def test_frozen_parameters_stay_frozen():
    model = Regressor()
    model.linear.bias.requires_grad_(False)
    before = model.linear.bias.clone()
    fit(model, toy_batches(), TrainConfig(steps=10, lr=0.1, progress=False))
    assert torch.equal(model.linear.bias, before)


def test_checkpoint_round_trip_is_exact_and_atomic(tmp_path):
    model = Regressor()
    path = save_checkpoint(model, tmp_path / "m.pt", extra={"note": "x"})
    other = Regressor()
    assert load_checkpoint(other, path) == {"note": "x"}
    for k, v in model.state_dict().items():
        assert torch.equal(v, other.state_dict()[k])
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temp file left


def test_mismatched_and_corrupted_checkpoints_name_the_problem(tmp_path):
    path = save_checkpoint(Regressor(4, 3), tmp_path / "m.pt")
    with pytest.raises(ValueError, match=r"shape mismatches: linear.bias: model \(2,\) vs \(3,\); linear.weight"):
        load_checkpoint(Regressor(4, 2), path)
    with pytest.raises(ValueError, match=r"missing keys: extra.weight.*unexpected keys: linear.bias, linear.weight"):
        wrapped = nn.Module()
        wrapped.extra = nn.Linear(1, 1, bias=False)
        load_checkpoint(wrapped, path)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoint(Regressor(), tmp_path / "bad.pt")


def test_learning_rate_schedules():
    cfg = TrainConfig(steps=110, lr=1.0, warmup_steps=10, schedule="linear")
    assert learning_rate(cfg, 0) == pytest.approx(0.1) and learning_rate(cfg, 9) == pytest.approx(1.0)
    assert learning_rate(cfg, 60) == pytest.approx(0.5) and learning_rate(cfg, 110) == 0.0
    cos = TrainConfig(steps=100, lr=1.0, schedule="cosine")
    assert learning_rate(cos, 50) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="step")


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="empty"):
        fit(Regressor(), [], TrainConfig(steps=1, progress=False))
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit(Regressor().requires_grad_(False), toy_batches(), TrainConfig(steps=1, progress=False))
    with pytest.raises(ValueError, match="loss=None"):
        fit(Regressor(), [(torch.randn(2, 4),)], TrainConfig(steps=1, progress=False))


