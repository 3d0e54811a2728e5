"""Real-corpus loaders: local text, gensim's test data, Debian's KJV, WikiText-2 from the cache.

No test touches the network: WikiText-2 is read from a small folder written into a temporary
cache, and the one download attempt goes to a closed loopback port.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.data import loaders
from course_lib.data.corpus import Corpus, Document, Sentence
from course_lib.data.loaders import (
    available_corpora,
    load_analogy_set,
    load_corpus,
    load_similarity_set,
    split_documents,
    split_sentences,
    word_tokenize,
)

HAS_GENSIM_DATA = loaders._gensim_data_dir() is not None
needs_gensim = pytest.mark.skipif(not HAS_GENSIM_DATA, reason="gensim (with its test data) is not installed")
HAS_KJV = shutil.which("bible") is not None


def texts(corpus: Corpus) -> list[str]:
    return [" ".join(s.text for s in d.sentences) for d in corpus.documents]


def paragraphs_file(tmp_path, n: int, name: str = "notes.txt"):
    path = tmp_path / name
    path.write_text(
        "\n\n".join(f"Paragraph {i} starts here. It has Two sentences!" for i in range(n)), "utf-8"
    )
    return path


# --- toy world dispatch -----------------------------------------------------------------------


def test_toyworld_is_the_default_and_gets_split_and_seed(monkeypatch):
    calls = []

    class FakeWorld:
        def __init__(self, name: str) -> None:
            self.name = name

        def corpus(self, split: str, seed: int) -> Corpus:
            calls.append((self.name, split, seed))
            return Corpus(self.name, split, [Document([Sentence(["a", "b"])]), Document([Sentence(["c"])])])

    fake = types.ModuleType("course_lib.data.toyworld")
    fake.named_toy_world = FakeWorld
    monkeypatch.setitem(sys.modules, "course_lib.data.toyworld", fake)
    assert load_corpus().name == "toyworld"
    assert load_corpus("ToyWorld", split="test", seed=7, max_documents=1).num_tokens == 2
    assert load_corpus("toyworld-families", split="validation", seed=3).name == "toyworld-families"
    assert calls == [("toyworld", "train", 0), ("toyworld", "test", 7), ("toyworld-families", "validation", 3)]


def test_the_toy_world_with_families_extends_the_main_one():
    from course_lib.data import TOY_WORLDS, named_toy_world, toy_world
    from course_lib.data.toyworld_families import FAMILY_KINDS
    from course_lib.lm import lm_vocab, load_lm_corpus

    main, families = named_toy_world("toyworld"), named_toy_world("toyworld-families")
    assert main is toy_world() and named_toy_world("lee") is None and set(TOY_WORLDS) <= set(available_corpora())
    assert families.vocabulary[: len(main.vocabulary)] == main.vocabulary  # the main world's ids are kept
    assert len(families.vocabulary) > len(main.vocabulary)
    kinds = {s.info.get("kind") for s in load_lm_corpus("toyworld-families", "train", 0, 200)}
    assert {k for ks in FAMILY_KINDS.values() for k in ks} <= kinds
    assert not {k for ks in FAMILY_KINDS.values() for k in ks} & {s.info.get("kind") for s in
                                                                   load_lm_corpus("toyworld", "train", 0, 200)}
    vocab = lm_vocab("toyworld-families", ())
    assert len(vocab) == len(lm_vocab("toyworld", ())) + len(families.vocabulary) - len(main.vocabulary)


# --- local text -------------------------------------------------------------------------------


def test_a_file_gives_one_document_per_paragraph_with_lowercased_tokens(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("The Bank opened. A river ran by!\n\n\n  Second paragraph here.  \n", "utf-8")
    corpus = load_corpus(path, split="all")
    assert corpus.name == str(path) and len(corpus.documents) == 2
    first = corpus.documents[0].sentences
    assert [s.tokens for s in first] == [["the", "bank", "opened", "."], ["a", "river", "ran", "by", "!"]]
    assert corpus.documents[1].sentences[0].tokens == ["second", "paragraph", "here", "."]
    assert load_corpus(str(path), split="all").num_tokens == corpus.num_tokens  # str and Path alike


def test_a_folder_gives_one_document_per_txt_file_in_name_order(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.txt").write_text("Bee text.", "utf-8")
    (tmp_path / "a.txt").write_text("Aye text. More aye.", "utf-8")
    (tmp_path / "sub" / "c.txt").write_text("Sea text.", "utf-8")
    (tmp_path / "empty.txt").write_text("  \n", "utf-8")  # skipped
    (tmp_path / "notes.md").write_text("Not a txt file.", "utf-8")  # ignored
    corpus = load_corpus(tmp_path, split="all")
    assert [d.topic for d in corpus.documents] == ["a", "b", "c"]
    assert texts(corpus) == ["aye text . more aye .", "bee text .", "sea text ."]


def test_a_utf8_byte_order_mark_is_not_a_token(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffHello there.".encode("utf-8"))
    assert list(load_corpus(path, split="all").tokens()) == ["hello", "there", "."]


# --- bad input --------------------------------------------------------------------------------


def test_unknown_name_lists_the_available_corpora():
    with pytest.raises(ValueError) as info:
        load_corpus("wikitxt-2")
    message = str(info.value)
    assert "unknown corpus 'wikitxt-2'" in message and "Did you mean 'wikitext-2'" in message
    assert all(name in message for name in available_corpora())
    assert ".txt file" in message


def test_missing_path_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such.txt"):
        load_corpus(tmp_path / "no-such.txt")


@pytest.mark.parametrize("content", [b"", b"   \n\n\t \n"])
def test_empty_file_is_refused(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="no words found"):
        load_corpus(path)


def test_empty_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no .txt files"):
        load_corpus(tmp_path)
    (tmp_path / "blank.txt").write_text("\n", "utf-8")
    with pytest.raises(ValueError, match="no words found"):
        load_corpus(tmp_path)


def test_non_utf8_file_error_names_the_path_and_the_line(tmp_path):
    (tmp_path / "good.txt").write_text("Fine text.", "utf-8")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"first line\nsecond line\ncaf\xe9 au lait\n")
    with pytest.raises(ValueError) as info:
        load_corpus(tmp_path, split="all")
    message = str(info.value)
    assert str(bad) in message and "line 3" in message and "0xe9" in message and "iconv" in message


def test_unreadable_file_error_names_the_path(tmp_path, monkeypatch):
    path = paragraphs_file(tmp_path, 3)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # root reads anything: simulate the refusal instead

            def refuse(self):
                raise PermissionError(13, "Permission denied", str(self))

            monkeypatch.setattr(type(path), "read_bytes", refuse)
        with pytest.raises(PermissionError, match="permission denied") as info:
            load_corpus(path)
        assert str(path) in str(info.value)
    finally:
        path.chmod(0o644)


def test_a_split_with_no_documents_says_what_to_do(tmp_path):
    path = paragraphs_file(tmp_path, 2)
    assert len(load_corpus(path, split="train").documents) == 2
    with pytest.raises(ValueError, match="split='all'"):
        load_corpus(path, split="validation")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"split": "dev"}, ValueError, "unknown split"),
        ({"seed": 1.5}, TypeError, "seed must be an int"),
        ({"seed": True}, TypeError, "seed must be an int"),
        ({"max_documents": 0}, ValueError, "max_documents"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        load_corpus(paragraphs_file(tmp_path, 5), **kwargs)


def test_a_non_string_name_is_refused():
    with pytest.raises(TypeError, match="name or a path"):
        load_corpus(42)


# --- splits -----------------------------------------------------------------------------------


def test_splits_are_deterministic_disjoint_and_cover_the_corpus(tmp_path):
    path = paragraphs_file(tmp_path, 50)
    parts = {
        split: texts(load_corpus(path, split=split, seed=3)) for split in ("train", "validation", "test")
    }
    assert [len(parts[s]) for s in ("train", "validation", "test")] == [40, 5, 5]
    assert sorted(t for part in parts.values() for t in part) == sorted(texts(load_corpus(path, split="all")))
    assert texts(load_corpus(path, split="test", seed=3)) == parts["test"]
    assert texts(load_corpus(path, split="test", seed=4)) != parts["test"]
    assert len(load_corpus(path, split="train", max_documents=7).documents) == 7


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 120), seed=st.integers(0, 2**32 - 1))
def test_split_documents_partitions_every_corpus(n, seed):
    documents = [Document([Sentence([str(i)])], info={"id": i}) for i in range(n)]
    ids = {
        s: [d.info["id"] for d in split_documents(documents, s, seed)]
        for s in ("train", "validation", "test")
    }
    assert sorted(ids["train"] + ids["validation"] + ids["test"]) == list(range(n))
    assert all(ids[s] == sorted(ids[s]) for s in ids)  # source order kept within a split
    if n >= 3:
        assert ids["validation"] and ids["test"]
        assert abs(len(ids["train"]) - 0.8 * n) <= 2
    assert ids == {s: [d.info["id"] for d in split_documents(documents, s, seed)] for s in ids}


def test_sentence_splitter_and_tokenizer_on_a_worked_example():
    assert split_sentences("It rained. We stayed in!  Did you?\nYes.") == [
        "It rained.",
        "We stayed in!",
        "Did you?",
        "Yes.",
    ]
    assert split_sentences('He said "Stop." Then 3 left. e.g. this stays.') == [
        'He said "Stop."',
        "Then 3 left. e.g. this stays.",
    ]
    assert word_tokenize("The Bank's door, shut.") == ["the", "bank's", "door", ",", "shut", "."]


# --- sources shipped with installed packages --------------------------------------------------


@needs_gensim
def test_lee_news_corpus_splits_its_300_documents():
    sizes = {s: len(load_corpus("lee", split=s).documents) for s in ("train", "validation", "test", "all")}
    assert sizes == {"train": 240, "validation": 30, "test": 30, "all": 300}
    corpus = load_corpus("lee", split="all")
    assert corpus.num_tokens > 50_000 and all(t == t.lower() for t in corpus.tokens())
    assert "lee" in available_corpora()


@needs_gensim
def test_pang_lee_reviews_carry_their_labels():
    corpus = load_corpus("pang-lee", split="all")
    labels = [s.info["label"] for s in corpus]
    assert len(labels) == 200 and set(labels) == {"pos", "neg"}


@needs_gensim
@pytest.mark.parametrize("name, size", [("wordsim353", 353), ("simlex999", 999), ("SimLex-999", 999)])
def test_similarity_sets_load_as_scored_pairs(name, size):
    pairs = load_similarity_set(name)
    assert len(pairs) == size
    assert all(isinstance(w1, str) and isinstance(w2, str) and 0 <= score <= 10 for w1, w2, score in pairs)
    assert all(w1 == w1.lower() for w1, _, _ in pairs)


@needs_gensim
def test_google_analogy_set_loads_with_its_sections():
    questions = load_analogy_set("google")
    assert len(questions) == 19_544
    assert questions[0] == ("athens", "greece", "baghdad", "iraq", "capital-common-countries")
    assert questions[0][:4] == ("athens", "greece", "baghdad", "iraq")
    assert len({q.family for q in questions}) == 14


def test_unknown_evaluation_sets_are_refused():
    with pytest.raises(ValueError, match="wordsim353"):
        load_similarity_set("men3000")
    with pytest.raises(ValueError, match="google"):
        load_analogy_set("bats")


def test_kjv_parser_on_bible_command_output():
    output = (
        "\nGenesis 1\n\n  1 In the beginning God created the heaven. And the earth.\n  2 And it was so.\n"
        "\nJohn 11\n\n  35 Jesus wept.\n"
    )
    documents = loaders._parse_kjv(output)
    assert [(d.topic, d.info["chapter"], len(d.sentences)) for d in documents] == [
        ("Genesis", "1", 3),
        ("John", "11", 1),
    ]
    assert documents[1].sentences[0].tokens == ["jesus", "wept", "."]


@pytest.mark.skipif(not HAS_KJV, reason="Debian's bible-kjv is not installed")
def test_kjv_has_one_document_per_chapter():
    corpus = load_corpus("kjv", split="all")
    assert len(corpus.documents) == 1189 and corpus.num_tokens > 800_000
    assert corpus.documents[0].sentences[0].tokens[:4] == ["in", "the", "beginning", "god"]
    assert "kjv" in available_corpora()


def test_kjv_missing_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(loaders.shutil, "which", lambda name: None)
    assert "kjv" not in available_corpora()
    with pytest.raises(FileNotFoundError, match="apt-get install bible-kjv"):
        load_corpus("kjv")


# --- WikiText-2 from the cache ----------------------------------------------------------------

WIKI = """ = Valkyria Chronicles = \n \n The game began in 2010 . It sold 1 @,@ 000 copies @-@ fast . \n
 = = Gameplay = = \n \n Players fight . \n = Second Article = \n \n Another one here . \n"""


@pytest.fixture
def wikitext_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    folder = tmp_path / "wikitext-2-raw-v1" / "wikitext-2-raw"
    folder.mkdir(parents=True)
    for part in ("train", "valid", "test"):
        (folder / f"wiki.{part}.raw").write_text(WIKI.replace("Second", part.title()), "utf-8")
    return tmp_path


def test_wikitext_is_read_from_the_cache_with_its_official_splits(wikitext_cache):
    corpus = load_corpus("wikitext-2", split="validation", seed=123)
    assert [d.topic for d in corpus.documents] == ["Valkyria Chronicles", "Valid Article"]
    first = [s.text for s in corpus.documents[0].sentences]
    assert first == [
        "the game began in 2010 .",
        " ".join(word_tokenize("it sold 1,000 copies-fast .")),
        "players fight .",
    ]
    assert not any("@" in token for token in corpus.tokens())  # " @,@ " and " @-@ " are undone
    assert len(load_corpus("wikitext-2", split="all").documents) == 6
    assert "cached" in available_corpora()["wikitext-2"]


def test_wikitext_without_cache_or_network_says_how_to_get_it(tmp_path, monkeypatch):
    from course_lib.data import download

    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="wikitext-2-raw-v1.zip"):
        load_corpus("wikitext-2", download=False)
    with socket.socket() as s:  # a loopback port nothing listens on stands in for every mirror
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/wikitext-2-raw-v1.zip"
    remote = download.REMOTE_FILES["wikitext-2-raw-v1"]
    monkeypatch.setitem(
        download.REMOTE_FILES,
        "wikitext-2-raw-v1",
        download.RemoteFile(remote.filename, (dead,), remote.sha256),
    )
    with pytest.raises(download.DownloadError, match="by hand") as info:
        load_corpus("wikitext-2")
    assert str(tmp_path / "wikitext-2-raw-v1.zip") in str(info.value)
    assert sorted(os.listdir(tmp_path)) == []


def test_available_corpora_works_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    found = available_corpora()
    assert "toyworld" in found and "wikitext-2" in found
    assert ("lee" in found) == HAS_GENSIM_DATA and ("kjv" in found) == HAS_KJV
