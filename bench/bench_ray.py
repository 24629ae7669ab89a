"""The Ray engine vs the local engine on the PKU test input repeated to >= 2M characters.

Usage: python bench/bench_ray.py --model training/cnn_crf/model-best [--repeat 12] [--runs 1] [--driver-only]

Each run is a fresh `python -m spacy_crf_lr segment` subprocess (start-up counted: interpreter, imports,
Ray start, model loads): `--n-process 2` (local engine), `--engine ray --num-actors 2` and `--num-actors 1`
(a local Ray started by the command). Figures: characters/s counting everything; the Ray start-up
(`ray.init`) apart and characters/s without it; 1 -> 2 actors scaling; peak RSS (VmHWM) of each worker
process / actor, polled from /proc; the characters/s of the driver's own loop (receiving words, writing
files). Outputs are checked byte-identical to the local engine's.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKU = ROOT.parent / "shared" / "data" / "pku"


def descendants(pid: int) -> list:
    """PIDs of the processes below pid (from /proc)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def peak_rss_mib(pid: int):
    """(command line start, VmHWM in MiB) of a process, or None once it is gone."""
    try:
        cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        status = (Path("/proc") / str(pid) / "status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return (cmd, int(match.group(1)) / 1024) if match else None


def run(args: list, worker_prefix: str) -> dict:
    """Run a command, polling the peak RSS of its worker processes; wall time and peaks."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks = {}
    done = threading.Event()

    def poll():
        while not done.is_set():
            for pid in descendants(proc.pid):
                seen = peak_rss_mib(pid)
                if seen and seen[0].startswith(worker_prefix):
                    peaks[pid] = max(peaks.get(pid, 0.0), seen[1])
            done.wait(0.5)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"{args} exited {proc.returncode}:\n{err[-3000:]}")
    return {"wall_s": wall, "stdout": out, "worker_peak_mib": sorted(peaks.values())}


def driver_rate(copies: int = 10) -> str:
    """Characters/s of the driver's loop alone: Arrow batches of 2,000 rows (words of the PKU gold) -> files."""
    import pyarrow
    import pyarrow.fs as pafs

    from spacy_crf_lr.run.remote_files import InputFile, OutputAssembler

    gold = (PKU / "pku_test_gold.utf8").read_text(encoding="utf8").split("\n")[:-1]
    words = [line.split() for line in gold] * copies
    sizes = [len("".join(w).encode()) + 1 for w in words]
    offsets = [0]
    for size in sizes[:-1]:
        offsets.append(offsets[-1] + size)
    batches = [
        pyarrow.table(
            {
                "file": [0] * len(words[i : i + 2000]),
                "offset": offsets[i : i + 2000],
                "size": sizes[i : i + 2000],
                "words": pyarrow.array(words[i : i + 2000], type=pyarrow.list_(pyarrow.string())),
            }
        )
        for i in range(0, len(words), 2000)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        assembler = OutputAssembler(pafs.LocalFileSystem(), [InputFile(f"{tmp}/in", "in", sum(sizes))], [f"{tmp}/out"])
        for batch in batches:  # what segment_files does with each batch
            columns = [batch.column(name).to_pylist() for name in ("file", "offset", "size", "words")]
            for file, offset, size, line in zip(*columns):
                assembler.add(file, offset, size, "  ".join(line))
        assembler.finish()
        seconds = time.perf_counter() - start
    chars = sum(len(word) for line in words for word in line)
    return f"driver loop alone: {len(words)} lines, {chars:,} characters in {seconds:.2f} s: {chars / seconds:,.0f} characters/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--repeat", type=int, default=12, help="copies of pku_test.utf8 (12: 2.07M characters)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each command (medians reported)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--driver-only", action="store_true", help="only time the driver's loop (no model, no Ray)")
    args = parser.parse_args()
    if args.driver_only:
        print(driver_rate())
        return
    text = (PKU / "pku_test.utf8").read_text(encoding="utf8")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "input.txt"
        source.write_text(text * args.repeat, encoding="utf8")
        chars = sum(len(line.strip()) for line in source.read_text(encoding="utf8").split("\n"))
        base = [sys.executable, "-m", "spacy_crf_lr", "segment", args.model, str(source)]
        commands = {
            "local, --n-process 2": (base + [f"{tmp}/local.txt", "--n-process", "2"], sys.executable),
            "ray, 2 actors": (base + [f"{tmp}/ray2.txt", "--engine", "ray", "--num-actors", "2"], "ray::MapWorker"),
            "ray, 1 actor": (base + [f"{tmp}/ray1.txt", "--engine", "ray", "--num-actors", "1"], "ray::MapWorker"),
        }
        results = {name: [] for name in commands}
        load_before = os.getloadavg()
        for _ in range(args.runs):  # interleaved, so machine-speed drifts hit all alike
            for name, (command, prefix) in commands.items():
                results[name].append(run(command, prefix))
                print(f"{name}: {results[name][-1]['wall_s']:.1f} s", file=sys.stderr)
        load_after = os.getloadavg()
        local = (Path(tmp) / "local.txt").read_bytes()
        identical = all((Path(tmp) / f).read_bytes() == local for f in ("ray2.txt", "ray1.txt"))
    figures = {}
    for name, runs in results.items():
        wall = statistics.median(r["wall_s"] for r in runs)
        row = {"wall_s": wall, "chars_per_s": chars / wall, "worker_peak_mib": max(r["worker_peak_mib"] for r in runs)}
        starts = [re.search(r"Ray start-up ([\d.]+) s", r["stdout"]) for r in runs]
        if all(starts):
            start = statistics.median(float(m.group(1)) for m in starts)
            row.update(ray_start_s=start, chars_per_s_without_start=chars / (wall - start))
        figures[name] = row
    local_row, ray2, ray1 = (figures[n] for n in commands)
    summary = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores",
        "characters": chars,
        "load_average_1_5_15_before_after": [load_before, load_after],
        "outputs_identical": identical,
        "ratio_ray2_vs_local2": ray2["chars_per_s"] / local_row["chars_per_s"],
        "ratio_ray2_vs_local2_without_ray_start": ray2["chars_per_s_without_start"] / local_row["chars_per_s"],
        "scaling_1_to_2_actors": ray2["chars_per_s"] / ray1["chars_per_s"],
        "figures": figures,
    }
    print(f"{chars:,} characters (pku_test.utf8 x {args.repeat}), {summary['machine']}, {summary['date']}")
    loads = " / ".join(", ".join(f"{x:.1f}" for x in load) for load in (load_before, load_after))
    print(f"load average (1, 5, 15 min) before / after: {loads} (other users' jobs share these cores)")
    print(
        "| engine | wall (s) | characters/s | Ray start-up (s) | characters/s without it | peak RSS per worker (MiB) |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for name, row in figures.items():
        start = f"{row['ray_start_s']:.1f}" if "ray_start_s" in row else "—"
        rate = f"{row['chars_per_s_without_start']:,.0f}" if "ray_start_s" in row else "—"
        peaks = ", ".join(f"{p:.0f}" for p in row["worker_peak_mib"])
        print(f"| {name} | {row['wall_s']:.1f} | {row['chars_per_s']:,.0f} | {start} | {rate} | {peaks} |")
    print(
        f"ray 2 actors / local 2 processes: {summary['ratio_ray2_vs_local2']:.2f} (start-up counted), "
        f"{summary['ratio_ray2_vs_local2_without_ray_start']:.2f} (Ray start-up left out); "
        f"1 -> 2 actors: {summary['scaling_1_to_2_actors']:.2f}x; outputs identical: {identical}"
    )
    print(driver_rate())
    print(f"Reproduce: python bench/bench_ray.py --model {args.model} --repeat {args.repeat} --runs {args.runs}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
