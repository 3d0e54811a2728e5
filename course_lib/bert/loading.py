"""Loading and saving Hugging Face BERT folders, key for key, without network.

``load_pretrained(folder)`` reads ``config.json`` (checked field by field: a wrong type or range names
the file and the field), the weights (``model.safetensors`` or ``pytorch_model.bin``, read with
``weights_only=True``; a damaged file is named) and ``vocab.txt``. A checkpoint whose decoder is not
tied to the word embeddings (``"tie_word_embeddings": false``) loads into an untied decoder.
``save_pretrained(model, folder)`` writes the same three files, atomically, so that ``transformers``
loads them too.

>>> model, tokenizer = load_pretrained("~/bert-base-uncased")                   # doctest: +SKIP
>>> save_pretrained(model, "my-bert", tokenizer)                                # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import typing
import uuid
from pathlib import Path

import torch
from torch import Tensor, nn

from course_lib.bert.model import BertConfig, BertForPreTraining, BertModel
from course_lib.core import check_state_dict
from course_lib.files import atomic_file, prepare_folder, read_text, write_atomic

_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")  # Hugging Face buffers, not weights
_DECODER, _EMBEDDINGS = "cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight"
_AT_LEAST_ONE = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                 "max_position_embeddings", "type_vocab_size")
_PROBABILITIES = ("hidden_dropout_prob", "attention_probs_dropout_prob")


# ---------------------------------------------------------------- config.json


def read_config(folder: str | os.PathLike) -> BertConfig:
    """The ``BertConfig`` of a Hugging Face folder's ``config.json``; every error names the file and the field.

    Hugging Face's other entries (``architectures``, ``model_type`` …) are ignored.
    """
    path = Path(folder).expanduser() / "config.json"
    text = read_text(path, what="config file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"config file {path} is not valid JSON (line {err.lineno}, column {err.colno}: "
                         f"{err.msg}): repair it, or save the model again") from None
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must hold a JSON object such as {{\"hidden_size\": 768, ...}}, "
                         f"got a JSON {_json_kind(data)}")
    fields = {f.name: f for f in dataclasses.fields(BertConfig)}
    types = typing.get_type_hints(BertConfig)
    values = {}
    for name, value in data.items():
        if name not in fields:
            continue
        if name == "pad_token_id" and value is None:
            continue  # some configs write null: BertConfig's 0, which only the embedding's gradient uses
        values[name] = _checked_field(path, name, value, types[name])
    try:
        return BertConfig.from_dict(values | {k: v for k, v in data.items() if k == "position_embedding_type"})
    except ValueError as err:  # the relations between fields (hidden_size % num_attention_heads …)
        raise ValueError(f"config file {path}: {err}") from None


def _checked_field(path: Path, name: str, value: object, kind: type) -> object:
    """``value`` when it has the field's JSON type and range; else a ``ValueError`` naming file and field."""
    where = f"config file {path}: field \"{name}\""
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    else:
        ok = isinstance(value, kind)
    if not ok:
        expected = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[kind]
        hint = " (write it without quotes)" if isinstance(value, str) and kind in (int, float) else ""
        raise ValueError(f"{where} must be {expected}, got {json.dumps(value)} ({_json_kind(value)}){hint}")
    if name in _AT_LEAST_ONE and value < 1:
        raise ValueError(f"{where} must be at least 1, got {value}")
    if name in _PROBABILITIES and not 0 <= value < 1:
        raise ValueError(f"{where} is a dropout probability, in [0, 1); got {value}")
    if name in ("layer_norm_eps", "initializer_range") and value < 0 or name == "layer_norm_eps" and value == 0:
        raise ValueError(f"{where} must be {'> 0' if name == 'layer_norm_eps' else '>= 0'}, got {value}")
    if name == "pad_token_id" and value < 0:
        raise ValueError(f"{where} must be a token id (>= 0), got {value}")
    return float(value) if kind is float else value


def _json_kind(value: object) -> str:
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
                       (list, "list"), (dict, "object"), (type(None), "null")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


# ---------------------------------------------------------------- weights


def load_state_dict_file(folder: str | os.PathLike) -> dict[str, Tensor]:
    """The weights of a Hugging Face folder: ``model.safetensors``, else ``pytorch_model.bin`` (weights only).

    A damaged or truncated file raises ``ValueError`` naming it.
    """
    folder = Path(folder).expanduser()
    safetensors_path, bin_path = folder / "model.safetensors", folder / "pytorch_model.bin"
    if safetensors_path.is_file():
        from safetensors.torch import load_file

        try:
            return load_file(str(safetensors_path))
        except Exception as err:  # safetensors' own error type; a truncated file ends up here
            raise ValueError(f"{safetensors_path} is damaged or incomplete ({type(err).__name__}: {err}): "
                             f"download or save it again") from err
    if bin_path.is_file():
        try:
            state = torch.load(bin_path, map_location="cpu", weights_only=True)
        except Exception as err:  # torch's zip reader and the weights-only unpickler raise several types
            raise ValueError(f"{bin_path} cannot be read as weights ({type(err).__name__}: {err}): it is damaged, "
                             f"incomplete, or holds more than tensors; download or save it again") from err
        if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
            raise ValueError(f"{bin_path} does not hold a state dict (name -> tensor)")
        return state
    raise FileNotFoundError(f"{folder} has neither model.safetensors nor pytorch_model.bin")


def _adapt_state_dict(state: dict[str, Tensor], model: nn.Module, source: str) -> dict[str, Tensor]:
    """Fit a Hugging Face state dict to ``model`` without renaming any layer.

    Drops the two buffers; for a ``BertModel`` takes the ``bert.`` part of a pre-training checkpoint;
    reads the legacy LayerNorm names ``gamma``/``beta`` of old TF conversions as ``weight``/``bias``;
    for a tied decoder fills the weight (and drops its bias alias) that ``save_pretrained`` leaves
    out, and refuses a checkpoint whose decoder differs from its embeddings (it was trained untied).
    """
    state = {k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): v
             for k, v in state.items() if not k.endswith(_BUFFERS)}
    if isinstance(model, BertModel) and any(k.startswith("bert.") for k in state):
        state = {k[len("bert."):]: v for k, v in state.items() if k.startswith("bert.")}
    if isinstance(model, BertForPreTraining):
        state.pop("cls.predictions.decoder.bias", None)  # Hugging Face's alias of cls.predictions.bias
        if model.config.tie_word_embeddings and _EMBEDDINGS in state:
            decoder = state.setdefault(_DECODER, state[_EMBEDDINGS])
            if decoder.shape != state[_EMBEDDINGS].shape or not torch.equal(decoder, state[_EMBEDDINGS]):
                raise ValueError(f"{source}: the checkpoint's {_DECODER} differs from its word embeddings, "
                                 f"but config.json says the decoder is tied to them (tie_word_embeddings "
                                 f"true): set \"tie_word_embeddings\": false in config.json")
    return state


def load_pretrained(folder: str | os.PathLike, model_class: type[nn.Module] = BertModel):
    """Read a local Hugging Face BERT folder (``config.json``, weights, ``vocab.txt``); no network.

    Returns ``(model, tokenizer)``: our ``model_class`` (``BertModel`` or ``BertForPreTraining``) in eval
    mode with the checkpoint's weights, and our ``WordPieceTokenizer`` (None when ``vocab.txt`` is absent).
    Missing, unexpected and wrongly shaped keys are named in one ``ValueError``; so is a field of
    ``config.json`` with a wrong type or range.
    """
    from course_lib.text import WordPieceTokenizer

    if not (isinstance(model_class, type) and issubclass(model_class, nn.Module)):
        raise TypeError(f"model_class must be a model class such as BertModel or BertForPreTraining, "
                        f"got {model_class!r}")
    folder = Path(folder).expanduser()
    if folder.is_file():
        raise NotADirectoryError(f"{folder} is a file: pass the folder that holds config.json and the weights")
    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"{folder} has no config.json: is it a Hugging Face BERT folder?")
    config = read_config(folder)
    state = load_state_dict_file(folder)  # before building the model: a missing file fails fast
    model = model_class(config)
    state = _adapt_state_dict(state, model, str(folder))
    check_state_dict(model, state, source=str(folder))
    model.load_state_dict(state)
    vocab = folder / "vocab.txt"
    tokenizer = WordPieceTokenizer.from_vocab_file(vocab) if vocab.exists() else None
    if tokenizer is not None and tokenizer.vocab_size != config.vocab_size:
        raise ValueError(f"{vocab} has {tokenizer.vocab_size} tokens but config.json says vocab_size="
                         f"{config.vocab_size}")
    return model.eval(), tokenizer


# ---------------------------------------------------------------- saving


def save_pretrained(model: nn.Module, folder: str | os.PathLike, tokenizer=None) -> Path:
    """Write ``config.json``, ``model.safetensors`` (and ``vocab.txt`` when a tokenizer is given) into ``folder``.

    ``transformers``' ``BertModel`` / ``BertForPreTraining.from_pretrained(folder)`` loads the result, and
    so does ``load_pretrained``; ``tie_word_embeddings`` is kept. A new folder appears whole (written
    beside it, then renamed); in an existing folder each file is replaced atomically. Returns the folder.
    """
    config = getattr(model, "config", None)
    if not isinstance(model, (BertModel, BertForPreTraining)) or not isinstance(config, BertConfig):
        raise TypeError(f"save_pretrained saves a BertModel or a BertForPreTraining, got {type(model).__name__}")
    if tokenizer is not None and getattr(tokenizer, "vocab_size", None) != config.vocab_size:
        raise ValueError(f"the tokenizer has {getattr(tokenizer, 'vocab_size', '?')} tokens but the model's "
                         f"vocab_size is {config.vocab_size}: save the tokenizer the model was trained with")
    folder = Path(folder).expanduser()
    prepare_folder(folder.parent, "the folder of the saved model")
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file: save_pretrained writes a folder; give another path")
    files = _saved_files(model, config, tokenizer)
    if folder.is_dir():
        for name, data in files.items():
            write_atomic(folder / name, data, what="saved model file")
        return folder
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        tmp.mkdir()
        for name, data in files.items():
            with atomic_file(tmp / name, what="saved model file") as f:
                f.write(data)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _saved_files(model: nn.Module, config: BertConfig, tokenizer) -> dict[str, bytes]:
    """The bytes of ``model.safetensors``, ``vocab.txt`` and ``config.json`` (in that order)."""
    from safetensors.torch import save

    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    if isinstance(model, BertForPreTraining):
        if config.tie_word_embeddings:
            state.pop(_DECODER)  # the same tensor as the word embeddings: a loader ties it back
        else:  # as transformers saves an untied head: with the bias alias, else it reports the alias missing
            state["cls.predictions.decoder.bias"] = state["cls.predictions.bias"].clone()
    files = {"model.safetensors": save(state, metadata={"format": "pt"})}
    if tokenizer is not None:
        files["vocab.txt"] = "".join(t + "\n" for t in tokenizer.ids_to_tokens).encode("utf-8")
    architecture = "BertForPreTraining" if isinstance(model, BertForPreTraining) else "BertModel"
    document = {"architectures": [architecture], "model_type": "bert", "position_embedding_type": "absolute",
                **dataclasses.asdict(config)}
    files["config.json"] = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
    return files
