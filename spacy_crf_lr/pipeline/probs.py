"""`token._.crf_prob` and `token._.crf_probs`: label probabilities kept by character offsets, per component.

A component's probability of a token's label is stored in `doc.user_data` under
`(PROB_KEY, component name, start char, end char)`, so that it stays with those characters when a
later component merges or splits tokens (a token over other characters has none), and two CRF
components never overwrite each other. `COMPONENTS_KEY` lists the components that wrote, last one last.
"""

from itertools import repeat
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy
from spacy.attrs import IDX, SPACY
from spacy.tokens import Doc, Token

PROB_KEY = "spacy_crf_lr.prob"
COMPONENTS_KEY = "spacy_crf_lr.prob_components"


def text_length(doc: Doc) -> int:
    """len(doc.text), without building the text."""
    return doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0


def token_offsets(doc: Doc) -> Tuple[List[int], List[int]]:
    """Character offsets (start, end) of each token, trailing whitespace left out."""
    starts, trailing = doc.to_array([IDX, SPACY]).astype("int64").reshape(-1, 2).T
    return starts.tolist(), (numpy.append(starts[1:], text_length(doc)) - trailing).tolist()


def set_probs(
    doc: Doc,
    component: str,
    probs: Optional[Union[Sequence[float], numpy.ndarray]],
    offsets: Optional[Tuple[Sequence[int], Sequence[int]]] = None,
) -> None:
    """Record component's probability of each token's label (None: not computed) and make it the last writer;
    `offsets`: the tokens' (start, end) character offsets as in `token_offsets`, if known."""
    names = [name for name in doc.user_data.get(COMPONENTS_KEY, ()) if name != component]
    doc.user_data[COMPONENTS_KEY] = (*names, component)
    for key in [key for key in doc.user_data if isinstance(key, tuple) and key[:2] == (PROB_KEY, component)]:
        del doc.user_data[key]
    if probs is None or not len(doc):
        return
    starts, ends = token_offsets(doc) if offsets is None else offsets
    keys = zip(repeat(PROB_KEY), repeat(component), starts, ends)
    user_data: Dict[Any, Any] = doc.user_data  # keyed by tuples, like spaCy's own extension values
    user_data.update(zip(keys, numpy.asarray(probs).tolist()))


def crf_prob(token: Token, component: Optional[str] = None) -> Optional[float]:
    """Probability that component (default: the last CRF component that ran) gave this token's label;
    None if it did not label exactly these characters, or did not compute probabilities."""
    if component is None:
        names = token.doc.user_data.get(COMPONENTS_KEY)
        if not names:
            return None
        component = names[-1]
    return token.doc.user_data.get((PROB_KEY, component, token.idx, token.idx + len(token)))


def crf_probs(token: Token) -> Dict[str, Optional[float]]:
    """The probability of this token's label from each CRF component that ran, by component name."""
    return {name: crf_prob(token, name) for name in token.doc.user_data.get(COMPONENTS_KEY, ())}


if not Token.has_extension("crf_prob"):
    Token.set_extension("crf_prob", getter=crf_prob)
if not Token.has_extension("crf_probs"):
    Token.set_extension("crf_probs", getter=crf_probs)
