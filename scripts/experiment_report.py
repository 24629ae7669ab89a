"""The report of the `experiment` workflow (project.yml): one row per arm from its training
directory's CRF diagnostics (`crf_diagnostics.jsonl`, written by
`spacy_crf_lr.CRFDiagnosticsLogger.v1`) and its test scores (`python -m spacy_crf_lr score
--json`), plus a plot of mean |transition| against the training step for every arm."""

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from spacy_crf_lr.training.logger import DEFAULT_FILE

PathLike = Union[str, Path]
# an option followed by an absolute path, in a command line: `--vars.train /data/train.utf8`
ABSOLUTE_OPTION = re.compile(r"(?P<option>--[\w.-]+)(?P<sep>[ =])(?P<path>/[^\s'\"]*)")


def portable_path(value: str, base: Path) -> Optional[str]:
    """`value` as a path that holds on another machine: as given when relative; when absolute, relative to `base`
    (the project directory) if it lies inside it or next to it (`../shared/data`); None otherwise."""
    if not os.path.isabs(value):
        return value
    relative = Path(os.path.relpath(value, base))
    return relative.as_posix() if relative.parts[:2] != ("..", "..") else None


def portable_command(command: str, base: Path) -> str:
    """The command with each option's absolute path made portable, or, where it is not, replaced by the
    option's name in capitals (`--vars.bert_model BERT_MODEL`): a report names no machine's directories."""

    def replace(match: "re.Match[str]") -> str:
        option, path = match["option"], match["path"]
        placeholder = option.rsplit(".", 1)[-1].lstrip("-").replace("-", "_").upper()
        return f"{option}{match['sep']}{portable_path(path, base) or placeholder}"

    return ABSOLUTE_OPTION.sub(replace, command)


def portable_model_name(name: str, base: Path) -> str:
    """A model's name or directory as the report shows it: `…/DIR` for a directory outside the project."""
    return portable_path(name, base) or f"…/{Path(name).name}"


@dataclass
class Arm:
    """What the report shows of one training run."""

    name: str
    scheme: Optional[str]  # the component's tag scheme in this run (None: unconstrained)
    encoder: str  # the tok2vec architecture of the run's saved config
    body_lr: Optional[float]
    crf_lr: Optional[float]
    decoder: Optional[str]
    first_epoch_dev_f: Optional[float]  # dev F1 at the first evaluation after one full epoch
    first_epoch_step: Optional[int]
    best_test_f: Optional[float]
    sanity: Optional[float]  # at the last evaluation
    ratio: Optional[float]  # emission margin / mean |transition|, at the last evaluation
    emission_margin: Optional[float]
    mean_abs_transition: float
    steps: List[int] = field(default_factory=list)
    mean_abs_series: List[float] = field(default_factory=list)


def read_diagnostics(path: PathLike, component: Optional[str] = None) -> List[Dict[str, Any]]:
    """The JSONL records of one component (default: the first one in the file), in order."""
    records = []
    with Path(path).open(encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}: line {number}: not JSON ({err.msg})") from None
    if not records:
        raise ValueError(f"{path}: no diagnostics records (did training reach its first evaluation?)")
    component = component or records[0]["component"]
    return [r for r in records if r["component"] == component]


def _dev_f(record: Dict[str, Any]) -> Optional[float]:
    value = record.get("token_f", record.get("score"))
    return None if value is None else float(value)


def _peak(records: Sequence[Dict[str, Any]], key: str) -> Optional[float]:
    values = [r[key] for r in records if r.get(key) is not None]
    return max(values) if values else None


def summarize_arm(name: str, training_dir: PathLike, test_json: PathLike) -> Arm:
    """An arm's row: rates, dev F1 after the first epoch, best test F1, final diagnostics."""
    records = read_diagnostics(Path(training_dir) / DEFAULT_FILE)
    test = json.loads(Path(test_json).read_text(encoding="utf-8"))
    after_first = next((r for r in records if r["epoch"] >= 1), None)
    last = records[-1]
    return Arm(
        name=name,
        scheme=last.get("scheme"),
        encoder=read_encoder(Path(training_dir), last["component"]),
        body_lr=_peak(records, "learn_rate"),
        crf_lr=_peak(records, "crf_lr"),
        decoder=last.get("decoder"),
        first_epoch_dev_f=_dev_f(after_first) if after_first else None,
        first_epoch_step=after_first["step"] if after_first else None,
        best_test_f=test.get("f"),
        sanity=last.get("sanity"),
        ratio=last.get("ratio"),
        emission_margin=last.get("emission_margin"),
        mean_abs_transition=last["mean_abs_transition"],
        steps=[r["step"] for r in records],
        mean_abs_series=[r["mean_abs_transition"] for r in records],
    )


def read_encoder(training_dir: Path, component: str) -> str:
    """The tok2vec architecture (and transformer name) the run's saved config gives the component."""
    from spacy.util import load_config

    for model_dir in ("model-last", "model-best"):
        path = training_dir / model_dir / "config.cfg"
        if path.is_file():
            config = load_config(path, interpolate=True)
            tok2vec = config["components"][component]["model"]["tok2vec"]
            if "upstream" in tok2vec:  # a listener: the encoder is the upstream component's model
                wanted = tok2vec["upstream"]
                # upstream "*": any component the listener can listen to, i.e. the first one before it
                # with a transformer or tok2vec factory
                if wanted == "*":
                    names = config["nlp"]["pipeline"]
                    before = names[: names.index(component)] if component in names else names
                    found = [n for n in before if config["components"][n].get("factory") in ("transformer", "tok2vec")]
                    wanted = found[-1] if found else wanted
                upstream = config["components"][wanted]["model"]
                name = upstream.get("name")
                return upstream["@architectures"] + (f" ({portable_model_name(name, Path.cwd())})" if name else "")
            return tok2vec["@architectures"]
    return "unknown (no saved config)"


def _scheme(value: Optional[str]) -> str:
    return "unconstrained" if value is None else f"{value}-constrained"


def _rate(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:g}"


def _percent(value: Optional[float]) -> str:
    return "—" if value is None else f"{100 * value:.2f}"


def _sanity(arm: Arm) -> str:
    if arm.decoder == "softmax":
        return "— (not trained)"
    if arm.scheme is not None:
        return "n/a (masked by the scheme)"
    return "—" if arm.sanity is None else f"{arm.sanity:.3f}"


def _ratio(arm: Arm) -> str:
    if arm.ratio is not None:
        return f"{arm.ratio:.3g}"
    return "∞" if arm.emission_margin else "—"


def render_markdown(arms: Sequence[Arm], plot_link: Optional[str], command: Optional[str]) -> str:
    """The report as markdown."""
    encoders = sorted({arm.encoder for arm in arms})
    schemes = sorted({_scheme(arm.scheme) for arm in arms})
    lines = [
        "# CRF learning rate experiment",
        "",
        f"Chinese word segmentation (`crf_segmenter`), encoder {', '.join(f'`{e}`' for e in encoders)}, "
        f"trained {' / '.join(schemes)}"
        + (
            " (`scheme = null`: nothing but the data shapes the transition matrix)"
            if schemes == ["unconstrained"]
            else ""
        )
        + ". F1 in %.",
        "",
        "| arm | scheme | body lr | CRF lr | dev F1 after epoch 1 | best test F1 | final sanity "
        "| emission/transition ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for arm in arms:
        crf_lr = "—" if arm.decoder == "softmax" else _rate(arm.crf_lr)
        lines.append(
            f"| {arm.name} | {_scheme(arm.scheme)} | {_rate(arm.body_lr)} | {crf_lr} "
            f"| {_percent(arm.first_epoch_dev_f)} | {_percent(arm.best_test_f)} | {_sanity(arm)} | {_ratio(arm)} |"
        )
    lines += [
        "",
        "- **dev F1 after epoch 1**: `token_f` on the dev split at the first evaluation after one full pass over "
        "the training data" + _first_epoch_steps(arms) + ".",
        "- **best test F1**: `model-best` (best dev score) segmenting the test input, bakeoff F against the gold.",
        "- **final sanity**: at the last evaluation, the share of the 8 impossible BMES moves (S→M, S→E, B→S, B→B, "
        "M→S, M→B, E→M, E→E) that score below every possible move out of the same tag, in the learned matrix. "
        "1 = the CRF learned the scheme by itself; n/a for a constrained arm, whose impossible moves are masked "
        "and never trained.",
        "- **emission/transition ratio**: at the last evaluation, the mean gap between the best and second-best "
        "emission score per dev character divided by the mean |transition|. Large = the transitions are too small "
        "to change a decision; ∞ = all transitions are zero (the softmax arm never trains them).",
        "- Rates are the optimizer's (peak) values as logged; the softmax arm has no CRF rate in effect.",
    ]
    if plot_link:
        lines += ["", f"![mean |transition| against training step]({plot_link})"]
    if command:
        lines += ["", "Regenerate:", "", "```bash", portable_command(command, Path.cwd()), "```"]
    return "\n".join(lines) + "\n"


def _first_epoch_steps(arms: Sequence[Arm]) -> str:
    steps = sorted({arm.first_epoch_step for arm in arms if arm.first_epoch_step is not None})
    missing = [arm.name for arm in arms if arm.first_epoch_step is None]
    text = f" (step {', '.join(map(str, steps))})" if steps else ""
    if missing:
        text += f"; — = training ended within the first epoch ({', '.join(missing)})"
    return text


def plot_transitions(arms: Sequence[Arm], path: PathLike) -> None:
    """Mean |transition| against training step, one line per arm (symmetric log scale: zero stays visible)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    positive = [v for arm in arms for v in arm.mean_abs_series if v > 0]
    for arm in arms:
        ax.plot(arm.steps, arm.mean_abs_series, marker="o", markersize=3, label=arm.name)
    ax.set_yscale("symlog", linthresh=min(positive) if positive else 1e-3)
    ax.set_xlabel("training step")
    ax.set_ylabel("mean |transition|")
    ax.set_title("CRF transition scale during training")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(
    arms: Sequence[Tuple[str, PathLike, PathLike]],
    output: PathLike,
    plot: Optional[PathLike] = None,
    command: Optional[str] = None,
) -> List[Arm]:
    """Summarize (name, training dir, test JSON) per arm; write the markdown and the plot."""
    summaries = [summarize_arm(name, training_dir, test_json) for name, training_dir, test_json in arms]
    output = Path(output)
    link = None
    if plot is not None:
        plot_transitions(summaries, plot)
        link = Path(os.path.relpath(Path(plot).resolve(), output.resolve().parent)).as_posix()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(summaries, link, command), encoding="utf-8")
    return summaries


def main(argv: Optional[List[str]] = None) -> int:
    """`python scripts/experiment_report.py --arm NAME TRAINING_DIR TEST_JSON ... --output REPORT.md`."""
    import argparse

    parser = argparse.ArgumentParser(
        description="markdown report and transition plot of the project's `experiment` workflow"
    )
    parser.add_argument(
        "--arm",
        nargs=3,
        action="append",
        required=True,
        metavar=("NAME", "TRAINING_DIR", "TEST_JSON"),
        help="an arm: its name, its `spacy train --output` directory (with crf_diagnostics.jsonl) "
        "and its `score --json` file",
    )
    parser.add_argument("--output", type=Path, required=True, help="the markdown report to write")
    parser.add_argument(
        "--plot", type=Path, metavar="FILE.png", help="mean |transition| against step, every arm (needs matplotlib)"
    )
    parser.add_argument("--command", dest="regenerate", help="the command that regenerates the report, quoted in it")
    args = parser.parse_args(argv)
    try:
        arms = write_report(args.arm, args.output, args.plot, args.regenerate)
    except ImportError:
        print("error: --plot needs matplotlib: pip install 'spacy-crf-lr[plot]'", file=sys.stderr)
        return 2
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({len(arms)} arms)" + (f" and {args.plot}" if args.plot else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
