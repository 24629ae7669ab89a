"""Emission scores of long docs computed in overlapping windows: memory bounded by the window, and the same
scores as the whole doc when the margin covers the encoder's receptive field."""

from typing import Any, List, Optional, Sequence, Union, cast

import numpy
from spacy.attrs import ORTH, SPACY, intify_attr
from spacy.tokens import Doc
from thinc.api import Model
from thinc.types import Floats2d, Ints2d

# Tokens per window (besides the margins) for a doc longer than this.
WINDOW = 16384
# Leaf layers that see one token at a time (their context: 0 tokens either side).
TOKEN_WISE = frozenset(
    {"hashembed", "key_embed", "ints-getitem", "maxout", "layernorm", "dropout", "linear", "extract_features",
     "list2ragged", "ragged2list", "remap_ids", "relu", "mish", "gelu", "softmax"}
)  # fmt: skip


def context_width(model: Model) -> Optional[int]:
    """Tokens either side that can change a token's emission scores (an upper bound), or None when the
    encoder has a layer of unknown reach (a transformer, a listener, an LSTM, ...)."""
    width = 0
    for layer in model.walk():
        if layer.layers or layer.name == "crf":
            continue
        if layer.name == "expand_window":
            width += int(layer.attrs["window_size"])
        elif layer.name == "char_features":
            width += 1 if layer.attrs.get("bigrams") else 0
        elif layer.name == "lexicon_features":
            width += max(1 if layer.attrs["bigrams"] else 0, layer.attrs["dictionary_length"] - 1)
        elif layer.name not in TOKEN_WISE:
            return None
    return width


def _predict(body: Sequence[Model], docs: List[Doc]) -> List[Floats2d]:
    output: Any = docs
    for layer in body:
        output = layer.predict(output)
    return output


def token_columns(body: Sequence[Model]) -> List[Union[int, str]]:
    """The token attributes a window's Doc needs: ORTH and SPACY (its tokens), then the other columns that
    the body's `extract_features` layers read (NORM, say, which a tokenizer may set per token)."""
    columns: List[Union[int, str]] = [ORTH, SPACY]
    for layer in body:
        for node in layer.walk():
            if node.name == "extract_features":
                for column in node.attrs["columns"]:
                    attr = intify_attr(column)
                    if attr not in columns:
                        columns.append(attr)
    return columns


def window_doc(doc: Doc, columns: Sequence[Union[int, str]], rows: numpy.ndarray) -> Doc:
    """A Doc of the tokens whose `columns` (as in `token_columns`) are `rows`: it costs the window's length,
    where doc[low:high].as_doc() copies the whole doc's arrays every time."""
    # Doc takes ORTH ids as words (not in spaCy's stub): the lexemes are found without hashing texts.
    window = Doc(doc.vocab, words=rows[:, 0].tolist(), spaces=rows[:, 1].astype(bool).tolist())  # type: ignore[arg-type]
    if len(columns) > 2:
        window.from_array(list(columns[2:]), cast(Ints2d, numpy.ascontiguousarray(rows[:, 2:])))
    return window


def windowed_emissions(body: Sequence[Model], docs: Sequence[Doc], margin: int, window: int = WINDOW) -> List:
    """Each doc's emission scores (`body`: the layers before the CRF): docs of at most `window` tokens in
    one batch, a longer doc window by window, each seen with `margin` tokens of context either side. A long
    doc's token columns are read once; each window is a Doc of its own tokens (time and memory linear in the
    doc's length)."""
    out: List[Optional[Floats2d]] = [None] * len(docs)
    short = [i for i, doc in enumerate(docs) if len(doc) <= window]
    if short:
        for i, scores in zip(short, _predict(body, [docs[i] for i in short])):
            out[i] = scores
    columns = token_columns(body)
    for i, doc in enumerate(docs):
        if out[i] is not None:
            continue
        rows = doc.to_array(columns)
        pieces = []
        for start in range(0, len(doc), window):
            end = min(start + window, len(doc))
            low, high = max(0, start - margin), min(len(doc), end + margin)
            scores = _predict(body, [window_doc(doc, columns, rows[low:high])])[0]
            pieces.append(scores[start - low : end - low])
        out[i] = body[0].ops.xp.concatenate(pieces, axis=0)
    return out
