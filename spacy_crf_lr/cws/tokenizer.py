"""`spacy_crf_lr.CharTokenizer.v1`: one token per character, as spaCy's zh "char" segmenter makes them,
in linear time (spaCy's aligns each character by slicing the rest of the text: quadratic in a doc's length)."""

import re
from typing import Callable, List

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import DummyTokenizer, registry
from spacy.vocab import Vocab

_WHITESPACE = re.compile(r"\s+")


class CharTokenizer(DummyTokenizer):
    """A token per non-whitespace character; a single space after a character is its trailing whitespace,
    any other run of whitespace is one token (the same Doc as spacy.zh.ChineseTokenizer, segmenter "char")."""

    def __init__(self, vocab: Vocab):
        self.vocab = vocab

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
        return Doc(self.vocab, words=words, spaces=spaces)


@registry.tokenizers("spacy_crf_lr.CharTokenizer.v1")
def create_char_tokenizer() -> Callable[[Language], CharTokenizer]:
    """Character tokenizer for crf_segmenter pipelines: spaCy's zh "char" tokens, in linear time."""
    return lambda nlp: CharTokenizer(nlp.vocab)
