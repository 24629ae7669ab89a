"""Per-position allowed tags, partial-label NLL and n-best paths against brute-force enumeration."""

import numpy
import pytest
from test_chain_ops import LENGTHS, N_TAGS, OPS, all_paths, random_scores

from spacy_crf_lr.crf.chain_ops import ChainScores, forward_backward, negative_log_likelihood, viterbi
from spacy_crf_lr.crf.nbest import nbest_viterbi
from spacy_crf_lr.crf.schemes import constraint_masks


def random_allowed(seed: int, lengths=LENGTHS, n_tags=N_TAGS, density=0.6):
    """A random mask with at least one allowed tag per position."""
    rng = numpy.random.default_rng(seed + 50)
    allowed = rng.random((len(lengths), max(lengths), n_tags)) < density
    allowed[numpy.arange(len(lengths))[:, None], numpy.arange(max(lengths))[None, :], rng.integers(0, n_tags)] = True
    return allowed


def permitted(path, allowed_row) -> bool:
    return all(allowed_row[t, tag] for t, tag in enumerate(path))


def constrained_paths(scores, i, allowed):
    return [(p, s) for p, s in all_paths(scores, i) if permitted(p, allowed[i])]


def brute(scores, i, allowed):
    """(log Z, marginals, transition counts) over the permitted paths of sequence i."""
    paths = constrained_paths(scores, i, allowed)
    length, n_tags = int(scores.lengths[i]), scores.emissions.shape[2]
    log_z = float(numpy.logaddexp.reduce([s for _, s in paths])) if length else 0.0
    marg, counts = numpy.zeros((length, n_tags)), numpy.zeros((n_tags, n_tags))
    for path, s in paths:
        p = numpy.exp(s - log_z)
        for t, tag in enumerate(path):
            marg[t, tag] += p
        for a, b in zip(path, path[1:]):
            counts[a, b] += p
    return log_z, marg, counts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_constrained_partition_marginals_and_counts_match_brute_force(seed):
    scores, allowed = random_scores(seed), random_allowed(seed)
    result = forward_backward(OPS, scores, allowed=allowed)
    expected_counts = numpy.zeros((N_TAGS, N_TAGS))
    for i, length in enumerate(LENGTHS):
        log_z, marg, counts = brute(scores, i, allowed)
        assert result.log_z[i] == pytest.approx(log_z, abs=1e-4)
        numpy.testing.assert_allclose(result.marginals[i, :length], marg, atol=1e-5)
        assert not (result.marginals[i, :length] * ~allowed[i, :length]).any()  # exactly 0, not small
        expected_counts += counts
    numpy.testing.assert_allclose(result.transition_counts, expected_counts, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 3])
def test_constrained_viterbi_matches_brute_force(seed):
    lengths = [4, 1, 0, 3, 5]
    scores, allowed = random_scores(seed, lengths=lengths), random_allowed(seed, lengths=lengths)
    scores.emissions *= 3
    paths, best = viterbi(OPS, scores, allowed=allowed)
    for i, length in enumerate(lengths):
        if not length:
            continue
        path, score = max(constrained_paths(scores, i, allowed), key=lambda item: item[1])
        assert list(paths[i, :length]) == list(path)
        assert best[i] == pytest.approx(score, abs=1e-4)


def test_all_allowed_changes_nothing():
    scores = random_scores(4)
    everything = numpy.ones(scores.emissions.shape, bool)
    plain, masked = forward_backward(OPS, scores), forward_backward(OPS, scores, allowed=everything)
    numpy.testing.assert_allclose(plain.log_z, masked.log_z, rtol=1e-7)
    numpy.testing.assert_allclose(plain.marginals, masked.marginals, atol=1e-7)
    assert (viterbi(OPS, scores)[0] == viterbi(OPS, scores, allowed=everything)[0]).all()


def test_constraints_stay_exact_against_huge_scores():
    """A forbidden tag with an emission far above the allowed ones still gets exactly nothing."""
    scores = random_scores(6)
    allowed = random_allowed(6)
    scores.emissions = numpy.where(allowed, scores.emissions - 5000, scores.emissions + 5000).astype("f")
    result = forward_backward(OPS, scores, allowed=allowed)
    assert numpy.isfinite(result.log_z).all()
    for i, length in enumerate(LENGTHS):
        assert not (result.marginals[i, :length] * ~allowed[i, :length]).any()
        numpy.testing.assert_allclose(result.marginals[i, :length].sum(axis=1), 1.0, atol=1e-5)
        assert result.log_z[i] == pytest.approx(brute(scores, i, allowed)[0], rel=1e-6)
    paths, _ = viterbi(OPS, scores, allowed=allowed)
    for i, length in enumerate(LENGTHS):
        assert permitted(paths[i, :length], allowed[i])


def test_position_allowing_no_tag_is_an_error():
    scores, allowed = random_scores(0), random_allowed(0)
    allowed[3, 2] = False
    allowed[1, 1] = False  # padding of the empty sequence: never checked
    for run in (lambda: forward_backward(OPS, scores, allowed=allowed), lambda: viterbi(OPS, scores, allowed=allowed)):
        with pytest.raises(ValueError, match="position 2 of sequence 3 allows no tag"):
            run()


def test_constraints_the_scheme_cannot_meet_are_an_error():
    labels = ("B", "E", "M", "S")
    scores = random_scores(1, lengths=[3, 2], n_tags=4, masks=constraint_masks("BMES", labels))
    allowed = numpy.ones((2, 3, 4), bool)
    allowed[1, 0] = [True, False, False, False]  # B ...
    allowed[1, 1] = [False, False, False, True]  # ... then S: no BMES path
    with pytest.raises(ValueError, match="no tag path of sequence 1"):
        forward_backward(OPS, scores, allowed=allowed)


def test_mask_shape_is_checked():
    scores = random_scores(0)
    with pytest.raises(ValueError, match="must be B×T×K"):
        viterbi(OPS, scores, allowed=numpy.ones((2, 2, 2), bool))


def partial_tags(seed, lengths=LENGTHS):
    rng = numpy.random.default_rng(seed + 7)
    tags = rng.integers(0, N_TAGS, (len(lengths), max(lengths))).astype("int32")
    tags[rng.random(tags.shape) < 0.5] = -1
    return tags


def agrees(tags_row):
    """The allowed mask of the paths agreeing with a partial tag row."""
    mask = numpy.ones((len(tags_row), N_TAGS), bool)
    for t, tag in enumerate(tags_row):
        if tag >= 0:
            mask[t] &= numpy.arange(N_TAGS) == tag
    return mask


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_partial_label_nll_and_gradient_match_brute_force(seed):
    scores, tags = random_scores(seed), partial_tags(seed)
    nll, grad = negative_log_likelihood(OPS, scores, tags)
    gold_allowed = numpy.stack([agrees(tags[i]) for i in range(len(LENGTHS))])
    expected_trans = numpy.zeros((N_TAGS, N_TAGS))
    expected_start, expected_end = numpy.zeros(N_TAGS), numpy.zeros(N_TAGS)
    everything = numpy.ones_like(gold_allowed)
    for i, length in enumerate(LENGTHS):
        log_z, marg, counts = brute(scores, i, everything)
        gold_z, gold_marg, gold_counts = brute(scores, i, gold_allowed)
        assert nll[i] == pytest.approx(log_z - gold_z, abs=1e-4)
        numpy.testing.assert_allclose(grad.emissions[i, :length], marg - gold_marg, atol=1e-5)
        assert not grad.emissions[i, length:].any()
        expected_trans += counts - gold_counts
        if length:
            expected_start += marg[0] - gold_marg[0]
            expected_end += marg[-1] - gold_marg[-1]
    numpy.testing.assert_allclose(grad.transitions, expected_trans, atol=1e-5)
    numpy.testing.assert_allclose(grad.start, expected_start, atol=1e-5)
    numpy.testing.assert_allclose(grad.end, expected_end, atol=1e-5)


def test_partial_nll_with_every_tag_known_equals_the_full_nll():
    scores, tags = random_scores(3), partial_tags(3)
    tags = numpy.abs(tags)
    everything = numpy.ones(scores.emissions.shape, bool)
    full_nll, full_grad = negative_log_likelihood(OPS, scores, tags)
    part_nll, part_grad = negative_log_likelihood(OPS, scores, tags, allowed=everything)
    numpy.testing.assert_allclose(full_nll, part_nll, atol=1e-4)
    for field in ("emissions", "transitions", "start", "end"):
        numpy.testing.assert_allclose(getattr(full_grad, field), getattr(part_grad, field), atol=1e-5)


def test_unknown_everywhere_gives_zero_loss():
    scores = random_scores(2)
    nll, grad = negative_log_likelihood(OPS, scores, numpy.full((len(LENGTHS), max(LENGTHS)), -1, "int32"))
    numpy.testing.assert_allclose(nll, 0.0, atol=1e-5)
    numpy.testing.assert_allclose(grad.emissions, 0.0, atol=1e-5)


@pytest.mark.parametrize("constrained", [False, True])
def test_nbest_matches_sorted_enumeration(constrained):
    lengths = [4, 1, 0, 3, 2]
    scores = random_scores(8, lengths=lengths)
    allowed = random_allowed(8, lengths=lengths) if constrained else None
    k = 7
    paths, best = nbest_viterbi(OPS, scores, k, allowed=allowed)
    assert paths.shape == (len(lengths), k, max(lengths)) and best.shape == (len(lengths), k)
    for i, length in enumerate(lengths):
        candidates = constrained_paths(scores, i, allowed) if constrained else all_paths(scores, i)
        expected = sorted(candidates, key=lambda item: -item[1])[:k]
        n_real = len(expected) if length else 1
        numpy.testing.assert_allclose(best[i, :n_real], [s for _, s in expected] if length else [0.0], atol=1e-4)
        assert numpy.isneginf(best[i, n_real:]).all()
        got = [tuple(paths[i, r, :length]) for r in range(n_real)]
        if length:
            assert got == [tuple(p) for p, _ in expected]
            assert len(set(got)) == n_real


def test_nbest_first_path_is_the_viterbi_path():
    for seed in range(4):
        scores = random_scores(seed)
        allowed = random_allowed(seed)
        paths, best = viterbi(OPS, scores, allowed=allowed)
        top, top_scores = nbest_viterbi(OPS, scores, 3, allowed=allowed)
        assert (top[:, 0] == paths).all()
        numpy.testing.assert_allclose(top_scores[:, 0], best, atol=1e-4)


def test_nbest_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be a positive integer"):
        nbest_viterbi(OPS, random_scores(0), 0)


def test_nbest_of_empty_batch_steps():
    scores = ChainScores(
        numpy.zeros((2, 0, N_TAGS), "f"),
        numpy.zeros((2,), "int32"),
        numpy.zeros((N_TAGS, N_TAGS), "f"),
        numpy.zeros((N_TAGS,), "f"),
        numpy.zeros((N_TAGS,), "f"),
    )
    paths, best = nbest_viterbi(OPS, scores, 2)
    assert paths.shape == (2, 2, 0) and best[:, 0].tolist() == [0.0, 0.0]
