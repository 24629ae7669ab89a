"""End-to-end segmentation of the PKU test input: our model vs spacy-pkuseg vs jieba.

Usage: python bench/bench_segment.py --model training/cnn_crf/model-best [--model ...] --pkuseg PKUSEG_MODEL_DIR [--repeats 3]

Each system runs in its own subprocess (so peak RSS is its own), with 1 and with 2 processes;
the output is scored with our bakeoff scorer against pku_test_gold.utf8 and the training word
list. Figures: P, R, F, OOV recall, characters/s (median of --repeats), peak RSS (largest process).
jieba uses its default dictionary (no training); spacy-pkuseg is loaded with user_dict=None.
"""

import argparse
import datetime
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spacy_crf_lr.bakeoff import score_files
from spacy_crf_lr.sighan import read_lines, write_segmented

ROOT = Path(__file__).resolve().parents[1]
PKU = ROOT.parent / "shared" / "data" / "pku"


def segment_ours(model: str, lines, n_process: int):
    import spacy

    nlp = spacy.load(model)
    docs = nlp.pipe(lines, batch_size=256, n_process=n_process)
    return [[t.text for t in doc if not t.is_space] for doc in docs]


def segment_pkuseg(model: str, lines, n_process: int):
    import spacy_pkuseg

    if n_process == 1:
        seg = spacy_pkuseg.pkuseg(model_name=model, user_dict=None)
        return [seg.cut(line) for line in lines]
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.txt", Path(tmp) / "out.txt"
        src.write_text("\n".join(lines) + "\n", encoding="utf8")
        spacy_pkuseg.test(str(src), str(out), model_name=model, user_dict=None, nthread=n_process)
        return [line.split() for line in out.read_text(encoding="utf8").split("\n")[: len(lines)]]


def segment_jieba(_model: str, lines, n_process: int):
    import jieba

    jieba.initialize()
    if n_process > 1:
        jieba.enable_parallel(n_process)
    result = [[]]
    for word in jieba.cut("\n".join(lines)):
        if word.strip("\n"):
            result[-1].append(word)
        else:
            result.extend([] for _ in word)  # one new line per newline character
    return result


SYSTEMS = {"ours": segment_ours, "pkuseg": segment_pkuseg, "jieba": segment_jieba}


def worker(system: str, model: str, input_path: str, output_path: str, n_process: int):
    """Segment in this process, write the output and print timing and peak RSS as JSON."""
    lines = read_lines(input_path)
    start = time.perf_counter()
    words = SYSTEMS[system](model, lines, n_process)
    seconds = time.perf_counter() - start
    write_segmented(output_path, ([w for w in line if w.strip()] for line in words))
    rss_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"seconds": seconds, "chars": sum(len(line) for line in lines), "peak_rss_mb": rss_kb / 1024}))


def measure(system, model, n_process, repeats, tmp):
    runs = []
    out = Path(tmp) / f"{system}_{n_process}.txt"
    for _ in range(repeats):
        cmd = [sys.executable, __file__, "--worker", system, "--model-path", model or "", "--out", str(out), "--n-process", str(n_process)]
        runs.append(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]))
    score = score_files(PKU / "pku_test_gold.utf8", out, PKU / "pku_training_words.utf8")
    seconds = statistics.median(r["seconds"] for r in runs)
    return {
        "P": score.precision, "R": score.recall, "F": score.f, "OOV_R": score.oov_recall,
        "chars_per_s": runs[0]["chars"] / seconds, "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="our trained pipeline (repeatable)")
    parser.add_argument("--pkuseg", required=False, help="directory of a spacy-pkuseg model trained on the proxy")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", choices=list(SYSTEMS))
    parser.add_argument("--model-path")
    parser.add_argument("--out")
    parser.add_argument("--n-process", type=int, default=1)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.model_path, str(PKU / "pku_test.utf8"), args.out, args.n_process)
    models = args.model or [str(ROOT / "training" / "cnn_crf" / "model-best")]
    systems = [("ours", model) for model in models] + [("jieba", None)] + ([("pkuseg", args.pkuseg)] if args.pkuseg else [])
    print(f"# {datetime.date.today()} {platform.machine()} ({_cpu()}), python {platform.python_version()}; "
          f"PKU test input {sum(len(x) for x in read_lines(PKU / 'pku_test.utf8'))} chars; median of {args.repeats}")
    print(f"| system | processes | P | R | F | OOV recall | chars/s | peak RSS (MB) |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in systems:
            for n_process in (1, 2):
                r = measure(name, model, n_process, args.repeats, tmp)
                label = f"ours ({Path(model).parent.name})" if name == "ours" else name
                print(f"| {label} | {n_process} | {r['P']:.3f} | {r['R']:.3f} | {r['F']:.3f} | {r['OOV_R']:.3f} "
                      f"| {r['chars_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} |", flush=True)
    model_args = " ".join(f"--model {model}" for model in models)
    print(f"reproduce: python bench/bench_segment.py {model_args} --pkuseg {args.pkuseg} --repeats {args.repeats}")


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    main()
