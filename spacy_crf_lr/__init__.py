"""spacy-crf-lr: linear-chain CRF sequence labelling for spaCy v3, with its own learning rate for the
transition matrix. The public names load on first use, so that `import spacy_crf_lr.crf` stays free of spaCy."""

from importlib import import_module
from typing import Any

__version__ = "0.2.0"

# public name -> module that defines it
_EXPORTS = {
    "CRF": "spacy_crf_lr.crf.layer",
    "ChainScores": "spacy_crf_lr.crf.chain_ops",
    "CRFPipe": "spacy_crf_lr.pipeline.base",
    "CRFTagger": "spacy_crf_lr.pipeline.tagger",
    "CRFSegmenter": "spacy_crf_lr.cws.segmenter",
    "CRFAdam": "spacy_crf_lr.training.optimizer",
    "segment_lines": "spacy_crf_lr.run.parallel",
    "ensemble_pipeline": "spacy_crf_lr.pipeline.ensemble",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'spacy_crf_lr' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
