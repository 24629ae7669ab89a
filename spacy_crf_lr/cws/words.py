"""Words on character-tokenized Docs: BMES tags from reference words, word starts from tags,
and character tokens turned into words (merged in place, or as a new Doc)."""

from bisect import bisect_right
from typing import List, Optional, Sequence

import numpy
from spacy.attrs import IDX, IS_SPACE, SPACY
from spacy.tokens import Doc
from spacy.training import Example

from .partial import UNKNOWN_SPANS

BMES = ("B", "M", "E", "S")
WORD_STARTS = frozenset("BS")  # a word starts at B or S ...
WORD_ENDS = frozenset("ES")  # ... and after E or S
MERGES_PER_BLOCK = 256
# Token annotations that a new Doc of the words would lose: docs carrying any are merged in place.
TOKEN_ANNOTATIONS = ("TAG", "POS", "MORPH", "LEMMA", "DEP", "ENT_IOB", "SENT_START")


def char_tags(example: Example) -> List[Optional[str]]:
    """BMES tag of each token of example.predicted from the reference words, by
    character offsets; None for a token that straddles a word boundary or lies in a stretch
    of unknown segmentation (the reference's span group UNKNOWN_SPANS, see cws/partial.py)."""
    words = example.reference
    starts = [t.idx for t in words]
    unknown = sorted((span.start_char, span.end_char) for span in words.spans.get(UNKNOWN_SPANS, []))
    unknown_starts = [start for start, _ in unknown]
    tags: List[Optional[str]] = []
    for token in example.predicted:
        start, end = token.idx, token.idx + len(token)
        u = bisect_right(unknown_starts, start) - 1
        if unknown and (u >= 0 and start < unknown[u][1] or u + 1 < len(unknown) and unknown[u + 1][0] < end):
            tags.append(None)
            continue
        w = bisect_right(starts, start) - 1
        if w < 0 or end > words[w].idx + len(words[w]) or token.is_space:
            tags.append("S" if token.is_space else None)
            continue
        word_start, word_end = words[w].idx, words[w].idx + len(words[w])
        tags.append(("S" if end == word_end else "B") if start == word_start else ("E" if end == word_end else "M"))
    return tags


def word_starts(doc: Doc, tags: Sequence[str]) -> List[int]:
    """Indices of the tokens that start a word. Whitespace never joins a word:
    a space token stands alone, and no word runs past a token's trailing space."""
    if not len(doc):
        return []
    flags = doc.to_array([IS_SPACE, SPACY]).astype(bool)
    apart = flags[:, 0] | flags[:, 1]  # a space token, or a token followed by a space
    tags = numpy.asarray(tags)
    starts = numpy.isin(tags, list(WORD_STARTS))
    starts[1:] |= flags[1:, 0] | apart[:-1] | numpy.isin(tags[:-1], list(WORD_ENDS))
    starts[0] = True
    return numpy.flatnonzero(starts).tolist()


def merge_words(doc: Doc, starts: Sequence[int]) -> None:
    """Merge the tokens of each word (`starts`: index of each word's first token) in place.
    Spans go to the retokenizer in blocks, last block first so that earlier indices stay
    valid: Retokenizer.merge compares each span with a list of the block's earlier ones, so one
    block for a whole long doc would cost time quadratic in its length."""
    spans = [(start, end) for start, end in zip(starts, list(starts[1:]) + [len(doc)]) if end - start > 1]
    for block_end in range(len(spans), 0, -MERGES_PER_BLOCK):
        with doc.retokenize() as retokenizer:
            for start, end in spans[max(0, block_end - MERGES_PER_BLOCK) : block_end]:
                retokenizer.merge(doc[start:end])


def is_plain(doc: Doc) -> bool:
    """True if the doc holds tokens and doc-level data only: no token annotations, spans or tensor."""
    return not doc.spans and not doc.tensor.size and not any(doc.has_annotation(a) for a in TOKEN_ANNOTATIONS)


def token_offsets(doc: Doc):
    """Start and end character offset of each token (int64 arrays; the end excludes a trailing space)."""
    offsets, trailing = doc.to_array([IDX, SPACY]).astype("int64").reshape(-1, 2).T
    return offsets, numpy.append(offsets[1:], len(doc.text)) - trailing


def word_texts(doc: Doc, starts: Sequence[int]):
    """Text of each word (`starts`: index of each word's first token) and whether a space follows it."""
    if not len(doc):
        return [], []
    text = doc.text
    offsets, token_ends = token_offsets(doc)
    trailing = doc.to_array([SPACY]).astype(bool).reshape(-1)
    starts = numpy.asarray(starts, dtype="int64")
    last = numpy.append(starts[1:], len(doc)) - 1  # each word's last token
    words = [text[a:b] for a, b in zip(offsets[starts].tolist(), token_ends[last].tolist())]
    return words, trailing[last].tolist()


def words_doc(doc: Doc, starts: Sequence[int]) -> Doc:
    """A new Doc whose tokens are the words of `doc` (`starts`: index of each word's first token),
    with the same text and doc-level data: user_data (extension values, which are keyed by
    character offset), cats, user hooks and the context of nlp.pipe(as_tuples=True)."""
    words, trailing = word_texts(doc, starts)
    new = Doc(doc.vocab, words=words, spaces=trailing, user_data=dict(doc.user_data))
    new.cats = dict(doc.cats)
    new.user_hooks.update(doc.user_hooks)
    new.user_token_hooks.update(doc.user_token_hooks)
    new.user_span_hooks.update(doc.user_span_hooks)
    new._context = doc._context
    return new
