"""Train a spacy-pkuseg model on the training part of a SIGHAN file (the same lines our configs train on).

Usage: python bench/train_pkuseg.py --train ../shared/data/pku/pd199801_train.utf8 --out pkuseg_pku [--holdout 0.02] [--iters 10]

The last `holdout` of the lines are left out, as `spacy_crf_lr.SighanCorpus.v1` holds them out for dev; pkuseg
is given the dev lines as its own test file (it only prints scores on them).
"""

import argparse
import tempfile
import time
from pathlib import Path

import spacy_pkuseg

from spacy_crf_lr.cws.sighan import read_segmented, select_lines, write_segmented


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="SIGHAN training file (words separated by spaces)")
    parser.add_argument("--out", required=True, help="directory for the pkuseg model")
    parser.add_argument("--holdout", type=float, default=0.02)
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args()
    sentences = read_segmented(args.train)
    with tempfile.TemporaryDirectory() as tmp:
        train, dev = Path(tmp, "train.utf8"), Path(tmp, "dev.utf8")
        write_segmented(
            train, [sentences[i] for i in select_lines(len(sentences), args.holdout, "train") if sentences[i]]
        )
        write_segmented(dev, [sentences[i] for i in select_lines(len(sentences), args.holdout, "dev") if sentences[i]])
        Path(args.out).mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        spacy_pkuseg.train(str(train), str(dev), args.out, train_iter=args.iters)
    print(f"trained in {time.perf_counter() - start:.0f} s -> {args.out}")
    print(
        f"reproduce: python bench/train_pkuseg.py --train {args.train} --out {args.out} "
        f"--holdout {args.holdout} --iters {args.iters}"
    )


if __name__ == "__main__":
    main()
