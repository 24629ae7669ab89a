"""Head overhead: crf_segmenter with decoder = crf vs decoder = softmax on the same CNN encoder.

Usage: python bench/bench_head.py [--config configs/cnn_crf.cfg] [--lines 2000] [--repeats 5] [--model DIR]

Training: two pipelines from the same config (only `decoder` differs), initialised on the same
lines of the training proxy (../shared/data/pku/pd199801_train.utf8, or generated text when it is
absent), timed interleaved in characters/s (nlp.update on batches of ~2,000 characters). nlp.pipe:
characters/s on the PKU test input of one model (the CRF one trained here, or --model) decoded
both ways, so that both decoders build about the same words. nlp.pipe runs with the components'
probabilities on (token._.crf_prob: forward–backward marginals for the CRF, softmax scores for
softmax) and off (probabilities = false: the tags alone). Prints medians and the time ratios.
"""

import argparse
import datetime
import platform
import random
import statistics
import time
from pathlib import Path

import spacy
from spacy.util import load_config, load_model_from_config, registry

from spacy_crf_lr.cws.corpus import make_example
from spacy_crf_lr.cws.sighan import read_lines, read_segmented

ROOT = Path(__file__).resolve().parents[1]
PKU = ROOT.parent / "shared" / "data" / "pku"


def load_text(n_lines: int):
    """(training word lists, test lines): the PKU files when present, else generated."""
    if (PKU / "pd199801_train.utf8").is_file():
        train = [words for words in read_segmented(PKU / "pd199801_train.utf8")[:n_lines] if words]
        test = read_lines(PKU / "pku_test.utf8")
        return train, test
    rng = random.Random(0)
    vocab = ["".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(rng.randint(1, 3))) for _ in range(5000)]
    train = [[rng.choice(vocab) for _ in range(rng.randint(5, 40))] for _ in range(n_lines)]
    return train, ["".join(words) for words in train[: n_lines // 2]]


def build(config_path: Path, decoder: str, train):
    config = load_config(config_path, overrides={"vars.decoder": decoder}, interpolate=True)
    nlp = load_model_from_config(config, auto_fill=True)
    examples = [make_example(nlp, words) for words in train]
    optimizer = registry.resolve({"o": config["training"]["optimizer"]})["o"]
    nlp.initialize(lambda: examples, sgd=optimizer)
    return nlp, optimizer, examples


def batches(examples, n_chars=2000):
    batch, size = [], 0
    for eg in examples:
        batch.append(eg)
        size += len(eg.predicted)
        if size >= n_chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def time_training(nlp, optimizer, examples) -> float:
    start = time.perf_counter()
    for batch in batches(examples):
        nlp.update(batch, sgd=optimizer, drop=0.1)
    return time.perf_counter() - start


def time_pipe(nlp, texts, decoder: str, probabilities: bool) -> float:
    nlp.get_pipe("crf_segmenter").cfg.update(decoder=decoder, probabilities=probabilities)
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=256):
        pass
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "cnn_crf.cfg")
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", help="trained pipeline to time nlp.pipe on (default: the one trained here)")
    args = parser.parse_args()
    train, test = load_text(args.lines)
    n_train = sum(len("".join(w)) for w in train)
    n_test = sum(len(t) for t in test)
    models = {decoder: build(args.config, decoder, train) for decoder in ("softmax", "crf")}
    # nlp.pipe: one set of weights decoded both ways, so that both decoders find the same words
    # (the cost of building the words depends on them): the CRF-trained model, or --model.
    piped = spacy.load(args.model) if args.model else models["crf"][0]
    kinds = ("pipe", "pipe_no_probs", "train")
    times = {(d, kind): [] for d in models for kind in kinds}
    for _ in range(args.repeats):
        for decoder, (nlp, optimizer, examples) in models.items():
            times[decoder, "train"].append(time_training(nlp, optimizer, examples))
        for decoder in models:
            times[decoder, "pipe"].append(time_pipe(piped, test, decoder, probabilities=True))
            times[decoder, "pipe_no_probs"].append(time_pipe(piped, test, decoder, probabilities=False))
    median = {key: statistics.median(value) for key, value in times.items()}
    print(
        f"# {datetime.date.today()} {platform.machine()}, python {platform.python_version()}, spacy {spacy.__version__}"
    )
    print(
        f"# config {args.config.name}; train {n_train} chars ({len(train)} lines), pipe {n_test} chars; "
        f"median of {args.repeats} interleaved repeats"
    )
    print(f"{'decoder':8} {'pipe chars/s':>13} {'(no probs)':>11} {'train chars/s':>14}")
    for decoder in models:
        print(
            f"{decoder:8} {n_test / median[decoder, 'pipe']:13,.0f} {n_test / median[decoder, 'pipe_no_probs']:11,.0f} "
            f"{n_train / median[decoder, 'train']:14,.0f}"
        )
    for kind in kinds:
        print(f"time ratio crf / softmax, {kind}: {median['crf', kind] / median['softmax', kind]:.3f}")
    config = "" if args.config == ROOT / "configs" / "cnn_crf.cfg" else f" --config {args.config}"
    model = f" --model {args.model}" if args.model else ""
    print(f"reproduce: python bench/bench_head.py{config} --lines {args.lines} --repeats {args.repeats}{model}")


if __name__ == "__main__":
    main()
