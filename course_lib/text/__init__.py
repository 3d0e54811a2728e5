"""Tokenizers, vocabularies, WordPiece, and batching (padding, masks, length buckets).

From plain words to BERT's input:

- ``word_tokenize`` and ``Vocab``: lower-cased words and punctuation marks, ids with the course's
  special tokens at fixed ids (``[PAD]`` = 0 … ``<eos>`` = 6).
- ``basic_tokenize`` and ``WordPieceTokenizer``: BERT's basic tokenization, then greedy
  longest-match-first ``##`` pieces; trained here from a corpus or read from a BERT ``vocab.txt``.
  Its tokens equal Hugging Face's Python ``BertTokenizer`` (``BertTokenizerLegacy`` in
  transformers 5) on the same vocab file.
- batching: ``pad_batch``, ``length_buckets``, ``collate_tokens``, and one ``collate_*`` per task
  dataset of ``course_lib.data.tasks`` (tagging, sense, classification, pairs, QA, seq2seq).
"""


from course_lib.text.batching import collate_tokens, length_buckets, pad_batch
from course_lib.text.collate import (
    IGNORE_INDEX,
    WordPieces,
    collate_classification,
    collate_pairs,
    collate_qa,
    collate_sense,
    collate_seq2seq,
    collate_tagging,
    encode_words,
)
from course_lib.text.vocab import BERT_SPECIAL_TOKENS, MAX_WORD_CHARS, SPECIAL_TOKENS, Vocab, word_tokenize
from course_lib.text.wordpiece import Encoding, WordPieceTokenizer, basic_tokenize, truncate_longest_first

__all__ = [
    "BERT_SPECIAL_TOKENS", "IGNORE_INDEX", "MAX_WORD_CHARS", "WordPieces", "collate_classification", "collate_pairs",
    "collate_qa", "collate_sense", "collate_seq2seq", "collate_tagging", "encode_words", "SPECIAL_TOKENS", "Encoding", "Vocab", "WordPieceTokenizer",
    "basic_tokenize", "collate_tokens", "length_buckets", "pad_batch", "truncate_longest_first", "word_tokenize",
]
