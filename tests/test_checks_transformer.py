"""Checkers of notebook 08: right answers pass, stubs are "not answered yet", typical mistakes are named."""

from __future__ import annotations

import pytest
import torch
from checker_contract import assert_measured_contract, contract_tests, expect
from torch import nn

from course_lib.checks import transformer as ct
from course_lib.transformer import FeedForward

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models: one thread is fastest


def decoder_layer_parameters(H, d_ff):
    return 2 * (4 * H * H + 4 * H) + (2 * H * d_ff + d_ff + H) + 3 * 2 * H


def cnn_layers(n, k):
    return -(-(n - 1) // (k // 2))


CASES = [(ct.check_decoder_layer_parameters, decoder_layer_parameters), (ct.check_cnn_layers, cnn_layers)]
(test_a_right_answer_passes_with_one_line, test_a_stub_is_not_answered_yet,
 test_an_error_is_reported_not_raised, test_a_wrong_type_is_reported_not_raised,
 test_each_call_records_one_verdict) = contract_tests(CASES)


def test_decoder_layer_mistakes(capsys):
    def encoder_layer(H, d_ff):
        return (4 * H * H + 4 * H) + (2 * H * d_ff + d_ff + H) + 2 * 2 * H

    expect(ct.check_decoder_layer_parameters, encoder_layer, "cross-attention", capsys)
    expect(ct.check_decoder_layer_parameters, lambda H, f: decoder_layer_parameters(H, f) - 2 * H, "third LayerNorm",
           capsys)
    expect(ct.check_decoder_layer_parameters, lambda H, f: float(decoder_layer_parameters(H, f)), "an int", capsys)


def stack(depth: int = 12):
    """Freshly initialized FFN blocks, LayerNorms and random tokens: notebook 08's section 1 objects."""
    torch.manual_seed(0)
    blocks = nn.ModuleList(FeedForward(32, 64) for _ in range(depth))
    norms = nn.ModuleList(nn.LayerNorm(32) for _ in range(depth))
    return blocks, norms, torch.randn(200, 32)


def test_the_blur_depth_passes_and_keeps_the_contract(capsys):
    blocks, norms, tokens = stack()
    without = ct.cosine_by_depth(blocks, norms, tokens, residual=False)
    depth = next(k for k, c in enumerate(without, start=1) if c > ct.BLUR)
    assert max(ct.cosine_by_depth(blocks, norms, tokens, residual=True)) < ct.BLUR
    assert_measured_contract(ct.check_blur_depth, depth, (blocks, norms, tokens), capsys)
    assert ct.check_blur_depth(float(depth), blocks, norms, tokens) is True


def test_blur_depth_mistakes(capsys):
    blocks, norms, tokens = stack()
    without = ct.cosine_by_depth(blocks, norms, tokens, residual=False)
    depth = next(k for k, c in enumerate(without, start=1) if c > ct.BLUR)
    context = (blocks, norms, tokens)
    expect(ct.check_blur_depth, depth - 1, "go deeper", capsys, *context)
    if depth < len(blocks):
        expect(ct.check_blur_depth, len(blocks), "earlier", capsys, *context)
    expect(ct.check_blur_depth, 2.5, "whole number", capsys, *context)
    expect(ct.check_blur_depth, 40, "whole number", capsys, *context)
    short = stack(depth=1)
    expect(ct.check_blur_depth, 1, "never", capsys, *short)
