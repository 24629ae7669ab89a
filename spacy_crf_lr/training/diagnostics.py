"""Diagnostics of a trained CRF: how sane its transitions are and how they compare in size
with the emission scores. Pure functions on numpy arrays, used by the training logger
(`spacy_crf_lr.CRFDiagnosticsLogger.v1`) and by `python -m spacy_crf_lr inspect`."""

from typing import Iterable, List, Optional, Sequence, Tuple

import numpy

from ..crf.schemes import SCHEMES, constraint_masks

# SCHEMES is tried in order: labels B, I, O fit both BIO and BILUO, and are read as BIO.


def infer_scheme(labels: Sequence[str], scheme: Optional[str] = None) -> Optional[str]:
    """The tag scheme that judges the moves between `labels`: `scheme` if given, else the
    first of BMES, BIO, BILUO that all labels fit and that forbids at least one move; None
    if none does (e.g. POS tags)."""
    labels = tuple(labels)
    for candidate in (scheme,) if scheme is not None else SCHEMES:
        try:
            allowed, _, _ = constraint_masks(candidate, labels)
        except ValueError:
            continue
        if not allowed.all():
            return candidate
    return None


def transition_sanity(
    transitions: numpy.ndarray, labels: Sequence[str], scheme: Optional[str] = None
) -> Optional[float]:
    """Share of the impossible moves (those the tag scheme forbids) that score strictly below
    every possible move out of the same tag, read from the learned, unmasked K×K matrix
    (rows = from-label). For BMES these are the 8 moves S→M, S→E, B→S, B→B, M→S, M→B, E→M,
    E→E. `scheme`: the scheme to judge by; None infers it from the labels (`infer_scheme`).
    Returns None when the labels fit no scheme that forbids a move."""
    transitions = numpy.asarray(transitions, dtype="float64")
    labels = tuple(labels)
    if transitions.shape != (len(labels), len(labels)):
        raise ValueError(f"transitions have shape {transitions.shape}, expected {(len(labels), len(labels))}.")
    scheme = infer_scheme(labels, scheme)
    if scheme is None:
        return None
    allowed, _, _ = constraint_masks(scheme, labels)
    sane = total = 0
    for row, ok in zip(transitions, allowed):
        if ok.all() or not ok.any():
            continue
        lowest_possible = row[ok].min()
        sane += int((row[~ok] < lowest_possible).sum())
        total += int((~ok).sum())
    return sane / total if total else None


def mean_abs_transition(transitions: numpy.ndarray) -> float:
    """Mean absolute value over all K×K entries of the (unmasked) transition matrix."""
    transitions = numpy.asarray(transitions, dtype="float64")
    return float(numpy.abs(transitions).mean()) if transitions.size else 0.0


def emission_margin(emissions: Iterable[numpy.ndarray]) -> Optional[float]:
    """Mean gap between the best and second-best emission score, over all tokens of all
    sequences (each a T×K array). None if there is no token or fewer than 2 labels."""
    gaps: List[numpy.ndarray] = []
    for scores in emissions:
        scores = numpy.asarray(scores, dtype="float64")
        if scores.ndim != 2 or scores.shape[0] == 0 or scores.shape[1] < 2:
            continue
        top2 = numpy.partition(scores, -2, axis=1)[:, -2:]
        gaps.append(top2[:, 1] - top2[:, 0])
    if not gaps:
        return None
    return float(numpy.concatenate(gaps).mean())


def scale_ratio(margin: Optional[float], mean_abs: float) -> Optional[float]:
    """Emission margin / mean |transition|: how many times the emissions outweigh the
    transitions. None when either is missing or the transitions are all zero."""
    if margin is None or not mean_abs:
        return None
    return float(margin / mean_abs)


def format_matrix(matrix: numpy.ndarray, rows: Sequence[str], cols: Sequence[str], *, corner: str = "") -> str:
    """A labelled, right-aligned text table of a 2D array."""
    matrix = numpy.asarray(matrix, dtype="float64")
    cells = [[f"{value:.3f}" for value in row] for row in matrix]
    width = max([len(str(c)) for c in cols] + [len(c) for row in cells for c in row] + [1])
    first = max([len(str(r)) for r in rows] + [len(corner)])
    lines = [f"{corner:<{first}}  " + "  ".join(f"{str(c):>{width}}" for c in cols)]
    for label, row in zip(rows, cells):
        lines.append(f"{str(label):<{first}}  " + "  ".join(f"{c:>{width}}" for c in row))
    return "\n".join(lines)


def describe(
    labels: Sequence[str],
    transitions: numpy.ndarray,
    start: numpy.ndarray,
    end: numpy.ndarray,
    scheme: Optional[str] = None,
) -> Tuple[str, Optional[float], Optional[str]]:
    """Text report of a CRF's learned scores: (text, sanity, scheme judged by)."""
    judged_by = infer_scheme(labels, scheme)
    sanity = transition_sanity(transitions, labels, judged_by) if judged_by else None
    text = "\n".join(
        [
            "transitions (rows = from, columns = to):",
            format_matrix(transitions, labels, labels, corner="from\\to"),
            "",
            format_matrix(numpy.stack([start, end]), ["start", "end"], labels),
            "",
            f"mean |transition|: {mean_abs_transition(transitions):.4f}",
            "sanity: "
            + (
                f"{sanity:.3f} (share of the {judged_by}-impossible moves scoring below every possible move "
                "out of the same tag)"
                if sanity is not None
                else "n/a (the labels fit no tag scheme)"
            ),
        ]
    )
    return text, sanity, judged_by
