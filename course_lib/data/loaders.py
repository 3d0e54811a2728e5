"""Real corpora and evaluation sets through the same interface as the toy world.

``load_corpus(name_or_path, split, seed)`` returns a ``Corpus`` (documents -> sentences -> tokens)
from the toy world (default), a local ``.txt`` file or folder, text that ships with installed
packages (gensim's test data, Debian's ``bible-kjv``) or WikiText-2 (downloaded once). Nothing
here touches the network except ``load_corpus("wikitext-2")`` when the file is not cached yet.

>>> load_corpus("lee", split="validation")              # doctest: +SKIP
Corpus('lee', split='validation', documents=30, sentences=..., tokens=...)
>>> load_corpus("my_notes/", split="all")               # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from course_lib import files
from course_lib.arguments import check_int, check_optional_int
from course_lib.data.corpus import SPLITS, Analogy, Corpus, Document, Sentence, SimilarityPair

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # train / validation / test, by document, for sources without a split

SOURCES = {
    "toyworld": "the course's own generated corpus with gold labels (default)",
    "toyworld-families": "the toy world with its optional families on: long-range cues, context syntax ...",
    "lee": "Lee news corpus, 300 short news documents (gensim's test data)",
    "pang-lee": "200 one-sentence movie reviews labelled pos/neg (gensim's test data)",
    "kjv": "King James Bible, one document per chapter (Debian packages bible-kjv, bible-kjv-text)",
    "wikitext-2": "WikiText-2 raw, official splits, one document per article (download, 4.7 MB)",
    "wikitext-2-v1": "WikiText-2 tokenized with <unk>, official splits (download)",
}
ALIASES = {"bible": "kjv", "wikitext2": "wikitext-2", "wikitext-2-raw-v1": "wikitext-2", "toy": "toyworld"}
WIKITEXT_ARCHIVES = {"wikitext-2": "wikitext-2-raw-v1", "wikitext-2-v1": "wikitext-2-v1"}
SIMILARITY_FILES = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}
ANALOGY_FILES = {"google": "questions-words.txt"}


def load_corpus(
    name_or_path: str | os.PathLike = "toyworld",
    split: str = "train",
    seed: int = 0,
    *,
    max_documents: int | None = None,
    download: bool = True,
) -> Corpus:
    """Load a corpus by name (see ``available_corpora()``) or from a local ``.txt`` file or folder.

    A file gives one document per blank-line separated paragraph, a folder one document per
    ``.txt`` file in it (searched recursively). ``split`` is ``"train"``, ``"validation"``,
    ``"test"`` or ``"all"``; sources without an official split are split 80/10/10 by document,
    shuffled by ``seed``. ``max_documents`` keeps the first documents of the split (for quick
    runs). ``download=False`` refuses to fetch WikiText-2 when it is not cached.
    """
    _check_arguments(split, seed, max_documents)
    name = _source_name(name_or_path)
    if name in ("toyworld", "toyworld-families"):
        from course_lib.data.toyworld import named_toy_world  # written separately; imported on use

        corpus = named_toy_world(name).corpus(split, seed)
    elif name in WIKITEXT_ARCHIVES:
        corpus = _wikitext_corpus(name, split, download)
    else:
        documents, label = _read_source(name, name_or_path)
        chosen = split_documents(documents, split, seed)
        if not chosen:
            raise ValueError(
                f"the {split!r} split of {label!r} is empty: its {len(documents)} document(s) are too few for an "
                f"80/10/10 split; use split='all' or give it more documents (blank-line separated paragraphs)"
            )
        corpus = Corpus(
            label, split, chosen, info={"source": label, "seed": seed, "split_by": "seeded 80/10/10"}
        )
    if max_documents is not None:
        corpus.documents = corpus.documents[:max_documents]
    return corpus


def available_corpora() -> dict[str, str]:
    """The corpora this machine can load, name -> where the text comes from. Never uses the network."""
    found = {name: SOURCES[name] for name in ("toyworld", "toyworld-families")}
    for name, filename in (("lee", "lee_background.cor"), ("pang-lee", "pang_lee_polarity.cor")):
        path = _gensim_data_dir()
        if path is not None and (path / filename).is_file():
            found[name] = f"{SOURCES[name]}: {path / filename}"
    if shutil.which("bible") is not None:
        found["kjv"] = f"{SOURCES['kjv']}: via {shutil.which('bible')}"
    for name, archive in WIKITEXT_ARCHIVES.items():
        cached = _wikitext_cached(archive)
        found[name] = f"{SOURCES[name]}: " + (f"cached in {cached}" if cached else "downloads on first use")
    return found


def load_similarity_set(name: str = "wordsim353") -> list[SimilarityPair]:
    """Word-similarity pairs ``SimilarityPair(word_a, word_b, human score)``, lower-cased, from gensim's test data.

    ``"wordsim353"`` (353 pairs, scores 0-10) or ``"simlex999"`` (999 pairs, scores 0-10).
    """
    key = name.lower().replace("-", "").replace("_", "")
    if key not in SIMILARITY_FILES:
        raise ValueError(f"unknown similarity set {name!r}: use one of {', '.join(SIMILARITY_FILES)}")
    path = gensim_test_file(SIMILARITY_FILES[key])
    pairs = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        try:
            pairs.append(SimilarityPair(fields[0].lower(), fields[1].lower(), float(fields[2])))
        except (IndexError, ValueError) as err:
            raise ValueError(
                f"{path}, line {number}: expected 'word1<TAB>word2<TAB>score', got {line!r}"
            ) from err
    return pairs


def load_analogy_set(name: str = "google", lowercase: bool = True) -> list[Analogy]:
    """Google's analogy questions ``Analogy(a, b, c, d, family)`` (family = the file's section) from gensim's test data.

    19,544 questions in 14 sections (``capital-common-countries`` ... ``gram9-plural-verbs``);
    ``q[:4]`` is the question a : b :: c : d.
    """
    if name.lower() not in ANALOGY_FILES:
        raise ValueError(f"unknown analogy set {name!r}: use one of {', '.join(ANALOGY_FILES)}")
    path = gensim_test_file(ANALOGY_FILES[name.lower()])
    questions, section = [], None
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        words = line.lower().split() if lowercase else line.split()
        if not words:
            continue
        if len(words) != 4 or section is None:
            raise ValueError(
                f"{path}, line {number}: expected four words after a ': section' line, got {line!r}"
            )
        questions.append(Analogy(*words, family=section))
    return questions


def split_documents(documents: list[Document], split: str, seed: int) -> list[Document]:
    """Pick the documents of ``split``: a seeded shuffle cut 80/10/10; ``"all"`` keeps them all.

    The same seed always gives the same cut, and the three splits never share a document. With
    three or more documents, validation and test get at least one each.
    """
    if split == "all":
        return list(documents)
    n = len(documents)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_val = n_test = 0
    if n >= 3:
        n_val = max(1, round(SPLIT_FRACTIONS[1] * n))
        n_test = max(1, round(SPLIT_FRACTIONS[2] * n))
    bounds = {
        "train": (0, n - n_val - n_test),
        "validation": (n - n_val - n_test, n - n_test),
        "test": (n - n_test, n),
    }
    start, stop = bounds[split]
    return [documents[i] for i in sorted(order[start:stop])]  # keep the source's order within a split


def split_sentences(text: str) -> list[str]:
    """Split text at ``.``, ``!`` or ``?`` followed by space and a capital or a digit (simple on purpose).

    >>> split_sentences("It rained. We stayed in! Did you?")
    ['It rained.', 'We stayed in!', 'Did you?']
    """
    text = " ".join(text.split())
    pieces, start = [], 0
    for match in _SENTENCE_BOUNDARY.finditer(text):
        pieces.append(text[start : match.start(1)])
        start = match.end(1)
    pieces.append(text[start:])
    return [p for p in pieces if p]


def word_tokenize(text: str) -> list[str]:
    """Lower-cased words and punctuation marks: ``course_lib.text.word_tokenize`` when it exists.

    >>> word_tokenize("The bank's door, shut.")
    ['the', "bank's", 'door', ',', 'shut', '.']
    """
    return _tokenizer()(text)


def text_to_sentences(text: str, tokenize: Callable[[str], list[str]] | None = None) -> list[Sentence]:
    """Sentences of ``text``, tokenized; sentences without tokens are dropped."""
    tokenize = tokenize or word_tokenize
    sentences = (tokenize(piece) for piece in split_sentences(text))
    return [Sentence(tokens) for tokens in sentences if tokens]


def read_text(path: str | os.PathLike, encoding: str = "utf-8") -> str:
    """Read a text file (UTF-8 unless told); a clear error names the path, the line of a bad byte, and
    what the file probably is (UTF-16, Latin-1, binary) with the command that converts it."""
    return files.read_text(path, what="text file", encoding=encoding)


def gensim_test_file(filename: str) -> Path:
    """The path of a file in the test data shipped inside an installed gensim (gensim is not imported)."""
    folder = _gensim_data_dir()
    if folder is None:
        raise FileNotFoundError(
            f"{filename} comes with gensim's test data, and gensim is not installed: pip install gensim"
        )
    path = folder / filename
    if not path.is_file():
        raise FileNotFoundError(f"{filename} is not in gensim's test data folder {folder}: reinstall gensim")
    return path


# ---------------------------------------------------------------------------------------------
# sources

_SENTENCE_BOUNDARY = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(\s+)(?=[\"'\u201c\u2018(\[]*[A-Z0-9])")
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*|[^\w\s]")
_WIKI_TITLE = re.compile(r"^= [^=].* =$")  # " = Title = " starts an article; " = = Section = = " does not
_WIKI_ESCAPES = re.compile(r" @([-,.])@ ")
_WIKI_SPLIT_FILES = {"train": "train", "validation": "valid", "test": "test"}


@functools.lru_cache(maxsize=1)
def _tokenizer() -> Callable[[str], list[str]]:
    """The course's word tokenizer when ``course_lib.text`` has one, else the same idea here."""
    try:
        from course_lib.text import word_tokenize as course_tokenize
    except ImportError:
        return lambda text: _WORD.findall(text.lower())
    return course_tokenize


def _check_arguments(split: str, seed: int, max_documents: int | None) -> None:
    if split not in SPLITS + ("all",):
        raise ValueError(f"unknown split {split!r}: use one of {', '.join(SPLITS + ('all',))}")
    check_int(seed, "seed", minimum=0)
    check_optional_int(max_documents, "max_documents", minimum=1)


def _source_name(name_or_path: str | os.PathLike) -> str:
    """A known source name, or ``"path"`` for a local file or folder; unknown names raise."""
    if isinstance(name_or_path, os.PathLike):
        return "path"
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise TypeError(f"load_corpus takes a corpus name or a path, got {name_or_path!r}")
    key = ALIASES.get(name_or_path.strip().lower(), name_or_path.strip().lower())
    if key in SOURCES:
        return key
    looks_like_path = os.sep in name_or_path or "/" in name_or_path or name_or_path.endswith(".txt")
    if looks_like_path or Path(name_or_path).exists():
        return "path"
    available = available_corpora()
    close = difflib.get_close_matches(key, list(SOURCES) + list(ALIASES), n=1)
    hint = f" Did you mean {ALIASES.get(close[0], close[0])!r}?" if close else ""
    raise ValueError(
        f"unknown corpus {name_or_path!r}: no such name and no such file or folder.{hint} Available here: "
        f"{', '.join(available)}; or pass the path of a .txt file or of a folder of .txt files."
    )


def _read_source(name: str, name_or_path: str | os.PathLike) -> tuple[list[Document], str]:
    """The documents of a source that has no official split, and the corpus's name."""
    if name == "path":
        path = Path(name_or_path).expanduser()
        return _read_local(path), str(path)
    if name == "lee":
        text = read_text(gensim_test_file("lee_background.cor"))
        return [Document(text_to_sentences(line)) for line in text.splitlines() if line.strip()], "lee"
    if name == "pang-lee":
        return _pang_lee_documents(), "pang-lee"
    if name == "kjv":
        return _kjv_documents(), "kjv"
    raise AssertionError(f"no reader for {name!r}")


def _read_local(path: Path) -> list[Document]:
    """A file: one document per blank-line paragraph. A folder: one document per .txt file."""
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path} (a corpus name? see available_corpora())")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            raise ValueError(f"the folder {path} has no .txt files: put UTF-8 text files named *.txt in it")
        documents = [_file_document(f) for f in files]
        documents = [d for d in documents if d.sentences]
        what = f"the .txt files in {path}"
    else:
        paragraphs = re.split(r"\n\s*\n", read_text(path))
        documents = [Document(text_to_sentences(p), info={"path": str(path)}) for p in paragraphs]
        documents = [d for d in documents if d.sentences]
        what = str(path)
    if not documents:
        raise ValueError(f"{what}: no words found (empty or only whitespace/punctuation): give it some text")
    return documents


def _file_document(path: Path) -> Document:
    return Document(text_to_sentences(read_text(path)), topic=path.stem, info={"path": str(path)})


def _pang_lee_documents() -> list[Document]:
    """One document per review; ``sentence.info["label"]`` is ``"pos"`` or ``"neg"``."""
    documents = []
    for line in read_text(gensim_test_file("pang_lee_polarity.cor"), encoding="cp1252").splitlines():
        label, _, text = line.partition(" ")
        if text.strip():
            sentence = Sentence(text.lower().split(), info={"label": label.removeprefix("__label__")})
            documents.append(Document([sentence], topic=sentence.info["label"]))
    return documents


def _kjv_documents() -> list[Document]:
    """The King James Bible via Debian's ``bible`` command: one document per chapter."""
    program = shutil.which("bible")
    if program is None:
        raise FileNotFoundError(
            "the 'kjv' corpus needs Debian's bible-kjv and bible-kjv-text packages, which are not installed: "
            "sudo apt-get install bible-kjv (or use another corpus, see available_corpora())"
        )
    result = subprocess.run(
        [program, "-l100000", "Genesis1:1-Revelation22:21"], capture_output=True, timeout=120, check=False
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise OSError(
            f"{program} failed (exit {result.returncode}): {result.stderr.decode(errors='replace')[:300]}"
        )
    return _parse_kjv(result.stdout.decode("utf-8", errors="strict"))


def _parse_kjv(text: str) -> list[Document]:
    """Parse ``bible`` output: a 'Book N' line starts a chapter, indented '  n text' lines are verses."""
    documents: list[Document] = []
    for line in text.splitlines():
        verse = re.match(r"^\s+(\d+)\s+(.*)$", line)
        if verse and documents:
            documents[-1].sentences.extend(text_to_sentences(verse.group(2)))
        elif line.strip() and not line[0].isspace():
            book, _, chapter = line.strip().rpartition(" ")
            documents.append(Document([], topic=book, info={"book": book, "chapter": chapter}))
    return [d for d in documents if d.sentences]


def _wikitext_corpus(name: str, split: str, download: bool) -> Corpus:
    """WikiText-2 with its official splits (``seed`` is not used): one document per article."""
    archive = WIKITEXT_ARCHIVES[name]
    folder = _wikitext_cached(archive)
    if folder is None:
        from course_lib.data.download import REMOTE_FILES, download_extracted

        if not download:
            raise FileNotFoundError(
                f"{name} is not in the cache and download=False: call load_corpus({name!r}) online, or put "
                f"{REMOTE_FILES[archive].filename} (or the folder it unzips to) in {_cache()} by hand"
            )
        folder = download_extracted(archive)
    raw = name == "wikitext-2"
    splits = SPLITS if split == "all" else (split,)
    documents = []
    for part in splits:
        suffix = "raw" if raw else "tokens"
        files = sorted(folder.rglob(f"wiki.{_WIKI_SPLIT_FILES[part]}.{suffix}"))
        if not files:
            raise FileNotFoundError(
                f"{folder} has no wiki.{_WIKI_SPLIT_FILES[part]}.{suffix}: delete the folder and retry"
            )
        documents += parse_wikitext(read_text(files[0]), raw=raw)
    return Corpus(
        name, split, documents, info={"source": str(folder), "split_by": "official WikiText-2 split"}
    )


def parse_wikitext(text: str, raw: bool = True) -> list[Document]:
    """WikiText lines -> one document per article (``topic`` = title); headings are not sentences."""
    tokenize = word_tokenize if raw else (lambda s: s.lower().split())
    documents: list[Document] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if _WIKI_TITLE.match(line):
            documents.append(Document([], topic=line.strip("= ").strip()))
        elif not line.startswith("= =") and documents:
            if raw:
                line = _WIKI_ESCAPES.sub(lambda m: m.group(1), line)  # "1 @,@ 000" -> "1,000"
            documents[-1].sentences.extend(text_to_sentences(line, tokenize))
    return [d for d in documents if d.sentences]


def _wikitext_cached(archive: str) -> Path | None:
    folder = _cache() / archive
    return folder if folder.is_dir() else None


def _cache() -> Path:
    from course_lib.base import cache_dir

    return cache_dir(create=False)


@functools.lru_cache(maxsize=1)
def _gensim_data_dir() -> Path | None:
    """gensim's ``test/test_data`` folder, found without importing gensim (which is slow)."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data"
    return folder if folder.is_dir() else None
