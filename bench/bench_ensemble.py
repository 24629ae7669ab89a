"""Dev P/R/F of an ensemble of trained segmenters (their emission, transition, start and end scores averaged,
then Viterbi-decoded) beside each member's own, OOV meaning "not a word of the training part" (as bench_dev.py).

Usage: python bench/bench_ensemble.py --train FILE [--holdout 0.02] MODEL MODEL [MODEL ...]

The members must share their labels (the same scheme); each one keys the text with its own tokenizer and
features, so members may differ in config and seed.
"""

import argparse
from typing import List

from spacy_crf_lr.crf.chain_ops import ChainScores, viterbi
from spacy_crf_lr.cws.bakeoff import score_lines
from spacy_crf_lr.cws.parallel import words_of
from spacy_crf_lr.cws.sighan import read_segmented, select_lines
from spacy_crf_lr.cws.words import word_starts

BATCH = 256


def mean_scores(members: List[ChainScores]) -> ChainScores:
    """The members' scores averaged (their lengths are the same)."""

    def mean(name: str):
        return sum(getattr(member, name) for member in members) / len(members)

    return ChainScores(mean("emissions"), members[0].lengths, mean("transitions"), mean("start"), mean("end"))


def ensemble_words(nlps, texts: List[str]) -> List[List[str]]:
    """The words of each text under the members' averaged scores."""
    pipes = [nlp.get_pipe("crf_segmenter") for nlp in nlps]
    labels = pipes[0].labels
    if any(pipe.labels != labels for pipe in pipes):
        raise ValueError(f"Ensemble members must share their labels, got {[pipe.labels for pipe in pipes]}.")
    ops = pipes[0].chain_ops
    words: List[List[str]] = []
    for i in range(0, len(texts), BATCH):
        batch = texts[i : i + BATCH]
        docs = [[nlp.make_doc(text) for text in batch] for nlp in nlps]
        scores = mean_scores([pipe.model.predict(member_docs).to(ops) for pipe, member_docs in zip(pipes, docs)])
        paths = ops.to_numpy(viterbi(ops, scores)[0])
        for row, doc in enumerate(docs[0]):
            starts = word_starts(doc, [labels[tag] for tag in paths[row, : len(doc)]])
            words.append([doc[a:b].text for a, b in zip(starts, starts[1:] + [len(doc)])])
    return words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="the SIGHAN training file the models were trained on")
    parser.add_argument("--holdout", type=float, default=0.02)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    if len(args.models) < 2:
        parser.error(f"an ensemble needs at least 2 models, got {len(args.models)}")
    import spacy

    lines = read_segmented(args.train)
    train_words = {word for i in select_lines(len(lines), args.holdout, "train") for word in lines[i]}
    gold = [lines[i] for i in select_lines(len(lines), args.holdout, "dev") if lines[i]]
    texts = ["".join(words) for words in gold]
    nlps = [spacy.load(model) for model in args.models]
    print(f"dev: {len(gold)} lines, {sum(map(len, gold))} words; OOV = not among the training part's words")
    print("| model | P | R | F | OOV recall | IV recall |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [(model, words_of(nlp, texts, BATCH)) for model, nlp in zip(args.models, nlps)]
    rows.append((f"ensemble of {len(nlps)}", ensemble_words(nlps, texts)))
    for name, pred in rows:
        score = score_lines(gold, pred, train_words)
        print(
            f"| {name} | {score.precision:.4f} | {score.recall:.4f} | {score.f:.4f} | {score.oov_recall:.4f} "
            f"| {score.iv_recall:.4f} |"
        )
    print(
        f"reproduce: python bench/bench_ensemble.py --train {args.train} --holdout {args.holdout} {' '.join(args.models)}"
    )


if __name__ == "__main__":
    main()
