"""End-to-end segmentation of the PKU test input: our model vs spacy-pkuseg vs jieba.

Usage: python bench/bench_segment.py --model training/cnn_crf/model-best [--model ...] --pkuseg PKUSEG_MODEL_DIR [--repeats 3]

Each system runs in its own subprocess (so peak RSS is its own), with 1 and with 2 processes, in rounds: each
round runs every system once, in turn, so that the machine's drift over minutes hits them alike, and the ratios
(ours / pkuseg, 2 processes / 1) are taken within each round, printed as their median and each round's value;
the output is scored with our bakeoff scorer against pku_test_gold.utf8 and the training word
list. Figures: P, R, F, OOV recall, characters/s of the segmentation once loaded, the load time
(imports included) and characters/s counting it (medians of --repeats), peak RSS (largest process).
Ours is spacy_crf_lr.parallel.segment_lines (what `python -m spacy_crf_lr segment --n-process N` runs) on
a pipeline loaded first: with 2 processes, worker processes forked inside the call inherit it and send back
words, so their start-up counts as segmentation time. spacy_pkuseg.test(nthread=2) loads its model inside the
segmentation call.
jieba uses its default dictionary (no training); spacy-pkuseg is loaded with user_dict=None.
"""

import argparse
import datetime
import importlib.util
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKU = ROOT.parent / "shared" / "data" / "pku"


def load_ours(model: str, n_process: int):
    import spacy

    from spacy_crf_lr.run.parallel import segment_lines

    nlp = spacy.load(model)
    # with 2 processes, the workers are forked inside the call and inherit the loaded model
    return lambda lines: list(segment_lines(nlp, lines, batch_size=256, n_process=n_process))


def load_pkuseg(model: str, n_process: int):
    import spacy_pkuseg

    if n_process == 1:
        seg = spacy_pkuseg.pkuseg(model_name=model, user_dict=None)
        return lambda lines: [seg.cut(line) for line in lines]

    def segment(lines):  # spacy_pkuseg.test loads the model in its worker processes
        with tempfile.TemporaryDirectory() as tmp:
            src, out = Path(tmp) / "in.txt", Path(tmp) / "out.txt"
            src.write_text("\n".join(lines) + "\n", encoding="utf8")
            spacy_pkuseg.test(str(src), str(out), model_name=model, user_dict=None, nthread=n_process)
            return [line.split() for line in out.read_text(encoding="utf8").split("\n")[: len(lines)]]

    return segment


def load_jieba(_model: str, n_process: int):
    import jieba

    jieba.initialize()
    if n_process > 1:
        jieba.enable_parallel(n_process)

    def segment(lines):
        result = [[]]
        for word in jieba.cut("\n".join(lines)):
            if word.strip("\n"):
                result[-1].append(word)
            else:
                result.extend([] for _ in word)  # one new line per newline character
        return result

    return segment


SYSTEMS = {"ours": load_ours, "pkuseg": load_pkuseg, "jieba": load_jieba}


def worker(system: str, model: str, input_path: str, output_path: str, n_process: int, repeat: int):
    """Load and segment in this process (the input `repeat` times over), write the first copy's output and print
    the seconds spent loading (imports included) and segmenting, and the peak RSS, as JSON."""
    # read without spacy_crf_lr.cws.sighan: importing spaCy belongs to our load time, so nothing
    # imports it before the clock starts
    lines = Path(input_path).read_text(encoding="utf8").split("\n")
    lines = [line.rstrip("\r") for line in (lines[:-1] if lines[-1] == "" else lines)]
    n_lines, lines = len(lines), lines * repeat
    start = time.perf_counter()
    segment = SYSTEMS[system](model, n_process)
    loaded = time.perf_counter()
    words = segment(lines)
    done = time.perf_counter()
    from spacy_crf_lr.cws.sighan import write_segmented

    write_segmented(output_path, ([w for w in line if w.strip()] for line in words[:n_lines]))
    rss_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    print(
        json.dumps(
            {
                "load_seconds": loaded - start,
                "seconds": done - loaded,
                "chars": sum(len(line) for line in lines),
                "peak_rss_mb": rss_kb / 1024,
            }
        )
    )


def run_worker(system, model, n_process, out, repeat_input):
    """One fresh process loading `system` and segmenting the input; its JSON figures."""
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        system,
        "--model-path",
        model or "",
        "--out",
        str(out),
        "--n-process",
        str(n_process),
        "--repeat-input",
        str(repeat_input),
    ]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])


def summarise(runs, out):
    """The row of one system and process count: its output's scores and the medians of its runs."""
    from spacy_crf_lr.cws.bakeoff import score_files

    score = score_files(PKU / "pku_test_gold.utf8", out, PKU / "pku_training_words.utf8")
    seconds = statistics.median(r["seconds"] for r in runs)
    total = statistics.median(r["load_seconds"] + r["seconds"] for r in runs)
    return {
        "P": score.precision,
        "R": score.recall,
        "F": score.f,
        "OOV_R": score.oov_recall,
        "chars_per_s": runs[0]["chars"] / seconds,
        "chars_per_s_with_load": runs[0]["chars"] / total,
        "load_s": statistics.median(r["load_seconds"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
    }


def system_label(name, model):
    return f"ours ({Path(model).parent.name})" if name == "ours" else name


def ratio_line(label, runs, baseline_runs, with_load=False):
    """Median over the rounds, and each round's value, of the characters/s of `runs` over those of
    `baseline_runs` in the same round (the same input, so the ratio of the baseline's seconds to theirs)."""

    def seconds(run):
        return run["seconds"] + (run["load_seconds"] if with_load else 0.0)

    ratios = sorted(seconds(base) / seconds(run) for run, base in zip(runs, baseline_runs))
    return f"{label}: {statistics.median(ratios):.2f}x (rounds, sorted: {', '.join(f'{r:.2f}' for r in ratios)})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="our trained pipeline (repeatable)")
    parser.add_argument("--pkuseg", required=False, help="directory of a spacy-pkuseg model trained on the proxy")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", choices=list(SYSTEMS))
    parser.add_argument("--model-path")
    parser.add_argument("--out")
    parser.add_argument("--n-process", type=int, default=1)
    parser.add_argument("--repeat-input", type=int, default=1, help="segment the test input this many times over")
    parser.add_argument("--systems", default="ours,jieba,pkuseg", help="comma-separated systems to run")
    args = parser.parse_args()
    if args.worker:
        return worker(
            args.worker, args.model_path, str(PKU / "pku_test.utf8"), args.out, args.n_process, args.repeat_input
        )
    from spacy_crf_lr.cws.sighan import read_lines

    models = args.model or [str(ROOT / "training" / "cnn_crf" / "model-best")]
    wanted = args.systems.split(",")
    systems = (
        [("ours", model) for model in models if "ours" in wanted]
        + ([("jieba", None)] if "jieba" in wanted else [])
        + ([("pkuseg", args.pkuseg)] if args.pkuseg and "pkuseg" in wanted else [])
    )
    plugins = "installed" if importlib.util.find_spec("spacy_transformers") else "not installed"
    print(
        f"# {datetime.date.today()} {platform.machine()} ({_cpu()}), python {platform.python_version()}, "
        f"spacy-transformers {plugins}; PKU test input {sum(len(x) for x in read_lines(PKU / 'pku_test.utf8'))} "
        f"chars x {args.repeat_input}; median of {args.repeats}"
    )
    print("| system | processes | P | R | F | OOV recall | chars/s | load (s) | chars/s with load | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    configs = [(name, model, n_process) for name, model in systems for n_process in (1, 2)]
    runs: dict = {config: [] for config in configs}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {config: Path(tmp) / f"{i}.txt" for i, config in enumerate(configs)}
        # rounds: every system once per round, in turn, so that the machine's drift hits them alike
        for _ in range(args.repeats):
            for config in configs:
                runs[config].append(run_worker(*config, outs[config], args.repeat_input))
        for config in configs:
            name, model, n_process = config
            r = summarise(runs[config], outs[config])
            label = system_label(name, model)
            print(
                f"| {label} | {n_process} | {r['P']:.3f} | {r['R']:.3f} | {r['F']:.3f} | {r['OOV_R']:.3f} "
                f"| {r['chars_per_s']:,.0f} | {r['load_s']:.2f} | {r['chars_per_s_with_load']:,.0f} "
                f"| {r['peak_rss_mb']:,.0f} |",
                flush=True,
            )
    for name, model in systems:
        one, two = runs[(name, model, 1)], runs[(name, model, 2)]
        label = system_label(name, model)
        print(ratio_line(f"{label}, 2 processes / 1", two, one))
        if name == "ours" and args.pkuseg and "pkuseg" in wanted:
            base = runs[("pkuseg", args.pkuseg, 1)]
            print(ratio_line(f"{label} / pkuseg, 1 process, loaded", one, base))
            print(ratio_line(f"{label} / pkuseg, 1 process, counting the load", one, base, with_load=True))
    model_args = " ".join(f"--model {model}" for model in models)
    print(
        f"reproduce: python bench/bench_segment.py {model_args}{f' --pkuseg {args.pkuseg}' if args.pkuseg else ''} "
        f"--repeats {args.repeats} "
        f"--repeat-input {args.repeat_input} --systems {args.systems}"
    )


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    main()
