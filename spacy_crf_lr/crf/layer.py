"""The CRF layer: turns per-token emission scores into the potentials of a linear chain."""

from typing import Callable, List, Optional, Sequence, Tuple, cast

from thinc.api import Model, registry
from thinc.types import Floats1d, Floats2d, FloatsXd

from .chain_ops import FORBIDDEN, ChainScores
from .schemes import check_scheme, constraint_masks

# Parameter names the CRF owns; the optimizer gives exactly these their own learning rate.
CRF_PARAM_NAMES = ("transitions", "start", "end")
INIT_CHOICES = ("zeros", "counts")


@registry.layers("spacy_crf_lr.CRF.v1")
def CRF(nO: Optional[int] = None, *, init_transitions: str = "zeros") -> Model[List[Floats2d], ChainScores]:
    """Linear-chain CRF potentials: emissions (one K-wide array per sequence)
    → ChainScores with the transition, start and end scores, where moves the
    tag scheme forbids score FORBIDDEN. The labels and scheme are its owner's to set, once,
    with `set_crf_labels` (the spaCy components do it at initialize and load); until then no
    move is forbidden. `init_transitions="counts"` sets the parameters from tag-bigram
    log-probabilities of the Y given to initialize."""
    if init_transitions not in INIT_CHOICES:
        raise ValueError(f"Unknown init_transitions {init_transitions!r}: allowed are {', '.join(INIT_CHOICES)}.")
    return Model(
        "crf",
        forward,
        init=init,
        params={name: None for name in CRF_PARAM_NAMES},
        dims={"nO": nO},
        attrs={"scheme": None, "labels": (), "init_transitions": init_transitions},
    )


def set_crf_labels(model: Model, labels: Sequence[str], scheme: Optional[str]) -> None:
    """Tell the CRF its labels and scheme, checking that the labels fit the scheme."""
    model.attrs["scheme"] = check_scheme(scheme)
    model.attrs["labels"] = tuple(labels)
    constraint_masks(model.attrs["scheme"], model.attrs["labels"])


def get_masks(model: Model) -> Tuple:
    """Allowed-move masks (transitions, start, end) as arrays of the model's ops."""
    n_tags = model.get_dim("nO")
    labels = model.attrs["labels"]
    scheme = model.attrs["scheme"]
    if scheme is not None and len(labels) != n_tags:
        raise ValueError(
            f"The CRF has {n_tags} tags but knows {len(labels)} labels {labels!r}: "
            f"set them with set_crf_labels before using the {scheme} scheme."
        )
    masks = constraint_masks(scheme, tuple(labels) if scheme else tuple(range(n_tags)))
    return tuple(model.ops.xp.asarray(mask) for mask in masks)


def forward(
    model: Model[List[Floats2d], ChainScores], Xs: List[Floats2d], is_train: bool
) -> Tuple[ChainScores, Callable]:
    ops = model.ops
    n_tags = model.get_dim("nO")
    lengths = [len(X) for X in Xs]
    emissions = ops.pad(Xs) if Xs else ops.alloc3f(0, 0, n_tags)
    masks = get_masks(model)
    params = [model.get_param(name) for name in CRF_PARAM_NAMES]
    masked = [ops.xp.where(mask, param, FORBIDDEN).astype("float32") for mask, param in zip(masks, params)]
    scores = ChainScores(emissions, ops.asarray1i(lengths), *masked)

    def backprop(d_scores: ChainScores) -> List[Floats2d]:
        grads = (d_scores.transitions, d_scores.start, d_scores.end)
        for name, mask, grad in zip(CRF_PARAM_NAMES, masks, grads):
            if grad is not None:  # None: the loss does not train this score (the softmax decoder)
                model.inc_grad(name, (grad * mask).astype("float32"))
        return cast(List[Floats2d], ops.unpad(d_scores.emissions, lengths))

    return scores, backprop


def init(model: Model, X: Optional[List[Floats2d]] = None, Y: Optional[List[Floats2d]] = None) -> None:
    """Infer nO from X or Y; zero the parameters, or set them from Y's tag-bigram counts.
    Y: one-hot gold tags per sequence; it may hold more sequences than X."""
    for sample in (X, Y):
        if sample and not model.has_dim("nO"):
            model.set_dim("nO", sample[0].shape[1])
    n_tags = model.get_dim("nO")
    ops = model.ops
    values: Tuple[Floats2d, Floats1d, Floats1d] = (
        ops.alloc2f(n_tags, n_tags),
        ops.alloc1f(n_tags),
        ops.alloc1f(n_tags),
    )
    if model.attrs["init_transitions"] == "counts" and Y:
        values = _log_bigram_probs(ops, [y for y in Y if len(y)], n_tags)
    for name, value in zip(CRF_PARAM_NAMES, values):
        model.set_param(name, cast(FloatsXd, value))


def _log_bigram_probs(ops, Y: List[Floats2d], n_tags: int) -> Tuple[Floats2d, Floats1d, Floats1d]:
    """Add-one smoothed log P(next | tag), log P(first), log P(end | tag) from one-hot sequences."""
    xp = ops.xp
    pairs = sum((y[:-1].T @ y[1:] for y in Y), xp.zeros((n_tags, n_tags), "f"))
    first = sum((y[0] for y in Y), xp.zeros((n_tags,), "f"))
    last = sum((y[-1] for y in Y), xp.zeros((n_tags,), "f"))
    outgoing = pairs.sum(axis=1) + last + n_tags + 1
    transitions = xp.log((pairs + 1) / outgoing[:, None])
    end = xp.log((last + 1) / outgoing)
    start = xp.log((first + 1) / (len(Y) + n_tags))
    return (ops.asarray2f(transitions), ops.asarray1f(start), ops.asarray1f(end))
