"""The CRF algorithms against brute-force enumeration of every path."""

import itertools

import numpy
import pytest
from thinc.api import NumpyOps

from spacy_crf_lr.crf.chain_ops import (
    FORBIDDEN,
    ChainScores,
    forward_backward,
    negative_log_likelihood,
    path_scores,
    viterbi,
)
from spacy_crf_lr.crf.schemes import constraint_masks

OPS = NumpyOps()
LENGTHS = [3, 0, 1, 4, 2]
N_TAGS = 3


def random_scores(seed: int, lengths=LENGTHS, n_tags=N_TAGS, masks=None) -> ChainScores:
    rng = numpy.random.default_rng(seed)
    emissions = rng.normal(0, 2, (len(lengths), max(lengths), n_tags)).astype("f")
    for i, length in enumerate(lengths):
        emissions[i, length:] = 0
    params = [rng.normal(0, 1, shape).astype("f") for shape in ((n_tags, n_tags), (n_tags,), (n_tags,))]
    if masks is not None:
        params = [numpy.where(mask, p, FORBIDDEN).astype("f") for mask, p in zip(masks, params)]
    return ChainScores(emissions, numpy.array(lengths, "int32"), *params)


def path_score(scores: ChainScores, i: int, path) -> float:
    """Score of one path of sequence i, the slow and obvious way."""
    if not path:
        return 0.0
    total = scores.start[path[0]] + scores.end[path[-1]]
    total += sum(scores.emissions[i, t, tag] for t, tag in enumerate(path))
    total += sum(scores.transitions[a, b] for a, b in zip(path, path[1:]))
    return float(total)


def all_paths(scores: ChainScores, i: int):
    n_tags = scores.emissions.shape[2]
    length = int(scores.lengths[i])
    return [(path, path_score(scores, i, list(path))) for path in itertools.product(range(n_tags), repeat=length)]


def brute_log_z(scores, i):
    return float(numpy.logaddexp.reduce([s for _, s in all_paths(scores, i)]))


def brute_marginals(scores, i):
    length = int(scores.lengths[i])
    log_z = brute_log_z(scores, i)
    marg = numpy.zeros((length, scores.emissions.shape[2]))
    for path, s in all_paths(scores, i):
        for t, tag in enumerate(path):
            marg[t, tag] += numpy.exp(s - log_z)
    return marg


def gold_tags(seed: int, lengths=LENGTHS, n_tags=N_TAGS):
    rng = numpy.random.default_rng(seed + 100)
    tags = rng.integers(0, n_tags, (len(lengths), max(lengths))).astype("int32")
    return tags


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_partition_matches_brute_force(seed):
    scores = random_scores(seed)
    result = forward_backward(OPS, scores)
    for i in range(len(LENGTHS)):
        assert result.log_z[i] == pytest.approx(brute_log_z(scores, i), abs=1e-4)
    assert result.log_z[1] == 0.0  # the empty sequence has one empty path


@pytest.mark.parametrize("seed", [0, 1])
def test_gold_score_and_nll_match_brute_force(seed):
    scores = random_scores(seed)
    tags = gold_tags(seed)
    gold = path_scores(OPS, scores, tags)
    nll, _ = negative_log_likelihood(OPS, scores, tags)
    for i, length in enumerate(LENGTHS):
        expected = path_score(scores, i, list(tags[i, :length]))
        assert gold[i] == pytest.approx(expected, abs=1e-4)
        assert nll[i] == pytest.approx(brute_log_z(scores, i) - expected, abs=1e-4)
        assert nll[i] >= -1e-5


@pytest.mark.parametrize("seed", [0, 1])
def test_marginals_match_brute_force_and_sum_to_one(seed):
    scores = random_scores(seed)
    marginals = forward_backward(OPS, scores).marginals
    for i, length in enumerate(LENGTHS):
        numpy.testing.assert_allclose(marginals[i, :length], brute_marginals(scores, i), atol=1e-5)
        numpy.testing.assert_allclose(marginals[i, :length].sum(axis=1), 1.0, atol=1e-5)
        assert not marginals[i, length:].any()


@pytest.mark.parametrize("seed", [0, 3])
def test_viterbi_matches_brute_force_argmax(seed):
    scores = random_scores(seed, lengths=[4, 1, 0, 3, 5])
    paths, best = viterbi(OPS, scores)
    for i, length in enumerate([4, 1, 0, 3, 5]):
        candidates = all_paths(scores, i)
        path, score = max(candidates, key=lambda item: item[1])
        assert list(paths[i, :length]) == list(path)
        assert best[i] == pytest.approx(score, abs=1e-4)
        assert not paths[i, length:].any()


def test_gradients_match_finite_differences():
    scores = random_scores(5)
    tags = gold_tags(5)
    _, grad = negative_log_likelihood(OPS, scores, tags)

    def total_nll(s):
        return float(negative_log_likelihood(OPS, s, tags)[0].astype("float64").sum())

    eps = 1e-2
    rng = numpy.random.default_rng(0)
    for field in ("emissions", "transitions", "start", "end"):
        array = getattr(scores, field)
        flat_indices = rng.choice(array.size, size=min(array.size, 8), replace=False)
        for flat in flat_indices:
            index = numpy.unravel_index(flat, array.shape)
            if field == "emissions" and index[1] >= LENGTHS[index[0]]:
                assert getattr(grad, field)[index] == 0.0  # padding gets no gradient
                continue
            original = array[index]
            array[index] = original + eps
            up = total_nll(scores)
            array[index] = original - eps
            down = total_nll(scores)
            array[index] = original
            numeric = (up - down) / (2 * eps)
            assert getattr(grad, field)[index] == pytest.approx(numeric, abs=2e-3), (field, index)


def test_constraints_are_never_decoded_and_get_zero_probability():
    labels = ("B", "E", "M", "S")
    masks = constraint_masks("BMES", labels)
    lengths = [5, 1, 3, 4]
    for seed in range(5):
        scores = random_scores(seed, lengths=lengths, n_tags=4, masks=masks)
        scores.emissions *= 5  # strong emissions push towards forbidden moves
        paths, _ = viterbi(OPS, scores)
        marginals = forward_backward(OPS, scores).marginals
        for i, length in enumerate(lengths):
            path = [labels[t] for t in paths[i, :length]]
            assert path[0] in "BS" and path[-1] in "ES"
            for a, b in zip(path, path[1:]):
                assert masks[0][labels.index(a), labels.index(b)], path
            log_z = forward_backward(OPS, scores).log_z[i]
            forbidden_mass = sum(
                numpy.exp(s - log_z)
                for p, s in all_paths(scores, i)
                if not (masks[1][p[0]] and masks[2][p[-1]] and all(masks[0][a, b] for a, b in zip(p, p[1:])))
            )
            assert forbidden_mass == pytest.approx(0.0, abs=1e-12)
            # single-character words only: marginal of M at a length-1 sequence is 0
            if length == 1:
                assert marginals[i, 0, labels.index("M")] == 0.0
                assert marginals[i, 0, labels.index("B")] == 0.0


def test_large_scores_stay_finite():
    scores = random_scores(7)
    scores.emissions *= 200
    scores.transitions *= 20
    result = forward_backward(OPS, scores)
    assert numpy.isfinite(result.log_z).all()
    assert numpy.isfinite(result.marginals).all()
    for i in (0, 3):
        assert result.log_z[i] == pytest.approx(brute_log_z(scores, i), rel=1e-5)


def test_padding_past_the_longest_sequence_changes_nothing():
    """Sub-batches (get_loss keeps the annotated rows) can be padded past their longest sequence."""
    scores = random_scores(5, lengths=[2, 4, 4, 1, 0, 3])
    padded = ChainScores(
        numpy.concatenate([scores.emissions, numpy.zeros((6, 3, N_TAGS), "f")], axis=1),
        scores.lengths,
        scores.transitions,
        scores.start,
        scores.end,
    )
    tags = gold_tags(5, lengths=[2, 4, 4, 1, 0, 3])
    padded_tags = numpy.concatenate([tags, numpy.zeros((6, 3), "int32")], axis=1)
    plain, wide = forward_backward(OPS, scores), forward_backward(OPS, padded)
    numpy.testing.assert_allclose(plain.log_z, wide.log_z, rtol=1e-6)
    numpy.testing.assert_allclose(plain.marginals, wide.marginals[:, :4], atol=1e-6)
    assert not wide.marginals[:, 4:].any()
    numpy.testing.assert_allclose(plain.transition_counts, wide.transition_counts, atol=1e-5)
    (paths, best), (wide_paths, wide_best) = viterbi(OPS, scores), viterbi(OPS, padded)
    assert (paths == wide_paths[:, :4]).all() and not wide_paths[:, 4:].any()
    numpy.testing.assert_allclose(best, wide_best)
    nll, grad = negative_log_likelihood(OPS, scores, tags)
    wide_nll, wide_grad = negative_log_likelihood(OPS, padded, padded_tags)
    numpy.testing.assert_allclose(nll, wide_nll, rtol=1e-6)
    numpy.testing.assert_allclose(grad.transitions, wide_grad.transitions, atol=1e-5)


def test_a_batch_of_empty_sequences():
    scores = ChainScores(
        numpy.zeros((3, 2, N_TAGS), "f"),
        numpy.zeros((3,), "int32"),
        numpy.ones((N_TAGS, N_TAGS), "f"),
        numpy.ones((N_TAGS,), "f"),
        numpy.ones((N_TAGS,), "f"),
    )
    result = forward_backward(OPS, scores)
    assert not result.log_z.any() and not result.marginals.any() and not result.transition_counts.any()
    paths, best = viterbi(OPS, scores)
    assert not paths.any() and not best.any()
