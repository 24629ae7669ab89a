"""KeyEmbed: embeddings of several uint64 key columns summed from one table, in one gather per batch."""

from typing import Callable, List, Optional, Sequence, Tuple, cast

import numpy
from thinc.api import Model, uniform_init
from thinc.types import Floats2d, Ints2d

Table = Tuple[int, int]  # (rows, hashes) of one key column; hashes 0: the key is the row, below rows


def KeyEmbed(width: int, tables: Sequence[Table], seed: int = 7) -> Model[Ints2d, Floats2d]:
    """Keys (n, len(tables)) → the sum of each column's rows, (n, width). A hashed column (hashes 1..4) takes
    `hashes` rows of its part of the table (HashEmbed's trick: four seeded hashes of the key); a direct column
    (hashes 0) takes row `key`."""
    for rows, hashes in tables:
        if rows < 1 or not 0 <= hashes <= 4:
            raise ValueError(f"KeyEmbed: each table needs rows ≥ 1 and hashes in 0..4, got ({rows}, {hashes})")
    return Model(
        "key_embed",
        _forward,
        init=_init,
        params={"E": None},
        dims={"nO": width, "nV": sum(rows for rows, _ in tables)},
        attrs={"tables": [list(table) for table in tables], "seed": seed},
    )


def _init(model: Model, X: Optional[Ints2d] = None, Y: Optional[Floats2d] = None) -> None:
    model.set_param("E", uniform_init(model.ops, (model.get_dim("nV"), model.get_dim("nO"))))


def _forward(model: Model, keys: Ints2d, is_train: bool) -> Tuple[Floats2d, Callable]:
    table = cast(Floats2d, model.get_param("E"))
    rows = _rows(model, keys)

    def backprop(d_vectors: Floats2d) -> Ints2d:
        d_table = model.ops.alloc2f(*table.shape)
        for column in model.ops.as_contig(rows.T, dtype="i"):
            model.ops.scatter_add(d_table, column, d_vectors)
        model.inc_grad("E", d_table)
        return cast(Ints2d, model.ops.alloc2i(*keys.shape))

    if not len(keys):
        return model.ops.alloc2f(0, table.shape[1]), backprop
    return model.ops.gather_add(table, rows), backprop


def _rows(model: Model, keys: Ints2d) -> Ints2d:
    """Row indices in the table, (n, total hashes + direct columns), uint32."""
    ops, seed = model.ops, model.attrs["seed"]
    parts: List[Ints2d] = []
    offset = 0
    for column, (rows, hashes) in enumerate(model.attrs["tables"]):
        ids = ops.as_contig(keys[:, column], dtype="uint64")
        if hashes:
            part = ops.hash(ids, seed + column)[:, :hashes] % rows
        else:
            part = (ids % numpy.uint64(rows)).astype("uint32").reshape(-1, 1)
        parts.append(part + numpy.uint32(offset))
        offset += rows
    return cast(Ints2d, ops.xp.ascontiguousarray(ops.xp.concatenate(parts, axis=1), dtype="uint32"))
