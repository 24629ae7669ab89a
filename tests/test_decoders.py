"""The decoders (`crf`, `softmax`) against brute force: every path of short chains enumerated."""

from itertools import product
from typing import get_args

import numpy
import pytest
from thinc.api import NumpyOps

from spacy_crf_lr.crf.chain_ops import ChainScores
from spacy_crf_lr.pipeline.decoders import DECODERS, CRFDecoder, Decoder, SoftmaxDecoder

OPS = NumpyOps()
LENGTHS = [4, 2, 3, 1]  # padded to 4 steps
N_TAGS = 3


def random_scores(seed: int) -> ChainScores:
    rng = numpy.random.default_rng(seed)
    n_steps = max(LENGTHS)

    def floats(*shape):
        return rng.normal(0.0, 1.5, shape).astype("float32")

    emissions = floats(len(LENGTHS), n_steps, N_TAGS)
    return ChainScores(emissions, numpy.array(LENGTHS, "int32"), floats(N_TAGS, N_TAGS), floats(N_TAGS), floats(N_TAGS))


def random_allowed(seed: int) -> numpy.ndarray:
    """A B×T×K mask allowing one to all tags at each position (every tag at padding, as CRFPipe pads it)."""
    rng = numpy.random.default_rng(seed + 100)
    allowed = rng.random((len(LENGTHS), max(LENGTHS), N_TAGS)) < 0.5
    one_tag = rng.integers(0, N_TAGS, allowed.shape[:2])
    allowed[numpy.arange(len(LENGTHS))[:, None], numpy.arange(max(LENGTHS))[None, :], one_tag] = True
    for seq, length in enumerate(LENGTHS):
        allowed[seq, length:] = True
    assert not allowed.all()
    return allowed


def partial_gold(seed: int) -> numpy.ndarray:
    """Padded gold tags (0 at padding) with some unknown (-1), and the first sequence fully known."""
    rng = numpy.random.default_rng(seed + 200)
    tags = rng.integers(0, N_TAGS, (len(LENGTHS), max(LENGTHS))).astype("int32")
    tags[1:][rng.random(tags[1:].shape) < 0.4] = -1
    for seq, length in enumerate(LENGTHS):
        tags[seq, length:] = 0
    tags[3, 0] = -1  # a sequence with no known tag
    return tags


def all_paths(length: int, allowed=None):
    """Every tag path of the given length that `allowed` (T×K, or None) permits."""
    for path in product(range(N_TAGS), repeat=length):
        if allowed is None or all(allowed[t, tag] for t, tag in enumerate(path)):
            yield path


def chain_score(scores: ChainScores, seq: int, path) -> float:
    e = scores.emissions[seq].astype("float64")
    total = scores.start[path[0]] + scores.end[path[-1]] + sum(e[t, tag] for t, tag in enumerate(path))
    return float(total + sum(scores.transitions[a, b] for a, b in zip(path, path[1:])))


def token_log_probs(scores: ChainScores, seq: int, allowed=None) -> numpy.ndarray:
    """T×K log-softmax of the emissions over the allowed tags (-inf at the others)."""
    e = scores.emissions[seq].astype("float64")
    if allowed is not None:
        e = numpy.where(allowed[seq], e, -numpy.inf)
    return (
        e - numpy.log(numpy.exp(e - e.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)) - e.max(axis=1)[:, None]
    )


def independent_score(scores: ChainScores, seq: int, path, allowed=None) -> float:
    log_probs = token_log_probs(scores, seq, allowed)
    return float(sum(log_probs[t, tag] for t, tag in enumerate(path)))


def path_log_probs(name: str, scores: ChainScores, seq: int, allowed=None) -> dict:
    """Every allowed path of sequence seq and its log-probability under the decoder `name`, by enumeration."""
    mask = None if allowed is None else allowed[seq]
    paths = list(all_paths(LENGTHS[seq], mask))
    if name == "crf":
        raw = numpy.array([chain_score(scores, seq, p) for p in paths])
        log_z = numpy.logaddexp.reduce(raw)
        return {p: s - log_z for p, s in zip(paths, raw)}
    return {p: independent_score(scores, seq, p, allowed) for p in paths}


def test_every_decoder_name_has_a_decoder():
    assert tuple(DECODERS) == get_args(Decoder)
    assert isinstance(DECODERS["crf"], CRFDecoder) and isinstance(DECODERS["softmax"], SoftmaxDecoder)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("name", ["crf", "softmax"])
def test_decode_is_the_best_path_with_each_tags_probability(name, masked):
    scores = random_scores(1)
    allowed = random_allowed(1) if masked else None
    paths, probs = DECODERS[name].decode(OPS, scores, allowed=allowed)
    paths_only, no_probs = DECODERS[name].decode(OPS, scores, allowed=allowed, probabilities=False)
    assert no_probs is None and numpy.array_equal(paths_only, paths)
    for seq, length in enumerate(LENGTHS):
        log_probs = path_log_probs(name, scores, seq, allowed)
        best = max(log_probs, key=log_probs.__getitem__)
        assert tuple(paths[seq, :length]) == best
        # the probability of each chosen tag: the summed probability of the paths through it
        expected = [sum(numpy.exp(lp) for p, lp in log_probs.items() if p[t] == best[t]) for t in range(length)]
        assert probs[seq, :length] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("name", ["crf", "softmax"])
def test_nbest_is_the_k_most_probable_paths(name, masked):
    scores = random_scores(2)
    allowed = random_allowed(2) if masked else None
    k = N_TAGS**2 + 2  # more than the paths of the shorter sequences
    paths, log_probs = DECODERS[name].nbest(OPS, scores, k, allowed=allowed)
    assert paths.shape == (len(LENGTHS), k, max(LENGTHS)) and log_probs.shape == (len(LENGTHS), k)
    for seq, length in enumerate(LENGTHS):
        expected = sorted(path_log_probs(name, scores, seq, allowed).items(), key=lambda item: -item[1])[:k]
        found = len(expected)
        assert [tuple(path[:length]) for path in paths[seq, :found]] == [path for path, _ in expected]
        assert log_probs[seq, :found] == pytest.approx([lp for _, lp in expected], abs=1e-5)
        assert numpy.isneginf(log_probs[seq, found:]).all()  # fewer paths than k
        assert numpy.logaddexp.reduce(log_probs[seq, :found]) <= 1e-6  # probabilities of distinct paths


def test_crf_loss_is_the_partial_label_negative_log_likelihood_and_its_gradient():
    scores, tags = random_scores(3), partial_gold(3)
    loss, gradient = DECODERS["crf"].loss(OPS, scores, tags)
    expected_loss = 0.0
    d_emissions = numpy.zeros(scores.emissions.shape)
    d_transitions, d_start, d_end = numpy.zeros((N_TAGS, N_TAGS)), numpy.zeros(N_TAGS), numpy.zeros(N_TAGS)
    for seq, length in enumerate(LENGTHS):
        paths = list(all_paths(length))
        raw = numpy.array([chain_score(scores, seq, p) for p in paths])
        agrees = numpy.array([all(tags[seq, t] in (-1, tag) for t, tag in enumerate(p)) for p in paths])
        expected_loss += numpy.logaddexp.reduce(raw) - numpy.logaddexp.reduce(raw[agrees])
        # gradient: expected counts under all paths minus under the paths that agree with the known tags
        weight = numpy.exp(raw - numpy.logaddexp.reduce(raw))
        gold_weight = numpy.where(agrees, numpy.exp(raw - numpy.logaddexp.reduce(raw[agrees])), 0.0)
        for path, w in zip(paths, weight - gold_weight):
            d_start[path[0]] += w
            d_end[path[-1]] += w
            for t, tag in enumerate(path):
                d_emissions[seq, t, tag] += w
            for a, b in zip(path, path[1:]):
                d_transitions[a, b] += w
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert gradient.emissions == pytest.approx(d_emissions, abs=1e-5)  # 0 at padding
    assert gradient.transitions == pytest.approx(d_transitions, abs=1e-5)
    assert gradient.start == pytest.approx(d_start, abs=1e-5)
    assert gradient.end == pytest.approx(d_end, abs=1e-5)


def test_crf_loss_of_fully_known_tags_is_the_gold_paths_negative_log_likelihood():
    scores, tags = random_scores(4), numpy.maximum(partial_gold(4), 0)
    loss, _ = DECODERS["crf"].loss(OPS, scores, tags)
    expected = 0.0
    for seq, length in enumerate(LENGTHS):
        raw = [chain_score(scores, seq, p) for p in all_paths(length)]
        expected += numpy.logaddexp.reduce(raw) - chain_score(scores, seq, tuple(tags[seq, :length]))
    assert loss == pytest.approx(expected, rel=1e-5)


def test_softmax_loss_is_the_cross_entropy_of_the_known_tags_and_trains_no_crf_scores():
    scores, tags = random_scores(5), partial_gold(5)
    loss, gradient = DECODERS["softmax"].loss(OPS, scores, tags)
    expected_loss = 0.0
    d_emissions = numpy.zeros(scores.emissions.shape)
    for seq, length in enumerate(LENGTHS):
        log_probs = token_log_probs(scores, seq)
        for t in range(length):
            if tags[seq, t] >= 0:
                expected_loss -= log_probs[t, tags[seq, t]]
                d_emissions[seq, t] = numpy.exp(log_probs[t]) - numpy.eye(N_TAGS)[tags[seq, t]]
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert gradient.emissions == pytest.approx(d_emissions, abs=1e-6)  # 0 at unknown tags and padding
    assert gradient.transitions is None and gradient.start is None and gradient.end is None


@pytest.mark.parametrize("name", ["crf", "softmax"])
def test_the_zero_gradient_leaves_out_what_the_loss_does_not_train(name):
    scores = random_scores(6)
    zero = DECODERS[name].zero_gradient(OPS, scores)
    _, gradient = DECODERS[name].loss(OPS, scores, partial_gold(6))
    assert zero.emissions.shape == scores.emissions.shape and not zero.emissions.any()
    for part in ("transitions", "start", "end"):
        assert (getattr(zero, part) is None) == (getattr(gradient, part) is None) == (name == "softmax")
        if name == "crf":
            assert not getattr(zero, part).any()
