"""crf_tagger vs spaCy's softmax tagger on the same CNN tok2vec and data: pipe and update time.

Usage: python bench/bench_tagger.py [--docs 2000] [--repeats 5]
Prints the medians of interleaved repeats and the ratios crf_tagger / tagger.
"""

import argparse
import platform
import random
import statistics
import time

import spacy
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import fix_random_seed, registry

CNN = {
    "@architectures": "spacy.HashEmbedCNN.v2",
    "pretrained_vectors": None,
    "width": 96,
    "depth": 4,
    "embed_size": 2000,
    "window_size": 1,
    "maxout_pieces": 3,
    "subword_features": True,
}
TAGS = ["NOUN", "VERB", "ADJ", "ADV", "DET", "ADP", "PRON", "PUNCT", "NUM", "CONJ", "PART", "X"]


def make_examples(nlp, n_docs: int, seed: int = 0):
    """Random sentences (5-40 words, 2,000-word vocabulary) with one tag per word type."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(2000)]
    tag_of = {w: rng.choice(TAGS) for w in vocab}
    examples = []
    for _ in range(n_docs):
        words = [rng.choice(vocab) for _ in range(rng.randint(5, 40))]
        ref = Doc(nlp.vocab, words=words, tags=[tag_of[w] for w in words])
        examples.append(Example(nlp.make_doc(" ".join(words)), ref))
    return examples


def build(factory: str, examples):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe(factory, name="tagger", config={"model": {"tok2vec": CNN}})
    optimizer = registry.resolve({"o": {"@optimizers": "spacy_crf_lr.Adam.v1", "learn_rate": 1e-3, "crf_lr": 1e-2}})[
        "o"
    ]
    nlp.initialize(lambda: examples, sgd=optimizer)
    return nlp, optimizer


def time_update(nlp, optimizer, examples, batch_size=64) -> float:
    start = time.perf_counter()
    for i in range(0, len(examples), batch_size):
        nlp.update(examples[i : i + batch_size], sgd=optimizer, losses={})
    return time.perf_counter() - start


def time_pipe(nlp, texts) -> float:
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=256):
        pass
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    examples = make_examples(spacy.blank("en"), args.docs)
    texts = [eg.reference.text for eg in examples]
    n_words = sum(len(eg.reference) for eg in examples)
    models = {name: build(factory, examples) for name, factory in (("tagger", "tagger"), ("crf_tagger", "crf_tagger"))}
    times = {(name, kind): [] for name in models for kind in ("pipe", "update")}
    for _ in range(args.repeats):  # interleaved, so drifts in machine speed hit both alike
        for name, (nlp, optimizer) in models.items():
            times[name, "update"].append(time_update(nlp, optimizer, examples))
            times[name, "pipe"].append(time_pipe(nlp, texts))
    print(
        f"# {platform.processor() or platform.machine()}, python {platform.python_version()}, "
        f"spacy {spacy.__version__}; {args.docs} docs, {n_words} words, {args.repeats} repeats (median)"
    )
    print(f"{'':12} {'pipe words/s':>14} {'update words/s':>16}")
    for name in models:
        pipe, update = (statistics.median(times[name, kind]) for kind in ("pipe", "update"))
        print(f"{name:12} {n_words / pipe:14,.0f} {n_words / update:16,.0f}")
    for kind in ("pipe", "update"):
        ratio = statistics.median(times["crf_tagger", kind]) / statistics.median(times["tagger", kind])
        print(f"time ratio crf_tagger / tagger, {kind}: {ratio:.3f}")
    print("reproduce: python bench/bench_tagger.py " + f"--docs {args.docs} --repeats {args.repeats}")


if __name__ == "__main__":
    main()
