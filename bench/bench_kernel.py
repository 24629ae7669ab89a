"""Our CRF kernel (spacy_crf_lr.chain_ops) vs pytorch-crf 0.7.2 on CPU: NLL + gradient and Viterbi.

Usage: python bench/bench_kernel.py [--batches 32 128] [--lengths 64 256] [--tags 4 20] [--repeats 7]

Both sides get identical inputs (pytorch-crf's transitions/start/end are copied into our
ChainScores). Before timing, every configuration is checked: same log-likelihoods (rtol 1e-4),
same Viterbi paths, and our exact gradients equal torch autograd's; any mismatch aborts.
Times are medians of interleaved repeats (ours, theirs, ours, ...), single-threaded on both
sides: OMP/OPENBLAS/MKL_NUM_THREADS=1 are set before numpy is imported, threadpoolctl caps the
BLAS pools at 1, and torch.set_num_threads(1). Ratio = their time / our time (> 1: we are faster).
"""

import os

# Single-threaded numpy/BLAS: must happen before numpy is imported.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _name in THREAD_VARS:
    os.environ[_name] = "1"

import argparse  # noqa: E402
import copy  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy  # noqa: E402
import torch  # noqa: E402
from thinc.api import NumpyOps  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402
from torchcrf import CRF  # noqa: E402

from spacy_crf_lr.crf.chain_ops import ChainScores, negative_log_likelihood, viterbi  # noqa: E402

OPS = NumpyOps()


def make_inputs(n_seqs: int, n_steps: int, n_tags: int, seed: int):
    """Random emissions, gold tags, lengths uniform in [T/2, T] (first one full), and a CRF."""
    rng = numpy.random.default_rng(seed)
    lengths = rng.integers(n_steps // 2, n_steps + 1, n_seqs).astype("int32")
    lengths[0] = n_steps  # pytorch-crf needs mask[:, 0] on and, batch_first, a full first column
    emissions = rng.normal(0, 2, (n_seqs, n_steps, n_tags)).astype("float32")
    tags = rng.integers(0, n_tags, (n_seqs, n_steps)).astype("int32")
    mask = numpy.arange(n_steps)[None, :] < lengths[:, None]
    for i, length in enumerate(lengths):  # our padding convention; torch ignores it via the mask
        emissions[i, length:] = 0
        tags[i, length:] = 0
    crf = CRF(n_tags, batch_first=True)
    with torch.no_grad():  # wider than the default uniform(-0.1, 0.1), so transitions matter
        crf.transitions.copy_(torch.from_numpy(rng.normal(0, 1, (n_tags, n_tags)).astype("float32")))
        crf.start_transitions.copy_(torch.from_numpy(rng.normal(0, 1, n_tags).astype("float32")))
        crf.end_transitions.copy_(torch.from_numpy(rng.normal(0, 1, n_tags).astype("float32")))
    scores = ChainScores(
        emissions,
        lengths,
        crf.transitions.detach().numpy().copy(),
        crf.start_transitions.detach().numpy().copy(),
        crf.end_transitions.detach().numpy().copy(),
    )
    theirs = {
        "emissions": torch.from_numpy(emissions.copy()).requires_grad_(True),
        "tags": torch.from_numpy(tags.astype("int64")),
        "mask": torch.from_numpy(mask.astype("uint8")).bool(),
    }
    return scores, tags, crf, theirs


def ours_nll(scores, tags):
    return negative_log_likelihood(OPS, scores, tags)


def theirs_nll(crf, t):
    crf.zero_grad(set_to_none=True)
    t["emissions"].grad = None
    loss = -crf(t["emissions"], t["tags"], t["mask"], reduction="sum")
    loss.backward()
    return loss


def ours_viterbi(scores):
    return viterbi(OPS, scores)


def theirs_viterbi(crf, t):
    with torch.no_grad():
        return crf.decode(t["emissions"], t["mask"])


def check(scores, tags, crf, t) -> str:
    """Raise on any disagreement; return a short summary of the largest differences."""
    nll, grad = ours_nll(scores, tags)
    per_seq = -crf(t["emissions"], t["tags"], t["mask"], reduction="none").detach().numpy()
    numpy.testing.assert_allclose(nll, per_seq, rtol=1e-4, atol=1e-3, err_msg="NLL mismatch")
    # Gradients: torch autograd through pytorch-crf in float64 is the reference (ours runs the
    # recursions in float64; pytorch-crf's float32 log-sum-exp drifts by ~1e-4 at T=256).
    crf64 = copy.deepcopy(crf).double()
    emissions64 = t["emissions"].detach().double().requires_grad_(True)
    (-crf64(emissions64, t["tags"], t["mask"], reduction="sum")).backward()
    theirs_nll(crf, t)  # and the float32 gradient that is timed, compared loosely
    pairs = [
        ("emissions", grad.emissions, emissions64.grad, t["emissions"].grad),
        ("transitions", grad.transitions, crf64.transitions.grad, crf.transitions.grad),
        ("start", grad.start, crf64.start_transitions.grad, crf.start_transitions.grad),
        ("end", grad.end, crf64.end_transitions.grad, crf.end_transitions.grad),
    ]
    worst64, worst32 = 0.0, 0.0
    for name, ours, ref64, ref32 in pairs:
        ref64, ref32 = ref64.numpy(), ref32.numpy()
        numpy.testing.assert_allclose(ours, ref64, rtol=1e-5, atol=1e-5, err_msg=f"gradient mismatch (f64): {name}")
        numpy.testing.assert_allclose(ours, ref32, rtol=1e-3, atol=1e-3, err_msg=f"gradient mismatch (f32): {name}")
        worst64 = max(worst64, float(numpy.abs((ours - ref64) / numpy.maximum(numpy.abs(ref64), 1.0)).max()))
        worst32 = max(worst32, float(numpy.abs((ours - ref32) / numpy.maximum(numpy.abs(ref32), 1.0)).max()))
    paths, _ = ours_viterbi(scores)
    decoded = theirs_viterbi(crf, t)
    for i, length in enumerate(scores.lengths):
        if list(paths[i, :length]) != decoded[i]:
            raise AssertionError(f"Viterbi path mismatch in sequence {i}")
    rel = float(numpy.max(numpy.abs(nll - per_seq) / numpy.abs(per_seq)))
    return f"nll {rel:.0e}, grad {worst64:.0e} (f64) {worst32:.0e} (f32), paths =="


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def machine_facts() -> str:
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = ", ".join(f"{p['internal_api']} {p.get('version')} ({p['num_threads']} threads)" for p in threadpool_info())
    return (
        f"CPU: {cpu} ({os.cpu_count()} logical cores); python {platform.python_version()}, "
        f"numpy {numpy.__version__}, torch {torch.__version__}\n"
        f"threads: {', '.join(f'{v}={os.environ[v]}' for v in THREAD_VARS)} (set before importing numpy), "
        f"threadpoolctl limit 1 [{blas}], torch.set_num_threads(1) -> {torch.get_num_threads()}, "
        f"torch interop threads {torch.get_num_interop_threads()}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--lengths", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--tags", type=int, nargs="+", default=[4, 20])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)
    configs = [(b, t, k) for b in args.batches for t in args.lengths for k in args.tags]
    rows = []
    with threadpool_limits(limits=1):
        facts = machine_facts()
        for n, (n_seqs, n_steps, n_tags) in enumerate(configs):
            scores, tags, crf, t = make_inputs(n_seqs, n_steps, n_tags, args.seed + n)
            summary = check(scores, tags, crf, t)
            times = {key: [] for key in ("ours_nll", "theirs_nll", "ours_vit", "theirs_vit")}
            for fn, a in (
                (ours_nll, (scores, tags)),
                (theirs_nll, (crf, t)),
                (ours_viterbi, (scores,)),
                (theirs_viterbi, (crf, t)),
            ):
                fn(*a)  # warm-up
            for _ in range(args.repeats):  # interleaved, so drifts in machine speed hit both alike
                times["ours_nll"].append(timed(ours_nll, scores, tags))
                times["theirs_nll"].append(timed(theirs_nll, crf, t))
                times["ours_vit"].append(timed(ours_viterbi, scores))
                times["theirs_vit"].append(timed(theirs_viterbi, crf, t))
            med = {key: statistics.median(value) for key, value in times.items()}
            rows.append(((n_seqs, n_steps, n_tags), med, summary))
            print(f"checked and timed B={n_seqs} T={n_steps} K={n_tags}: {summary}", file=sys.stderr)
    command = "python bench/bench_kernel.py " + " ".join(
        [
            f"--batches {' '.join(map(str, args.batches))}",
            f"--lengths {' '.join(map(str, args.lengths))}",
            f"--tags {' '.join(map(str, args.tags))}",
            f"--repeats {args.repeats}",
            f"--seed {args.seed}",
        ]
    )
    print(f"Date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(facts)
    print(f"Median of {args.repeats} interleaved repeats; lengths uniform in [T/2, T], first sequence of length T.")
    print(f"Reproduce: `{command}`")
    print()
    print(
        "| B | T | K | NLL+grad ours (ms) | pytorch-crf (ms) | ratio | Viterbi ours (ms) | pytorch-crf (ms) | ratio | check |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for (n_seqs, n_steps, n_tags), med, summary in rows:
        print(
            f"| {n_seqs} | {n_steps} | {n_tags} "
            f"| {med['ours_nll'] * 1e3:.2f} | {med['theirs_nll'] * 1e3:.2f} | {med['theirs_nll'] / med['ours_nll']:.1f}× "
            f"| {med['ours_vit'] * 1e3:.2f} | {med['theirs_vit'] * 1e3:.2f} | {med['theirs_vit'] / med['ours_vit']:.1f}× "
            f"| {summary} |"
        )


if __name__ == "__main__":
    main()
