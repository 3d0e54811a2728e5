"""course_lib.embeddings: hand-worked PPMI and SGNS loss, queries on hand-made vectors, evaluation, training."""

import math

import numpy as np
import pytest
import torch

from course_lib.checks.word_vectors import check_analogy
from course_lib.wordvec import (
    SkipGram,
    SkipGramConfig,
    SkipGramData,
    WordVectors,
    category_precision,
    cooccurrence_counts,
    keep_probabilities,
    noise_distribution,
    one_hot,
    ppmi,
    ppmi_svd,
    sense_classification,
    sgns_gradients,
    sgns_loss,
    spearman,
    svd_vectors,
    train_skipgram,
)


def hand_vectors() -> WordVectors:
    # axes: person, female, royal
    return WordVectors(["man", "woman", "king", "queen", "apple"],
                       torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0],
                                     [-1.0, 0.2, 0.0]]))


def test_one_hot_rows_are_orthogonal_and_equally_far_apart():
    x = one_hot([0, 1, 2], 3)
    assert torch.equal(x, torch.eye(3))
    assert torch.allclose(torch.cdist(x, x)[~torch.eye(3, dtype=bool)], torch.full((6,), math.sqrt(2)))


def test_cooccurrence_counts_a_window_within_sentences():
    counts, words = cooccurrence_counts([["a", "b", "c"], ["c", "a"]], window=1)
    i = {w: k for k, w in enumerate(words)}
    assert counts[i["a"], i["b"]] == counts[i["b"], i["a"]] == 1
    assert counts[i["a"], i["c"]] == 1  # from the second sentence only: b - c is 1 apart, a - c is 2
    assert counts[i["b"], i["c"]] == 1
    assert torch.equal(counts, counts.T) and counts.sum() == 6


def test_ppmi_on_a_hand_worked_3x3_example():
    counts = torch.tensor([[0.0, 2.0, 1.0], [2.0, 0.0, 3.0], [1.0, 3.0, 0.0]])
    # total 12; row sums = column sums = 3, 5, 4. PMI(0,1) = log((2/12) / ((3/12)(5/12))) = log(1.6)
    expected = torch.zeros(3, 3, dtype=torch.float64)
    expected[0, 1] = expected[1, 0] = math.log(2 * 12 / (3 * 5))
    expected[0, 2] = expected[2, 0] = max(0.0, math.log(1 * 12 / (3 * 4)))  # log(1) = 0
    expected[1, 2] = expected[2, 1] = math.log(3 * 12 / (5 * 4))
    torch.testing.assert_close(ppmi(counts, alpha=1.0), expected)


def test_ppmi_never_gives_nan_for_empty_rows_or_an_empty_matrix():
    counts = torch.tensor([[0.0, 0.0], [0.0, 4.0]])
    assert torch.isfinite(ppmi(counts)).all()
    assert torch.equal(ppmi(torch.zeros(2, 2)), torch.zeros(2, 2, dtype=torch.float64))


def test_svd_vectors_reconstruct_a_low_rank_matrix():
    a = torch.randn(6, 2, dtype=torch.float64)
    m = a @ a.T  # symmetric, rank 2
    v = svd_vectors(m, 2, power=0.5).double()
    torch.testing.assert_close(v @ v.T, m, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError):
        svd_vectors(m, 7)


def test_sgns_loss_against_a_hand_computation():
    center, context = torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0]])
    noise = torch.tensor([[[1.0, 1.0], [-1.0, 0.0]]])
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    expected = -(math.log(sigmoid(2.0)) + math.log(sigmoid(-1.0)) + math.log(sigmoid(1.0)))
    assert sgns_loss(center, context, noise).item() == pytest.approx(expected, rel=1e-6)


def test_skipgram_model_returns_scores_and_loss_with_gradients_in_float64():
    model = SkipGram(10, 4).double()
    nn_init = torch.Generator().manual_seed(0)
    with torch.no_grad():
        model.out_vectors.weight.copy_(torch.randn(10, 4, generator=nn_init))
    center, context, noise = torch.tensor([1, 2]), torch.tensor([3, 4]), torch.tensor([[5, 6], [7, 8]])
    scores, loss = model(center, context, noise)
    assert scores.shape == (2,) and loss.ndim == 0
    assert model(center, context)[1] is None
    v = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    u = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    n = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(sgns_loss, (v, u, n))


def test_hand_written_gradients_equal_autograd_in_float64():
    generator = torch.Generator().manual_seed(0)
    B, K, C = 6, 4, 5
    v = torch.randn(B, C, dtype=torch.float64, generator=generator, requires_grad=True)
    u = torch.randn(B, C, dtype=torch.float64, generator=generator, requires_grad=True)
    n = torch.randn(B, K, C, dtype=torch.float64, generator=generator, requires_grad=True)
    (sgns_loss(v, u, n) * B).backward()  # sgns_loss is the mean; the hand-written gradients are per pair
    loss, d_center, d_outputs = sgns_gradients(v.detach(), torch.cat([u.detach().unsqueeze(1), n.detach()], 1))
    torch.testing.assert_close(loss.mean(), sgns_loss(v, u, n).detach())
    torch.testing.assert_close(d_center, v.grad)
    torch.testing.assert_close(d_outputs[:, 0], u.grad)
    torch.testing.assert_close(d_outputs[:, 1:], n.grad)


def test_sgd_step_moves_only_the_batch_rows_and_both_methods_agree():
    torch.manual_seed(0)
    model = SkipGram(12, 4).double()
    with torch.no_grad():
        model.out_vectors.weight.normal_()
    center, context = torch.tensor([0, 1, 1, 2]), torch.tensor([3, 4, 4, 0])  # a repeated pair
    noise = torch.tensor([[5, 6], [7, 5], [5, 5], [8, 9]])
    before = {k: w.clone() for k, w in model.state_dict().items()}
    pairs = SkipGram(12, 4).double()
    pairs.load_state_dict(before)
    loss_pairs = pairs.sgd_step(center, context, noise, lr=0.1, method="pairs")
    loss_table = model.sgd_step(center, context, noise, lr=0.1, method="table")
    assert loss_pairs == pytest.approx(loss_table)
    assert loss_pairs == pytest.approx(sgns_loss(before["in_vectors.weight"][center], before["out_vectors.weight"][
        context], before["out_vectors.weight"][noise]).item())
    for name, weight in model.state_dict().items():
        torch.testing.assert_close(weight, pairs.state_dict()[name])
    moved_in = (model.in_vectors.weight != before["in_vectors.weight"]).any(1).nonzero().flatten().tolist()
    moved_out = (model.out_vectors.weight != before["out_vectors.weight"]).any(1).nonzero().flatten().tolist()
    assert moved_in == [0, 1, 2]
    assert moved_out == [0, 3, 4, 5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="method"):
        model.sgd_step(center, context, noise, lr=0.1, method="dense")


def test_sgd_step_is_gradient_descent_on_the_summed_loss():
    torch.manual_seed(1)
    model = SkipGram(6, 3).double()
    with torch.no_grad():
        model.out_vectors.weight.normal_()
    center, context, noise = torch.tensor([0, 1, 0]), torch.tensor([2, 3, 2]), torch.tensor([[4], [5], [3]])
    reference = SkipGram(6, 3).double()
    reference.load_state_dict(model.state_dict())
    _, loss = reference(center, context, noise)
    (loss * len(center)).backward()
    model.sgd_step(center, context, noise, lr=0.5, method="pairs")
    with torch.no_grad():
        for p in reference.parameters():
            p -= 0.5 * p.grad
    for name, weight in model.state_dict().items():
        torch.testing.assert_close(weight, reference.state_dict()[name])


def test_training_restores_threads_records_every_step_and_reports_divergence():
    sentences = [["cat", "eats", "apple"], ["dog", "eats", "pear"]] * 30
    threads = torch.get_num_threads()
    config = SkipGramConfig(dim=4, window=1, negatives=2, min_count=1, subsample=0.0, epochs=2, batch_size=16,
                            threads=1)
    data = SkipGramData(sentences, config)
    _, _, history = train_skipgram(sentences, config, progress=False, data=data)
    assert torch.get_num_threads() == threads
    assert history.steps == list(range(1, 2 * data.steps_per_epoch() + 1))
    assert len(history.train_loss) == len(history.steps) and history.seconds > 0
    wild = SkipGramConfig(dim=4, window=1, negatives=2, min_count=1, subsample=0.0, epochs=2, batch_size=64,
                          lr=1e4)
    with pytest.raises(FloatingPointError, match="lower lr"):
        train_skipgram(sentences, wild, progress=False)
    assert torch.get_num_threads() == threads


def test_subsampling_and_noise_distributions():
    counts = np.array([1000, 10, 1])
    keep = keep_probabilities(counts, 1e-3)
    assert keep[0] < keep[1] <= keep[2] == 1.0
    assert np.all(keep_probabilities(counts, 0) == 1)
    noise = noise_distribution(counts, 0.75)
    assert noise.sum() == pytest.approx(1) and noise[2] > counts[2] / counts.sum()  # rare words drawn more often


def test_pairs_stay_inside_sentences_and_windows():
    config = SkipGramConfig(window=2, min_count=1, subsample=0.0, batch_size=4, negatives=3)
    data = SkipGramData([["a", "b", "c"], ["x", "y"]], config)
    center, context = data.pairs(0)
    pairs = {(data.words[c], data.words[x]) for c, x in zip(center, context, strict=True)}
    assert not any({p, q} & {"x", "y"} and {p, q} & {"a", "b", "c"} for p, q in pairs)
    assert ("a", "c") not in pairs or ("a", "b") in pairs  # near words always count when far ones do
    batch = next(data.batches(0))
    assert batch[0].shape == (4,) and batch[2].shape == (4, 3)


def test_skipgram_overfits_a_tiny_corpus():
    """Two word classes in identical frames: the trained vectors must group them."""
    sentences = [[f"{a}", "eats", f"{b}"] for a in ("cat", "dog", "fox") for b in ("apple", "pear", "plum")] * 20
    sentences += [[f"{a}", "sleeps"] for a in ("cat", "dog", "fox")] * 20
    config = SkipGramConfig.tiny()
    vectors, _, history = train_skipgram(sentences, config, progress=False)
    assert history.train_loss[-1] < 0.75 * history.train_loss[0]  # noise words here are often true contexts too
    assert {w for w, _ in vectors.most_similar("cat", 2)} == {"dog", "fox"}
    assert {w for w, _ in vectors.most_similar("pear", 2)} == {"apple", "plum"}


def test_most_similar_and_analogy_on_hand_made_vectors():
    wv = hand_vectors()
    assert wv.most_similar("king", 1)[0][0] == "queen"
    assert [w for w, _ in wv.most_similar("apple", 4)][-1] != "apple"
    assert wv.analogy("man", "woman", "king")[0][0] == "queen"
    assert wv.similarity("man", "man") == pytest.approx(1.0)
    assert wv.most_similar(torch.tensor([1.0, 1.0, 1.0]), 1)[0][0] == "queen"


def test_an_unknown_word_names_itself_and_the_closest_known_words():
    with pytest.raises(KeyError, match=r"'quen' is not in the vocabulary.*queen"):
        hand_vectors().most_similar("quen")


def test_evaluate_similarity_spearman_and_coverage():
    wv = hand_vectors()
    pairs = [("king", "queen", 9.0), ("man", "apple", 1.0), ("man", "woman", 6.0), ("king", "unicorn", 5.0)]
    result = wv.evaluate_similarity(pairs)
    assert result.coverage == 0.75 and result.covered == 3
    assert result.spearman == pytest.approx(1.0)
    empty = wv.evaluate_similarity([("unicorn", "dragon", 3.0)])
    assert empty.coverage == 0.0 and empty.spearman == 0.0 and not math.isnan(empty.spearman)
    assert wv.evaluate_similarity([]).coverage == 0.0


def test_spearman_handles_ties():
    assert spearman([1, 2, 2, 3], [1, 2, 2, 3]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0


def test_evaluate_analogy_accuracy_coverage_and_sections():
    wv = hand_vectors()
    questions = [("man", "woman", "king", "queen", "gender"), ("woman", "man", "queen", "king", "gender"),
                 ("man", "king", "woman", "apple", "royal"), ("man", "woman", "unicorn", "x", "gender")]
    result = wv.evaluate_analogy(questions)
    assert result.covered == 3 and result.coverage == 0.75
    assert result.accuracy == pytest.approx(2 / 3)
    assert result.by_section == {"gender": 1.0, "royal": 0.0}
    none = wv.evaluate_analogy([("unicorn", "a", "b", "c")])
    assert none.coverage == 0.0 and none.accuracy == 0.0


def test_project_2d_is_pca():
    wv = WordVectors(list("abcd"), torch.tensor([[3.0, 0, 0], [-3.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0]]))
    points = wv.project_2d()
    assert points.shape == (4, 2)
    assert points[:, 0].abs().tolist() == pytest.approx([3, 3, 0, 0], abs=1e-5)  # the widest axis first


def test_text_format_round_trip_and_bad_lines(tmp_path):
    wv = hand_vectors()
    path = tmp_path / "v.txt"
    wv.save_text(path)
    back = WordVectors.load_text(path)
    assert back.words == wv.words
    torch.testing.assert_close(back.vectors, wv.vectors)
    glove = tmp_path / "glove.txt"
    glove.write_text("a 1 2 3\nb 4 5 6\nc 7 8\n")
    with pytest.raises(ValueError, match="line 3"):
        WordVectors.load_text(glove)
    assert not list(tmp_path.glob(".*tmp"))


def test_from_gensim_gives_the_same_vectors():
    gensim = pytest.importorskip("gensim")
    sentences = [["cat", "eats", "apple"], ["dog", "eats", "pear"]] * 5
    model = gensim.models.Word2Vec(sentences, vector_size=4, min_count=1, workers=1, seed=0, epochs=1)
    wv = WordVectors.from_gensim(model)
    assert set(wv.words) == {"cat", "dog", "eats", "apple", "pear"}
    torch.testing.assert_close(wv["cat"], torch.tensor(model.wv["cat"]))


def test_ppmi_svd_and_category_precision_on_a_two_class_corpus():
    sentences = [[a, "runs"] for a in ("cat", "dog", "fox")] + [["ripe", b] for b in ("apple", "pear", "plum")]
    wv = ppmi_svd(sentences * 3, dim=4, window=1, alpha=1.0)
    category = {"cat": "animal", "dog": "animal", "fox": "animal", "apple": "fruit", "pear": "fruit",
                "plum": "fruit"}
    assert category_precision(wv, category, k=2) == 1.0
    assert category_precision(wv, category, k=5) == 0.0  # no class has 6 members: nothing to score


def test_sense_classification_cannot_beat_the_majority_with_one_vector_per_word():
    from types import SimpleNamespace as Ex

    wv = hand_vectors()
    train = [Ex(word="king", label=i % 3 == 0) for i in range(30)] + [Ex(word="queen", label=1)] * 10
    test = [Ex(word="king", label=i % 3 == 0) for i in range(9)] + [Ex(word="queen", label=1)] * 3
    accuracy, majority = sense_classification(wv, [Ex(word=e.word, label=int(e.label)) for e in train],
                                              [Ex(word=e.word, label=int(e.label)) for e in test])
    assert majority == pytest.approx(9 / 12)
    assert accuracy <= majority + 1e-6


def test_checkers_accept_the_reference_and_reject_mistakes(capsys):
    def todo(*args):
        raise NotImplementedError

    assert not check_analogy(todo)
    assert "not answered yet" in capsys.readouterr().out
    assert check_analogy(lambda wv, a, b, c: wv.analogy(a, b, c)[0][0])
    assert not check_analogy(lambda wv, a, b, c: c)
    assert "Exclude" in capsys.readouterr().out
