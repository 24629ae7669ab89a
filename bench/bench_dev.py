"""Dev P/R/F with OOV and IV recall of trained segmenters, OOV meaning "not a word of the training part": the
split SighanCorpus trains on (the last `holdout` of the file's lines are dev), so the figures say how the model
does on words it never saw in training, which spaCy's dev scores (OOV against the official word list) cannot.

Usage: python bench/bench_dev.py --train FILE [--holdout 0.02] [--ensemble] MODEL [MODEL ...]

--ensemble adds a row for the ensemble of the models (`spacy_crf_lr.ensemble_pipeline`: their emission scores
averaged under the mean of their CRF scores, as `python -m spacy_crf_lr ensemble` saves it).
"""

import argparse

from spacy_crf_lr.cws.bakeoff import score_lines
from spacy_crf_lr.cws.sighan import read_segmented, select_lines
from spacy_crf_lr.run.parallel import words_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="the SIGHAN training file the models were trained on")
    parser.add_argument("--holdout", type=float, default=0.02)
    parser.add_argument("--ensemble", action="store_true", help="also score the ensemble of the models")
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    import spacy

    from spacy_crf_lr.pipeline.ensemble import ensemble_pipeline

    lines = read_segmented(args.train)
    train_words = {word for i in select_lines(len(lines), args.holdout, "train") for word in lines[i]}
    gold = [lines[i] for i in select_lines(len(lines), args.holdout, "dev") if lines[i]]
    texts = ["".join(words) for words in gold]
    print(f"dev: {len(gold)} lines, {sum(map(len, gold))} words; OOV = not among the training part's words")
    print("| model | P | R | F | OOV rate | OOV recall | IV recall |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    nlps = {model: spacy.load(model) for model in args.models}
    if args.ensemble:
        nlps[f"ensemble of {len(args.models)}"] = ensemble_pipeline(list(nlps.values()))
    for model, nlp in nlps.items():
        score = score_lines(gold, words_of(nlp, texts, 256), train_words)
        print(
            f"| {model} | {score.precision:.4f} | {score.recall:.4f} | {score.f:.4f} | {score.oov_rate:.4f} "
            f"| {score.oov_recall:.4f} | {score.iv_recall:.4f} |"
        )
    ensemble = " --ensemble" if args.ensemble else ""
    print(
        f"reproduce: python bench/bench_dev.py --train {args.train} --holdout {args.holdout}{ensemble} {' '.join(args.models)}"
    )


if __name__ == "__main__":
    main()
