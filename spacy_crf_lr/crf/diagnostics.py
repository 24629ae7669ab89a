"""Diagnostics of a trained CRF: how sane its transitions are and how they compare in size
with the emission scores. Functions on numpy arrays, used by CRFPipe.score (so that each dev
evaluation reports them), the training logger (`spacy_crf_lr.CRFDiagnosticsLogger.v1`) and
`python -m spacy_crf_lr inspect`."""

from collections import OrderedDict
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy

from .schemes import SCHEMES, constraint_masks

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


MASKED_NOTE = "n/a: masked by the scheme"
MAX_MARGIN_DOCS = 1000  # emission gaps of the last N docs predicted are kept for the next score


def judge_sanity(
    transitions: numpy.ndarray, labels: Sequence[str], scheme: Optional[str]
) -> Tuple[Optional[float], Optional[str], Optional[str]]:
    """(sanity, scheme judged by, note) of a CRF with component setting `scheme`. A constrained CRF
    (scheme set) masks the forbidden moves, which are then never trained: its sanity is None with the
    note MASKED_NOTE. An unconstrained one is judged by the scheme its labels fit (`infer_scheme`)."""
    if scheme is not None:
        return None, scheme, MASKED_NOTE
    judged_by = infer_scheme(labels)
    if judged_by is None:
        return None, None, "n/a: the labels fit no tag scheme"
    return transition_sanity(transitions, labels, judged_by), judged_by, None


class EmissionGaps:
    """Per doc text: (sum over tokens of best - second-best emission score, tokens), for the last
    `max_docs` docs predicted. A transient cache (never serialized): the component's score takes
    the gaps of the docs it scores and clears it."""

    def __init__(self, max_docs: int = MAX_MARGIN_DOCS):
        self.max_docs = max_docs
        self.by_text: OrderedDict[str, Tuple[float, int]] = OrderedDict()

    def add(self, texts: Sequence[str], gaps: numpy.ndarray, lengths: Sequence[int]) -> None:
        """Record docs' gaps: `gaps` is B×T (padded), `lengths` the tokens of each doc."""
        for text, row, n in zip(texts, gaps, lengths):
            n = int(n)
            if n and gaps.shape[-1]:
                self.by_text[text] = (float(row[:n].sum()), n)
                self.by_text.move_to_end(text)
        while len(self.by_text) > self.max_docs:
            self.by_text.popitem(last=False)

    def take(self, texts: Iterable[str]) -> List[Tuple[float, int]]:
        """The recorded (gap sum, tokens) of these texts, in order (texts not recorded are skipped); clears."""
        found = [self.by_text[text] for text in texts if text in self.by_text]
        self.by_text.clear()
        return found


def top2_gaps(xp, emissions) -> numpy.ndarray:
    """Best minus second-best score per position of a B×T×K emission array, as numpy (B×T)."""
    if emissions.shape[-1] < 2:
        return numpy.zeros(emissions.shape[:2], dtype="float64")
    top2 = xp.partition(emissions, -2, axis=-1)[..., -2:]
    gaps = top2[..., 1] - top2[..., 0]
    return numpy.asarray(gaps.get() if hasattr(gaps, "get") else gaps, dtype="float64")


def margin_of(per_doc: Sequence[Sequence[float]]) -> Optional[float]:
    """Emission margin from per-doc (gap sum, tokens): the mean gap over all their tokens."""
    tokens = sum(int(n) for _, n in per_doc)
    return float(sum(g for g, _ in per_doc) / tokens) if tokens else None


def crf_measures(
    name: str,
    labels: Sequence[str],
    cfg: Dict[str, Any],
    crf_scores: Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray],
    per_doc_gaps: Sequence[Tuple[float, int]],
) -> Dict[str, Any]:
    """The diagnostics of a CRF component at one evaluation, as CRFPipe.score reports them."""
    transitions, start, end = (numpy.asarray(a, dtype="float64") for a in crf_scores)
    sanity, judged_by, note = judge_sanity(transitions, labels, cfg.get("scheme"))
    mean_abs = mean_abs_transition(transitions)
    margin = margin_of(per_doc_gaps)
    return {
        "component": name,
        "decoder": cfg.get("decoder"),
        "scheme": cfg.get("scheme"),
        "sanity_scheme": judged_by,
        "labels": list(labels),
        "transitions": transitions.tolist(),
        "start": start.tolist(),
        "end": end.tolist(),
        "mean_abs_transition": mean_abs,
        "emission_margin": margin,
        "ratio": scale_ratio(margin, mean_abs),
        "sanity": sanity,
        "sanity_note": note,
        "n_dev_docs": len(per_doc_gaps),
        "margin_by_doc": [[float(g), int(n)] for g, n in per_doc_gaps],
    }


def describe(
    labels: Sequence[str],
    transitions: numpy.ndarray,
    start: numpy.ndarray,
    end: numpy.ndarray,
    scheme: Optional[str] = None,
) -> Tuple[str, Optional[float], Optional[str]]:
    """Text report of a CRF's learned scores: (text, sanity, scheme judged by). `scheme`: the
    component's setting; a constrained CRF's sanity is "n/a: masked by the scheme"."""
    sanity, judged_by, note = judge_sanity(transitions, labels, scheme)
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
                else f"{note} ({judged_by} forbids these moves at decoding, so they are never trained)"
                if scheme is not None
                else f"{note}"
            ),
        ]
    )
    return text, sanity, judged_by
