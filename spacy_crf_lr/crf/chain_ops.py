"""Batched linear-chain CRF algorithms over padded scores.

Every function takes thinc `ops` and works through `ops.xp`, so the same code
runs on numpy and cupy. Loops run over time steps only, never over sequences.
The sum-product recursions (partition function, marginals) run in scaled
probability space in float64: one small matrix product per step instead of a
log-sum-exp over a B×K×K tensor. The recursions sort the sequences by length
(longest first), so that at each step the sequences still running are a prefix
of the batch and the step works on them alone, as packed sequences do.

Constraints: forward_backward, viterbi and negative_log_likelihood take an optional boolean
B×T×K `allowed` mask (None: every tag allowed) that restricts the tags each position may take.
The restricted sums and maxima are exact: a forbidden tag's potential is exactly 0 (probability
space) or -inf (Viterbi), not merely small. Padding positions are never constrained.
"""

from dataclasses import dataclass, fields, replace
from typing import Any, List, Optional, Tuple

import numpy
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
    # As a gradient, None for the CRF's own scores means "not trained by this loss".
    transitions: Optional[Floats2d]
    start: Optional[Floats1d]
    end: Optional[Floats1d]

    def to(self, ops: Ops) -> "ChainScores":
        """The same scores as arrays of `ops`, copied across devices where needed."""
        values = (getattr(self, field.name) for field in fields(self))
        # Any: thinc types ops.asarray's result as a union of all its array types, not as the field's own.
        moved: List[Any] = [None if value is None else ops.asarray(value) for value in values]
        return ChainScores(*moved)

    def potentials(self) -> Tuple[Floats2d, Floats1d, Floats1d]:
        """(transitions, start, end): always set on scores (only a gradient may leave them None)."""
        assert self.transitions is not None and self.start is not None and self.end is not None, "not scores"
        return self.transitions, self.start, self.end

    def zeros_like(self, ops: Ops) -> "ChainScores":
        """Gradient-shaped copy filled with zeros."""
        transitions, start, end = self.potentials()
        return replace(
            self,
            emissions=ops.alloc3f(*self.emissions.shape),
            transitions=ops.alloc2f(*transitions.shape),
            start=ops.alloc1f(start.shape[0]),
            end=ops.alloc1f(end.shape[0]),
        )


@dataclass
class ForwardBackward:
    """Results of the forward–backward pass: log Z (B), token marginals
    (B×T×K) and, when asked for, the expected transition counts summed over the batch (K×K)."""

    log_z: Floats1d
    marginals: Floats3d
    transition_counts: Floats2d


def check_allowed(ops: Ops, scores: ChainScores, allowed) -> None:
    """Raise if `allowed` is not B×T×K like the emissions or forbids every tag somewhere inside a sequence."""
    if tuple(allowed.shape) != tuple(scores.emissions.shape):
        raise ValueError(
            f"allowed mask has shape {tuple(allowed.shape)}: it must be B×T×K like the emissions, "
            f"{tuple(scores.emissions.shape)}."
        )
    xp = ops.xp
    empty = ops.to_numpy(valid_mask(ops, scores).T & ~xp.asarray(allowed).any(axis=2))
    if empty.any():
        seq, step = (int(i) for i in numpy.argwhere(empty)[0])
        raise ValueError(
            f"Contradictory constraints: position {step} of sequence {seq} allows no tag (allowed mask all False); "
            "every position inside a sequence must allow at least one tag."
        )


def allowed_or_padding(ops: Ops, scores: ChainScores, allowed):
    """The allowed mask with every tag allowed at padding positions (checked first)."""
    check_allowed(ops, scores, allowed)
    return ops.xp.asarray(allowed, dtype=bool) | ~valid_mask(ops, scores).T[:, :, None]


def valid_mask(ops: Ops, scores: ChainScores):
    """T×B boolean mask of the positions inside each sequence."""
    xp = ops.xp
    n_steps = scores.emissions.shape[1]
    return xp.arange(n_steps)[:, None] < scores.lengths[None, :]


def by_length(ops: Ops, lengths: Ints1d, n_steps: int) -> Tuple[Ints1d, Ints1d, List[int]]:
    """Order of the sequences by decreasing length, its inverse, and the number of sequences
    still running at each of the n_steps time steps (a prefix of the sorted batch)."""
    host_lengths = ops.to_numpy(lengths)
    order = numpy.argsort(-host_lengths, kind="stable")
    running = (host_lengths[:, None] > numpy.arange(n_steps)[None, :]).sum(axis=0).tolist()
    return ops.xp.asarray(order), ops.xp.asarray(numpy.argsort(order)), running


def forward_backward(ops: Ops, scores: ChainScores, *, with_transitions: bool = True, allowed=None) -> ForwardBackward:
    """Log-partition, token marginals and expected transition counts (exact), over the paths
    whose tags `allowed` (B×T×K bool, None: all) permits. Raises if a sequence has no such path."""
    xp = ops.xp
    n_seqs, n_steps, n_tags = scores.emissions.shape
    if n_steps == 0:
        return ForwardBackward(
            xp.zeros((n_seqs,), "f"), xp.zeros((n_seqs, 0, n_tags), "f"), xp.zeros((n_tags, n_tags), "f")
        )
    order, inverse, running = by_length(ops, scores.lengths, n_steps)
    lengths = scores.lengths[order]
    # T×B×K float64 arrays are what a long doc's memory pays for (160 MB each for 5M characters), so the pass
    # keeps few alive: phi (T×B×K and a spare row) is made from the reordered emissions in place and, without
    # transition counts, the backward pass writes beta[t] over phi[t + 1], which it has just read for the last time.
    phi = xp.zeros((n_steps + 1, n_seqs, n_tags), "float64")
    body = phi[:n_steps]
    body[...] = scores.emissions[order].transpose((1, 0, 2))
    if allowed is not None:
        body[~allowed_or_padding(ops, scores, allowed)[order].transpose(1, 0, 2)] = -xp.inf
    shift = body.max(axis=2, keepdims=True)  # T×B×1; finite: every position allows some tag
    body -= shift
    xp.exp(body, out=body)  # max 1 per row; exactly 0 at the forbidden tags
    transitions, start, end = scores.potentials()
    exp_trans = xp.exp(transitions.astype("float64"))
    exp_start = xp.exp(start.astype("float64"))
    exp_end = xp.exp(end.astype("float64"))
    # Forward: alpha[t] is normalised to sum 1, norm[t] holds the scale factors (1 past the end).
    alpha = xp.zeros((n_steps, n_seqs, n_tags), "float64")
    norm = xp.ones((n_steps, n_seqs), "float64")
    ones = xp.ones((n_tags,), "float64")
    scale = xp.empty((n_seqs, 1), "float64")
    # In place (out=) and with row sums as matrix products: the arrays are small, and numpy's
    # per-call cost, highest for reductions over a short last axis, is what the loop pays.
    # A sequence left without an allowed path divides by 0 here; _check_some_path then raises.
    with numpy.errstate(divide="ignore", invalid="ignore"):
        for t, n in enumerate(running):
            if n == 0:
                break
            a = alpha[t, :n]
            if t == 0:
                xp.multiply(exp_start[None, :], phi[0, :n], out=a)
            else:
                xp.matmul(alpha[t - 1, :n], exp_trans, out=a)
                a *= phi[t, :n]
            xp.matmul(a, ones, out=norm[t, :n])
            xp.divide(1.0, norm[t, :n, None], out=scale[:n])
            a *= scale[:n]
    valid = xp.arange(n_steps)[:, None] < lengths[None, :]  # T×B
    last = xp.maximum(lengths - 1, 0)
    seq_index = xp.arange(n_seqs)
    end_mass = alpha[last, seq_index] @ exp_end  # B; 0 for an empty sequence
    if allowed is not None:
        _check_some_path(ops, xp.where(valid, norm, 1.0), xp.where(lengths > 0, end_mass, 1.0), order)
    end_mass = xp.where(end_mass > 0, end_mass, 1.0)
    log_z = xp.where(valid, xp.log(norm) + shift[:, :, 0], 0.0).sum(axis=0) + xp.log(end_mass)
    log_z = xp.where(lengths > 0, log_z, 0.0)
    # Backward: beta[t], in row t + 1 of `betas`, scaled so that alpha[t] * beta[t] is the marginal (alpha is 0
    # past the end, and so is beta unless it shares phi's rows).
    scaled_phi = phi
    body /= norm[:, :, None]
    betas = xp.zeros_like(phi) if with_transitions else phi
    b_terminal = exp_end[None, :] / end_mass[:, None]
    exp_trans_t = xp.ascontiguousarray(exp_trans.T)
    carried = xp.empty((n_seqs, n_tags), "float64")
    for t in range(n_steps - 1, -1, -1):
        n, n_next = running[t], running[t + 1] if t + 1 < n_steps else 0
        if n_next:
            xp.multiply(scaled_phi[t + 1, :n_next], betas[t + 2, :n_next], out=carried[:n_next])
            xp.matmul(carried[:n_next], exp_trans_t, out=betas[t + 1, :n_next])
        if n > n_next:
            betas[t + 1, n_next:n] = b_terminal[n_next:n]  # the sequences whose last step is t
    counts = xp.zeros((n_tags, n_tags), "float64")
    if with_transitions and n_steps > 1:
        # sum over t, b of alpha[t] ⊗ (phi[t+1] * beta[t+1] / norm[t+1]), times exp_trans
        outer = scaled_phi[1:n_steps] * betas[2:]
        counts = exp_trans * (alpha[:-1].reshape(-1, n_tags).T @ outer.reshape(-1, n_tags))
        del outer
    marginals = alpha  # alpha * beta, in place
    marginals *= betas[1:]
    del alpha, body, scaled_phi, phi, betas
    marginals = marginals.astype("float32")
    return ForwardBackward(
        log_z[inverse], xp.ascontiguousarray(marginals.transpose(1, 0, 2)[inverse]), counts.astype("float32")
    )


def _check_some_path(ops: Ops, norm, end_mass, order) -> None:
    """Raise if the constraints leave some sequence without a path of nonzero probability: its
    scale factor hits 0 (alpha is then NaN from that step on) or no allowed tag may end it."""
    dead = ops.to_numpy(~(norm > 0)).T  # B×T, sorted order; NaN counts as dead
    no_end = ops.to_numpy(~(end_mass > 0))
    if dead.any() or no_end.any():
        row = int(numpy.flatnonzero(dead.any(axis=1) | no_end)[0])
        seq = int(ops.to_numpy(order)[row])
        where = f"from position {int(numpy.argmax(dead[row]))} on" if dead[row].any() else "at its end"
        raise ValueError(
            f"Contradictory constraints: no tag path of sequence {seq} both keeps to the allowed tags and "
            f"makes only moves the tag scheme allows ({where})."
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


def negative_log_likelihood(
    ops: Ops, scores: ChainScores, tags: Ints2d, *, allowed=None
) -> Tuple[Floats1d, ChainScores]:
    """NLL of the gold paths (per sequence) and its exact gradient w.r.t. every potential.
    Partial labels: a tag of -1 marks an unknown position and `allowed` (B×T×K bool) restricts
    the gold tags further; the NLL is then log Z − log Z(gold paths), the marginal likelihood of all
    the paths that agree with the known tags, and its gradient the marginals minus the gold marginals."""
    xp = ops.xp
    n_seqs, n_steps, n_tags = scores.emissions.shape
    valid = valid_mask(ops, scores).T  # B×T
    if allowed is not None or bool((xp.asarray(tags)[valid] < 0).any()):
        return _partial_negative_log_likelihood(ops, scores, tags, allowed)
    result = forward_backward(ops, scores)
    nll = result.log_z - path_scores(ops, scores, tags)
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


def _partial_negative_log_likelihood(ops: Ops, scores: ChainScores, tags: Ints2d, allowed):
    """NLL = log Z − log Z(paths agreeing with the known tags and `allowed`), and its gradient."""
    xp = ops.xp
    n_seqs, n_steps, n_tags = scores.emissions.shape
    tags = xp.asarray(tags)
    known = tags >= 0
    gold = xp.eye(n_tags, dtype=bool)[xp.where(known, tags, 0)] | ~known[:, :, None]
    if allowed is not None:
        gold &= xp.asarray(allowed, dtype=bool)
    full = forward_backward(ops, scores)
    part = forward_backward(ops, scores, allowed=gold)
    grad = scores.zeros_like(ops)
    grad.emissions = full.marginals - part.marginals
    if n_steps == 0:
        return full.log_z - part.log_z, grad
    grad.transitions = full.transition_counts - part.transition_counts
    last = xp.maximum(scores.lengths - 1, 0)
    seq_index = xp.arange(n_seqs)
    grad.start = grad.emissions[:, 0].sum(axis=0)  # marginals are 0 in an empty sequence
    grad.end = grad.emissions[seq_index, last].sum(axis=0)
    return full.log_z - part.log_z, grad


def viterbi(ops: Ops, scores: ChainScores, *, allowed=None) -> Tuple[Ints2d, Floats1d]:
    """Best path per sequence (B×T, padded with 0) and its score; with `allowed` (B×T×K bool),
    the best path among those whose tags it permits."""
    xp = ops.xp
    n_seqs, n_steps, n_tags = scores.emissions.shape
    if n_steps == 0:
        return xp.zeros((n_seqs, n_steps), "int32"), xp.zeros((n_seqs,), "float32")
    order, inverse, running = by_length(ops, scores.lengths, n_steps)
    lengths = scores.lengths[order]
    # Tag-major layout (T×K×B, batch on the contiguous axis): the max over the previous tag is
    # then an elementwise maximum of K contiguous K×B slabs, which numpy vectorises well.
    emissions = scores.emissions
    if allowed is not None:  # -inf, not FORBIDDEN: no score outweighs a constraint
        emissions = xp.where(allowed_or_padding(ops, scores, allowed), emissions, -xp.inf).astype(emissions.dtype)
    emissions = xp.ascontiguousarray(emissions[order].transpose((1, 2, 0)))
    dtype = emissions.dtype
    transitions = xp.asarray(scores.transitions, dtype=dtype)
    last = xp.maximum(lengths - 1, 0)
    seq_index = xp.arange(n_seqs)
    best_at = xp.zeros((n_steps, n_tags, n_seqs), dtype)  # best score of a prefix ending in each tag
    candidates = xp.empty((n_tags, n_tags, n_seqs), dtype)  # from × to × batch
    xp.add(xp.asarray(scores.start, dtype=dtype)[:, None], emissions[0], out=best_at[0])
    for t, n in enumerate(running[1:], start=1):
        if n == 0:
            break
        xp.add(best_at[t - 1][:, None, :n], transitions[:, :, None], out=candidates[:, :, :n])
        candidates[:, :, :n].max(axis=0, out=best_at[t][:, :n])
        best_at[t][:, :n] += emissions[t][:, :n]
    finals = best_at.transpose(0, 2, 1)[last, seq_index] + scores.end[None, :]  # B×K
    final_tag = finals.argmax(axis=1)
    path_score = finals[seq_index, final_tag]
    # No stored backpointers: along the path, recompute the argmax of the same float sums the
    # forward pass maximised (K×n work per step, for the n sequences still running).
    paths = xp.zeros((n_steps, n_seqs), "int32")  # T×B while walking back
    paths[last, seq_index] = xp.where(lengths > 0, final_tag, 0)
    for t in range(n_steps - 1, 0, -1):
        n = running[t]
        if n:
            paths[t - 1, :n] = (best_at[t - 1][:, :n] + transitions[:, paths[t, :n]]).argmax(axis=0)
    return xp.ascontiguousarray(paths.T[inverse]), xp.where(lengths > 0, path_score, 0.0)[inverse]
