"""Words on character-tokenized Docs: BMES tags from reference words, word starts from tags,
and character tokens turned into words (merged in place, or as a new Doc)."""

from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy
import regex
from spacy.attrs import IDX, IS_SPACE, LENGTH, ORTH, SPACY
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


class Words(NamedTuple):
    """A doc's text and its words, as arrays (8 bytes a word, where a list of ints costs 36): each word's
    first token, first character and end character (trailing whitespace left out), and its ORTH id (uint64)
    if it is one token (else 0)."""

    text: str
    starts: numpy.ndarray
    begins: numpy.ndarray
    ends: numpy.ndarray
    orths: numpy.ndarray

    def word_texts(self) -> List[str]:
        """Text of each word."""
        return [self.text[begin:end] for begin, end in zip(self.begins.tolist(), self.ends.tolist())]


def _texts(docs: Sequence[Doc], tokens: numpy.ndarray, sizes: Sequence[int]) -> Tuple[List[str], numpy.ndarray]:
    """The texts of docs (of one vocab) from `tokens`, the ORTH and SPACY of their tokens end to end (`sizes`
    tokens each), with one string lookup per distinct token text (doc.text makes a Token object per token);
    and each token's length, trailing whitespace included."""
    unique, inverse = numpy.unique(tokens[:, 0], return_inverse=True)
    strings = [docs[0].vocab.strings[orth] for orth in unique.tolist()]
    spaced = tokens[:, 1].astype(bool)
    pieces = numpy.array(strings, dtype=object)[inverse]
    pieces[spaced] += " "
    token_texts = pieces.tolist()
    bounds = numpy.cumsum([0, *sizes]).tolist()
    lengths = numpy.array([len(string) for string in strings], dtype="int64")[inverse] + spaced
    return ["".join(token_texts[a:b]) for a, b in zip(bounds, bounds[1:])], lengths


def doc_text(doc: Doc) -> str:
    """doc.text, built from the token arrays (see `_texts`)."""
    return _texts([doc], doc.to_array([ORTH, SPACY]).reshape(-1, 2), [len(doc)])[0][0]


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
    tokens = example.predicted.to_array([IDX, LENGTH, IS_SPACE]).reshape(-1, 3).astype("int64")
    starts, ends, space = tokens[:, 0], tokens[:, 0] + tokens[:, 1], tokens[:, 2].astype(bool)
    words = example.reference.to_array([IDX, LENGTH]).reshape(-1, 2).astype("int64")
    tags = numpy.full(len(tokens), None, dtype=object)
    if len(words):
        w = numpy.maximum(numpy.searchsorted(words[:, 0], starts, side="right") - 1, 0)
        word_start, word_end = words[w, 0], words[w, 0] + words[w, 1]
        inside = (word_start <= starts) & (ends <= word_end)
        letters = numpy.array(["M", "E", "B", "S"], dtype=object)
        tags[inside] = letters[(2 * (starts == word_start) + (ends == word_end))[inside]]
    tags[space] = "S"
    unknown = sorted((span.start_char, span.end_char) for span in example.reference.spans.get(UNKNOWN_SPANS, []))
    if unknown:
        bounds = numpy.array(unknown, dtype="int64")
        u = numpy.searchsorted(bounds[:, 0], starts, side="right") - 1
        in_stretch = (u >= 0) & (starts < bounds[numpy.maximum(u, 0), 1])
        next_start = numpy.append(bounds[:, 0], numpy.iinfo("int64").max)[u + 1]
        tags[in_stretch | (next_start < ends)] = None
    return _join_clusters(example.predicted, tags.tolist())


def _join_clusters(doc: Doc, tags: List[Optional[str]]) -> List[Optional[str]]:
    """Tags that never start a word inside a grapheme cluster: a gold word boundary inside one
    (say, before a combining mark) is dropped, the way the segmenter will never predict it."""
    for i in numpy.flatnonzero(tokens_inside_clusters(doc)).tolist():
        if i and tags[i] in _JOINED and tags[i - 1] in _JOIN and not doc[i].is_space and not doc[i - 1].is_space:
            tags[i - 1], tags[i] = _JOIN[tags[i - 1]], _JOINED[tags[i]]
    return tags


def doc_words(docs: Sequence[Doc], tags: Sequence[Union[Sequence[str], numpy.ndarray]]) -> List[Words]:
    """Each doc's text and words, from the BMES tag of each of its tokens (`tags`, per doc). Whitespace
    never joins a word: a space token stands alone, and no word runs past a token's trailing space.
    Otherwise no word starts inside an extended grapheme cluster (UAX #29): a combining mark or emoji
    modifier stays with its base. The numpy calls take the docs' tokens end to end (docs are often short)."""
    if not docs:
        return []
    if any(doc.vocab is not docs[0].vocab for doc in docs):  # docs of several vocabs: one at a time
        return [words for doc, doc_tags in zip(docs, tags) for words in doc_words([doc], [doc_tags])]
    arrays = [doc.to_array([ORTH, SPACY, IS_SPACE]).reshape(-1, 3) for doc in docs]
    sizes = [len(array) for array in arrays]
    tokens = numpy.concatenate(arrays)
    texts, lengths = _texts(docs, tokens, sizes)
    trailing, is_space = tokens[:, 1].astype(bool), tokens[:, 2].astype(bool)
    firsts = numpy.cumsum([0, *sizes])  # each doc's first token in the batch, then the batch's length
    tag = numpy.concatenate([numpy.asarray(doc_tags) for doc_tags in tags])
    starts = (tag == "B") | (tag == "S")  # a word starts at B or S ...
    starts[1:] |= (tag[:-1] == "E") | (tag[:-1] == "S")  # ... and after E or S
    for doc, text, first in zip(docs, texts, firsts.tolist()):
        if _NOT_OTHER.search(text):  # else no cluster holds two characters
            starts[first : first + len(doc)] &= ~tokens_inside_clusters(doc, text)
    apart = is_space | trailing  # a space token, or a token followed by a space
    starts[1:] |= is_space[1:] | apart[:-1]
    starts[firsts[firsts < len(starts)]] = True  # each doc's first token
    first = numpy.flatnonzero(starts)  # each word's first token ...
    last = numpy.append(first, len(starts))[1:] - 1  # ... and last token
    token_ends = numpy.cumsum(lengths)  # each token's end, trailing whitespace included, in the texts end to end
    word_firsts = numpy.searchsorted(first, firsts)  # each doc's first word, then the batch's number of words
    doc_of_word = numpy.repeat(numpy.arange(len(docs)), numpy.diff(word_firsts))
    shift = numpy.cumsum([0, *map(len, texts)])[doc_of_word]  # the first character of each word's doc
    starts_in_doc = first - firsts[doc_of_word]
    begins = token_ends[first] - lengths[first] - shift
    ends = token_ends[last] - trailing[last] - shift
    orths = numpy.where(first == last, tokens[first, 0], 0)
    return [
        Words(text, starts_in_doc[a:b], begins[a:b], ends[a:b], orths[a:b])
        for text, a, b in zip(texts, word_firsts.tolist(), word_firsts[1:].tolist())
    ]


def word_starts(doc: Doc, tags: Union[Sequence[str], numpy.ndarray]) -> List[int]:
    """Indices of the tokens that start a word (see `doc_words`)."""
    return doc_words([doc], [tags])[0].starts.tolist()


def merge_words(doc: Doc, starts: Union[Sequence[int], numpy.ndarray]) -> None:
    """Merge the tokens of each word (`starts`: index of each word's first token) in place.
    Spans go to the retokenizer in blocks, last block first so that earlier indices stay
    valid: Retokenizer.merge compares each span with a list of the block's earlier ones, so one
    block for a whole long doc would cost time quadratic in its length."""
    starts = list(map(int, starts))
    spans = [(start, end) for start, end in zip(starts, starts[1:] + [len(doc)]) if end - start > 1]
    for block_end in range(len(spans), 0, -MERGES_PER_BLOCK):
        with doc.retokenize() as retokenizer:
            for start, end in spans[max(0, block_end - MERGES_PER_BLOCK) : block_end]:
                retokenizer.merge(doc[start:end])


def is_plain(doc: Doc, spans: bool = True) -> bool:
    """True if the doc holds tokens and doc-level data only: no token annotations or tensor, and
    (with spans = True) no span groups or entities; spans = False ignores both (they are kept by offsets)."""
    annotations = TOKEN_ANNOTATIONS if spans else tuple(a for a in TOKEN_ANNOTATIONS if a != "ENT_IOB")
    return not (spans and doc.spans) and not doc.tensor.size and not any(doc.has_annotation(a) for a in annotations)


def words_doc(doc: Doc, words: Words) -> Doc:
    """A new Doc whose tokens are the `words` of `doc`, with the same text and doc-level data: user_data
    (extension values, which are keyed by character offset), cats, user hooks and the context of
    nlp.pipe(as_tuples=True)."""
    spaces = (words.ends < numpy.append(words.begins[1:], len(words.text))).tolist()
    # a one-token word as its ORTH id, which Doc takes too (not in spaCy's stub): no hashing of its text
    texts = [
        orth or words.text[begin:end]
        for orth, begin, end in zip(words.orths.tolist(), words.begins.tolist(), words.ends.tolist())
    ]
    new = Doc(doc.vocab, words=texts, spaces=spaces, user_data=dict(doc.user_data))  # type: ignore[arg-type]
    new.cats = dict(doc.cats)
    new.user_hooks.update(doc.user_hooks)
    new.user_token_hooks.update(doc.user_token_hooks)
    new.user_span_hooks.update(doc.user_span_hooks)
    # Private spaCy slot: nlp.pipe(as_tuples=True) pairs each output Doc with its context through it, and
    # spaCy has no public setter. tests/test_architecture.py fails loudly if an upgrade removes it.
    new._context = doc._context
    return new
