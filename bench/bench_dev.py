"""Dev P/R/F with OOV and IV recall of trained segmenters, OOV meaning "not a word of the training part": the
split SighanCorpus trains on (the last `holdout` of the file's lines are dev), so the figures say how the model
does on words it never saw in training, which spaCy's dev scores (OOV against the official word list) cannot.

Usage: python bench/bench_dev.py --train FILE [--holdout 0.02] MODEL [MODEL ...]
"""

import argparse

from spacy_crf_lr.cws.bakeoff import score_lines
from spacy_crf_lr.cws.parallel import words_of
from spacy_crf_lr.cws.sighan import read_segmented, select_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="the SIGHAN training file the models were trained on")
    parser.add_argument("--holdout", type=float, default=0.02)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    import spacy

    lines = read_segmented(args.train)
    train_words = {word for i in select_lines(len(lines), args.holdout, "train") for word in lines[i]}
    gold = [lines[i] for i in select_lines(len(lines), args.holdout, "dev") if lines[i]]
    texts = ["".join(words) for words in gold]
    print(f"dev: {len(gold)} lines, {sum(map(len, gold))} words; OOV = not among the training part's words")
    print("| model | P | R | F | OOV rate | OOV recall | IV recall |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for model in args.models:
        score = score_lines(gold, words_of(spacy.load(model), texts, 256), train_words)
        print(
            f"| {model} | {score.precision:.4f} | {score.recall:.4f} | {score.f:.4f} | {score.oov_rate:.4f} "
            f"| {score.oov_recall:.4f} | {score.iv_recall:.4f} |"
        )
    print(f"reproduce: python bench/bench_dev.py --train {args.train} --holdout {args.holdout} {' '.join(args.models)}")


if __name__ == "__main__":
    main()
