"""On the CPU, the CRF models multiply through numpy's BLAS; other ops are left alone."""

import numpy
import spacy
from thinc.api import NumpyOps

from spacy_crf_lr.ml.cpu_ops import NUMPY_GEMM_OPS, use_numpy_gemm


def test_loaded_model_multiplies_with_numpy_and_scores_as_with_blis(tiny_segmenter):
    nlp = spacy.load(tiny_segmenter)
    model = nlp.get_pipe("crf_segmenter").model
    assert all(node.ops is NUMPY_GEMM_OPS for node in model.walk())
    docs = [nlp.make_doc("中国人民银行的发展很快。"), nlp.make_doc("我们今天学习历史")]
    emissions = model.predict(docs).emissions
    blis = NumpyOps()
    for node in model.walk():
        node.ops = blis
    assert numpy.allclose(model.predict(docs).emissions, emissions, atol=1e-5)


def test_other_ops_are_left_alone(tiny_segmenter):
    class OtherOps(NumpyOps):
        name = "other"

    model = spacy.load(tiny_segmenter).get_pipe("crf_segmenter").model
    nodes = list(model.walk())
    other, numpy_gemm = OtherOps(), NumpyOps(use_blis=False)
    nodes[0].ops, nodes[1].ops, nodes[2].ops = other, numpy_gemm, NumpyOps()
    use_numpy_gemm(model)
    assert nodes[0].ops is other and nodes[1].ops is numpy_gemm and nodes[2].ops is NUMPY_GEMM_OPS
