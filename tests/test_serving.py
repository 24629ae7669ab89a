"""Long runs: each batch of lines is segmented in a memory zone, so the vocab's strings and the memory stay bounded."""

import os
import random

import pytest
import spacy

from spacy_crf_lr.run.parallel import words_of

BATCHES, LINES = 20, 500
STRINGS_SLACK = 50  # strings the store may gain after the first batch (labels or settings loaded lazily)
RSS_SLACK_MB = 20  # measured: ~7 MB with a zone per batch, ~35 MB without, over batches 2 to 20


def random_cjk_lines(rng: random.Random, n: int):
    """n lines of 5 to 30 random characters of U+4E00..U+9FFF: almost every word is new."""
    return ["".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(rng.randint(5, 30))) for _ in range(n)]


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


@pytest.fixture
def nlp(tiny_segmenter):
    return spacy.load(tiny_segmenter)


def test_many_batches_of_new_words_keep_the_strings_and_memory_bounded(nlp):
    """words_of is what `segment`, its worker processes and the Ray actors run on each batch of lines."""
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("RSS is read from /proc (Linux)")
    rng = random.Random(0)
    sizes = []
    for _ in range(BATCHES):
        lines = random_cjk_lines(rng, LINES)
        words = words_of(nlp, lines, 100)
        assert ["".join(line_words) for line_words in words] == lines
        sizes.append((len(nlp.vocab.strings), rss_mb()))
    (first_strings, first_rss), (last_strings, last_rss) = sizes[0], sizes[-1]
    assert last_strings - first_strings <= STRINGS_SLACK, sizes
    assert last_rss - first_rss < RSS_SLACK_MB, sizes


def test_a_memory_zone_the_caller_opened_stays_open_and_its_docs_usable(nlp):
    """Zones do not nest: inside the caller's zone, words_of opens none, so the caller's Docs keep their strings."""
    rng = random.Random(1)
    with nlp.memory_zone():
        doc = nlp("龘靐齉爩")
        words_of(nlp, random_cjk_lines(rng, 20), 4)
        assert nlp.vocab.in_memory_zone
        assert [token.text for token in doc] and doc.text == "龘靐齉爩"
    assert not nlp.vocab.in_memory_zone


def test_the_ray_actor_keeps_the_strings_bounded(tiny_segmenter):
    """The SegmentWords actor's call, without a Ray cluster: a batch of texts in, a words column out."""
    pyarrow = pytest.importorskip("pyarrow")
    from spacy_crf_lr.run.ray_engine import SegmentWords

    actor = SegmentWords(str(tiny_segmenter), "text", 100, gpu=False)
    rng = random.Random(2)
    sizes = []
    for _ in range(5):
        lines = random_cjk_lines(rng, LINES)
        out = actor(pyarrow.table({"text": lines}))
        assert ["".join(words) for words in out.column("words").to_pylist()] == lines
        sizes.append(len(actor.nlp.vocab.strings))
    assert sizes[-1] - sizes[0] <= STRINGS_SLACK, sizes
