"""Long documents: time and peak RSS of crf_segmenter on one doc of 100,000 to 5,000,000 characters.

Usage: python bench/bench_long_doc.py [--model MODEL] [--sizes 100000 400000 1000000 2000000 5000000] [--check]
    [--pku DIR]

Each size runs in a fresh subprocess (its own peak RSS); the last line gives the cost per character of the
largest doc over that of the smallest. The doc is the PKU test text repeated. The
tokenizer is spacy_crf_lr.CharTokenizer.v1 (the same tokens as spaCy's zh "char" one, in linear time;
--spacy-tokenizer keeps the model's). --check also segments the largest doc whole (no windows) and says
whether the words and probabilities are the same. Without --model a small segmenter of the default recipe
is trained for a minute on the PKU training sample.
"""

import argparse
import hashlib
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKU = ROOT.parent / "shared" / "data" / "pku"  # the default of --pku: the corpora beside the checkout


def make_model(path: Path, pku: Path) -> None:
    import random

    import spacy

    from spacy_crf_lr.cws.corpus import make_example
    from spacy_crf_lr.cws.sighan import read_lines, split_words

    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_segmenter")
    lines = [line for line in read_lines(pku / "pku_training_sample1951.utf8") if line.strip()][:600]
    examples = [make_example(nlp, split_words(line)) for line in lines]
    optimizer = nlp.initialize(lambda: examples)
    for epoch in range(3):
        random.Random(epoch).shuffle(examples)
        for i in range(0, len(examples), 32):
            nlp.update(examples[i : i + 32], sgd=optimizer)
    nlp.to_disk(path)


def worker(model: str, n_chars: int, spacy_tokenizer: bool, whole: bool, pku: Path) -> None:
    import spacy

    import spacy_crf_lr.pipeline.base as base
    from spacy_crf_lr.cws.sighan import read_lines
    from spacy_crf_lr.cws.tokenizer import CharTokenizer

    if whole:
        base.WINDOW = 1 << 62
    nlp = spacy.load(model)
    if not spacy_tokenizer:
        nlp.tokenizer = CharTokenizer(nlp.vocab)
    text = "\n".join(line for line in read_lines(pku / "pku_test.utf8"))
    while len(text) < n_chars:
        text += text
    text = text[:n_chars]
    nlp.max_length = len(text)  # spaCy's default refuses texts over 1,000,000 characters (E088)
    start = time.perf_counter()
    doc = nlp(text)
    seconds = time.perf_counter() - start
    digest = hashlib.sha1(json.dumps([(t.idx, round(t._.crf_prob, 6)) for t in doc]).encode()).hexdigest()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"chars": len(text), "words": len(doc), "seconds": seconds, "peak_rss_mb": peak, "digest": digest})
    )


def run(args, n_chars: int, whole: bool = False) -> dict:
    command = [sys.executable, __file__, "--model", args.model, "--worker", str(n_chars), "--pku", str(args.pku)]
    command += ["--spacy-tokenizer"] * args.spacy_tokenizer + ["--whole"] * whole
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 400_000, 1_000_000, 2_000_000, 5_000_000])
    parser.add_argument(
        "--pku", type=Path, default=PKU, help="folder of pku_test.utf8 and pku_training_sample1951.utf8"
    )
    parser.add_argument("--spacy-tokenizer", action="store_true")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--worker", type=int)
    parser.add_argument("--whole", action="store_true")
    args = parser.parse_args()
    if args.worker:
        return worker(args.model, args.worker, args.spacy_tokenizer, args.whole, args.pku)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.model:
            args.model = str(Path(tmp) / "model")
            make_model(Path(args.model), args.pku)
        tokenizer = "the model's" if args.spacy_tokenizer else "spacy_crf_lr.CharTokenizer.v1"
        print(f"# {platform.machine()}, python {platform.python_version()}; tokenizer: {tokenizer}")
        print(f"# python bench/bench_long_doc.py {' '.join(sys.argv[1:])}")
        print(
            "| characters | words | seconds | µs/char | × the smallest | peak RSS (MB) |\n|---:|---:|---:|---:|---:|---:|"
        )
        results = [run(args, n) for n in args.sizes]
        base = results[0]["seconds"] / results[0]["chars"]
        for r in results:
            per_char = r["seconds"] / r["chars"]
            print(
                f"| {r['chars']:,} | {r['words']:,} | {r['seconds']:.1f} | {1e6 * per_char:.1f} | {per_char / base:.2f} | {r['peak_rss_mb']:,.0f} |",
                flush=True,
            )
        ratio = (results[-1]["seconds"] / results[-1]["chars"]) / base
        print(f"cost per character, {results[-1]['chars']:,} over {results[0]['chars']:,} characters: {ratio:.2f}")
        if args.check:
            whole = run(args, args.sizes[-1], whole=True)
            same = whole["digest"] == results[-1]["digest"]
            print(
                f"whole doc of {whole['chars']:,} characters: {whole['seconds']:.1f} s, peak RSS {whole['peak_rss_mb']:,.0f} MB; same words and probabilities as in windows: {same}"
            )


if __name__ == "__main__":
    main()
