"""Scaling of nlp.pipe: time and peak memory for 1×, 4×, 16× the PKU test input and single docs of 25,000, 50,000 and 100,000 characters.

Usage: python bench/bench_scaling.py --model training/cnn_crf/model-best

Each size runs in a fresh subprocess (so the peak RSS is its own); the per-character time should
stay flat if the cost grows linearly.
"""

import argparse
import datetime
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from spacy_crf_lr.cws.sighan import read_lines

ROOT = Path(__file__).resolve().parents[1]
PKU = ROOT.parent / "shared" / "data" / "pku"


def texts_for(case: str):
    lines = [line for line in read_lines(PKU / "pku_test.utf8") if line]
    if case.startswith("single_"):  # one doc of N thousand characters
        n_chars = 1000 * int(case[len("single_") : -1])
        text = "".join(lines)
        while len(text) < n_chars:
            text += text
        return [text[:n_chars]]
    return lines * int(case.rstrip("x"))


def worker(model: str, case: str):
    import spacy

    nlp = spacy.load(model)
    texts = texts_for(case)
    start = time.perf_counter()
    n_tokens = sum(len(doc) for doc in nlp.pipe(texts, batch_size=256))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "chars": sum(map(len, texts)),
                "docs": len(texts),
                "words": n_tokens,
                "seconds": seconds,
                "peak_rss_mb": peak,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "training" / "cnn_crf" / "model-best"))
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        return worker(args.model, args.worker)
    print(f"# {datetime.date.today()} {platform.machine()}, python {platform.python_version()}; model {args.model}")
    print("| input | docs | characters | seconds | µs/char | peak RSS (MB) |\n|---|---:|---:|---:|---:|---:|")
    for case in ("1x", "4x", "16x", "single_25k", "single_50k", "single_100k"):
        out = subprocess.run(
            [sys.executable, __file__, "--model", args.model, "--worker", case],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {case} | {r['docs']:,} | {r['chars']:,} | {r['seconds']:.1f} | {1e6 * r['seconds'] / r['chars']:.1f} | {r['peak_rss_mb']:,.0f} |",
            flush=True,
        )
    print(f"reproduce: python bench/bench_scaling.py --model {args.model}")


if __name__ == "__main__":
    main()
