"""The part of `nlp.pipe` around the model (tokenizer, then CRFSegmenter.segment: texts, word starts, the Doc
of the words, spans, probabilities), side by side for two or more source trees, e.g. before and after a change.

Usage: python bench/bench_segment_parts.py --model MODEL --tree /tmp/old --tree . [--rounds 5] [--reps 5]

A tree is a directory holding a `spacy_crf_lr` package (an older revision: `git archive REV spacy_crf_lr |
tar -x -C /tmp/old`). Each round runs one subprocess per tree, in turn (the machine's load hits them alike);
a subprocess predicts the tags of the PKU test lines once, then times `reps` times, after a warm-up: the
tokenizer plus `segment` on the kept predictions ("non-model"), and the whole `nlp.pipe`, keeping the docs.
It prints, per tree, the median over rounds of each subprocess's fastest and median repetition (seconds).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKU_TEST = ROOT.parent / "shared" / "data" / "pku" / "pku_test.utf8"


def worker(model: str, reps: int) -> None:
    import spacy
    from spacy.util import minibatch

    lines = PKU_TEST.read_text(encoding="utf8").splitlines()
    nlp = spacy.load(model)
    segmenter = nlp.get_pipe("crf_segmenter")
    batches = list(minibatch(lines, 256))
    predictions = [segmenter.predict([nlp.make_doc(line) for line in batch]) for batch in batches]

    def non_model():
        return [
            doc
            for batch, batch_predictions in zip(batches, predictions)
            for doc in segmenter.segment([nlp.make_doc(line) for line in batch], batch_predictions)
        ]

    def whole():
        return list(nlp.pipe(lines, batch_size=256))

    times: dict = {"non_model": [], "whole": []}
    non_model(), whole()  # warm-up: the words' lexemes
    for _ in range(reps):
        for name, run in (("non_model", non_model), ("whole", whole)):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    print(json.dumps({name: [min(t), statistics.median(t)] for name, t in times.items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--tree", action="append", required=True, help="directory holding spacy_crf_lr (repeatable)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.model, args.reps)
    results: dict = {tree: [] for tree in args.tree}
    for _ in range(args.rounds):
        for tree in args.tree:
            env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve()), "OMP_NUM_THREADS": "1"}
            cmd = [sys.executable, __file__, "--worker", "--model", args.model, "--tree", tree]
            out = subprocess.run([*cmd, "--reps", str(args.reps)], env=env, check=True, capture_output=True, text=True)
            results[tree].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("| tree | non-model fastest | non-model median | whole pipe fastest | whole pipe median |")
    print("|---|---:|---:|---:|---:|")
    for tree, runs in results.items():
        cells = [statistics.median(run[name][i] for run in runs) for name in ("non_model", "whole") for i in (0, 1)]
        print(f"| {tree} | " + " | ".join(f"{cell:.3f}" for cell in cells) + " |")


if __name__ == "__main__":
    main()
