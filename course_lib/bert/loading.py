"""Loading a local Hugging Face BERT folder into the course's BERT, key for key, without network.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import Tensor, nn

from course_lib.bert.model import BertConfig, BertForPreTraining, BertModel
from course_lib.core import check_state_dict

_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")  # Hugging Face buffers, not weights


def load_state_dict_file(folder: str | Path) -> dict[str, Tensor]:
    """The weights of a Hugging Face folder: ``model.safetensors``, else ``pytorch_model.bin`` (weights only)."""
    folder = Path(folder)
    if (folder / "model.safetensors").exists():
        from safetensors.torch import load_file
        return load_file(str(folder / "model.safetensors"))
    if (folder / "pytorch_model.bin").exists():
        return torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise FileNotFoundError(f"{folder} has neither model.safetensors nor pytorch_model.bin")


def _adapt_state_dict(state: dict[str, Tensor], model: nn.Module) -> dict[str, Tensor]:
    """Fit a Hugging Face state dict to ``model`` without renaming any layer.

    Drops the two buffers; for a ``BertModel`` takes the ``bert.`` part of a pre-training checkpoint;
    reads the legacy LayerNorm names ``gamma``/``beta`` of old TF conversions as ``weight``/``bias``;
    fills the tied decoder weight (and its bias alias) that ``save_pretrained`` leaves out.
    """
    state = {k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): v
             for k, v in state.items() if not k.endswith(_BUFFERS)}
    if isinstance(model, BertModel) and any(k.startswith("bert.") for k in state):
        state = {k[len("bert."):]: v for k, v in state.items() if k.startswith("bert.")}
    if isinstance(model, BertForPreTraining):
        state.pop("cls.predictions.decoder.bias", None)  # Hugging Face's alias of cls.predictions.bias
        if "bert.embeddings.word_embeddings.weight" in state:
            state.setdefault("cls.predictions.decoder.weight", state["bert.embeddings.word_embeddings.weight"])
    return state


def load_pretrained(folder: str | Path, model_class: type[nn.Module] = BertModel):
    """Read a local Hugging Face BERT folder (``config.json``, weights, ``vocab.txt``); no network.

    Returns ``(model, tokenizer)``: our ``model_class`` (``BertModel`` or ``BertForPreTraining``) in eval
    mode with the checkpoint's weights, and our ``WordPieceTokenizer`` (None when ``vocab.txt`` is absent).
    Missing, unexpected and wrongly shaped keys are named in one ``ValueError``.
    """
    from course_lib.text import WordPieceTokenizer

    folder = Path(folder)
    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"{folder} has no config.json: is it a Hugging Face BERT folder?")
    config = BertConfig.from_dict(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    model = model_class(config)
    state = _adapt_state_dict(load_state_dict_file(folder), model)
    check_state_dict(model, state, source=str(folder))
    model.load_state_dict(state)
    vocab = folder / "vocab.txt"
    tokenizer = WordPieceTokenizer.from_vocab_file(vocab) if vocab.exists() else None
    if tokenizer is not None and tokenizer.vocab_size != config.vocab_size:
        raise ValueError(f"{vocab} has {tokenizer.vocab_size} tokens but config.json says vocab_size="
                         f"{config.vocab_size}")
    return model.eval(), tokenizer
