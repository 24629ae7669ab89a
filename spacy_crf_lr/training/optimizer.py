"""`spacy_crf_lr.Adam.v1`: thinc's Adam with a learning rate of its own for the CRF parameters."""

from numbers import Real
from typing import Optional, Tuple

from thinc.api import Optimizer, registry
from thinc.optimizers import ADAM_DEFAULTS, FloatOrSeq
from thinc.types import FloatsXd

from ..crf.layer import CRF_PARAM_NAMES


def _check_rate(value, name: str, *, allow_zero: bool) -> float:
    """Return value if it is a usable learning rate, else raise naming it."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a number {bound} or a schedule of such numbers, got {value!r}.")
    return float(value)


class CRFAdam(Optimizer):
    """Adam whose updates of parameters named in CRF_PARAM_NAMES use `crf_lr`
    in place of `learn_rate` (both may be schedules); everything else is thinc's Adam."""

    __slots__ = ["crf_lr"]

    def __init__(self, learn_rate: FloatOrSeq, *, crf_lr: Optional[FloatOrSeq] = None, **kwargs):
        super().__init__(learn_rate, use_radam=False, **kwargs)
        if isinstance(crf_lr, (Real, str)) or crf_lr is None:
            self.crf_lr = None if crf_lr is None else _check_rate(crf_lr, "crf_lr", allow_zero=False)
        else:
            self._set_attr_or_schedule("crf_lr", crf_lr)
            _check_rate(self.crf_lr, "crf_lr (first value of the schedule)", allow_zero=True)

    def step_schedules(self) -> None:
        super().step_schedules()
        if self.crf_lr is not None:
            _check_rate(self.crf_lr, "crf_lr (value of the schedule)", allow_zero=True)

    def __call__(self, key: Tuple[int, str], weights: FloatsXd, gradient: FloatsXd, *, lr_scale: float = 1.0):
        if self.crf_lr is None or key[1] not in CRF_PARAM_NAMES:
            return super().__call__(key, weights, gradient, lr_scale=lr_scale)
        body_lr = self.learn_rate
        self.learn_rate = self.crf_lr
        try:
            return super().__call__(key, weights, gradient, lr_scale=lr_scale)
        finally:
            self.learn_rate = body_lr


@registry.optimizers("spacy_crf_lr.Adam.v1")
def Adam(
    learn_rate: FloatOrSeq = ADAM_DEFAULTS["learn_rate"],
    *,
    crf_lr: Optional[FloatOrSeq] = None,
    L2: FloatOrSeq = ADAM_DEFAULTS["L2"],
    beta1: FloatOrSeq = ADAM_DEFAULTS["beta1"],
    beta2: FloatOrSeq = ADAM_DEFAULTS["beta2"],
    eps: FloatOrSeq = ADAM_DEFAULTS["eps"],
    grad_clip: FloatOrSeq = ADAM_DEFAULTS["grad_clip"],
    L2_is_weight_decay: bool = bool(ADAM_DEFAULTS["L2_is_weight_decay"]),
    use_averages: bool = True,
) -> CRFAdam:
    """thinc's Adam.v1 plus `crf_lr` (number or schedule; null = same as learn_rate)
    for the CRF's transition, start and end scores."""
    if isinstance(learn_rate, (Real, str)):
        _check_rate(learn_rate, "learn_rate", allow_zero=True)
    return CRFAdam(
        learn_rate,
        crf_lr=crf_lr,
        L2=L2,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        grad_clip=grad_clip,
        L2_is_weight_decay=L2_is_weight_decay,
        use_averages=use_averages,
    )
