"""Words on character-tokenized Docs: BMES tags from reference words, word starts from tags,
and character tokens turned into words (merged in place, or as a new Doc)."""

from bisect import bisect_right
from typing import List, Optional, Sequence

import numpy
from spacy.attrs import IDX, IS_SPACE, SPACY
from spacy.tokens import Doc
from spacy.training import Example

BMES = ("B", "M", "E", "S")
WORD_STARTS = frozenset("BS")  # a word starts at B or S ...
WORD_ENDS = frozenset("ES")  # ... and after E or S
MERGES_PER_BLOCK = 256
# Token annotations that a new Doc of the words would lose: docs carrying any are merged in place.
TOKEN_ANNOTATIONS = ("TAG", "POS", "MORPH", "LEMMA", "DEP", "ENT_IOB", "SENT_START")


def char_tags(example: Example) -> List[Optional[str]]:
    """BMES tag of each token of example.predicted from the reference words, by
    character offsets; None for a token that straddles a word boundary."""
    words = example.reference
    starts = [t.idx for t in words]
    tags: List[Optional[str]] = []
    for token in example.predicted:
        start, end = token.idx, token.idx + len(token)
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


def words_doc(doc: Doc, starts: Sequence[int]) -> Doc:
    """A new Doc whose tokens are the words of `doc` (`starts`: index of each word's first token),
    with the same text and doc-level data: user_data (extension values, which are keyed by
    character offset), cats, user hooks and the context of nlp.pipe(as_tuples=True)."""
    text = doc.text
    offsets, trailing = doc.to_array([IDX, SPACY]).astype("int64").T
    starts = numpy.asarray(starts, dtype="int64")
    last = numpy.append(starts[1:], len(doc)) - 1  # each word's last token
    ends = numpy.append(offsets[starts[1:]], len(text)) - trailing[last]
    words = [text[a:b] for a, b in zip(offsets[starts].tolist(), ends.tolist())]
    new = Doc(doc.vocab, words=words, spaces=trailing[last].astype(bool).tolist(), user_data=dict(doc.user_data))
    new.cats = dict(doc.cats)
    new.user_hooks.update(doc.user_hooks)
    new.user_token_hooks.update(doc.user_token_hooks)
    new.user_span_hooks.update(doc.user_span_hooks)
    # Private spaCy slot: nlp.pipe(as_tuples=True) pairs each output Doc with its context through it, and
    # spaCy has no public setter. tests/test_architecture.py fails loudly if an upgrade removes it.
    new._context = doc._context
    return new
