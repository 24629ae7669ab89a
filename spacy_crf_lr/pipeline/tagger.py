"""The `crf_tagger` component: writes `token.tag_` with a linear-chain CRF."""

from typing import Callable, List, Optional, Tuple

import numpy
from pydantic import StrictBool
from spacy.attrs import TAG
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry
from thinc.api import Config, Model

from .base import CRFDevice, CRFPipe, Predictions, Scheme
from .decoders import Decoder
from .probs import set_probs

DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "spacy_crf_lr.CRFTagger.v1"

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""
DEFAULT_MODEL = Config().from_str(DEFAULT_MODEL_CONFIG)["model"]


def tag_score(examples, **kwargs):
    """`tag_acc`, as spaCy's tagger scores it."""
    return Scorer.score_token_attr(examples, "tag", **kwargs)


@registry.scorers("spacy_crf_lr.tag_scorer.v1")
def make_tag_scorer() -> Callable:
    return tag_score


@Language.factory(
    "crf_tagger",
    assigns=["token.tag", "token._.crf_prob"],
    default_config={
        "model": DEFAULT_MODEL,
        "overwrite": False,
        "scheme": None,
        "decoder": "crf",
        "crf_device": "cpu",
        "probabilities": True,
        "scorer": {"@scorers": "spacy_crf_lr.tag_scorer.v1"},
    },
    default_score_weights={"tag_acc": 1.0},
)
def make_crf_tagger(
    nlp: Language,
    name: str,
    model: Model,
    overwrite: StrictBool,
    scheme: Scheme,
    decoder: Decoder,
    crf_device: CRFDevice,
    probabilities: StrictBool,
    scorer: Optional[Callable],
) -> "CRFTagger":
    """A tagger whose output layer is a linear-chain CRF. scheme: BMES, BIO,
    BILUO or null; decoder: crf, or softmax (same emission layer, argmax);
    crf_device: cpu (decoding and loss on the CPU) or model (on the model's device);
    probabilities: compute token._.crf_prob (the CRF's forward–backward at prediction)."""
    return CRFTagger(
        nlp.vocab,
        model,
        name,
        overwrite=overwrite,
        scheme=scheme,
        decoder=decoder,
        crf_device=crf_device,
        probabilities=probabilities,
        scorer=scorer,
    )


class CRFTagger(CRFPipe):
    """Writes `token.tag_`, and the probability of each chosen tag to `token._.crf_prob`."""

    def __init__(
        self,
        vocab,
        model,
        name="crf_tagger",
        *,
        overwrite=False,
        scheme=None,
        decoder="crf",
        crf_device="cpu",
        probabilities=True,
        scorer=tag_score,
    ):
        super().__init__(
            vocab,
            model,
            name,
            scheme=scheme,
            decoder=decoder,
            crf_device=crf_device,
            probabilities=probabilities,
            scorer=scorer,
            overwrite=overwrite,
        )

    def gold_tags(self, example: Example):
        """The reference tags; None (unknown) where a token has none: such docs train on partial labels."""
        return [tag or None for tag in example.get_aligned("TAG", as_string=True)]

    def nbest(self, doc: Doc, k: int) -> List[Tuple[List[str], float]]:
        """The k best tag sequences of doc, best first, as (tags, log-probability); k = 1 gives the
        tags the component predicts (before `overwrite` keeps any existing ones)."""
        return [([self.labels[i] for i in ids], log_prob) for ids, log_prob in self.nbest_ids(doc, k)]

    def set_annotations(self, docs, predictions: Predictions) -> None:
        label_ids = numpy.array([self.vocab.strings[label] for label in self.labels], "uint64")
        for doc, tag_ids, probs in zip(docs, *predictions):
            if not len(doc):
                set_probs(doc, self.name, None)
                continue
            tags = label_ids[tag_ids]
            if not self.cfg["overwrite"]:
                current = doc.to_array([TAG])
                tags = numpy.where(current == 0, tags, current)
            doc.from_array([TAG], tags.astype("uint64"))
            set_probs(doc, self.name, probs)
