"""`CRFPipe`: the trainable component behind `crf_tagger` and `crf_segmenter`.

It predicts and learns one label per token from a model's `ChainScores`, read by its decoder (the `decoder`
setting: see `decoders`), and leaves what to do with the labels to subclasses.
"""

from collections import deque
from itertools import islice
from numbers import Real
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Literal,
    Optional,
    Sequence,
    Set,
    Tuple,
    cast,
    get_args,
)

import numpy
from spacy.errors import Errors
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from thinc.api import Model, NumpyOps, Ops, set_dropout_rate
from thinc.types import ArrayXd, Floats2d, Ints2d

from ..crf.chain_ops import FORBIDDEN, ChainScores
from ..crf.diagnostics import EmissionGaps, crf_measures, top2_gaps
from ..crf.layer import CRF_PARAM_NAMES, set_crf_labels
from ..crf.schemes import check_scheme, constraint_masks, find_violation
from . import probs as _probs  # noqa: F401  (registers token._.crf_prob and token._.crf_probs)
from .decoders import DECODERS, ChainDecoder
from .serialization import PartsPipe
from .windows import WINDOW, context_width, windowed_emissions

# Where the chain algorithms (forward-backward, Viterbi) run: on the CPU, or on the model's device.
CRFDevice = Literal["cpu", "model"]
Scheme = Optional[Literal["BMES", "BIO", "BILUO"]]
CPU_OPS = NumpyOps()
# (tag ids, probability of each chosen tag or None when not computed) per doc
Predictions = Tuple[List[numpy.ndarray], List[Optional[numpy.ndarray]]]
# Per doc: a len(doc)×K boolean mask of the tags each token may take, or None (no constraint)
AllowedTags = List[Optional[numpy.ndarray]]


def check_setting(name: str, value, allowed: Sequence) -> None:
    """Raise naming the setting if value is not one of allowed (compared by type and value)."""
    if not any(type(value) is type(choice) and value == choice for choice in allowed):
        raise ValueError(f"Unknown {name} {value!r}: allowed are {', '.join(map(repr, allowed))}.")


class CRFPipe(PartsPipe):
    """Token labelling with a decoder over a model's chain scores. Subclasses define
    `gold_tags` (one gold label or None per predicted token) and `set_annotations`."""

    def __init__(
        self,
        vocab,
        model: Model,
        name: str,
        *,
        scheme: Optional[str],
        decoder: str,
        scorer: Optional[Callable],
        crf_device: str = "cpu",
        probabilities: bool = True,
        **cfg,
    ):
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        check_scheme(scheme)
        check_setting("decoder", decoder, tuple(DECODERS))
        check_setting("crf_device", crf_device, get_args(CRFDevice))
        check_setting("probabilities", probabilities, (True, False))
        self._emission_gaps: Optional[EmissionGaps] = None  # set by the first update (see _record_emission_gaps)
        # tokens of one pass over the training examples (counted at initialize) and tokens updated on since,
        # reported to an optimizer whose rates fall by epochs (spacy_crf_lr.Adam.v1 `epochs`)
        self._epoch_tokens = 0
        self._tokens_trained = 0
        self._last_update: Optional[Dict[str, object]] = None  # the optimizer's rates at the last update (see score)
        # The one home of the labels and the scheme; the CRF layer is told them at initialize and load.
        self.cfg = {
            "labels": [],
            "scheme": scheme,
            "decoder": decoder,
            "crf_device": crf_device,
            "probabilities": probabilities,
            **cfg,
        }

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> Tuple[str, ...]:
        return self.labels

    @property
    def transitions(self) -> numpy.ndarray:
        """Learned transition scores, K×K, rows = from-label, in `labels` order (unmasked)."""
        return self.crf_scores()[0]

    def crf_scores(self) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
        """Learned, unmasked (transitions K×K, start K, end K) as numpy copies, in `labels` order.
        With the softmax decoder they stay at their initial values (the softmax loss never trains them)."""
        crf = self.model.get_ref("crf")
        return tuple(crf.ops.to_numpy(crf.get_param(name)).copy() for name in CRF_PARAM_NAMES)

    @property
    def decoder(self) -> ChainDecoder:
        """The decoder of the `decoder` setting."""
        return DECODERS[self.cfg["decoder"]]

    @property
    def chain_ops(self) -> Ops:
        """Ops the decoding and loss run on: the CPU's, or the model's with crf_device = "model"."""
        return self.model.ops if self.cfg.get("crf_device") == "model" else CPU_OPS

    def _configure_crf(self) -> None:
        """Tell the CRF layer the component's labels and scheme (at initialize and load)."""
        set_crf_labels(self.model.get_ref("crf"), self.labels, self.cfg["scheme"])

    def _loaded(self) -> None:
        """Once loaded, the CRF layer is told the labels and scheme."""
        self._configure_crf()

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(Errors.E187)
        if label in self.labels:
            return 0
        crf = self.model.get_ref("crf")
        if crf.has_dim("nO") and crf.get_dim("nO") is not None:
            raise ValueError(
                f"Cannot add label {label!r} to '{self.name}': its model is already initialized with the "
                f"labels {list(self.labels)}. Add labels before nlp.initialize(), or give them to initialize."
            )
        constraint_masks(self.cfg["scheme"], (*self.labels, label))  # raises if the label does not fit the scheme
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        return 1

    # ----- prediction -----

    def predict(self, docs: Iterable[Doc]) -> Predictions:
        """Best tag ids per doc and, with `probabilities`, the probability of each chosen tag
        (CRF: its marginal, by forward–backward; softmax: its softmax score)."""
        docs = list(docs)
        probabilities = self.cfg.get("probabilities", True)
        if not any(len(doc) for doc in docs):
            return [numpy.zeros((len(doc),), "int32") for doc in docs], [
                numpy.ones((len(doc),), "float32") if probabilities else None for doc in docs
            ]
        ops = self.chain_ops
        scores = self._predict_scores(docs).to(ops)
        self._record_emission_gaps(docs, scores)
        allowed = self._allowed_mask(ops, docs, scores)
        paths, probs = self.decoder.decode(ops, scores, allowed=allowed, probabilities=probabilities)
        paths, probs = ops.to_numpy(paths), None if probs is None else ops.to_numpy(probs)
        return [paths[i, : len(doc)] for i, doc in enumerate(docs)], [
            None if probs is None else probs[i, : len(doc)] for i, doc in enumerate(docs)
        ]

    def _predict_scores(self, docs: List[Doc]) -> ChainScores:
        """The model's scores; a doc longer than windows.WINDOW tokens gets its emission scores window by
        window (bounded memory, the same scores) when the encoder's receptive field is known."""
        *body, crf = self.model.layers
        margin = context_width(self.model) if crf is self.model.get_ref("crf") else None
        if margin is None or all(len(doc) <= WINDOW for doc in docs):
            return self.model.predict(docs)
        return crf.predict(windowed_emissions(body, docs, margin, WINDOW))

    # ----- training -----

    def gold_tags(self, example: Example) -> List[Optional[str]]:
        """One gold label (or None where unknown) per token of example.predicted."""
        raise NotImplementedError

    def allowed_tags(self, docs: Sequence[Doc]) -> Optional[AllowedTags]:
        """Tags each token of each doc may take at prediction (None: no constraints); subclasses
        constrain the decoding through it (the segmenter's user dictionary)."""
        return None

    def _allowed_mask(self, ops: Ops, docs: Sequence[Doc], scores: ChainScores):
        """The B×T×K allowed mask of `allowed_tags`, padded like the scores, or None."""
        per_doc = self.allowed_tags(docs)
        if per_doc is None or all(mask is None for mask in per_doc):
            return None
        mask = numpy.ones(scores.emissions.shape, bool)
        for i, doc_mask in enumerate(per_doc):
            if doc_mask is not None:
                mask[i, : len(doc_mask)] = doc_mask
        # thinc's array types have no boolean arrays; ops.asarray takes any array
        return ops.asarray(cast(ArrayXd, mask))

    def nbest_ids(self, doc: Doc, k: int) -> List[Tuple[numpy.ndarray, float]]:
        """The k best tag-id paths of one doc, best first, each with its log-probability (under the
        same constraints as `predict`); fewer than k when fewer paths have nonzero probability."""
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a positive integer (the number of paths), got {k!r}.")
        if not len(doc):
            return [(numpy.zeros((0,), "int32"), 0.0)]
        ops = self.chain_ops
        scores = self._predict_scores([doc]).to(ops)
        paths, log_probs = self.decoder.nbest(ops, scores, k, allowed=self._allowed_mask(ops, [doc], scores))
        paths, log_probs = ops.to_numpy(paths[0]), ops.to_numpy(log_probs[0])
        # A path through a move the scheme forbids (FORBIDDEN) has probability exp(-1e4) = 0: left out.
        return [(paths[r], float(log_probs[r])) for r in range(k) if log_probs[r] > FORBIDDEN / 2]

    def _gold_ids(self, examples: Sequence[Example]) -> Tuple[List[int], List[numpy.ndarray]]:
        """Indices of the annotated examples and their gold label ids, -1 where a token's label is
        unknown (partial labels); docs with no known label are left out. Raises on bad tags."""
        index = {label: i for i, label in enumerate(self.labels)}
        used, ids = [], []
        for i, eg in enumerate(examples):
            tags = self.gold_tags(eg)
            if not tags or all(tag is None for tag in tags):
                continue  # unannotated docs carry no loss
            unknown = [tag for tag in tags if tag is not None and tag not in index]
            if unknown:
                raise ValueError(
                    f"Doc {i} of the batch ({eg.predicted.text[:40]!r}) has gold label "
                    f"{unknown[0]!r}, which the component '{self.name}' does not know: "
                    f"known labels are {list(self.labels)}."
                )
            violation = find_violation(self.cfg["scheme"], self.labels, tags)
            if violation:
                raise ValueError(
                    f"Gold tags of doc {i} of the batch ({eg.predicted.text[:40]!r}) break the "
                    f"{self.cfg['scheme']} scheme at {violation}."
                )
            used.append(i)
            ids.append(numpy.array([-1 if tag is None else index[tag] for tag in tags], "int32"))
        return used, ids

    def get_loss(self, examples: Iterable[Example], scores: ChainScores) -> Tuple[float, ChainScores]:
        """The decoder's loss summed over the annotated docs (not averaged, like spaCy's tagger), and its gradient.
        The CRF loss is the negative log-likelihood of each gold path; the softmax loss the per-token
        cross-entropy. Partly labelled docs: the CRF maximises the summed probability of all the paths that
        agree with the known labels; the softmax loss counts the labelled tokens only."""
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.get_loss")
        ops = self.chain_ops
        xp = ops.xp
        scores = scores.to(ops)
        used, ids = self._gold_ids(examples)
        d_scores = self.decoder.zero_gradient(ops, scores)  # None where the optimizer must not move the scores
        if not used:
            return 0.0, d_scores.to(self.model.ops)
        rows = xp.asarray(used)
        padded = numpy.zeros((len(used), scores.emissions.shape[1]), "int32")
        for row, gold in enumerate(ids):
            padded[row, : len(gold)] = gold
        tags = ops.asarray2i(cast(Ints2d, padded))
        sub = ChainScores(scores.emissions[rows], scores.lengths[rows], scores.transitions, scores.start, scores.end)
        loss, d_sub = self.decoder.loss(ops, sub, tags)
        d_scores.emissions[rows] = d_sub.emissions
        d_scores.transitions, d_scores.start, d_scores.end = d_sub.transitions, d_sub.start, d_sub.end
        if numpy.isnan(loss):
            raise ValueError(Errors.E910.format(name=self.name))
        return loss, d_scores.to(self.model.ops)

    def update(self, examples: Iterable[Example], *, drop: float = 0.0, sgd=None, losses=None):
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.update")
        if not any(len(eg.predicted) for eg in examples):
            return losses
        if self._emission_gaps is None:
            self._emission_gaps = EmissionGaps()
        set_dropout_rate(self.model, drop)
        self._tokens_trained += sum(len(eg.predicted) for eg in examples)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        loss, d_scores = self.get_loss(examples, scores)
        backprop(d_scores)
        if sgd not in (None, False):
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        """Add labels (given, or found in the data), read the training examples once (`_fit_to_training`), then
        initialize the model. With `init_transitions = "counts"` the CRF sees the gold tags of all examples."""
        validate_get_examples(get_examples, f"{type(self).__name__}.initialize")
        for label in labels if labels is not None else self._labels_in(get_examples()):
            self.add_label(label)
        self._require_labels()
        self._configure_crf()
        self._epoch_tokens, self._tokens_trained = 0, 0
        examples = self._counted(get_examples())
        self._fit_to_training(examples)
        deque(examples, maxlen=0)  # finish the count where the subclass read less
        n_tag_samples = None if self.model.get_ref("crf").attrs["init_transitions"] == "counts" else 10
        eye = cast(Floats2d, numpy.eye(len(self.labels), dtype="float32"))  # thinc's type for it, as asarray2f wants
        _, ids = self._gold_ids(list(islice(get_examples(), n_tag_samples)))
        doc_sample = [eg.predicted for eg in islice(get_examples(), 10)]
        if not doc_sample:
            raise ValueError(Errors.E923.format(name=self.name))
        label_sample = [self.model.ops.asarray2f(eye[x] * (x >= 0)[:, None]) for x in ids]  # unknown: zero row
        self.model.initialize(X=doc_sample, Y=label_sample or [self.model.ops.asarray2f(eye[:1])])

    def _counted(self, examples: Iterable[Example]) -> Iterator[Example]:
        """The examples, adding each one's token count to _epoch_tokens on the way (the size of one pass for an
        optimizer whose rates fall by epochs, without a pass of its own)."""
        for eg in examples:
            self._epoch_tokens += len(eg.predicted)
            yield eg

    def _fit_to_training(self, examples: Iterator[Example]) -> None:
        """What a subclass learns from a pass over the training examples before the model is initialized (the
        segmenter: its character features' lexicon); nothing here."""

    def _labels_in(self, examples: Iterable[Example]) -> List[str]:
        """Sorted gold labels found in the examples."""
        found: Set[str] = set()
        for eg in examples:
            found.update(tag for tag in self.gold_tags(eg) if tag)
        return sorted(found)

    # ----- diagnostics and the optimizer's CRF group (see spacy_crf_lr.training) -----

    def _record_emission_gaps(self, docs: Sequence[Doc], scores: ChainScores) -> None:
        """Note each doc's emission gaps for `score`, in a bounded cache that is never serialized. Only a
        component trained in this process records them (for the evaluations during training), so a loaded
        model predicting in production does no such work."""
        if self._emission_gaps is None:
            return
        gaps = top2_gaps(self.chain_ops.xp, scores.emissions)
        self._emission_gaps.add([doc.text for doc in docs], gaps, [len(doc) for doc in docs])

    def score(self, examples: Iterable[Example], **kwargs) -> dict:
        """The scorer's scores plus `<name>_crf`: the CRF diagnostics of this evaluation (a dict), with
        `last_update`: the rates and averaging the optimizer applied to this component's last update in this
        process (`applied_update`), None before one."""
        examples = list(examples)
        scores = dict(super().score(examples, **kwargs))
        gaps = self._emission_gaps
        per_doc = gaps.take(eg.predicted.text for eg in examples) if gaps is not None else []
        measures = crf_measures(self.name, self.labels, self.cfg, self.crf_scores(), per_doc)
        scores[f"{self.name}_crf"] = {**measures, "last_update": self._last_update}
        return scores

    def finish_update(self, sgd) -> None:
        """Update the model; an optimizer with CRF groups (spacy_crf_lr.Adam.v1) first learns this CRF layer and,
        after initialize, how many passes over the training examples this component has been updated on; the rates
        it applies are noted for `score` (never serialized)."""
        register = getattr(sgd, "register_crf_layers", None)
        if register is not None:
            register(self.model)
        report = getattr(sgd, "report_epochs", None)
        if report is not None and self._epoch_tokens:
            report(self.name, self._tokens_trained / self._epoch_tokens)
        self._last_update = applied_update(sgd)
        super().finish_update(sgd)


def applied_update(sgd) -> Dict[str, Any]:
    """What the optimizer `sgd` applies to an update now, and whether it keeps parameter averages: its own
    `applied_rates()` (spacy_crf_lr.Adam.v1: schedules, `epochs` and param_lrs included), else thinc's current
    `learn_rate`, which then also applies to the CRF."""
    own = getattr(sgd, "applied_rates", None)
    if own is not None:
        rates = own()
    else:
        rate = getattr(sgd, "learn_rate", None)
        rate = float(rate) if isinstance(rate, Real) else None
        rates = {"learn_rate": rate, "crf_lr": rate, "param_lrs": {}}
    return {**rates, "averaged": getattr(sgd, "averages", None) is not None}
