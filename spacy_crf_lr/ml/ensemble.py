"""`spacy_crf_lr.CRFEnsemble.v1`: several taggers' emission scores averaged under one CRF."""

from typing import Callable, List, Optional, Sequence, Tuple, cast

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, chain, with_array
from thinc.types import Floats2d, FloatsXd

from ..crf.chain_ops import ChainScores
from ..crf.layer import CRF, CRF_PARAM_NAMES

ARCHITECTURE = "spacy_crf_lr.CRFEnsemble.v1"
MEMBER_PARTS = ("tok2vec", "output_layer")


@registry.architectures(ARCHITECTURE)
def build_crf_ensemble(*members: Model[List[Doc], ChainScores]) -> Model[List[Doc], ChainScores]:
    """The mean of the members' emission scores (each member built by spacy_crf_lr.CRFTagger.v1: its own tok2vec
    and output layer), then one CRF; the members' own CRF layers are not part of it. In a config, the members are
    the blocks [….model.*.NAME]. `python -m spacy_crf_lr ensemble` fills one from trained pipelines, its CRF
    scores the mean of theirs; trained from scratch, the members learn jointly."""
    if len(members) < 2:
        raise ValueError(f"An ensemble needs at least 2 members, got {len(members)}.")
    for i, member in enumerate(members):
        missing = [name for name in (*MEMBER_PARTS, "crf") if not member.has_ref(name)]
        if missing:
            raise ValueError(
                f"Ensemble member {i} ({member.name}) has no {', '.join(missing)}: members are built by "
                "spacy_crf_lr.CRFTagger.v1."
            )
    bodies: List[Model[List[Doc], List[Floats2d]]] = [
        chain(member.get_ref("tok2vec"), with_array(member.get_ref("output_layer"))) for member in members
    ]
    crf = CRF(init_transitions=members[0].get_ref("crf").attrs["init_transitions"])
    model: Model[List[Doc], ChainScores] = chain(mean_of(bodies), crf)
    for i, member in enumerate(members):
        for name in MEMBER_PARTS:
            model.set_ref(f"{name}{i}", member.get_ref(name))
    model.set_ref("crf", crf)
    return model


def mean_of(layers: Sequence[Model[List[Doc], List[Floats2d]]]) -> Model[List[Doc], List[Floats2d]]:
    """The element-wise mean of the layers' outputs, one array per doc."""
    return Model("mean_emissions", _mean_forward, init=_mean_init, layers=list(layers), dims={"nO": None})


def _mean_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    outputs, backprops = zip(*(layer(docs, is_train) for layer in model.layers))
    share = 1.0 / len(outputs)
    means = [sum(arrays) * share for arrays in zip(*outputs)]

    def backprop(d_means: List[Floats2d]) -> List[Doc]:
        d_shares = [d_mean * share for d_mean in d_means]
        for layer_backprop in backprops:
            layer_backprop(d_shares)
        return []

    return means, backprop


def _mean_init(model: Model, X: Optional[List[Doc]] = None, Y: Optional[List[Floats2d]] = None) -> None:
    for layer in model.layers:
        layer.initialize(X=X, Y=Y)
    model.set_dim("nO", model.layers[0].get_dim("nO"))


def fill_ensemble(model: Model[List[Doc], ChainScores], members: Sequence[Model[List[Doc], ChainScores]]) -> None:
    """Give an ensemble built from the members' configs their trained weights, and its CRF the mean of their
    transition, start and end scores."""
    n_members = len(model.layers[0].layers)
    if len(members) != n_members:
        raise ValueError(f"The ensemble has {n_members} members, got {len(members)} trained models.")
    for i, member in enumerate(members):
        for name in MEMBER_PARTS:
            model.get_ref(f"{name}{i}").from_bytes(member.get_ref(name).to_bytes())
    crfs = [member.get_ref("crf") for member in members]
    n_tags = crfs[0].get_dim("nO")
    crf = model.get_ref("crf")
    crf.set_dim("nO", n_tags)
    for name in CRF_PARAM_NAMES:
        crf.set_param(name, cast(FloatsXd, sum(member_crf.get_param(name) for member_crf in crfs) / len(crfs)))
    for node in (model.layers[0], model):
        node.set_dim("nO", n_tags)
