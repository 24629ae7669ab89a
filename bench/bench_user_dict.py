"""Domain adaptation with a user dictionary, the way pkuseg users do it, and the dictionary's cost in nlp.pipe.

Accuracy (default): a PKU-trained crf_segmenter and a PKU-trained spacy-pkuseg model segment the SXU test
input without and with the SXU training word list as user dictionary (ours: `add_words`; pkuseg:
`pkuseg(model_name=..., user_dict=...)`); each output is scored with our bakeoff scorer against the SXU
gold and the SXU training word list (OOV recall).

    python bench/bench_user_dict.py --model training/cnn_crf/model-best --pkuseg PKUSEG_MODEL_DIR

Speed (--speed N): nlp.pipe time on the SXU test input without a dictionary and with the first N words
of jieba's dictionary (a large general word list) added, alternating runs, medians of --repeats.

    python bench/bench_user_dict.py --model training/cnn_crf/model-best --speed 100000
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DEFAULT = next(
    (p for p in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data") if p.is_dir()),
    ROOT.parent / "shared" / "data",
)


def score(gold: Path, lines, words: Path):
    from spacy_crf_lr.cws.bakeoff import score_files
    from spacy_crf_lr.cws.sighan import write_segmented

    with tempfile.TemporaryDirectory() as tmp:
        pred = Path(tmp) / "pred.utf8"
        write_segmented(pred, lines)
        return score_files(gold, pred, words)


def ours(model: str, lines, user_words=None, mode="force"):
    import spacy

    from spacy_crf_lr.run.parallel import words_of

    nlp = spacy.load(model, config={"components": {"crf_segmenter": {"user_words_mode": mode}}})
    if user_words:
        nlp.get_pipe("crf_segmenter").add_words(user_words)
    return words_of(nlp, lines, batch_size=256)


def pkuseg(model: str, lines, user_dict=None):
    import spacy_pkuseg

    seg = spacy_pkuseg.pkuseg(model_name=model, user_dict=str(user_dict) if user_dict else None)
    return [seg.cut(line) if line.strip() else [] for line in lines]


def accuracy(args) -> None:
    from spacy_crf_lr.cws.dictionary import read_user_words
    from spacy_crf_lr.cws.sighan import read_lines

    sxu = args.data / "sxu"
    lines, user_path = read_lines(sxu / "sxu_test.utf8"), sxu / "sxu_training_words.utf8"
    gold, words = sxu / "sxu_test_gold.utf8", sxu / "sxu_training_words.utf8"
    user_words = [w for w in read_user_words(user_path) if len(w) >= args.min_length]
    if args.min_length > 1:  # the same filtered list for pkuseg
        user_path = Path(tempfile.mkdtemp()) / f"sxu_words_min{args.min_length}.utf8"
        user_path.write_text("".join(w + "\n" for w in user_words), encoding="utf-8")
    jobs = []  # (system, with a user dictionary, segment)
    if not args.skip_ours:
        jobs.append(("spacy-crf-lr", False, lambda: ours(args.model, lines)))
        jobs += [
            (f"spacy-crf-lr ({mode})", True, lambda mode=mode: ours(args.model, lines, user_words, mode))
            for mode in args.modes.split(",")
        ]
    if args.pkuseg:
        jobs.append(("spacy-pkuseg", False, lambda: pkuseg(args.pkuseg, lines)))
        jobs.append(("spacy-pkuseg", True, lambda: pkuseg(args.pkuseg, lines, user_path)))
    rows = []
    for name, with_dict, run in jobs:
        start = time.perf_counter()
        result = score(gold, run(), words)
        rows.append((name, with_dict, result, time.perf_counter() - start))
        print(f"done: {name} user dictionary={with_dict}", file=sys.stderr)
    print(f"SXU test, scored against sxu_test_gold.utf8 with sxu_training_words.utf8 ({len(user_words)} words)")
    print("| system | user dictionary | P | R | F | OOV recall | IV recall | seconds |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, with_dict, s, seconds in rows:
        label = (
            ("sxu_training_words.utf8" + (f", words of >= {args.min_length} chars" if args.min_length > 1 else ""))
            if with_dict
            else "none"
        )
        print(
            f"| {name} | {label} | {s.precision:.3f} | {s.recall:.3f} | {s.f:.3f} | {s.oov_recall:.3f} "
            f"| {s.iv_recall:.3f} | {seconds:.0f} |"
        )
    baselines = {row[0].split(" (")[0]: row[2] for row in rows if not row[1]}
    for name, _, after, _ in (row for row in rows if row[1]):
        before = baselines[name.split(" (")[0]]
        print(
            f"{name}: F {before.f:.3f} -> {after.f:.3f} ({after.f - before.f:+.3f}), "
            f"OOV recall {before.oov_recall:.3f} -> {after.oov_recall:.3f} ({after.oov_recall - before.oov_recall:+.3f})"
        )
    print("reproduce: python bench/bench_user_dict.py " + " ".join(sys.argv[1:]))


def jieba_words(n: int):
    import jieba

    path = Path(jieba.__file__).parent / "dict.txt"
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split(" ", 1)[0]
        if word and not any(c.isspace() for c in word):
            words.append(word)
        if len(words) == n:
            break
    return words


def speed(args) -> None:
    import spacy

    from spacy_crf_lr.cws.sighan import read_lines

    lines = read_lines(args.data / "sxu" / "sxu_test.utf8")
    n_chars = sum(map(len, lines))
    plain, with_dict = spacy.load(args.model), spacy.load(args.model)
    words = jieba_words(args.speed)
    start = time.perf_counter()
    with_dict.get_pipe("crf_segmenter").add_words(words)
    build = time.perf_counter() - start
    times = {"none": [], "dict": []}
    for _ in range(args.repeats):
        for key, nlp in (("none", plain), ("dict", with_dict)):
            start = time.perf_counter()
            for _doc in nlp.pipe(lines, batch_size=256):
                pass
            times[key].append(time.perf_counter() - start)
    none, dictionary = statistics.median(times["none"]), statistics.median(times["dict"])
    print(f"nlp.pipe over sxu_test.utf8 ({len(lines)} lines, {n_chars} characters), medians of {args.repeats}:")
    print(f"  no dictionary: {none:.2f} s ({n_chars / none:,.0f} chars/s)")
    print(
        f"  {len(words)} user words: {dictionary:.2f} s ({n_chars / dictionary:,.0f} chars/s); ratio {dictionary / none:.3f}"
    )
    print(f"  building the dictionary (add_words): {build:.2f} s, once")
    print(f"  all times: {times}")
    print("reproduce: python bench/bench_user_dict.py " + " ".join(sys.argv[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a trained crf_segmenter pipeline (PKU)")
    parser.add_argument("--skip-ours", action="store_true", help="score pkuseg only")
    parser.add_argument("--min-length", type=int, default=1, help="use only dictionary words this long or longer")
    parser.add_argument("--pkuseg", help="a spacy-pkuseg model directory trained on the same PKU data")
    parser.add_argument("--modes", default="force", help="our user_words_mode(s) to score, comma-separated")
    parser.add_argument("--data", type=Path, default=DATA_DEFAULT, help="folder holding sxu/ (default: %(default)s)")
    parser.add_argument("--speed", type=int, default=0, help="time nlp.pipe with this many user words instead")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    speed(args) if args.speed else accuracy(args)


if __name__ == "__main__":
    main()
