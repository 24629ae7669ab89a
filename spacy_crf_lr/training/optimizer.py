"""`spacy_crf_lr.Adam.v1`: thinc's Adam with learning rates of their own for the CRF's parameters
(`crf_lr`) and for any group of parameters named by a regular expression (`param_lrs`)."""

import re
from numbers import Real
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple, Union

from thinc.api import Model, Optimizer, registry
from thinc.optimizers import ADAM_DEFAULTS, FloatOrSeq
from thinc.types import FloatsXd

from ..crf.layer import CRF_PARAM_NAMES
from .sparse_rows import LazyAverages, TableState, is_table, lazy_adam

Rate = Union[float, Iterator[float]]


def _check_rate(value: Any, name: str, *, allow_zero: bool) -> float:
    """Return value if it is a usable learning rate, else raise naming it."""
    ok = isinstance(value, Real) and not isinstance(value, bool)
    ok = ok and (float(value) >= 0 if allow_zero else float(value) > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a number {bound} or a schedule of such numbers, got {value!r}.")
    return float(value)


def is_crf_layer(node: Model) -> bool:
    """Whether a thinc node is the CRF layer of `spacy_crf_lr.crf.layer.CRF` (or a copy of one)."""
    return node.name == "crf" and tuple(node.param_names) == CRF_PARAM_NAMES and "init_transitions" in node.attrs


class _Rate:
    """A learning rate that is a number or a schedule (an iterator of numbers, as thinc's
    schedules are), checked at each value; the optimizer steps it with its own schedules."""

    def __init__(self, value, name: str):
        self.name = name
        if isinstance(value, list):
            value = iter(value)
        if isinstance(value, (Real, str)):
            self.schedule, self.value = None, _check_rate(value, name, allow_zero=False)
        else:
            self.schedule = value
            try:
                first = next(value)
            except (StopIteration, TypeError) as error:
                raise ValueError(f"{name} must be a number > 0 or a schedule, got {value!r} ({error}).") from None
            self.value = _check_rate(first, f"{name} (first value of the schedule)", allow_zero=True)

    def step(self) -> None:
        if self.schedule is not None:
            self.value = _check_rate(
                next(self.schedule, self.value), f"{self.name} (value of the schedule)", allow_zero=True
            )


class CRFAdam(Optimizer):
    """thinc's Adam where each parameter is updated at its group's rate: the CRF layer's own
    parameters at `crf_lr`, a parameter whose name matches a `param_lrs` pattern at that pattern's
    rate (first match wins), everything else at `learn_rate`. All rates may be schedules. With
    sparse_tables, embedding tables are updated row-wise (sparse_rows.lazy_adam)."""

    __slots__ = ["_crf", "_groups", "_crf_ids", "_group_of", "_seen", "_checked", "_tables", "_epochs", "_done"]

    def __init__(
        self,
        learn_rate: FloatOrSeq,
        *,
        crf_lr: Optional[FloatOrSeq] = None,
        param_lrs: Optional[Dict[str, FloatOrSeq]] = None,
        sparse_tables: bool = False,
        epochs: Optional[float] = None,
        **kwargs,
    ):
        super().__init__(learn_rate, use_radam=False, **kwargs)
        if epochs is not None and not (isinstance(epochs, Real) and not isinstance(epochs, bool) and epochs > 0):
            raise ValueError(f"epochs must be a number > 0 (passes over the training data) or null, got {epochs!r}.")
        self._epochs = None if epochs is None else float(epochs)
        self._done: Dict[str, float] = {}  # passes over the training data, by reporting component
        self._tables: Optional[Dict[Tuple[int, str], TableState]] = {} if sparse_tables else None
        if self._tables is not None and self.averages is not None:
            self.averages = LazyAverages(self._tables)
        self._crf = None if crf_lr is None else _Rate(crf_lr, "crf_lr")
        self._groups: List[Tuple[re.Pattern, _Rate]] = []
        for pattern, rate in (param_lrs or {}).items():
            try:
                compiled = re.compile(pattern)
            except (re.error, TypeError) as error:
                raise ValueError(f"param_lrs: {pattern!r} is not a regular expression ({error}).") from None
            self._groups.append((compiled, _Rate(rate, f"param_lrs[{pattern!r}]")))
        self._crf_ids: Set[int] = set()
        self._group_of: Dict[Tuple[int, str], Optional[int]] = {}
        self._seen: Set[str] = set()
        self._checked = False

    @property
    def crf_lr(self) -> Optional[float]:
        """The CRF's current rate; None when the CRF has no rate of its own."""
        return None if self._crf is None else self._crf.value

    @property
    def param_lrs(self) -> Dict[str, float]:
        """The current rate of each `param_lrs` pattern."""
        return {pattern.pattern: rate.value for pattern, rate in self._groups}

    def report_epochs(self, source: str, done: float) -> None:
        """Note that component `source` has been updated on `done` passes over its training examples
        (CRFPipe reports this at each update once it has been initialized)."""
        self._done[source] = done

    @property
    def epoch_factor(self) -> float:
        """What the rates are multiplied by now: 1 - passes done / `epochs` (0 at the end), 1 without `epochs`
        or before any report."""
        if self._epochs is None or not self._done:
            return 1.0
        return max(0.0, 1.0 - max(self._done.values()) / self._epochs)

    def applied_rates(self) -> Dict[str, Any]:
        """The rates an update applies now, schedules and `epochs` included: learn_rate, crf_lr (= learn_rate when
        the CRF has no rate of its own) and param_lrs {pattern: rate} (layer_decay's patterns among them)."""
        factor = self.epoch_factor
        body = float(self.learn_rate) * factor
        return {
            "learn_rate": body,
            "crf_lr": body if self._crf is None else self._crf.value * factor,
            "param_lrs": {pattern: rate * factor for pattern, rate in self.param_lrs.items()},
        }

    def register_crf_layers(self, model: Model) -> None:
        """Give the CRF layers found in `model` (by their node ids) `crf_lr`. CRFPipe calls this
        before each update; call it yourself when you train a CRF layer outside a spaCy pipeline."""
        for node in model.walk():
            if is_crf_layer(node) and node.id not in self._crf_ids:
                self._crf_ids.add(node.id)
                for name in CRF_PARAM_NAMES:
                    self._group_of.pop((node.id, name), None)

    def step_schedules(self) -> None:
        super().step_schedules()
        for rate in ([self._crf] if self._crf else []) + [rate for _, rate in self._groups]:
            rate.step()
        if not self._checked and self._seen:
            self._checked = True
            unmatched = [p.pattern for p, _ in self._groups if not any(p.search(name) for name in self._seen)]
            if unmatched:
                raise ValueError(
                    f"param_lrs: {unmatched} matched no parameter in the first step; parameter names seen: "
                    f"{sorted(self._seen)}"
                )

    def rate_for(self, key: Tuple[int, str]) -> float:
        """The learning rate the parameter `key` = (node id, name) is updated at now."""
        if key not in self._group_of:
            group = None
            if self._crf is not None and key[0] in self._crf_ids and key[1] in CRF_PARAM_NAMES:
                group = -1
            else:
                group = next((i for i, (pattern, _) in enumerate(self._groups) if pattern.search(key[1])), None)
            self._group_of[key] = group
        group = self._group_of[key]
        if group is None:
            return self.learn_rate
        rate = self._crf if group == -1 else self._groups[group][1]
        assert rate is not None  # group -1 is only given when there is a CRF rate
        return rate.value

    def __call__(self, key: Tuple[int, str], weights: FloatsXd, gradient: FloatsXd, *, lr_scale: float = 1.0):
        if not self._checked:
            self._seen.add(key[1])
        update = super().__call__
        if self._tables is not None and len(gradient) and is_table(key, weights):
            update = self._update_rows
        if self._crf is None and not self._groups and self._epochs is None:
            return update(key, weights, gradient, lr_scale=lr_scale)
        body_lr = self.learn_rate
        self.learn_rate = self.rate_for(key) * self.epoch_factor  # Adam and the weight decay both read learn_rate
        try:
            return update(key, weights, gradient, lr_scale=lr_scale)
        finally:
            self.learn_rate = body_lr

    def _update_rows(self, key: Tuple[int, str], weights: FloatsXd, gradient: FloatsXd, *, lr_scale: float = 1.0):
        assert self._tables is not None
        return lazy_adam(self, self._tables, key, weights, gradient, lr_scale)


def layer_rates(learn_rate: float, decay: float, n_layers: int, prefix: str = r"encoder\.layer\.") -> Dict[str, float]:
    """`param_lrs` entries for layer-wise learning-rate decay of an n-layer transformer: layer i
    (0 = lowest) at learn_rate * decay ** (n_layers - i), embeddings at learn_rate * decay ** (n_layers + 1)."""
    if not 0 < decay <= 1:
        raise ValueError(f"layer decay must be in (0, 1], got {decay!r}.")
    rates = {rf"{prefix}{i}\.": learn_rate * decay ** (n_layers - i) for i in range(n_layers)}
    rates[r"embeddings\."] = learn_rate * decay ** (n_layers + 1)
    return rates


@registry.optimizers("spacy_crf_lr.Adam.v1")
def Adam(
    learn_rate: FloatOrSeq = ADAM_DEFAULTS["learn_rate"],
    *,
    crf_lr: Optional[FloatOrSeq] = None,
    param_lrs: Optional[Dict[str, FloatOrSeq]] = None,
    layer_decay: Optional[float] = None,
    n_layers: Optional[int] = None,
    L2: FloatOrSeq = ADAM_DEFAULTS["L2"],
    beta1: FloatOrSeq = ADAM_DEFAULTS["beta1"],
    beta2: FloatOrSeq = ADAM_DEFAULTS["beta2"],
    eps: FloatOrSeq = ADAM_DEFAULTS["eps"],
    grad_clip: FloatOrSeq = ADAM_DEFAULTS["grad_clip"],
    L2_is_weight_decay: bool = bool(ADAM_DEFAULTS["L2_is_weight_decay"]),
    use_averages: bool = True,
    sparse_tables: bool = False,
    epochs: Optional[float] = None,
) -> CRFAdam:
    """thinc's Adam.v1 plus `crf_lr` (number or schedule; null = learn_rate) for the CRF's transition,
    start and end scores, `param_lrs` (regex over parameter names -> rate or schedule; first match
    wins), `layer_decay` with `n_layers` (a numeric learn_rate times decay per transformer layer
    below the top, appended after param_lrs) and `sparse_tables`: each step updates only the rows of an
    embedding table (HashEmbed, KeyEmbed) that have a gradient (lazy Adam: the other rows keep their moments;
    weight decay reaches updated rows only), with the same parameter averages. `epochs`: all rates also fall
    linearly to 0 over this many passes over the training data, as the CRF components count them (set
    [training] max_epochs to match; null: only the rates' own schedules)."""
    if isinstance(learn_rate, (Real, str)):
        _check_rate(learn_rate, "learn_rate", allow_zero=True)
    groups = dict(param_lrs or {})
    if layer_decay is not None:
        if not isinstance(n_layers, int) or isinstance(n_layers, bool) or n_layers < 1:
            raise ValueError(f"layer_decay needs n_layers, the transformer's layer count (>= 1), got {n_layers!r}.")
        if not isinstance(learn_rate, Real):
            raise ValueError(f"layer_decay needs a numeric learn_rate, got {learn_rate!r}.")
        for pattern, rate in layer_rates(float(learn_rate), layer_decay, n_layers).items():
            groups.setdefault(pattern, rate)
    return CRFAdam(
        learn_rate,
        crf_lr=crf_lr,
        param_lrs=groups,
        L2=L2,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        grad_clip=grad_clip,
        L2_is_weight_decay=L2_is_weight_decay,
        use_averages=use_averages,
        sparse_tables=sparse_tables,
        epochs=epochs,
    )
