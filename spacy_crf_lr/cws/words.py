"""Words on character-tokenized Docs: BMES tags from reference words, word starts from tags,
and character tokens turned into words (merged in place, or as a new Doc)."""

from bisect import bisect_right
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy
import regex
from spacy.attrs import IDX, IS_SPACE, ORTH, SPACY
from spacy.tokens import Doc
from spacy.training import Example

from .partial import UNKNOWN_SPANS

BMES = ("B", "M", "E", "S")
MERGES_PER_BLOCK = 256
# Token annotations that a new Doc of the words would lose: docs carrying any are merged in place.
TOKEN_ANNOTATIONS = ("TAG", "POS", "MORPH", "LEMMA", "DEP", "ENT_IOB", "SENT_START")
# Every extended grapheme cluster (UAX #29) of two or more characters holds a character whose
# Grapheme_Cluster_Break is not Other, so runs of those (and a character either side) are all \X must see.
_NOT_OTHER = regex.compile(r"[^\p{Grapheme_Cluster_Break=Other}]+")
_CLUSTER = regex.compile(r"\X")
_JOIN = {"E": "M", "S": "B"}  # a word's last tag when the next character joins it ...
_JOINED = {"B": "M", "S": "E"}  # ... and the joining character's tag


def cluster_continuations(text: str) -> numpy.ndarray:
    """Sorted offsets of the characters of text that continue an extended grapheme cluster (a combining
    mark, ZWJ sequence, variation selector, emoji modifier, second regional indicator, Hangul jamo ...)."""
    windows: List[List[int]] = []
    for match in _NOT_OTHER.finditer(text):
        start, end = max(match.start() - 1, 0), min(match.end() + 1, len(text))
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    inside: List[int] = []
    for start, end in windows:
        for cluster in _CLUSTER.finditer(text, start, end):
            inside.extend(range(cluster.start() + 1, cluster.end()))
    return numpy.array(inside, dtype="int64")


def doc_texts(docs: Iterable[Doc]) -> List[str]:
    """The docs' texts, built from the token arrays with one string lookup per distinct token text
    (doc.text makes a Token object per token: slow on long docs)."""
    strings: Dict[Any, str] = {}  # ORTH id -> text (spaCy's stubs type to_array as floats)
    texts = []
    for doc in docs:
        orths, spaces = doc.to_array([ORTH, SPACY]).reshape(-1, 2).T.tolist()
        strings.update((orth, doc.vocab.strings[orth]) for orth in set(orths).difference(strings))
        pieces = list(map(strings.__getitem__, orths))
        if any(spaces):
            pieces = [piece + " " if space else piece for piece, space in zip(pieces, spaces)]
        texts.append("".join(pieces))
    return texts


def doc_text(doc: Doc) -> str:
    """doc.text, built from the token arrays (see `doc_texts`)."""
    return doc_texts([doc])[0]


def tokens_inside_clusters(doc: Doc, text: Optional[str] = None) -> numpy.ndarray:
    """Boolean mask of the tokens that begin inside an extended grapheme cluster (not at its start);
    `text`: doc's text, if known."""
    inside = cluster_continuations(doc_text(doc) if text is None else text)
    if not inside.size:
        return numpy.zeros((len(doc),), dtype=bool)
    return numpy.isin(doc.to_array([IDX]).reshape(-1).astype("int64"), inside)


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
    return _join_clusters(example.predicted, tags)


def _join_clusters(doc: Doc, tags: List[Optional[str]]) -> List[Optional[str]]:
    """Tags that never start a word inside a grapheme cluster: a gold word boundary inside one
    (say, before a combining mark) is dropped, the way the segmenter will never predict it."""
    for i in numpy.flatnonzero(tokens_inside_clusters(doc)).tolist():
        if i and tags[i] in _JOINED and tags[i - 1] in _JOIN and not doc[i].is_space and not doc[i - 1].is_space:
            tags[i - 1], tags[i] = _JOIN[tags[i - 1]], _JOINED[tags[i]]
    return tags


def word_starts(doc: Doc, tags: Union[Sequence[str], numpy.ndarray], text: Optional[str] = None) -> List[int]:
    """Indices of the tokens that start a word. Whitespace never joins a word: a space token stands
    alone, and no word runs past a token's trailing space. Otherwise no word starts inside an
    extended grapheme cluster (UAX #29): a combining mark or emoji modifier stays with its base.
    `text`: doc's text, if known."""
    if not len(doc):
        return []
    flags = doc.to_array([IS_SPACE, SPACY]).astype(bool)
    apart = flags[:, 0] | flags[:, 1]  # a space token, or a token followed by a space
    tags = numpy.asarray(tags)
    starts = (tags == "B") | (tags == "S")  # a word starts at B or S ...
    starts[1:] |= (tags[:-1] == "E") | (tags[:-1] == "S")  # ... and after E or S
    starts &= ~tokens_inside_clusters(doc, text)
    starts[1:] |= flags[1:, 0] | apart[:-1]
    starts[0] = True
    return numpy.flatnonzero(starts).tolist()


def word_offsets(doc: Doc, starts: Sequence[int], text: Optional[str] = None) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """Character offsets (start, end) of each word (`starts`: index of each word's first token);
    a word's end leaves out its trailing whitespace. `text`: doc's text, if known."""
    offsets, trailing = doc.to_array([IDX, SPACY]).astype("int64").reshape(-1, 2).T
    first = numpy.asarray(starts, dtype="int64")
    begins = offsets[first]
    last = numpy.append(first[1:], len(doc)) - 1  # each word's last token
    ends = numpy.append(begins[1:], text_length(doc) if text is None else len(text)) - trailing[last]
    return begins, ends


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


def is_plain(doc: Doc, spans: bool = True) -> bool:
    """True if the doc holds tokens and doc-level data only: no token annotations or tensor, and
    (with spans = True) no span groups or entities; spans = False ignores both (they are kept by offsets)."""
    annotations = TOKEN_ANNOTATIONS if spans else tuple(a for a in TOKEN_ANNOTATIONS if a != "ENT_IOB")
    return not (spans and doc.spans) and not doc.tensor.size and not any(doc.has_annotation(a) for a in annotations)


def text_length(doc: Doc) -> int:
    """len(doc.text), without building the text."""
    return doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0


def word_texts(doc: Doc, starts: Sequence[int]) -> List[str]:
    """Text of each word (`starts`: index of each word's first token)."""
    if not len(doc):
        return []
    text = doc_text(doc)
    begins, ends = word_offsets(doc, starts, text)
    return [text[a:b] for a, b in zip(begins.tolist(), ends.tolist())]


def words_doc(doc: Doc, text: str, begins: numpy.ndarray, ends: numpy.ndarray) -> Doc:
    """A new Doc whose tokens are the words of `doc` (whose text is `text`; `begins`, `ends`: the words'
    offsets, see `word_offsets`), with the same text and doc-level data: user_data (extension values, which
    are keyed by character offset), cats, user hooks and the context of nlp.pipe(as_tuples=True)."""
    words = [text[a:b] for a, b in zip(begins.tolist(), ends.tolist())]
    spaces = (numpy.append(begins[1:], len(text)) > ends).tolist()
    new = Doc(doc.vocab, words=words, spaces=spaces, user_data=dict(doc.user_data))
    new.cats = dict(doc.cats)
    new.user_hooks.update(doc.user_hooks)
    new.user_token_hooks.update(doc.user_token_hooks)
    new.user_span_hooks.update(doc.user_span_hooks)
    # Private spaCy slot: nlp.pipe(as_tuples=True) pairs each output Doc with its context through it, and
    # spaCy has no public setter. tests/test_architecture.py fails loudly if an upgrade removes it.
    new._context = doc._context
    return new
