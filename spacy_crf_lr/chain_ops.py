"""Batched linear-chain CRF algorithms over padded scores.

Every function takes thinc `ops` and works through `ops.xp`, so the same code
runs on numpy and cupy. Loops run over time steps only, never over sequences.
The sum-product recursions (partition function, marginals) run in scaled
probability space in float64: one small matrix product per step instead of a
log-sum-exp over a B×K×K tensor.
"""

from dataclasses import dataclass, replace
from typing import Tuple

from thinc.api import Ops
from thinc.types import Floats1d, Floats2d, Floats3d, Ints1d, Ints2d

# Score of a move the tag scheme forbids: exp() of it is exactly 0 in float32 and float64.
FORBIDDEN = -1.0e4


@dataclass
class ChainScores:
    """All the potentials of a padded batch: emissions (B×T×K), lengths (B),
    transitions (K×K, rows = from-tag), start (K) and end (K) scores."""

    emissions: Floats3d
    lengths: Ints1d
    transitions: Floats2d
    start: Floats1d
    end: Floats1d

    def zeros_like(self, ops: Ops) -> "ChainScores":
        """Gradient-shaped copy filled with zeros."""
        return replace(
            self,
            emissions=ops.alloc3f(*self.emissions.shape),
            transitions=ops.alloc2f(*self.transitions.shape),
            start=ops.alloc1f(self.start.shape[0]),
            end=ops.alloc1f(self.end.shape[0]),
        )


@dataclass
class ForwardBackward:
    """Results of the forward–backward pass: log Z (B), token marginals
    (B×T×K) and, when asked for, the expected transition counts summed over the batch (K×K)."""

    log_z: Floats1d
    marginals: Floats3d
    transition_counts: Floats2d


def valid_mask(ops: Ops, scores: ChainScores):
    """T×B boolean mask of the positions inside each sequence."""
    xp = ops.xp
    n_steps = scores.emissions.shape[1]
    return xp.arange(n_steps)[:, None] < scores.lengths[None, :]


def forward_backward(ops: Ops, scores: ChainScores, *, with_transitions: bool = True) -> ForwardBackward:
    """Log-partition, token marginals and expected transition counts (exact)."""
    xp = ops.xp
    n_seqs, n_steps, n_tags = scores.emissions.shape
    lengths = scores.lengths
    if n_steps == 0:
        return ForwardBackward(
            xp.zeros((n_seqs,), "f"), xp.zeros((n_seqs, 0, n_tags), "f"), xp.zeros((n_tags, n_tags), "f")
        )
    emissions = xp.ascontiguousarray(scores.emissions.transpose(1, 0, 2), dtype="float64")
    shift = emissions.max(axis=2, keepdims=True)  # T×B×1
    phi = xp.exp(emissions - shift)  # T×B×K, max 1 per row
    exp_trans = xp.exp(scores.transitions.astype("float64"))
    exp_start = xp.exp(scores.start.astype("float64"))
    exp_end = xp.exp(scores.end.astype("float64"))
    # Forward: alpha[t] is normalised to sum 1, norm[t] holds the scale factors.
    alpha = xp.empty((n_steps, n_seqs, n_tags), "float64")
    norm = xp.empty((n_steps, n_seqs), "float64")
    a = exp_start[None, :] * phi[0]
    for t in range(n_steps):
        if t > 0:
            a = (a @ exp_trans) * phi[t]
        c = a.sum(axis=1)
        a = a / c[:, None]
        alpha[t] = a
        norm[t] = c
    valid = valid_mask(ops, scores)
    last = xp.maximum(lengths - 1, 0)
    seq_index = xp.arange(n_seqs)
    alpha_last = alpha[last, seq_index]  # B×K
    end_mass = alpha_last @ exp_end  # B
    log_z = xp.where(valid, xp.log(norm) + shift[:, :, 0], 0.0).sum(axis=0) + xp.log(end_mass)
    log_z = xp.where(lengths > 0, log_z, 0.0)
    # Backward: beta[t] scaled so that alpha[t] * beta[t] is the marginal.
    beta = xp.zeros((n_steps, n_seqs, n_tags), "float64")
    b_terminal = exp_end[None, :] / xp.where(end_mass > 0, end_mass, 1.0)[:, None]
    b = xp.zeros((n_seqs, n_tags), "float64")
    for t in range(n_steps - 1, -1, -1):
        if t < n_steps - 1:
            b = ((phi[t + 1] * b) / norm[t + 1][:, None]) @ exp_trans.T
        b = xp.where((t == last)[:, None], b_terminal, b)
        beta[t] = b
    marginals = xp.where(valid[:, :, None], alpha * beta, 0.0)
    counts = xp.zeros((n_tags, n_tags), "float64")
    if with_transitions and n_steps > 1:
        # sum over t, b of alpha[t] ⊗ (phi[t+1] * beta[t+1] / norm[t+1]), times exp_trans
        inner = valid[1:, :, None] * alpha[:-1]
        outer = phi[1:] * beta[1:] / norm[1:, :, None]
        counts = exp_trans * (inner.reshape(-1, n_tags).T @ outer.reshape(-1, n_tags))
    return ForwardBackward(
        log_z,
        xp.ascontiguousarray(marginals.transpose(1, 0, 2), dtype="float32"),
        counts.astype("float32"),
    )


def path_scores(ops: Ops, scores: ChainScores, tags: Ints2d) -> Floats1d:
    """Score of the given tag path (B×T, padded) of each sequence, in float64."""
    xp = ops.xp
    n_seqs, n_steps, _ = scores.emissions.shape
    if n_steps == 0:
        return xp.zeros((n_seqs,), "float64")
    valid = valid_mask(ops, scores).T  # B×T
    seq_index = xp.arange(n_seqs)
    tags = xp.where(valid, tags, 0)
    emitted = xp.take_along_axis(scores.emissions, tags[:, :, None], axis=2)[:, :, 0]
    total = xp.where(valid, emitted, 0.0).astype("float64").sum(axis=1)
    moves = scores.transitions[tags[:, :-1], tags[:, 1:]]
    total += xp.where(valid[:, 1:], moves, 0.0).astype("float64").sum(axis=1)
    last = xp.maximum(scores.lengths - 1, 0)
    edges = scores.start[tags[:, 0]] + scores.end[tags[seq_index, last]]
    return total + xp.where(scores.lengths > 0, edges, 0.0)


def negative_log_likelihood(ops: Ops, scores: ChainScores, tags: Ints2d) -> Tuple[Floats1d, ChainScores]:
    """NLL of the gold paths (per sequence) and its exact gradient w.r.t. every potential."""
    xp = ops.xp
    n_seqs, n_steps, n_tags = scores.emissions.shape
    result = forward_backward(ops, scores)
    nll = result.log_z - path_scores(ops, scores, tags)
    valid = valid_mask(ops, scores).T  # B×T
    eye = xp.eye(n_tags, dtype="float32")
    gold = eye[xp.where(valid, tags, 0)] * valid[:, :, None]  # B×T×K one-hot
    grad = scores.zeros_like(ops)
    grad.emissions = result.marginals - gold
    if n_steps == 0:
        return nll, grad
    pair_valid = valid[:, 1:, None]
    gold_pairs = (gold[:, :-1] * pair_valid).reshape(-1, n_tags).T @ gold[:, 1:].reshape(-1, n_tags)
    grad.transitions = result.transition_counts - gold_pairs
    last = xp.maximum(scores.lengths - 1, 0)
    seq_index = xp.arange(n_seqs)
    grad.start = (result.marginals[:, 0] - gold[:, 0]).sum(axis=0)
    grad.end = (result.marginals[seq_index, last] - gold[seq_index, last]).sum(axis=0)
    return nll, grad


def viterbi(ops: Ops, scores: ChainScores) -> Tuple[Ints2d, Floats1d]:
    """Best path per sequence (B×T, padded with 0) and its score."""
    xp = ops.xp
    n_seqs, n_steps, n_tags = scores.emissions.shape
    if n_steps == 0:
        return xp.zeros((n_seqs, n_steps), "int32"), xp.zeros((n_seqs,), "float32")
    # Tag-major layout (T×K×B, batch on the contiguous axis): the max over the previous tag is
    # then an elementwise maximum of K contiguous K×B slabs, which numpy vectorises well.
    emissions = xp.ascontiguousarray(scores.emissions.transpose(1, 2, 0))
    dtype = emissions.dtype
    transitions = xp.asarray(scores.transitions, dtype=dtype)
    lengths = scores.lengths
    last = xp.maximum(lengths - 1, 0)
    seq_index = xp.arange(n_seqs)
    best_at = xp.empty((n_steps, n_tags, n_seqs), dtype)  # best score of a prefix ending in each tag
    candidates = xp.empty((n_tags, n_tags, n_seqs), dtype)  # from × to × batch
    xp.add(xp.asarray(scores.start, dtype=dtype)[:, None], emissions[0], out=best_at[0])
    for t in range(1, n_steps):
        xp.add(best_at[t - 1][:, None, :], transitions[:, :, None], out=candidates)
        candidates.max(axis=0, out=best_at[t])
        best_at[t] += emissions[t]
    finals = best_at.transpose(0, 2, 1)[last, seq_index] + scores.end[None, :]  # B×K
    final_tag = finals.argmax(axis=1)
    path_score = finals[seq_index, final_tag]
    # No stored backpointers: along the path, recompute the argmax of the same float sums the
    # forward pass maximised (B×K work per step). Past its end a sequence keeps its final tag.
    paths = xp.empty((n_steps, n_seqs), "int32")  # T×B while walking back
    tag = final_tag
    paths[n_steps - 1] = tag
    for t in range(n_steps - 1, 0, -1):
        previous = (best_at[t - 1] + transitions[:, tag]).argmax(axis=0)
        tag = xp.where(t <= last, previous, tag)
        paths[t - 1] = tag
    paths = xp.where(valid_mask(ops, scores), paths, 0).T
    return xp.ascontiguousarray(paths), xp.where(lengths > 0, path_score, 0.0)
