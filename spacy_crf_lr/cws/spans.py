"""Entities and span groups kept on the same characters while character tokens become words."""

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span, SpanGroup

# (start_char, end_char, label, kb_id, id) of a span
CharSpan = Tuple[int, int, str, str, str]


@dataclass
class SavedSpans:
    """A doc's entities and span groups by character offsets."""

    ents: List[CharSpan] = field(default_factory=list)
    outside: List[Tuple[int, int]] = field(default_factory=list)  # character ranges of tokens marked O
    has_ents: bool = False
    groups: Dict[str, Tuple[dict, List[CharSpan]]] = field(default_factory=dict)


def _char_span(span: Span) -> CharSpan:
    return span.start_char, span.end_char, span.label_, span.kb_id_, span.id_


def save_spans(doc: Doc, begins: Iterable[int], ends: Iterable[int]) -> Optional[SavedSpans]:
    """The doc's entities and span groups by character offsets, or None if it has none. Raises
    naming the span if one of its edges falls inside a word (`begins`/`ends`: the words' offsets)."""
    has_ents = doc.has_annotation("ENT_IOB")
    if not has_ents and not doc.spans:
        return None
    saved = SavedSpans(has_ents=has_ents)
    word_begins, word_ends = set(map(int, begins)), set(map(int, ends))
    if has_ents:
        saved.ents = [_char_span(ent) for ent in doc.ents]
        saved.outside = [(t.idx, t.idx + len(t)) for t in doc if t.ent_iob_ == "O"]
        _check_edges(doc, "doc.ents", saved.ents, word_begins, word_ends)
    for key, group in doc.spans.items():
        spans = [_char_span(span) for span in group]
        _check_edges(doc, f"doc.spans[{key!r}]", spans, word_begins, word_ends)
        saved.groups[key] = (dict(group.attrs), spans)
    return saved


def _check_edges(doc: Doc, where: str, spans: Sequence[CharSpan], word_begins: set, word_ends: set) -> None:
    """Raise if a span starts or ends inside a word."""
    for start, end, label, _, _ in spans:
        if start == end and (start in word_begins or start in word_ends):
            continue
        if start not in word_begins or end not in word_ends:
            raise ValueError(
                f"The span {doc.text[start:end]!r} (characters {start}-{end}, label {label!r}) of {where} "
                f"has an edge inside a word of the segmentation, so it cannot be kept on its characters. "
                f"Span edges must fall on word boundaries: run crf_segmenter before adding spans, "
                f"or remove this span."
            )


def clear_spans(doc: Doc) -> None:
    """Remove the doc's entities and span groups (before its tokens are merged)."""
    if doc.has_annotation("ENT_IOB"):
        doc.set_ents([], default="missing")
    doc.spans.clear()


def restore_spans(doc: Doc, saved: Optional[SavedSpans]) -> None:
    """Put saved entities and span groups back on the same characters of doc (its tokens now words)."""
    if saved is None:
        return
    if saved.has_ents:
        ents = [_span(doc, span) for span in saved.ents]
        outside_chars = {start for start, _ in saved.outside}
        inside = {t.i for ent in ents for t in ent}
        outside = [doc[t.i : t.i + 1] for t in doc if t.idx in outside_chars and t.i not in inside]
        doc.set_ents(ents, outside=outside, default="missing")
    for key, (attrs, spans) in saved.groups.items():
        doc.spans[key] = SpanGroup(doc, name=key, attrs=attrs, spans=[_span(doc, span) for span in spans])


def _span(doc: Doc, span: CharSpan) -> Span:
    """The span of doc on the given characters (their edges are word boundaries)."""
    start, end, label, kb_id, span_id = span
    result = doc.char_span(start, end, label=label, kb_id=kb_id, span_id=span_id)
    if result is None:  # an empty span, which char_span does not give
        token = next((t.i for t in doc if t.idx >= start), len(doc))
        result = Span(doc, token, token, label=label, kb_id=kb_id, span_id=span_id)
    return result
