"""`spacy_crf_lr.CharTokenizer.v1`: one token per character, as spaCy's zh "char" segmenter makes them,
in linear time (spaCy's aligns each character by slicing the rest of the text: quadratic in a doc's length)."""

import re
from typing import Callable, Dict, List

from spacy.attrs import ORTH
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import DummyTokenizer, registry
from spacy.vocab import Vocab

_WHITESPACE = re.compile(r"\s+")
ORTH_CACHE_SIZE = 1 << 16  # token texts whose ORTH id a tokenizer keeps (emptied when full)


class CharTokenizer(DummyTokenizer):
    """A token per non-whitespace character; a single space after a character is its trailing whitespace,
    any other run of whitespace is one token (the same Doc as spacy.zh.ChineseTokenizer, segmenter "char")."""

    def __init__(self, vocab: Vocab):
        self.vocab = vocab
        self._orths: Dict[str, int] = {}  # token text -> ORTH id, learned from the Docs made

    def __call__(self, text: str) -> Doc:
        words: List[str] = []
        spaces: List[bool] = []
        position = 0
        for run in _WHITESPACE.finditer(text):
            start, end = run.span()
            if start > position:
                words.extend(text[position:start])
                spaces.extend([False] * (start - position))
                if text[start] == " ":
                    spaces[-1] = True
                    start += 1
            if end > start:
                words.append(text[start:end])
                spaces.append(False)
            position = end
        words.extend(text[position:])
        spaces.extend([False] * (len(text) - position))
        return self._doc(words, spaces)

    def _doc(self, words: List[str], spaces: List[bool]) -> Doc:
        """Doc(vocab, words, spaces), from the words' ORTH ids when all are known: Doc then finds their
        lexemes without hashing the texts (Doc takes ids too, though spaCy's stub says str)."""
        try:
            return Doc(self.vocab, words=[self._orths[word] for word in words], spaces=spaces)  # type: ignore[misc]
        except KeyError:  # a new text, or one whose string a memory zone removed from the vocab
            doc = Doc(self.vocab, words=words, spaces=spaces)
            if len(self._orths) > ORTH_CACHE_SIZE:
                self._orths.clear()
            self._orths.update(zip(words, doc.to_array(ORTH).tolist()))
            return doc


@registry.tokenizers("spacy_crf_lr.CharTokenizer.v1")
def create_char_tokenizer() -> Callable[[Language], CharTokenizer]:
    """Character tokenizer for crf_segmenter pipelines: spaCy's zh "char" tokens, in linear time."""
    return lambda nlp: CharTokenizer(nlp.vocab)
