"""thinc's bundled BLIS gemm vs numpy's BLAS, at the Maxout shapes of the CNN configs, and `nlp.pipe` of a model
with each (side by side, alternating rounds; the ratio is the figure, the machine's load hits both alike).

Usage: python bench/bench_gemm.py [--model MODEL] [--rounds 5]
(set OPENBLAS_NUM_THREADS=1 for one thread each: BLIS here runs single-threaded)
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy
from thinc.api import NumpyOps

PKU_TEST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pku" / "pku_test.utf8"
OPS = {"blis": NumpyOps(), "numpy": NumpyOps(use_blis=False)}


def time_gemm(ops: NumpyOps, x: numpy.ndarray, w: numpy.ndarray, reps: int = 10) -> float:
    ops.gemm(x, w, trans2=True)
    start = time.perf_counter()
    for _ in range(reps):
        ops.gemm(x, w, trans2=True)
    return (time.perf_counter() - start) / reps


def time_pipe(nlp, lines, ops: NumpyOps) -> float:
    for node in nlp.get_pipe("crf_segmenter").model.walk():
        node.ops = ops
    list(nlp.pipe(lines[:200], batch_size=256))
    start = time.perf_counter()
    list(nlp.pipe(lines, batch_size=256))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a crf_segmenter pipeline: also time nlp.pipe on the PKU test input")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = numpy.random.default_rng(0)
    # width 64, window 1 (3 × 64 inputs), 3 maxout pieces; a batch of 256 PKU test lines is ~11,000 characters
    x = rng.random((11000, 192), dtype="float32")
    w = rng.random((192, 192), dtype="float32")
    gemm = {name: [] for name in OPS}
    for _ in range(args.rounds):
        for name, ops in OPS.items():
            gemm[name].append(time_gemm(ops, x, w))
    print("| what | BLIS | numpy | BLIS / numpy |")
    print("|---|---:|---:|---:|")
    blis, npy = statistics.median(gemm["blis"]), statistics.median(gemm["numpy"])
    print(f"| gemm 11000×192 · 192×192 (ms) | {blis * 1e3:.1f} | {npy * 1e3:.1f} | {blis / npy:.2f} |")
    if args.model:
        import spacy

        nlp = spacy.load(args.model)
        lines = PKU_TEST.read_text(encoding="utf8").splitlines()
        chars = sum(map(len, lines))
        pipe = {name: [] for name in OPS}
        for _ in range(args.rounds):
            for name, ops in OPS.items():
                pipe[name].append(time_pipe(nlp, lines, ops))
        blis, npy = statistics.median(pipe["blis"]), statistics.median(pipe["numpy"])
        print(f"| nlp.pipe, PKU test (chars/s) | {chars / blis:,.0f} | {chars / npy:,.0f} | {blis / npy:.2f} |")
    print(f"\nmedians of {args.rounds} rounds; reproduce: python bench/bench_gemm.py --model {args.model or 'MODEL'}")


if __name__ == "__main__":
    main()
