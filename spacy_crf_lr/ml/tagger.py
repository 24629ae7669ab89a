"""Registered model architectures."""

from typing import List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, chain, with_array, zero_init
from thinc.types import Floats2d

from ..crf.chain_ops import ChainScores
from ..crf.layer import CRF
from .cpu_ops import use_numpy_gemm


@registry.architectures("spacy_crf_lr.CRFTagger.v1")
def build_crf_tagger_model(
    tok2vec: Model[List[Doc], List[Floats2d]],
    nO: Optional[int] = None,
    init_transitions: str = "zeros",
) -> Model[List[Doc], ChainScores]:
    """tok2vec → linear emission scores → CRF potentials. The tag scheme is a
    setting of the component, which owns the labels. On the CPU, matrix products use numpy's BLAS."""
    width = tok2vec.get_dim("nO") if tok2vec.has_dim("nO") else None
    emissions = Linear(nO, width, init_W=zero_init)
    crf = CRF(nO, init_transitions=init_transitions)
    model: Model[List[Doc], ChainScores] = chain(tok2vec, with_array(emissions), crf)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", emissions)
    model.set_ref("crf", crf)
    use_numpy_gemm(model)
    return model
