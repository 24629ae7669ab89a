"""Row-wise ("lazy") Adam for embedding tables: a step updates only the rows that have a gradient, and
the parameter averages of the other rows are caught up exactly when they are read."""

import math
from typing import Any, Dict, Optional, Tuple

from thinc.backends import get_array_ops
from thinc.types import FloatsXd

Key = Tuple[int, str]
MAX_DECAY = 0.9999  # thinc's Ops.update_averages


def is_table(key: Key, weights: FloatsXd) -> bool:
    """Whether a parameter is an embedding table (a 2-D parameter named E: HashEmbed, Embed, KeyEmbed)."""
    return key[1] == "E" and weights.ndim == 2


def average_decay(step: int) -> float:
    """The decay of thinc's parameter averages at update `step` (1-based)."""
    return min((1.0 + step) / (10.0 + step), MAX_DECAY)


class TableState:
    """One table's moments, and for its averages the running sum of the log decays of its updates and, per row,
    that sum when the row was last brought up to date, so that rows left alone for k updates are brought up to
    date in one step, as if each of those updates had moved them."""

    def __init__(self, weights: FloatsXd, averaged: bool):
        ops = get_array_ops(weights)
        self.mom1 = ops.alloc2f(*weights.shape)
        self.mom2 = ops.alloc2f(*weights.shape)
        self.log_decay = 0.0
        self.synced = ops.xp.zeros((weights.shape[0],), dtype="float64") if averaged else None
        self.weights = weights  # the table the last update moved; its other rows are unchanged since

    def catch_up(self, average: FloatsXd, rows: Optional[Any] = None) -> None:
        """Bring the averages of `rows` (all when None) up to the last update, with their weights unchanged
        since they were last brought up to date."""
        assert self.synced is not None
        rows = slice(None) if rows is None else rows
        scale = get_array_ops(average).xp.exp(self.log_decay - self.synced[rows]).astype("float32")[:, None]
        weights = self.weights[rows]
        average[rows] = weights + (average[rows] - weights) * scale
        self.synced[rows] = self.log_decay


class LazyAverages(dict):
    """thinc's averages dict, but a table's entry is brought up to date when it is read (use_params reads
    `key in averages` and `averages[key]`)."""

    def __init__(self, tables: Dict[Key, TableState]):
        super().__init__()
        self.tables = tables
        self.stale: set = set()

    def __getitem__(self, key):
        if key in self.stale:
            self.stale.discard(key)
            self.tables[key].catch_up(super().__getitem__(key))
        return super().__getitem__(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def values(self):
        return [self[key] for key in self]

    def items(self):
        return [(key, self[key]) for key in self]


def lazy_adam(
    optimizer: Any, tables: Dict[Key, TableState], key: Key, weights: FloatsXd, gradient: FloatsXd, lr_scale: float
) -> Tuple[FloatsXd, FloatsXd]:
    """One Adam step of thinc's Optimizer on the rows of a table that have a gradient (moments, weight
    decay and clipping of those rows only; bias correction by the table's update count), in place."""
    ops = get_array_ops(weights)
    xp = ops.xp
    optimizer.nr_update[key] += 1
    step = optimizer.nr_update[key]
    averages = optimizer.averages
    if key not in tables:
        tables[key] = TableState(weights, averages is not None)
    state = tables[key]
    state.weights = weights
    rows = xp.flatnonzero(gradient.any(axis=1))
    grad = gradient[rows]
    if optimizer.L2 != 0 and not optimizer.L2_is_weight_decay:
        grad += optimizer.L2 * weights[rows]
    if optimizer.grad_clip:
        grad = ops.clip_gradient(grad, optimizer.grad_clip)
    b1, b2 = optimizer.b1, optimizer.b2
    mom1 = state.mom1[rows] * b1 + grad * (1.0 - b1)
    mom2 = state.mom2[rows] * b2 + grad * grad * (1.0 - b2)
    state.mom1[rows], state.mom2[rows] = mom1, mom2
    rate = optimizer.learn_rate * lr_scale
    updated = weights[rows]
    if averages is not None and key in averages:
        state.catch_up(dict.__getitem__(averages, key), rows)  # up to the last update, with the old weights
    updated -= rate * math.sqrt(1.0 - b2**step) / (1.0 - b1**step) * mom1 / (xp.sqrt(mom2) + optimizer.eps)
    if optimizer.L2 != 0 and optimizer.L2_is_weight_decay:
        updated -= rate * optimizer.L2 * updated
    weights[rows] = updated
    gradient[rows] = 0
    if averages is not None:
        if key not in averages:
            averages[key] = ops.alloc2f(*weights.shape)
        decay = average_decay(step)
        state.log_decay += math.log(decay)
        average = dict.__getitem__(averages, key)
        average[rows] -= (1.0 - decay) * (average[rows] - updated)
        state.synced[rows] = state.log_decay
        averages.stale.add(key)
    return weights, gradient
