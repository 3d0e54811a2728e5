"""Notebooks 07-08: the Transformer: positional encodings, encoder and decoder layers, seq2seq, CNN/RNN/attention.
"""

from course_lib.transformer.compare import (
    ConvLayer,
    LSTMLayer,
    SelfAttentionLayer,
    matched_layers,
    path_lengths,
    receptive_field,
    time_layers,
)
from course_lib.transformer.layers import (
    BERT_LAYER_NAMES,
    DecoderWeights,
    FeedForward,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from course_lib.transformer.positions import (
    LearnedPositionalEmbedding,
    NoPositions,
    SinusoidalPositionalEncoding,
    offset_matrix,
    positional_encoding,
    sinusoidal_positions,
)
from course_lib.transformer.seq2seq import (
    Seq2SeqAttention,
    Seq2SeqTransformer,
    TransformerClassifier,
    TransformerConfig,
    joint_attention,
    seq2seq_batches,
    sequence_exact_match,
    translate,
)

__all__ = [
    "BERT_LAYER_NAMES",
    "ConvLayer",
    "DecoderWeights",
    "FeedForward",
    "joint_attention",
    "LearnedPositionalEmbedding",
    "LSTMLayer",
    "matched_layers",
    "NoPositions",
    "offset_matrix",
    "path_lengths",
    "positional_encoding",
    "receptive_field",
    "SelfAttentionLayer",
    "seq2seq_batches",
    "Seq2SeqAttention",
    "Seq2SeqTransformer",
    "sequence_exact_match",
    "sinusoidal_positions",
    "SinusoidalPositionalEncoding",
    "time_layers",
    "TransformerClassifier",
    "TransformerConfig",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "translate",
]
