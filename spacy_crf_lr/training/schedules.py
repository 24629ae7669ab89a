"""`spacy_crf_lr.warmup.v1`: a learning rate that rises linearly from 0 and then stays, for an optimizer
whose rates fall by epochs (spacy_crf_lr.Adam.v1 `epochs`)."""

from itertools import count
from typing import Iterator

from thinc.api import registry


@registry.schedules("spacy_crf_lr.warmup.v1")
def warmup(initial_rate: float, warmup_steps: int) -> Iterator[float]:
    """initial_rate × step / warmup_steps for the first warmup_steps steps (as warmup_linear.v1), then initial_rate;
    warmup_steps = 0: initial_rate from the first step."""
    if not initial_rate > 0 or isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ValueError(
            f"warmup needs initial_rate > 0 and warmup_steps an integer ≥ 0, got {initial_rate!r}, {warmup_steps!r}."
        )
    return (initial_rate * (min(1.0, step / warmup_steps) if warmup_steps else 1.0) for step in count())
