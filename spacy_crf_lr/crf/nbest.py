"""The k best paths of a linear chain (list Viterbi), batched over sequences, with optional constraints."""

from typing import Tuple

from thinc.api import Ops
from thinc.types import Floats2d, Ints3d

from .chain_ops import ChainScores, allowed_or_padding, valid_mask


def nbest_viterbi(ops: Ops, scores: ChainScores, k: int, *, allowed=None) -> Tuple[Ints3d, Floats2d]:
    """The k best paths per sequence, best first (B×k×T, padded with 0), and their scores (B×k, float64;
    -inf where a sequence has fewer than k paths). With `allowed` (B×T×K bool), only paths it permits."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer (the number of paths), got {k!r}.")
    xp = ops.xp
    n_seqs, n_steps, n_tags = scores.emissions.shape
    if n_steps == 0:
        best = xp.full((n_seqs, k), -xp.inf, "float64")
        best[:, 0] = 0.0  # an empty sequence has one empty path
        return xp.zeros((n_seqs, k, 0), "int32"), best
    emissions = xp.asarray(scores.emissions, dtype="float64")
    if allowed is not None:
        emissions = xp.where(allowed_or_padding(ops, scores, allowed), emissions, -xp.inf)
    transitions = xp.asarray(scores.transitions, dtype="float64")
    running = valid_mask(ops, scores)  # T×B
    # best[b, tag, r]: score of the r-th best prefix ending in tag; back[t]: its (previous tag * k + rank)
    best = xp.full((n_seqs, n_tags, k), -xp.inf, "float64")
    best[:, :, 0] = xp.asarray(scores.start, dtype="float64")[None, :] + emissions[:, 0]
    back = xp.zeros((n_steps, n_seqs, n_tags, k), "int64")
    for t in range(1, n_steps):
        candidates = best[:, :, None, :] + transitions[None, :, :, None]  # B × from × to × rank
        candidates = candidates.transpose(0, 2, 1, 3).reshape(n_seqs, n_tags, n_tags * k)
        top = xp.argsort(-candidates, axis=2, kind="stable")[:, :, :k]
        stepped = xp.take_along_axis(candidates, top, axis=2) + emissions[:, t, :, None]
        best = xp.where(running[t][:, None, None], stepped, best)  # finished sequences keep their scores
        back[t] = top
    finals = (best + xp.asarray(scores.end, dtype="float64")[None, :, None]).reshape(n_seqs, n_tags * k)
    top = xp.argsort(-finals, axis=1, kind="stable")[:, :k]
    path_score = xp.take_along_axis(finals, top, axis=1)
    last = xp.maximum(scores.lengths - 1, 0)
    paths = xp.zeros((n_steps, n_seqs, k), "int32")
    tag, rank = top // k, top % k  # B×k, at each sequence's last position
    seq_index = xp.arange(n_seqs)[:, None]
    for t in range(n_steps - 1, -1, -1):
        inside = (t < scores.lengths)[:, None]
        paths[t] = xp.where(inside, tag, 0)
        if t > 0:
            previous = back[t][seq_index, tag, rank]
            moves = (t <= last)[:, None] & (scores.lengths[:, None] > 1)
            tag, rank = xp.where(moves, previous // k, tag), xp.where(moves, previous % k, rank)
    empty_score = xp.where(xp.arange(k) == 0, 0.0, -xp.inf)[None, :]  # an empty sequence has one empty path
    path_score = xp.where((scores.lengths > 0)[:, None], path_score, empty_score)
    paths = xp.where(xp.isfinite(path_score)[None], paths, 0)
    return xp.ascontiguousarray(paths.transpose(1, 2, 0)), path_score
