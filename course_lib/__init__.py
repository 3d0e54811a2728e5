"""course_lib: the tested companion package of "From word vectors to BERT".

Shape letters used in docstrings and comments throughout the package:

    B  batch size              T  sequence length (T_q, T_k for queries and keys)
    C  channels / model width  H  hidden size (BERT's hidden_size)
    A  attention heads         D  size of one head (H / A)
    V  vocabulary size         L  number of layers
"""

from course_lib.base import cache_dir, get_device, seed_everything, show_source

__version__ = "0.1.0"

__all__ = ["__version__", "cache_dir", "get_device", "seed_everything", "show_source"]
