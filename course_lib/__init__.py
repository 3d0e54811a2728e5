"""course_lib: the tested companion package of "From word vectors to BERT".

One subpackage per idea of the course map (``wordvec``, ``lm``, ``elmo``, ``attention``, ``transformer``, ``bert``,
and ``gpt``), with what every chapter shares in ``core`` (training loop, model cache, probes), ``data`` and ``text``
at the bottom (see README.md). Each subpackage's ``__init__`` exports its public names; the few names most
notebooks need are re-exported here.

Shape letters used in docstrings and comments throughout the package:

    B  batch size              T  sequence length (T_q, T_k for queries and keys)
    C  channels / model width  H  hidden size (BERT's hidden_size)
    A  attention heads         D  size of one head (H / A)
    V  vocabulary size         L  number of layers
"""

from course_lib.base import cache_dir, get_device, seed_everything, show_source
from course_lib.core import History, TrainConfig, fit, pretrained
from course_lib.data import load_corpus, toy_world, toyworld_corpus
from course_lib.text import Vocab, WordPieceTokenizer, word_tokenize

__version__ = "0.1.0"

__all__ = [
    "__version__", "History", "TrainConfig", "Vocab", "WordPieceTokenizer", "cache_dir", "fit", "get_device",
    "load_corpus", "pretrained", "seed_everything", "show_source", "toy_world", "toyworld_corpus", "word_tokenize",
]
