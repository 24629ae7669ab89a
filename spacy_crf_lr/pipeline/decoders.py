"""The decoders a `CRFPipe` may use (its `decoder` setting): how emission scores become tags, n-best paths and a loss.

`crf`: a linear-chain CRF (Viterbi, forward–backward marginals, the chain's negative log-likelihood).
`softmax`: independent tokens over the same emission scores (argmax, softmax, per-token cross-entropy); it never
trains the CRF's own scores (transitions, start, end). Both work on `ChainScores` through thinc `ops` (numpy or
cupy); `allowed` is an optional B×T×K boolean mask of the tags each position may take (None: every tag).
"""

from abc import ABC, abstractmethod
from typing import Dict, Literal, Optional, Tuple

import numpy
from thinc.api import Ops
from thinc.types import Floats2d, Floats3d, Ints2d, Ints3d

from ..crf.chain_ops import ChainScores, forward_backward, negative_log_likelihood, valid_mask, viterbi
from ..crf.nbest import nbest_viterbi

# The names of the `decoder` setting; DECODERS maps each one to its decoder.
Decoder = Literal["crf", "softmax"]


class ChainDecoder(ABC):
    """Decoding, n-best and loss of one way of reading a chain's scores."""

    # Whether the loss trains the CRF's own scores (transitions, start, end); if not, their gradient is None.
    trains_potentials: bool

    @abstractmethod
    def decode(
        self, ops: Ops, scores: ChainScores, *, allowed=None, probabilities: bool = True
    ) -> Tuple[Ints2d, Optional[Floats2d]]:
        """The best tag of each position (B×T; any value past a sequence's end) and, with probabilities, the
        probability of each chosen tag (B×T)."""

    @abstractmethod
    def nbest(self, ops: Ops, scores: ChainScores, k: int, *, allowed=None) -> Tuple[Ints3d, Floats2d]:
        """The k best paths per sequence, best first (B×k×T), and their log-probabilities (B×k, float64; -inf
        where a sequence has fewer than k paths)."""

    @abstractmethod
    def loss(self, ops: Ops, scores: ChainScores, tags: Ints2d) -> Tuple[float, ChainScores]:
        """Loss summed over the sequences of the gold tags (B×T, padded; -1: unknown) and its gradient."""

    def zero_gradient(self, ops: Ops, scores: ChainScores) -> ChainScores:
        """A gradient of zeros shaped like scores, None for the scores the loss does not train."""
        gradient = scores.zeros_like(ops)
        if not self.trains_potentials:
            gradient.transitions = gradient.start = gradient.end = None
        return gradient


class CRFDecoder(ChainDecoder):
    """Viterbi paths, forward–backward marginals, list-Viterbi n-best, the chain's negative log-likelihood
    (of all the paths that agree with the known tags, for partial labels)."""

    trains_potentials = True

    def decode(
        self, ops: Ops, scores: ChainScores, *, allowed=None, probabilities: bool = True
    ) -> Tuple[Ints2d, Optional[Floats2d]]:
        paths, _ = viterbi(ops, scores, allowed=allowed)
        if not probabilities:
            return paths, None
        marginals = forward_backward(ops, scores, with_transitions=False, allowed=allowed).marginals
        return paths, chosen(ops, marginals, paths)

    def nbest(self, ops: Ops, scores: ChainScores, k: int, *, allowed=None) -> Tuple[Ints3d, Floats2d]:
        log_z = forward_backward(ops, scores, with_transitions=False, allowed=allowed).log_z
        paths, path_scores = nbest_viterbi(ops, scores, k, allowed=allowed)
        return paths, path_scores - log_z[:, None]

    def loss(self, ops: Ops, scores: ChainScores, tags: Ints2d) -> Tuple[float, ChainScores]:
        losses, gradient = negative_log_likelihood(ops, scores, tags)
        return float(losses.sum()), gradient


class SoftmaxDecoder(ChainDecoder):
    """Independent tokens: argmax and softmax of the (allowed) emission scores, per-token cross-entropy."""

    trains_potentials = False

    def decode(
        self, ops: Ops, scores: ChainScores, *, allowed=None, probabilities: bool = True
    ) -> Tuple[Ints2d, Optional[Floats2d]]:
        emissions = scores.emissions
        if allowed is not None:
            emissions = ops.xp.where(allowed, emissions, -numpy.inf).astype(emissions.dtype)
        paths = emissions.argmax(axis=-1)
        return paths, chosen(ops, ops.softmax(emissions, axis=-1), paths) if probabilities else None

    def nbest(self, ops: Ops, scores: ChainScores, k: int, *, allowed=None) -> Tuple[Ints3d, Floats2d]:
        """A chain of log-softmax emissions with zero transitions (log Z = 0): its path scores are log-probabilities."""
        emissions = scores.emissions if allowed is None else ops.xp.where(allowed, scores.emissions, -numpy.inf)
        zeros = ops.xp.zeros_like(scores.start)
        with numpy.errstate(divide="ignore"):  # log 0 = -inf for a forbidden tag, as intended
            log_probs = ops.xp.log(ops.softmax(emissions, axis=-1))
        transitions, _, _ = scores.potentials()
        independent = ChainScores(log_probs, scores.lengths, transitions * 0, zeros, zeros)
        return nbest_viterbi(ops, independent, k, allowed=allowed)

    def loss(self, ops: Ops, scores: ChainScores, tags: Ints2d) -> Tuple[float, ChainScores]:
        """Summed cross-entropy of softmax(emissions) over the known tags; no gradient for the CRF's scores."""
        xp = ops.xp
        n_tags = scores.emissions.shape[2]
        valid = (valid_mask(ops, scores).T & (tags >= 0))[:, :, None]  # tag -1: unknown, no loss
        probs = ops.softmax(scores.emissions, axis=-1)
        gold = xp.eye(n_tags, dtype="float32")[xp.maximum(tags, 0)] * valid
        loss = -float((gold * xp.log(xp.maximum(probs, 1e-30))).sum())
        return loss, ChainScores((probs - gold) * valid, scores.lengths, None, None, None)


def chosen(ops: Ops, probs: Floats3d, paths: Ints2d) -> Floats2d:
    """probs (B×T×K) of the tags of paths (B×T)."""
    return ops.xp.take_along_axis(probs, paths.astype("int64")[:, :, None], axis=2)[:, :, 0]


DECODERS: Dict[Decoder, ChainDecoder] = {"crf": CRFDecoder(), "softmax": SoftmaxDecoder()}
