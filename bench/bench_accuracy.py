"""Accuracy on PKU and SXU test, in domain and out of domain: our models vs spacy-pkuseg vs jieba, one table.

Usage: python bench/bench_accuracy.py --ours-pku MODEL --ours-sxu MODEL [--label NAME]
           [--pkuseg-pku DIR --pkuseg-sxu DIR] [--no-jieba]

Each system segments each test input once and is scored with our bakeoff scorer against the gold, with the
test corpus's training word list for OOV recall. "in domain": trained on the same corpus as the test set (PKU:
the People's Daily 1998-01 proxy, see ../shared/data/pku/README.md); "out of domain": trained on the other
corpus (the two follow different segmentation standards: compare systems with each other, not with in-domain
figures). Models and pkuseg: trained with the last 2% of the training lines held out
(`bench/train_pkuseg.py`). jieba: its default dictionary, no training.
"""

import argparse
import datetime
import shlex
import tempfile
from pathlib import Path

from spacy_crf_lr.cws.bakeoff import score_files
from spacy_crf_lr.cws.sighan import read_lines, write_segmented

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TESTS = {
    "PKU": (
        DATA / "pku" / "pku_test.utf8",
        DATA / "pku" / "pku_test_gold.utf8",
        DATA / "pku" / "pku_training_words.utf8",
    ),
    "SXU": (
        DATA / "sxu" / "sxu_test.utf8",
        DATA / "sxu" / "sxu_test_gold.utf8",
        DATA / "sxu" / "sxu_training_words.utf8",
    ),
}


def ours(model: str):
    import spacy

    from spacy_crf_lr.run.parallel import words_of

    nlp = spacy.load(model)
    return lambda lines: words_of(nlp, lines, batch_size=256)


def pkuseg(model: str):
    import spacy_pkuseg

    seg = spacy_pkuseg.pkuseg(model_name=model, user_dict=None)
    return lambda lines: [seg.cut(line) for line in lines]


def jieba_cut(_model: str):
    import jieba

    return lambda lines: [[w for w in jieba.cut(line) if w.strip()] for line in lines]


def score(segment, test: str, tmp: str):
    source, gold, words = TESTS[test]
    out = Path(tmp) / f"{test}.txt"
    write_segmented(out, ([w for w in line if w.strip()] for line in segment(read_lines(source))))
    return score_files(gold, out, words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours-pku", required=True, help="our pipeline trained on the PKU proxy")
    parser.add_argument("--ours-sxu", required=True, help="our pipeline trained on SXU training")
    parser.add_argument("--label", default="ours", help="name of our system in the table")
    parser.add_argument("--pkuseg-pku", help="spacy-pkuseg model trained on the PKU proxy")
    parser.add_argument("--pkuseg-sxu", help="spacy-pkuseg model trained on SXU training")
    parser.add_argument("--no-jieba", action="store_true")
    args = parser.parse_args()
    systems = [(args.label, ours, args.ours_pku, args.ours_sxu)]
    if args.pkuseg_pku and args.pkuseg_sxu:
        systems.append(("spacy-pkuseg", pkuseg, args.pkuseg_pku, args.pkuseg_sxu))
    print(f"# {datetime.date.today()}: P / R / F / OOV recall, bakeoff scorer")
    print("| system | trained on | test | P | R | F | OOV recall |")
    print("|---|---|---|---:|---:|---:|---:|")
    runs = [
        (name, trained, load, model)
        for name, load, *models in systems
        for trained, model in zip(("PKU", "SXU"), models)
    ]
    if not args.no_jieba:
        runs.append(("jieba", "(its dictionary)", jieba_cut, ""))
    with tempfile.TemporaryDirectory() as tmp:
        for name, trained, load, model in runs:
            segment = load(model)
            for test in ("PKU", "SXU"):
                s = score(segment, test, tmp)
                print(
                    f"| {name} | {trained} | {test} | {s.precision:.3f} | {s.recall:.3f} | {s.f:.4f} "
                    f"| {s.oov_recall:.3f} |",
                    flush=True,
                )
    pk = f" --pkuseg-pku {args.pkuseg_pku} --pkuseg-sxu {args.pkuseg_sxu}" if args.pkuseg_pku else ""
    print(
        f"reproduce: python bench/bench_accuracy.py --ours-pku {args.ours_pku} --ours-sxu {args.ours_sxu} "
        f"--label {shlex.quote(args.label)}{pk}{' --no-jieba' if args.no_jieba else ''}"
    )


if __name__ == "__main__":
    main()
