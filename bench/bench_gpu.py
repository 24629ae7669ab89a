"""GPU: a BERT-base-sized transformer (random weights) + crf_segmenter, CRF vs softmax decoder.

Measures, interleaved and as medians of --repeats, on one GPU:
  * training step time (nlp.update on fixed batches of --train-batch docs) for decoder = crf and
    softmax, and the raw transformer's own training step (HF BertModel forward + backward + AdamW
    on the same batches, no spaCy);
  * the crf arms both with the CRF's decoding and loss on the CPU (crf_device = cpu, the default)
    and on the GPU (crf_device = model);
  * crf_segmenter's own predict and segment (tags to words) times on docs the transformer annotated
    (untimed), so the decoders' cost is seen apart from the merging of characters into words,
    whose cost depends on how many words the (here untrained) model predicts;
  * nlp.pipe characters/s for decoder = crf and softmax, for the transformer component alone
    (crf_segmenter disabled), and the raw transformer forward pass (HF BertModel under no_grad on
    the same texts and batch size, tokenized beforehand) — and the ratios between them.
The pipelines are configs/bert_crf.cfg and configs/bert_softmax.cfg as shipped (fp32, strided
spans of 128 wordpieces), with vars.transformer pointing at the random BERT built here. Text is
synthetic Chinese (random words of random CJK characters, ~90 characters a line like the PKU test
input): no corpus or weights travel. Accuracy is not measured here (random weights).

On the GPU machine: bash bench/gpu_run.sh (installs the wheels packed by bench/gpu_pack.sh).
Smoke test on CPU: python bench/bench_gpu.py --gpu-id -1 --size tiny --docs 64 --train-steps 2 --repeats 1
"""

import argparse
import json
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from random_bert import BERT_BASE, save_random_bert  # noqa: E402

SIZES = {
    "base": BERT_BASE,
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128),
}
CJK = [chr(c) for c in range(0x4E00, 0x9FA6)]
PUNCT = list("，。、；：？！“”（）《》")


def synthetic_lines(n_lines: int, seed: int = 0):
    """(text, words) pairs: Zipf-distributed words of 1–4 characters drawn from the 5,000 first
    CJK characters, a comma every ~8 words, a full stop at the end; 20–160 characters a line."""
    rng = numpy.random.default_rng(seed)
    chars = numpy.array(CJK[:5000])
    lengths = rng.choice([1, 2, 3, 4], size=20000, p=[0.35, 0.5, 0.1, 0.05])
    lexicon = ["".join(rng.choice(chars, size=k)) for k in lengths]
    weights = 1.0 / numpy.arange(1, len(lexicon) + 1)
    weights /= weights.sum()
    lines = []
    for _ in range(n_lines):
        target = int(rng.integers(20, 160))
        words = []
        while sum(map(len, words)) < target:
            words.append(lexicon[rng.choice(len(lexicon), p=weights)])
            if rng.random() < 0.12:
                words.append("，")
        words.append("。")
        lines.append(("".join(words), words))
    return lines


class Clock:
    """Wall-clock timing that waits for the GPU's queued work first."""

    def __init__(self, gpu: bool):
        self.gpu = gpu

    def sync(self):
        if self.gpu:
            import torch

            torch.cuda.synchronize()

    def __call__(self, fn):
        self.sync()
        start = time.perf_counter()
        fn()
        self.sync()
        return time.perf_counter() - start


def check_thinc_kernels():
    """Compile thinc's CUDA kernels once; thinc 8.3 asks NVRTC for --std=c++11, and where the
    CUDA there refuses that dialect, rebuild them as C++17 (same source) and say so."""
    import cupy
    from thinc.backends import _custom_kernels

    try:
        _custom_kernels.reduce_sum(cupy.ones((4, 2), "f"), cupy.asarray([2, 2], "i"))
    except Exception as error:  # cupy.cuda.compiler.CompileException and kin
        print(
            f"thinc kernels failed to compile ({type(error).__name__}: {str(error)[:300]}); rebuilding as C++17",
            flush=True,
        )
        _custom_kernels.KERNELS = cupy.RawModule(
            code=_custom_kernels.KERNELS_SRC, options=("--std=c++17",), name_expressions=_custom_kernels.KERNELS_LIST
        )
        _custom_kernels.reduce_sum(cupy.ones((4, 2), "f"), cupy.asarray([2, 2], "i"))


def make_nlp(decoder: str, bert_dir: Path):
    """The pipeline of configs/bert_<decoder>.cfg and its configured optimizer."""
    import spacy
    from spacy.util import registry

    config = spacy.util.load_config(
        ROOT / "configs" / f"bert_{decoder}.cfg", overrides={"vars.transformer": str(bert_dir)}
    )
    optimizer = registry.resolve({"sgd": config.interpolate()["training"]["optimizer"]})["sgd"]
    return spacy.util.load_model_from_config(config, auto_fill=True), optimizer


def raw_bert(bert_dir: Path, device: str):
    import torch
    from transformers import AutoModel, AutoTokenizer

    return AutoTokenizer.from_pretrained(str(bert_dir)), AutoModel.from_pretrained(str(bert_dir)).to(
        torch.device(device)
    )


def batches(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpu-id", type=int, default=0, help="-1: CPU (smoke test only)")
    parser.add_argument("--size", choices=sorted(SIZES), default="base")
    parser.add_argument("--docs", type=int, default=2000, help="texts for nlp.pipe (~90 chars each)")
    parser.add_argument("--pipe-batch", type=int, default=64, help="nlp.pipe batch_size (configs: 64)")
    parser.add_argument("--train-batch", type=int, default=32, help="docs per training step")
    parser.add_argument("--train-steps", type=int, default=10, help="timed steps per repeat and arm")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--arms", default="", help="regular expression: run only the arms it finds in their names")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    import spacy
    import torch
    from spacy.training import Example
    from thinc.api import set_gpu_allocator

    gpu = args.gpu_id >= 0
    if gpu:
        set_gpu_allocator("pytorch")
        spacy.require_gpu(args.gpu_id)
        check_thinc_kernels()
    device = f"cuda:{args.gpu_id}" if gpu else "cpu"
    clock = Clock(gpu)
    facts = {
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(args.gpu_id) if gpu else platform.processor() or "cpu",
        "bert": args.size,
        "bert_config": SIZES[args.size],
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(facts), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        bert_dir = save_random_bert(Path(tmp) / "bert", CJK + PUNCT, max_position_embeddings=512, **SIZES[args.size])
        pipe_lines = [text for text, _ in synthetic_lines(args.docs, seed=1)]
        n_chars = sum(map(len, pipe_lines))
        train_lines = synthetic_lines(args.train_batch * args.train_steps, seed=2)

        nlps, optimizers, train_batches = {}, {}, {}
        for decoder in ("crf", "softmax"):
            nlp, optimizers[decoder] = make_nlp(decoder, bert_dir)
            examples = [Example.from_dict(nlp.make_doc(text), {"words": words}) for text, words in train_lines]
            nlp.initialize(lambda examples=examples: examples[:64], sgd=optimizers[decoder])
            nlps[decoder], train_batches[decoder] = nlp, batches(examples, args.train_batch)
        tokenizer, model = raw_bert(bert_dir, device)
        raw_opt = torch.optim.AdamW(model.parameters(), lr=2e-5)
        raw_train = [
            tokenizer([t for t, _ in b], padding=True, return_tensors="pt").to(device)
            for b in batches(train_lines, args.train_batch)
        ]
        raw_pipe = [
            tokenizer(b, padding=True, return_tensors="pt").to(device) for b in batches(pipe_lines, args.pipe_batch)
        ]

        def train_spacy(decoder, crf_device="cpu"):
            nlp, sgd = nlps[decoder], optimizers[decoder]

            def run():
                nlp.get_pipe("crf_segmenter").cfg["crf_device"] = crf_device
                for batch in train_batches[decoder]:
                    nlp.update(batch, sgd=sgd, drop=0.1)

            return run

        def train_raw():
            model.train()
            for inputs in raw_train:
                raw_opt.zero_grad()
                model(**inputs).last_hidden_state.sum().backward()
                raw_opt.step()

        def pipe_spacy(decoder, crf_device="cpu", only_transformer=False):
            nlp = nlps[decoder]
            disable = ["crf_segmenter"] if only_transformer else []

            def run():
                nlp.get_pipe("crf_segmenter").cfg["crf_device"] = crf_device
                with nlp.select_pipes(disable=disable):
                    for _doc in nlp.pipe(pipe_lines, batch_size=args.pipe_batch):
                        pass

            return run

        def forward_raw():
            model.eval()
            with torch.no_grad():
                for inputs in raw_pipe:
                    model(**inputs)

        def head_spacy(decoder, crf_device="cpu"):
            """crf_segmenter's predict and segment (words from tags) alone, on docs the transformer ran on (untimed)."""
            nlp = nlps[decoder]
            segmenter, transformer = nlp.get_pipe("crf_segmenter"), nlp.get_pipe("transformer")

            def run():
                segmenter.cfg["crf_device"] = crf_device
                docs = list(transformer.pipe((nlp.make_doc(t) for t in pipe_lines), batch_size=args.pipe_batch))
                chunks, predictions = batches(docs, args.pipe_batch), []
                predict = clock(lambda: predictions.extend(segmenter.predict(chunk) for chunk in chunks))
                segment = clock(lambda: [segmenter.segment(c, p) for c, p in zip(chunks, predictions)])
                return {"predict": predict, "segment": segment}

            return run

        def timed(fn):
            return lambda: {"": clock(fn)}

        arms = {
            "train_crf": timed(train_spacy("crf")),
            "train_crf_on_model_device": timed(train_spacy("crf", "model")),
            "train_softmax": timed(train_spacy("softmax")),
            "train_raw_bert": timed(train_raw),
            "pipe_crf": timed(pipe_spacy("crf")),
            "pipe_crf_on_model_device": timed(pipe_spacy("crf", "model")),
            "pipe_softmax": timed(pipe_spacy("softmax")),
            "pipe_transformer_only": timed(pipe_spacy("crf", only_transformer=True)),
            "forward_raw_bert": timed(forward_raw),
            "head_crf": head_spacy("crf"),
            "head_crf_on_model_device": head_spacy("crf", "model"),
            "head_softmax": head_spacy("softmax"),
        }
        arms = {name: fn for name, fn in arms.items() if re.search(args.arms, name)}
        for name, fn in arms.items():  # warm-up: kernels, allocator, cuDNN/cuBLAS heuristics
            print(f"warm-up {name}: {fn()}", flush=True)
        times = {}
        for repeat in range(args.repeats):
            for name, fn in arms.items():
                for phase, seconds in fn().items():
                    times.setdefault(f"{name}_{phase}" if phase else name, []).append(seconds)
            print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items()), flush=True)
        med = {name: statistics.median(v) for name, v in times.items()}
        n_steps = len(train_batches["crf"])
        figures = {
            "train_step_ms": {k[6:]: 1000 * med[k] / n_steps for k in med if k.startswith("train_")},
            "pipe_chars_per_s": {k: n_chars / med[k] for k in med if not k.startswith(("train_", "head_"))},
            "head_s": {k[5:]: med[k] for k in med if k.startswith("head_")},
            "ratios": {
                f"{a} / {b}": med[a] / med[b]
                for a, b in [
                    ("train_crf", "train_softmax"),
                    ("train_crf_on_model_device", "train_crf"),
                    ("train_crf", "train_raw_bert"),
                    ("train_softmax", "train_raw_bert"),
                    ("pipe_crf", "pipe_softmax"),
                    ("pipe_crf_on_model_device", "pipe_crf"),
                    ("pipe_crf", "forward_raw_bert"),
                    ("pipe_softmax", "forward_raw_bert"),
                    ("pipe_transformer_only", "forward_raw_bert"),
                    ("head_crf_predict", "head_softmax_predict"),
                    ("head_crf_on_model_device_predict", "head_crf_predict"),
                ]
                if a in med and b in med
            },
            "pipe_chars": n_chars,
            "pipe_docs": len(pipe_lines),
            "train_steps": n_steps,
            "train_batch_docs": args.train_batch,
            "train_batch_chars": sum(len(t) for t, _ in train_lines) / n_steps,
            "times_s": times,
        }
        if gpu:
            figures["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    result = {"facts": facts, **figures, "command": "python bench/bench_gpu.py " + " ".join(argv or sys.argv[1:])}
    print(json.dumps(result, indent=1), flush=True)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf8")


if __name__ == "__main__":
    main()
