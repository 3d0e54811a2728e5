"""Bad input and faults, as a careless or unlucky user meets them (issue 22).

Each case asserts the exception type, that the message names the problem (the argument, file or
field, and what to do), and, where a file is written, that nothing half-written is left behind.
Offline: downloads go to a server on 127.0.0.1 started here, or to a resolver replaced at the socket
level. Areas: text, data, downloads, files, models, checkpoints, widgets, papermill parameters.
"""

from __future__ import annotations

import errno
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from course_lib import files
from course_lib.bert import BertConfig, BertForPreTraining, BertModel, load_pretrained, save_pretrained
from course_lib.data import download as dl
from course_lib.data import load_corpus, qa_examples, similarity_set, spam_messages, toyworld_corpus
from course_lib.elmo import ScalarMix, TaskProbe
from course_lib.elmo.features import mix_layers
from course_lib.text import (
    BERT_SPECIAL_TOKENS,
    Vocab,
    WordPieceTokenizer,
    basic_tokenize,
    collate_tokens,
    pad_batch,
    word_tokenize,
)
from course_lib.wordvec import WordVectors
from tests.support.http import local_server

pytestmark = pytest.mark.usefixtures("one_thread")

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>alert(1)</script>"


def raises(error: type[BaseException], call, *needles: str) -> str:
    """Run ``call``; assert it raises ``error`` with every needle in the message; return the message."""
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    missing = [n for n in needles if n not in message]
    assert not missing, f"{missing} not in {message!r}"
    return message


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def tokenizer() -> WordPieceTokenizer:
    return WordPieceTokenizer([*BERT_SPECIAL_TOKENS, "a", "##b"])


# ============================================================================ text: tokenizers and padding


@pytest.mark.parametrize("call, needles", [
    (lambda tok: word_tokenize(None), ("text must be a str", "NoneType")),
    (lambda tok: word_tokenize(b"the bank"), ("text must be a str", "bytes", "decode")),
    (lambda tok: basic_tokenize(b"the bank"), ("text must be a str", "decode")),
    (lambda tok: tok.tokenize(None), ("text must be a str",)),
    (lambda tok: tok.encode("a", b"ab"), ("pair must be a str", "pair.decode('utf-8')")),
    (lambda tok: tok.encode_word(None), ("word must be a str",)),
    (lambda tok: Vocab().encode(b"the bank"), ("tokens must be a str", "decode")),  # was [1, 1, 1, ...]
    (lambda tok: Vocab().encode(None), ("tokens must be a str",)),
    (lambda tok: Vocab.build("the bank"), ("corpus must be", "word_tokenize")),  # was a vocab of letters
], ids=["word-None", "word-bytes", "basic-bytes", "wordpiece-None", "pair-bytes", "encode_word-None",
        "vocab-bytes", "vocab-None", "build-str"])
def test_tokenizers_refuse_none_and_bytes_by_name(tokenizer, call, needles):
    raises(TypeError, lambda: call(tokenizer), *needles)


@pytest.mark.parametrize("args, error, needles", [
    (([[1.7, 2.2]], 0), TypeError, ("int token ids", "1.7")),  # was truncated to [[1, 2]]
    (([torch.tensor([1.5, 2.0])], 0), TypeError, ("int token ids", "1.5")),
    (([[1, 2]], 0, 0), ValueError, ("max_length must be >= 1", "got 0")),  # was one all-padding row
    (([[1, 2]], 0, -1), ValueError, ("max_length must be >= 1", "got -1")),  # was a torch shape error
    (([[1, 2]], 0, 2.0), TypeError, ("max_length must be an int", "write -p max_length 2")),
    (([[1, 2]], 0.5), TypeError, ("pad_id must be an int",)),
    ((["abc"], 0), TypeError, ("sequence 0 is a str", "encode it first")),
    (([[[1], [2]]], 0), TypeError, ("int token ids", "got [1]")),
    ((None, 0), TypeError, ("list of id sequences", "NoneType")),
], ids=["float-ids", "float-tensor", "max-0", "max-negative", "max-float", "pad-float", "string", "nested",
        "None"])
def test_pad_batch_refuses_what_it_used_to_truncate_or_pad(args, error, needles):
    raises(error, lambda: pad_batch(*args), *needles)


def test_collate_with_max_length_zero_names_it():
    vocab = Vocab.build([["the", "bank"]])
    raises(ValueError, lambda: collate_tokens(["the bank"], vocab, max_length=0), "max_length", ">= 1")


# ============================================================================ files: vocabularies, encodings, writes


def test_utf16_vocab_file_is_named_as_utf16(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes("\n".join(BERT_SPECIAL_TOKENS).encode("utf-16"))
    message = raises(ValueError, lambda: WordPieceTokenizer.from_vocab_file(path),
                     str(path), "UTF-16", "iconv -f UTF-16 -t UTF-8")
    assert "latin1" not in message  # the old hint sent UTF-16 files to a Latin-1 conversion


def test_latin1_vocab_file_names_the_line_and_the_conversion(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_bytes(b'{"format": "course_lib.Vocab",\n "tokens": ["caf\xe9"]}')
    raises(ValueError, lambda: Vocab.load(path), str(path), "line 2", "0xe9", "iconv -f latin1")


def test_a_folder_given_as_a_vocab_file(tmp_path):
    raises(IsADirectoryError, lambda: Vocab.load(tmp_path), str(tmp_path), "is a folder, not a file")


def test_saving_into_a_missing_folder_names_it_and_writes_nothing(tmp_path):
    raises(FileNotFoundError, lambda: Vocab().save(tmp_path / "no" / "vocab.json"),
           str(tmp_path / "no"), "does not exist", "create it")
    assert listing(tmp_path) == []


def test_saving_below_a_file_names_the_file(tmp_path):
    (tmp_path / "notes").write_text("a file")
    raises(NotADirectoryError, lambda: Vocab().save(tmp_path / "notes" / "vocab.json"),
           str(tmp_path / "notes"), "is a file, not a folder")
    assert listing(tmp_path) == ["notes"]


def test_saving_onto_a_folder_asks_for_a_file_name(tmp_path, tokenizer):
    raises(IsADirectoryError, lambda: tokenizer.save_vocab(tmp_path), str(tmp_path), "give the name of a file")
    assert listing(tmp_path) == []


def test_a_full_disk_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "vocab.json"
    Vocab.build([["old"]]).save(path)
    before = path.read_bytes()

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    err = raises(OSError, lambda: Vocab.build([["new"]]).save(path), str(path), "disk is full", "elsewhere")
    assert "nothing was written" in err
    assert path.read_bytes() == before and listing(tmp_path) == ["vocab.json"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_follow_the_umask(tmp_path, umask, mode, tokenizer):
    old = os.umask(umask)
    try:
        tokenizer.save_vocab(tmp_path / "vocab.txt")
        WordVectors(["cow", "pig"], torch.eye(2)).save_text(tmp_path / "vectors.txt")
    finally:
        os.umask(old)
    assert {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == \
        {"vocab.txt": mode, "vectors.txt": mode}  # never mkstemp's 0600 when the umask allows more


def test_temporaries_of_a_killed_writer_are_removed_once_stale(tmp_path):
    stale = tmp_path / ".vocab.json.0123456789ab.tmp"
    fresh = tmp_path / ".vocab.json.ba9876543210.tmp"  # another writer, working right now
    for path in (stale, fresh):
        path.write_bytes(b"half a vocabu")
    hours_ago = time.time() - 2 * files.STALE_AFTER_S
    os.utime(stale, (hours_ago, hours_ago))
    Vocab.build([["x"]]).save(tmp_path / "vocab.json")
    assert listing(tmp_path) == [fresh.name, "vocab.json"]


def test_two_png_exports_at_once_do_not_collide(tmp_path):
    from course_lib.viz import new_figure, save_figure_png

    figures = []
    for k in range(6):
        fig = new_figure(1.0, 1.0)
        fig.add_subplot().plot([0, k])
        figures.append(fig)
    errors: list[BaseException] = []

    def save(fig):
        try:
            save_figure_png(fig, tmp_path / "figure.png")
        except BaseException as err:  # noqa: BLE001 - collected for the assertion below
            errors.append(err)

    threads = [threading.Thread(target=save, args=(fig,)) for fig in figures]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and listing(tmp_path) == ["figure.png"]
    assert (tmp_path / "figure.png").read_bytes().startswith(b"\x89PNG")


def test_runner_html_exports_use_unique_temporary_names(tmp_path, monkeypatch):
    from tools import runner

    names = []
    real_replace = os.replace

    def watch(src, dst):
        names.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", watch)
    runner.write_text_atomic(tmp_path / "nb.html", "<p>one</p>")
    runner.write_text_atomic(tmp_path / "nb.html", "<p>two</p>")
    assert len(set(names)) == 2 and all(n.startswith(".nb.html.") for n in names)
    assert listing(tmp_path) == ["nb.html"] and (tmp_path / "nb.html").read_text() == "<p>two</p>"


# ============================================================================ data: corpora and papermill parameters


@pytest.mark.parametrize("data, needles", [
    ("It rained.\nCafé au lait.\n".encode("latin-1"), ("line 2", "0xe9", "Latin-1", "iconv -f latin1")),
    ("It rained. We stayed in.\n".encode("utf-16"), ("UTF-16", "byte-order mark", "iconv -f UTF-16 ")),
    ("It rained. We stayed in.\n".encode("utf-16-le"), ("NUL byte", "UTF-16LE")),  # was read "fine"
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", ("binary file",)),
], ids=["latin1", "utf16-bom", "utf16le-no-bom", "binary"])
def test_text_files_in_other_encodings_are_named(tmp_path, data, needles):
    path = tmp_path / "notes.txt"
    path.write_bytes(data)
    raises(ValueError, lambda: load_corpus(path, split="all"), str(path), *needles)


def test_latin1_vector_file_names_the_path(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_bytes("the 0.1 0.2\ncafé 0.3 0.4\n".encode("latin-1"))
    raises(ValueError, lambda: WordVectors.load_text(path), str(path), "line 2", "iconv -f latin1")


@pytest.mark.parametrize("call, error, needles", [
    (lambda: load_corpus("toyworld", seed=1.0), TypeError, ("seed must be an int", "write -p seed 1")),
    (lambda: load_corpus("toyworld", seed="1"), TypeError, ("seed must be an int", "drop the quotes")),
    (lambda: load_corpus("toyworld", max_documents=1e3), TypeError, ("max_documents", "write -p max_documents 1000")),
    (lambda: toyworld_corpus("train", 0, "10"), TypeError, ("num_documents must be an int", "drop the quotes")),
    (lambda: toyworld_corpus("train", 0, 0), ValueError, ("num_documents must be >= 1",)),
    (lambda: spam_messages(20.0), TypeError, ("num_messages must be an int",)),
    (lambda: qa_examples(toyworld_corpus("train", 0, 3), unanswerable_share="0.3"), TypeError,
     ("unanswerable_share must be a number",)),
    (lambda: similarity_set(num_pairs=0), ValueError, ("num_pairs must be >= 1",)),
    (lambda: ScalarMix(2.0), TypeError, ("num_layers must be an int",)),
], ids=["seed-float", "seed-str", "max-documents-1e3", "num-documents-str", "num-documents-0", "num-messages",
        "unanswerable-str", "num-pairs-0", "num-layers-float"])
def test_papermill_floats_and_strings_are_refused_by_name(call, error, needles):
    raises(error, call, *needles)


# ============================================================================ downloads


class SlowHandler(http.server.BaseHTTPRequestHandler):
    """/trickle/*: promises 100 kB, then sends one byte every 50 ms; /good/*: 1 kB at once."""

    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100000" if self.path.startswith("/trickle") else "1000")
        self.end_headers()
        if not self.path.startswith("/trickle"):
            self.wfile.write(b"x" * 1000)
            return
        stop = time.monotonic() + 5.0  # bounded, so that the server thread ends
        try:
            while time.monotonic() < stop:
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client gave up: that is the point
            pass

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    with local_server(SlowHandler) as url:
        yield url


@pytest.fixture
def hanging_dns(monkeypatch):
    """A resolver that hangs (as with no network and a DNS server that never answers), until the test ends."""
    release = threading.Event()
    real = socket.getaddrinfo

    def hang(host, *args, **kwargs):
        if host in ("127.0.0.1", "localhost"):
            return real(host, *args, **kwargs)
        release.wait(30)
        raise socket.gaierror("released by the test")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    yield
    release.set()


def non_daemon_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()}


def test_a_hanging_dns_lookup_gives_a_clear_error_in_time_and_leaves_no_thread(tmp_path, hanging_dns):
    before = non_daemon_threads()
    start = time.monotonic()
    urls = ["https://mirror-one.invalid/data.zip", "https://mirror-two.invalid/data.zip"]
    message = raises(dl.DownloadError, lambda: dl.download(urls, folder=tmp_path, timeout=0.3, budget=0.5),
                     "looking up mirror-one.invalid", "offline", "by hand", str(tmp_path / "data.zip"))
    assert time.monotonic() - start < 1.5
    assert re.search(r"looking up mirror-two\.invalid took longer than 0\.\d+ s", message)  # what the budget left
    assert non_daemon_threads() <= before  # nothing that would keep the interpreter from exiting
    assert listing(tmp_path) == []


def test_the_interpreter_exits_at_once_after_a_hanging_lookup(tmp_path):
    code = (
        "import socket, time\n"
        "from course_lib.data import download as dl\n"
        "socket.getaddrinfo = lambda *a, **k: time.sleep(60)\n"  # never answers within the test
        "print(time.time(), flush=True)\n"
        "try:\n"
        f"    dl.download('https://mirror.invalid/x.zip', folder={str(tmp_path)!r}, timeout=0.3, budget=0.3)\n"
        "except dl.DownloadError:\n"
        "    print('error', flush=True)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    finished = time.time()
    lines = result.stdout.split()
    assert result.returncode == 0 and lines[-1] == "error", result.stderr
    assert finished - float(lines[0]) < 3.0  # the old thread pool held the exit until the lookups ended


def test_a_trickling_mirror_is_cut_off_by_the_deadline(server, tmp_path):
    start = time.monotonic()
    raises(dl.DownloadError, lambda: dl.download(f"{server}/trickle/big.bin", folder=tmp_path, timeout=2.0,
                                                 deadline=0.6),
           "still downloading after 0.6 s", "deadline", f"{server}/trickle/big.bin")
    assert time.monotonic() - start < 2.0
    assert listing(tmp_path) == []  # the partial file is gone


def test_the_deadline_spans_the_mirrors(server, tmp_path):
    urls = [f"{server}/trickle/a.bin", f"{server}/good/a.bin"]
    message = raises(dl.DownloadError, lambda: dl.download(urls, folder=tmp_path, timeout=2.0, budget=5.0,
                                                          deadline=0.5),
                     "deadline for this file was spent")
    assert f"{server}/good/a.bin: not tried" in message and listing(tmp_path) == []


def test_a_download_folder_that_is_a_file(tmp_path):
    (tmp_path / "cache").write_text("not a folder")
    raises(NotADirectoryError, lambda: dl.download("http://127.0.0.1:9/x.bin", folder=tmp_path / "cache"),
           "the download folder", str(tmp_path / "cache"), "is a file, not a folder")


@pytest.mark.parametrize("kwargs, error, needle", [
    ({"timeout": "3"}, TypeError, "timeout must be a number"),
    ({"deadline": 0}, ValueError, "deadline must be > 0"),
    ({"budget": float("nan")}, ValueError, "budget must be a finite number"),
])
def test_download_limits_are_checked(tmp_path, kwargs, error, needle):
    raises(error, lambda: dl.download("http://127.0.0.1:9/x.bin", folder=tmp_path, **kwargs), needle)
    assert listing(tmp_path) == []


def test_downloads_follow_the_umask_and_sweep_stale_parts(server, tmp_path):
    stale = tmp_path / ".a.bin.0123456789ab.part"  # left by a process killed mid-download
    stale.write_bytes(b"x" * 10)
    os.utime(stale, (0, 0))
    old = os.umask(0o002)
    try:
        path = dl.download(f"{server}/good/a.bin", folder=tmp_path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o664  # a class-shared cache: group-writable when the umask says so
    assert listing(tmp_path) == ["a.bin", "a.bin.sha256.json"]


def test_the_cache_folder_that_is_a_file_names_the_variable(tmp_path, monkeypatch):
    from course_lib import cache_dir

    (tmp_path / "cache").write_text("oops")
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path / "cache"))
    raises(NotADirectoryError, cache_dir, "COURSE_LIB_CACHE", str(tmp_path / "cache"), "is a file")


# ============================================================================ models: mixing layers


@pytest.mark.parametrize("shapes", [[(2, 3, 4), (1, 3, 4)], [(2, 3, 4), (2, 3, 1)], [(5, 4), (5, 4, 1)]],
                         ids=["batch", "channels", "rank"])
def test_scalar_mix_refuses_layers_of_different_shapes(shapes):  # they used to broadcast silently
    layers = [torch.zeros(s) for s in shapes]
    raises(ValueError, lambda: ScalarMix(2)(layers), "ScalarMix", "one shape", str(shapes[1]))
    raises(ValueError, lambda: mix_layers(layers, [0.5, 0.5]), "mix_layers", "one shape")


def test_scalar_mix_refuses_a_mask_of_the_wrong_shape():
    layers = [torch.zeros(2, 3, 4), torch.zeros(2, 3, 4)]
    raises(ValueError, lambda: ScalarMix(2, do_layer_norm=True)(layers, torch.ones(2, 5)),
           "mask has shape (2, 5)", "must be (2, 3)")


# ============================================================================ checkpoints


def tiny_config(**changes) -> BertConfig:
    base = dict(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                max_position_embeddings=16)
    return BertConfig(**(base | changes))


@pytest.fixture
def saved(tmp_path) -> Path:
    torch.manual_seed(0)
    return save_pretrained(BertForPreTraining(tiny_config()), tmp_path / "bert")


@pytest.mark.parametrize("text, needles", [
    ("{\"hidden_size\": 16,", ("not valid JSON", "line 1")),
    ("[16, 1, 2]", ("must hold a JSON object", "list")),
    (json.dumps({"hidden_size": "64"}), ('field "hidden_size"', "an integer", '"64"', "without quotes")),
    (json.dumps({"hidden_size": -64}), ('field "hidden_size"', "at least 1", "-64")),
    (json.dumps({"num_hidden_layers": 2.5}), ('field "num_hidden_layers"', "an integer", "2.5")),
    (json.dumps({"num_attention_heads": True}), ('field "num_attention_heads"', "an integer", "true")),
    (json.dumps({"hidden_dropout_prob": 1.5}), ('field "hidden_dropout_prob"', "[0, 1)")),
    (json.dumps({"tie_word_embeddings": "false"}), ('field "tie_word_embeddings"', "true or false")),
    (json.dumps({"hidden_size": 30, "num_attention_heads": 4}), ("hidden_size=30", "divisible")),
], ids=["not-json", "list", "string-size", "negative-size", "float-layers", "bool-heads", "dropout", "flag-str",
        "heads"])
def test_config_json_errors_name_the_file_and_the_field(saved, text, needles):
    (saved / "config.json").write_text(text)
    raises(ValueError, lambda: load_pretrained(saved), str(saved / "config.json"), *needles)


@pytest.mark.parametrize("name", ["model.safetensors", "pytorch_model.bin"])
def test_a_truncated_weight_file_is_named(saved, name):
    data = (saved / "model.safetensors").read_bytes()
    if name == "pytorch_model.bin":
        (saved / "model.safetensors").unlink()
        torch.save(BertForPreTraining(tiny_config()).state_dict(), saved / name)
        data = (saved / name).read_bytes()
    (saved / name).write_bytes(data[: len(data) // 2])
    raises(ValueError, lambda: load_pretrained(saved, BertForPreTraining), str(saved / name),
           "damaged", "again")


def test_an_untied_checkpoint_loads_into_an_untied_decoder(tmp_path):
    torch.manual_seed(1)
    model = BertForPreTraining(tiny_config(tie_word_embeddings=False)).eval()
    folder = save_pretrained(model, tmp_path / "untied")
    loaded, _ = load_pretrained(folder, BertForPreTraining)
    decoder, embeddings = loaded.cls.predictions.decoder.weight, loaded.bert.embeddings.word_embeddings.weight
    assert decoder is not embeddings  # it used to overwrite the embeddings with the decoder's weight
    assert torch.equal(decoder, model.cls.predictions.decoder.weight)
    assert torch.equal(embeddings, model.bert.embeddings.word_embeddings.weight)


def test_a_tied_config_over_an_untied_checkpoint_is_refused(tmp_path):
    folder = save_pretrained(BertForPreTraining(tiny_config(tie_word_embeddings=False)), tmp_path / "bert")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(config | {"tie_word_embeddings": True}))
    raises(ValueError, lambda: load_pretrained(folder, BertForPreTraining), str(folder),
           "differs from its word embeddings", '"tie_word_embeddings": false')


def test_load_pretrained_given_a_file(saved):
    raises(NotADirectoryError, lambda: load_pretrained(saved / "config.json"), "is a file",
           "the folder that holds config.json")


def test_save_pretrained_onto_a_file_writes_nothing(tmp_path):
    (tmp_path / "bert").write_text("a file")
    raises(NotADirectoryError, lambda: save_pretrained(BertForPreTraining(tiny_config()), tmp_path / "bert"),
           str(tmp_path / "bert"), "is a file")
    assert listing(tmp_path) == ["bert"]


def test_a_failed_save_pretrained_leaves_no_folder(tmp_path, monkeypatch):
    import safetensors.torch

    def broken(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save", broken)
    with pytest.raises(OSError):
        save_pretrained(BertForPreTraining(tiny_config()), tmp_path / "bert")
    assert listing(tmp_path) == []  # neither the folder nor its temporary twin


def test_save_pretrained_with_the_wrong_tokenizer(tmp_path, tokenizer):
    raises(ValueError, lambda: save_pretrained(BertForPreTraining(tiny_config()), tmp_path / "b", tokenizer),
           "7 tokens", "vocab_size is 30")
    assert listing(tmp_path) == []


# ============================================================================ widgets


@pytest.fixture
def vectors() -> WordVectors:
    torch.manual_seed(0)
    return WordVectors(["cow", "pig", "boat", "<b>x"], torch.randn(4, 3))


def test_neighbour_explorer_reports_an_unknown_word_escaped(vectors):
    from course_lib.wordvec.viz import NeighbourExplorer

    explorer = NeighbourExplorer(vectors, ["cow", "pig"])
    explorer.word.value = EVIL
    assert "is not in the vocabulary" in explorer.table.value
    assert "<script" not in explorer.table.value and "&lt;script&gt;" in explorer.table.value
    explorer.word.value = "<b>x"  # a known word whose text is HTML: listed escaped
    explorer.word.value = "cow"
    assert "&lt;b&gt;x" in explorer.table.value and "<b>x" not in explorer.table.value


@pytest.mark.parametrize("kwargs, error, needles", [
    ({"k": 0}, ValueError, ("k must be >= 1",)),
    ({"k": 50}, ValueError, ("k must be <= 20",)),  # the slider used to clamp it without a word
    ({"k": 2.5}, TypeError, ("k must be an int",)),
    ({"labels": ["noun"]}, ValueError, ("1 labels for 2 words",)),
    ({"words": ["zebra"]}, ValueError, ("none of the 1 words has a vector", "zebra")),
], ids=["k-0", "k-50", "k-float", "labels", "no-known-word"])
def test_neighbour_explorer_arguments(vectors, kwargs, error, needles):
    from course_lib.wordvec.viz import NeighbourExplorer

    arguments = {"words": ["cow", "pig"]} | kwargs
    raises(error, lambda: NeighbourExplorer(vectors, **arguments), *needles)


def make_probe(weights=(0.2, 0.3, 0.5), gamma=1.0) -> TaskProbe:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(2, (20,), generator=g)
    layers = [torch.randn(20, 4, generator=g) for _ in range(3)]
    return TaskProbe([h[:10] for h in layers], y[:10], [h[10:] for h in layers], y[10:], list(weights), gamma, 0.9)


def test_layer_explorer_reports_a_bad_slider_value_escaped(tmp_path):
    from course_lib.elmo import LayerWeightExplorer

    explorer = LayerWeightExplorer({EVIL: make_probe()}, lambda *args: 0.75, png_path=str(tmp_path / "w.png"))
    assert "&lt;script&gt;" in explorer.result.value and "<script" not in explorer.result.value
    explorer.sliders[0].value = float("nan")  # set from code: the widget accepts it
    assert "the slider &#x27;layer 0&#x27; must be a finite number" in explorer.result.value
    raises(ValueError, explorer.hand_weights, "slider 'layer 0'")


@pytest.mark.parametrize("kwargs, needle", [
    ({"weights": (float("nan"), 0.5, 0.5)}, "weights[0] must be a finite number"),
    ({"weights": (-1.0, 0.5, 0.5)}, "weights[0] must be >= 0"),
    ({"gamma": float("inf")}, "gamma must be a finite number"),
])
def test_task_probe_refuses_weights_that_are_not_a_softmax(kwargs, needle):
    raises(ValueError, lambda: make_probe(**kwargs), needle)


def test_save_png_control_reports_a_folder_path_escaped(tmp_path):
    from course_lib.viz import SavePngControl, new_figure

    fig = new_figure(1.0, 1.0)
    fig.add_subplot().plot([0, 1])
    folder = tmp_path / "<b>plots.png"
    folder.mkdir()
    control = SavePngControl(lambda: fig, str(folder))
    control.button.click()
    assert "not saved" in control.status.value and "is a folder" in control.status.value
    assert "<b>" not in control.status.value and "&lt;b&gt;plots.png" in control.status.value
    assert listing(tmp_path) == ["<b>plots.png"] and listing(folder) == []


# ============================================================================ models: inputs at the boundary

V, P = 30, 16  # tiny_config's vocabulary and learned positions
IDS = torch.arange(1, 11).view(2, 5)  # (B, T) = (2, 5)


@pytest.fixture(scope="module")
def bert():
    torch.manual_seed(0)
    return BertModel(tiny_config()).eval()


def long_ids(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


@pytest.mark.parametrize("kwargs, error, needles", [
    ({"input_ids": IDS[0]}, ValueError, ("input_ids must be (B, T)", "got shape (5,)", "input_ids[None]")),
    ({"input_ids": IDS[:, :0]}, ValueError, ("input_ids is empty", "(2, 0)")),
    ({"input_ids": IDS.float()}, TypeError, ("input_ids must hold integer token ids", "torch.float32", ".long()")),
    ({"input_ids": IDS.tolist()}, TypeError, ("input_ids must be a torch.Tensor", "got list", "torch.tensor(")),
    ({"input_ids": IDS + 25}, ValueError, ("largest id in input_ids is 35", "vocabulary size (config.vocab_size) is 30",
                                           "0..29", "own vocabulary or tokenizer")),  # was "index out of range in self"
    ({"input_ids": IDS - 101}, ValueError, ("input_ids holds the negative id -100", "never an input")),
    ({"input_ids": torch.ones(1, P + 1, dtype=torch.long)}, ValueError,
     ("input_ids has 17 tokens per sequence", "only 16 learned positions", "cut the sequences")),
    ({"attention_mask": torch.ones(1, 5)}, ValueError,  # was broadcast to every row without a word
     ("attention_mask has shape (1, 5)", "shape of input_ids (2, 5)", "not broadcast")),
    ({"attention_mask": torch.ones(2, 4)}, ValueError, ("attention_mask has shape (2, 4)", "(2, 5)")),
    ({"attention_mask": torch.full((2, 5), 0.5)}, ValueError, ("only 0 and 1", "found [0.5]")),
    ({"attention_mask": torch.tensor([[0.0, -1e4, 0, 0, 0]] * 2)}, ValueError, ("only 0 and 1", "additive mask")),
    ({"attention_mask": torch.ones(2, 5, dtype=torch.complex64)}, TypeError, ("attention_mask must hold 0 and 1",)),
    ({"attention_mask": long_ids([1, 1, 0, 0, 0], [0, 0, 0, 0, 0])}, ValueError,
     ("attention_mask rows [1] have no real token", "drop empty sequences")),
    ({"token_type_ids": torch.full((2, 5), 2)}, ValueError,
     ("largest id in token_type_ids is 2", "config.type_vocab_size) is 2", "0..1")),  # was "index out of range"
    ({"token_type_ids": torch.zeros(2, 4, dtype=torch.long)}, ValueError,
     ("token_type_ids has shape (2, 4)", "shape of input_ids: (2, 5)")),
], ids=["1-d", "T=0", "float-ids", "list", "id-too-large", "id-negative", "too-long", "mask-1xT", "mask-length",
        "mask-half", "mask-additive", "mask-complex", "mask-empty-row", "type-id-2", "type-shape"])
def test_bert_model_refuses_bad_inputs_by_name(bert, kwargs, error, needles):
    raises(error, lambda: bert(**({"input_ids": IDS} | kwargs)), *needles)


def test_a_mask_of_booleans_or_floats_means_what_a_mask_of_ints_means(bert):
    mask = long_ids([1, 1, 1, 0, 0], [1, 1, 1, 1, 1])
    with torch.no_grad():
        expected = bert(IDS, attention_mask=mask)[0].last_hidden_state
        for same in (mask.bool(), mask.float()):
            torch.testing.assert_close(bert(IDS, attention_mask=same)[0].last_hidden_state, expected)


def test_a_left_to_right_bert_refuses_left_padding():  # its pooler would have read a padding position
    model = BertModel(tiny_config(is_decoder=True)).eval()
    raises(ValueError, lambda: model(IDS, attention_mask=long_ids([0, 0, 1, 1, 1], [1, 1, 1, 1, 1])),
           "right-padded", "config.is_decoder")
    model(IDS, attention_mask=long_ids([1, 1, 1, 0, 0], [1, 1, 1, 1, 1]))  # right padding is what it reads


@pytest.mark.parametrize("kwargs, needles", [
    ({"labels": torch.full((2, 5), V)}, ("largest id in labels is 30", "0..29 or -100 (not scored)")),
    ({"labels": torch.full((2, 5), -1)}, ("labels holds the negative id -1", "or -100")),
    ({"labels": torch.full((2, 4), -100)}, ("labels has shape (2, 4)", "shape of input_ids")),
    ({"next_sentence_label": long_ids(0, 2)}, ("largest id in next_sentence_label is 2", "0 = IsNext")),
    ({"next_sentence_label": long_ids(0, 1, 1)}, ("next_sentence_label has shape (3,)", "(2,)")),
], ids=["label-V", "label-negative", "label-shape", "nsp-2", "nsp-shape"])
def test_pretraining_targets_are_checked_by_name(kwargs, needles):
    model = BertForPreTraining(tiny_config()).eval()
    raises(ValueError, lambda: model(IDS, **kwargs), *needles)
    if "labels" in kwargs:  # the fast training step checks the same way
        from course_lib.bert import masked_lm_loss

        raises(ValueError, lambda: masked_lm_loss(model, {"input_ids": IDS, **kwargs}), *needles)


def test_an_mlm_batch_with_nothing_masked_has_loss_zero_not_nan():  # NaN used to enter the history
    model = BertForPreTraining(tiny_config())
    _, loss = model(IDS, labels=torch.full_like(IDS, -100))
    assert loss.item() == 0.0 and not torch.isnan(loss)


@pytest.mark.parametrize("head, kwargs, error, needles", [
    ("sequence", {"labels": long_ids(0, 2)}, ValueError, ("largest id in labels is 2", "num_labels is 2")),
    ("sequence", {"labels": IDS % 2}, ValueError, ("labels has shape (2, 5)", "one per sequence: (2,)")),
    ("sequence", {"labels": torch.zeros(2)}, TypeError, ("labels must hold integer class ids", "float32")),
    ("token", {"labels": torch.zeros(2, 3, dtype=torch.long)}, ValueError, ("labels has shape (2, 3)",
                                                                            "shape of input_ids: (2, 5)")),
    ("token", {"labels": torch.full((2, 5), 7)}, ValueError, ("largest id in labels is 7", "or -100")),
    ("qa", {"start_positions": long_ids(0, 1)}, ValueError, ("both start_positions and end_positions",
                                                             "silently be None")),
    ("qa", {"start_positions": long_ids(0, 5), "end_positions": long_ids(0, 5)}, ValueError,
     ("largest id in start_positions is 5", "sequence length T of input_ids")),
    ("pair", {"positions_a": long_ids(1, 9), "positions_b": long_ids(2, 3)}, ValueError,
     ("largest id in positions_a is 9", "sequence length T")),
], ids=["seq-label-2", "seq-label-shape", "seq-label-float", "token-shape", "token-label-7", "qa-one-position",
        "qa-position-T", "pair-position-T"])
def test_task_heads_check_their_targets(head, kwargs, error, needles):
    from course_lib.bert import (
        BertForQuestionAnswering,
        BertForSequenceClassification,
        BertForTokenClassification,
        BertForWordPairClassification,
    )

    cls = {"sequence": BertForSequenceClassification, "token": BertForTokenClassification,
           "qa": BertForQuestionAnswering, "pair": BertForWordPairClassification}[head]
    raises(error, lambda: cls(tiny_config()).eval()(IDS, **kwargs), *needles)


def test_the_heads_encoder_checks_the_ids():
    from course_lib.bert import BertForSequenceClassification

    raises(ValueError, lambda: BertForSequenceClassification(tiny_config())(IDS + 25), "largest id in input_ids is 35")


# ---------------------------------------------------------------------------- language models and sampling


@pytest.fixture(scope="module")
def lms():
    from course_lib.gpt import GPT, GPTConfig
    from course_lib.lm import LSTMLM, LSTMLMConfig

    vocab = Vocab.build([["the", "cow", "eats", "grass"], ["a", "pig", "sleeps"]])
    torch.manual_seed(0)
    return {"gpt": GPT(GPTConfig.tiny(vocab_size=len(vocab)), vocab).eval(),
            "lstm": LSTMLM(LSTMLMConfig.tiny(vocab_size=len(vocab)), vocab).eval()}


@pytest.mark.parametrize("kind", ["gpt", "lstm"])
@pytest.mark.parametrize("call, error, needles", [
    (lambda m: m(torch.tensor([[2, 99]])), ValueError, ("largest id in input_ids is 99", "vocabulary size")),
    (lambda m: m(torch.tensor([[2.0, 7.0]])), TypeError, ("input_ids must hold integer token ids",)),
    (lambda m: m(torch.tensor([2, 7])), ValueError, ("input_ids must be (B, T)", "input_ids[None]")),
    (lambda m: m(torch.tensor([[2, 7]]), torch.tensor([[7]])), ValueError, ("targets has shape (1, 1)",
                                                                            "shape of input_ids")),
    (lambda m: m.sample(2, temperature=-1.0), ValueError, ("temperature must be a finite number >= 0",
                                                          "likeliest token the rarest")),  # was softmax(-logits)
    (lambda m: m.sample(2, temperature="hot"), ValueError, ("'greedy'",)),
    (lambda m: m.sample(2.0), TypeError, ("num_sentences must be an int", "write -p num_sentences 2")),
    (lambda m: m.sample(2, max_length=0), ValueError, ("max_length must be >= 1",)),
    (lambda m: m.sample(2, top_k=0), ValueError, ("top_k must be None or an int >= 1",)),
], ids=["id-too-large", "float-ids", "1-d", "targets-shape", "temperature-negative", "temperature-word",
        "num-sentences-float", "max-length-0", "top-k-0"])
def test_language_models_refuse_bad_inputs_by_name(lms, kind, call, error, needles):
    raises(error, lambda: call(lms[kind]), *needles)


@pytest.mark.parametrize("kind", ["gpt", "lstm"])
def test_temperature_zero_is_greedy_not_a_nan(lms, kind):  # it used to fail in torch with "inf, nan"
    model = lms[kind]
    assert model.sample(3, temperature=0, generator=1) == model.sample(3, temperature="greedy", generator=2)


def test_gpt_refuses_a_mask_that_would_broadcast(lms):
    ids = torch.tensor([[2, 7, 8], [2, 9, 3]])
    raises(ValueError, lambda: lms["gpt"](ids, attention_mask=torch.ones(1, 3)), "attention_mask has shape (1, 3)")


def test_generation_checks_the_prompt_once_not_at_every_step(lms, monkeypatch):
    from course_lib import arguments
    from course_lib.lm import generate

    calls = []
    real = arguments._check_range
    monkeypatch.setattr(arguments, "_check_range", lambda *a, **k: (calls.append(a[1]), real(*a, **k))[1])
    for model in lms.values():
        calls.clear()
        out = generate(model, [2, 7], max_new_tokens=6, temperature=0)
        assert len(out) == 8 and calls == ["prompt_ids"]  # the model's own check skipped inside the loop
        calls.clear()
        model(torch.tensor([[2, 7]]))
        assert calls == ["input_ids"]  # a direct call still checks


def test_a_failed_check_leaves_checking_on():
    from course_lib.arguments import checked_inputs, should_check

    with pytest.raises(RuntimeError), checked_inputs():
        assert not should_check()
        raise RuntimeError("a failure inside a checked block")
    assert should_check()


# ---------------------------------------------------------------------------- ELMo, attention, Transformer


def test_bilm_and_elmo_name_word_ids():
    from course_lib.elmo import BiLM, BiLMConfig, Elmo

    torch.manual_seed(0)
    bilm = BiLM(BiLMConfig.tiny(20)).eval()
    raises(ValueError, lambda: bilm(torch.tensor([[5, 20]])), "largest id in word_ids is 20", "is 20 (valid: 0..19)")
    raises(TypeError, lambda: Elmo(bilm)(torch.tensor([[5.0, 6.0]])), "word_ids must hold integer token ids")
    raises(ValueError, lambda: bilm.layers(torch.tensor([5, 6])), "word_ids must be (B, T)", "word_ids[None]")


@pytest.mark.parametrize("call, error, needles", [
    (lambda mha, x: mha(x[..., :16], x, x), ValueError, ("query must be (B, T, 32)", "got (2, 5, 16)")),
    (lambda mha, x: mha(x, x[:1], x[:1]), ValueError, ("key has batch size 1 but the queries have 2",)),
    (lambda mha, x: mha(x, x, x[:, :4]), ValueError, ("key (2, 5, 32) and value (2, 4, 32)", "the same T_k")),
    (lambda mha, x: mha(x.long(), x, x), TypeError, ("query must be a floating tensor", "torch.int64",
                                                     "embedding first")),
    (lambda mha, x: mha(x, x, x, mask=torch.ones(2, 5)), TypeError, ("a mask must be a boolean tensor",
                                                                     "padding_mask(attention_mask)")),
], ids=["query-width", "key-batch", "value-length", "integer-query", "float-mask"])
def test_multi_head_attention_names_the_argument(call, error, needles):
    from course_lib.attention import MultiHeadAttention

    raises(error, lambda: call(MultiHeadAttention(32, 4), torch.randn(2, 5, 32)), *needles)


@pytest.mark.parametrize("q, k, v, error, needle", [
    ((2, 5, 8), (2, 5, 4), (2, 5, 8), ValueError, "q and k must have the same width D"),
    ((2, 5, 8), (2, 6, 8), (2, 5, 8), ValueError, "k and v must have one row per key"),
    ((2, 5, 8), (3, 5, 8), (3, 5, 8), ValueError, "share their leading (batch, head) dimensions"),
], ids=["width", "keys", "batch"])
def test_scaled_dot_product_attention_names_the_mismatch(q, k, v, error, needle):
    from course_lib.attention import scaled_dot_product_attention

    raises(error, lambda: scaled_dot_product_attention(torch.randn(q), torch.randn(k), torch.randn(v)), needle)
    raises(TypeError, lambda: scaled_dot_product_attention(torch.ones(q, dtype=torch.long), torch.randn(k),
                                                           torch.randn(v)), "q must be a floating tensor")


def test_transformer_stacks_check_once_and_name_the_argument(monkeypatch):
    from course_lib.attention import MultiHeadAttention
    from course_lib.transformer import TransformerDecoder, TransformerEncoder

    encoder, decoder = TransformerEncoder(3, 32, 4, 64).eval(), TransformerDecoder(2, 32, 4, 64).eval()
    x = torch.randn(2, 5, 32)
    raises(ValueError, lambda: encoder(x[..., :8]), "x must be (B, T, 32)")
    raises(ValueError, lambda: decoder(x, x[:1]), "memory has batch size 1 but the queries have 2")
    raises(ValueError, lambda: encoder(x, torch.ones(3, 1, 1, 5, dtype=torch.bool)), "does not fit attention scores")
    calls = []
    real = MultiHeadAttention.check_inputs
    monkeypatch.setattr(MultiHeadAttention, "check_inputs", lambda *a: (calls.append(1), real(*a))[1])
    encoder(x)
    decoder(x, x)
    assert calls == []  # checked by the stack, not again in each of its layers


@pytest.mark.parametrize("kwargs, error, needles", [
    ({"src_mask": torch.ones(1, 5)}, ValueError, ("src_mask has shape (1, 5)", "shape of src_ids (2, 5)")),
    ({"tgt_in": torch.ones(3, 4, dtype=torch.long)}, ValueError, ("tgt_in has 3 sequences but src_ids 2",)),
    ({"tgt_out": torch.full((2, 4), 24)}, ValueError, ("largest id in tgt_out is 24", "vocabulary size")),
    ({"tgt_out": torch.ones(2, 3, dtype=torch.long)}, ValueError, ("tgt_out has shape (2, 3)", "shape of tgt_in")),
    ({"src_ids": torch.full((2, 5), 99)}, ValueError, ("largest id in src_ids is 99",)),
    ({"tgt_in": torch.ones(2, 4)}, TypeError, ("tgt_in must hold integer token ids",)),
], ids=["src-mask-1xS", "batch-mismatch", "tgt-out-V", "tgt-out-shape", "src-id-99", "tgt-float"])
def test_seq2seq_checks_every_argument_by_name(kwargs, error, needles):
    from course_lib.transformer import Seq2SeqTransformer, TransformerConfig

    model = Seq2SeqTransformer(TransformerConfig.tiny()).eval()
    args = {"src_ids": torch.ones(2, 5, dtype=torch.long), "tgt_in": torch.ones(2, 4, dtype=torch.long)} | kwargs
    raises(error, lambda: model(**args), *needles)
    raises(ValueError, lambda: model.greedy_decode(torch.ones(2, 5, dtype=torch.long), max_len=0),
           "max_len must be >= 1")


# ============================================================================ the model cache: settings and arguments


@pytest.mark.parametrize("value, needles", [
    (1.5, ("ToyBertSettings.steps must be an int, got float 1.5",)),
    ("300", ("ToyBertSettings.steps must be an int, got str", "drop the quotes")),
    (True, ("ToyBertSettings.steps must be an int, got bool True",)),
], ids=["float", "string", "bool"])
def test_recipe_settings_refuse_what_is_not_an_int(value, needles):
    from course_lib.bert import ToyBertSettings

    raises(TypeError, lambda: ToyBertSettings(steps=value), *needles)


def test_a_recipe_holding_the_wrong_config_names_the_field():
    from course_lib.lm import LSTMLMSettings

    raises(TypeError, lambda: LSTMLMSettings(model=tiny_config()), "LSTMLMSettings.model must be LSTMLMConfig",
           "got BertConfig")


@pytest.mark.parametrize("settings, needles", [
    (tiny_config(), ("settings must be a Recipe dataclass", "got BertConfig", "GPTSettings(model=config)")),
    (None, ("settings must be a Recipe dataclass", "got NoneType")),  # was "must be called with a dataclass"
    ({"steps": 3}, ("got dict",)),
], ids=["config", "None", "dict"])
def test_pretrained_given_something_that_is_not_a_recipe(settings, needles, tmp_path):
    from course_lib.core import pretrained

    raises(TypeError, lambda: pretrained(settings, device="cpu", folder=tmp_path), *needles)
    assert listing(tmp_path) == []


def test_pretrained_given_a_recipe_class_asks_for_an_instance(tmp_path):
    from course_lib.bert import ToyBertSettings
    from course_lib.core import pretrained

    raises(TypeError, lambda: pretrained(ToyBertSettings, folder=tmp_path), "got the class ToyBertSettings",
           "ToyBertSettings()")


def test_pretrained_with_a_folder_that_is_a_file_trains_nothing(tmp_path):
    from course_lib.core import pretrained
    from tests.support.cache_child import SlowRecipe

    (tmp_path / "models").write_text("not a folder")
    recipe = SlowRecipe(log=str(tmp_path / "log.txt"), seconds=0.0)
    raises(NotADirectoryError, lambda: pretrained(recipe, device="cpu", progress=False, folder=tmp_path / "models"),
           "models' is a file", "pass a folder")
    assert listing(tmp_path) == ["models"] and (tmp_path / "models").read_text() == "not a folder"  # never trained


def test_a_truncated_bptt_step_names_its_targets():  # was "Target 25 is out of bounds."
    from course_lib.lm import LSTMLM, LSTMLMConfig, tbptt_step

    batch = {"input_ids": torch.tensor([[1, 2]]), "targets": torch.tensor([[1, 25]])}
    raises(ValueError, lambda: tbptt_step(LSTMLM(LSTMLMConfig.tiny(20)), batch, None), "largest id in targets is 25",
           "vocabulary size (config.vocab_size) is 20")


def test_the_self_attention_tagger_names_its_labels():
    from course_lib.attention import SelfAttentionTagger

    tagger = SelfAttentionTagger(20, 3)
    raises(ValueError, lambda: tagger(torch.tensor([[5, 6]]), torch.ones(1, 2, dtype=torch.long),
                                      labels=torch.tensor([[5, 1]])), "largest id in labels is 5", "num_labels is 3",
           "or -100")


def test_elmo_token_tagger_names_a_position_past_the_sentence():
    from course_lib.elmo import BiLM, BiLMConfig, Elmo, TokenTagger

    torch.manual_seed(0)
    tagger = TokenTagger(Elmo(BiLM(BiLMConfig.tiny(20))), 3)
    raises(ValueError, lambda: tagger(torch.tensor([[5, 6]]), positions=torch.tensor([4])),
           "largest id in positions is 4", "sequence length T of input_ids is 2")  # was "index 4 is out of bounds"
    raises(ValueError, lambda: tagger(torch.tensor([[5, 6]]), labels=torch.tensor([1])), "labels has shape (1,)",
           "the shape of input_ids: (1, 2)")


def test_a_cache_entry_holding_another_models_weights_is_retrained_not_loaded(tmp_path):
    from torch import nn

    from course_lib.core import CacheWarning, pretrained, save_checkpoint
    from tests.support.cache_child import SlowRecipe, digest

    recipe = SlowRecipe(log=str(tmp_path / "log.txt"), seconds=0.0)
    model, history = pretrained(recipe, device="cpu", progress=False, folder=tmp_path / "m")
    [entry] = (tmp_path / "m").glob("slow-*.pt")
    save_checkpoint(nn.Linear(3, 3), entry, extra={"history": history.to_dict()})  # a whole file, the wrong model
    with pytest.warns(CacheWarning, match=f"{entry.name} is damaged.*training it again"):
        again, _ = pretrained(recipe, device="cpu", progress=False, folder=tmp_path / "m")
    assert digest(again) == digest(model) and len((tmp_path / "log.txt").read_text().splitlines()) == 2
    assert sorted(p.suffix for p in (tmp_path / "m").iterdir()) == [".lock", ".pt"]  # replaced, nothing half-written
    loaded, _ = pretrained(recipe, device="cpu", progress=False, folder=tmp_path / "m")  # now a hit
    assert digest(loaded) == digest(model) and len((tmp_path / "log.txt").read_text().splitlines()) == 2
