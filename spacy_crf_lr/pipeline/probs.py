"""`token._.crf_prob` and `token._.crf_probs`: label probabilities kept by character offsets, per component.

A component's probabilities are stored in `doc.user_data` under `(PROB_KEY, component name)` as three arrays
of its tokens in order: start chars, end chars (trailing whitespace left out) and probabilities. A token finds
its value by binary search on its start, so a probability stays with exactly those characters when a later
component merges or splits tokens (a token over other characters has none), two CRF components never overwrite
each other, and the store costs 24 bytes a token (one entry per token cost ~250 on a long doc). It is kept by
Doc.to_bytes and DocBin (srsly's msgpack writes numpy arrays). `COMPONENTS_KEY` lists the components that wrote,
last one last.
"""

from typing import Dict, Optional, Sequence, Tuple, Union

import numpy
from spacy.attrs import IDX, SPACY
from spacy.tokens import Doc, Token

PROB_KEY = "spacy_crf_lr.prob"
COMPONENTS_KEY = "spacy_crf_lr.prob_components"
Offsets = Tuple[Union[Sequence[int], numpy.ndarray], Union[Sequence[int], numpy.ndarray]]


def text_length(doc: Doc) -> int:
    """len(doc.text), without building the text."""
    return doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0


def token_offsets(doc: Doc) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Character offsets (start, end) of each token, trailing whitespace left out."""
    starts, trailing = doc.to_array([IDX, SPACY]).astype("int64").reshape(-1, 2).T
    return starts, numpy.append(starts[1:], text_length(doc)) - trailing


def set_probs(
    doc: Doc,
    component: str,
    probs: Optional[Union[Sequence[float], numpy.ndarray]],
    offsets: Optional[Offsets] = None,
) -> None:
    """Record component's probability of each token's label (None: not computed) and make it the last writer;
    `offsets`: the tokens' (start, end) character offsets as in `token_offsets`, if known."""
    names = [name for name in doc.user_data.get(COMPONENTS_KEY, ()) if name != component]
    doc.user_data[COMPONENTS_KEY] = (*names, component)
    doc.user_data.pop((PROB_KEY, component), None)
    if probs is None or not len(doc):
        return
    starts, ends = token_offsets(doc) if offsets is None else offsets
    # copies: a view would keep its whole batch's array alive with the doc
    doc.user_data[(PROB_KEY, component)] = (
        numpy.array(starts, "int64"),
        numpy.array(ends, "int64"),
        numpy.array(probs),
    )


def crf_prob(token: Token, component: Optional[str] = None) -> Optional[float]:
    """Probability that component (default: the last CRF component that ran) gave this token's label;
    None if it did not label exactly these characters, or did not compute probabilities."""
    user_data = token.doc.user_data
    if component is None:
        names = user_data.get(COMPONENTS_KEY)
        if not names:
            return None
        component = names[-1]
    stored = user_data.get((PROB_KEY, component))
    if stored is None:
        return None
    starts, ends, probs = stored  # a list after Doc.from_bytes, which reads user data values with use_list
    i = int(numpy.searchsorted(starts, token.idx))
    if i == len(starts) or starts[i] != token.idx or ends[i] != token.idx + len(token):
        return None
    return float(probs[i])


def crf_probs(token: Token) -> Dict[str, Optional[float]]:
    """The probability of this token's label from each CRF component that ran, by component name."""
    return {name: crf_prob(token, name) for name in token.doc.user_data.get(COMPONENTS_KEY, ())}


if not Token.has_extension("crf_prob"):
    Token.set_extension("crf_prob", getter=crf_prob)
if not Token.has_extension("crf_probs"):
    Token.set_extension("crf_probs", getter=crf_probs)
