"""`spacy_crf_lr.CRFDiagnosticsLogger.v1`: spaCy's console table plus, at each evaluation, the
diagnostics every CRF component's scorer reported (transition matrix, its scale against the emission
scores, transition sanity, the rates the training optimizer applied to its last update), written as JSONL
and shown as two extra console columns, and a one-time advice on `crf_lr` when the transitions stay negligible."""

import json
import math
import sys
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Optional, Tuple

from spacy.training.loggers import setup_table
from spacy.util import registry
from wasabi import Printer

from ..crf.diagnostics import MAX_MARGIN_DOCS, margin_of, scale_ratio
from ..pipeline.base import CRFPipe

DEFAULT_FILE = "crf_diagnostics.jsonl"  # in the training output directory (`spacy train --output`)
TARGET_RATIO = 5.0  # the advice aims the emission/transition ratio here (CRFs that work sit around 1-10)
# keys of a component's `<name>_crf` score that the JSONL record takes over (in this order)
MEASURE_KEYS = (
    "component",
    "decoder",
    "scheme",
    "sanity_scheme",
    "labels",
    "transitions",
    "start",
    "end",
    "mean_abs_transition",
    "emission_margin",
    "ratio",
    "sanity",
    "sanity_note",
)


def column_names(components: List[str]) -> Dict[str, Tuple[str, str]]:
    """Console columns (sanity, ratio) per CRF component: crf_sanity / crf_ratio for a single
    component, crf1_sanity / crf1_ratio, crf2_... in pipeline order for several."""
    if len(components) == 1:
        return {components[0]: ("crf_sanity", "crf_ratio")}
    return {name: (f"crf{i}_sanity", f"crf{i}_ratio") for i, name in enumerate(components, 1)}


def console_cells(record: Dict[str, Any]) -> Tuple[str, str]:
    """The sanity (in %) and ratio cells of a record: "n/a" when not measurable (a constrained
    CRF's sanity, a missing margin), "inf" when all transitions are zero."""
    sanity = "n/a" if record.get("sanity") is None else f"{100 * record['sanity']:.2f}"
    if record.get("ratio") is not None:
        ratio = f"{record['ratio']:.2f}"
    else:
        ratio = "inf" if record.get("emission_margin") else "n/a"
    return sanity, ratio


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def advise_crf_lr(records: List[Dict[str, Any]], target: float = TARGET_RATIO) -> Optional[float]:
    """A crf_lr that would have brought the emission/transition ratio to `target` over the same steps,
    assuming the transitions grow in proportion to crf_lr (Adam moves each weight by about its rate
    per step): crf_lr × needed growth / observed growth of mean |transition|, crf_lr being the rate applied
    at the last record (a schedule or `epochs` scale it with the configured one); 100 × crf_lr when they
    did not grow. None when there is nothing to advise (no margin, no rate, or already there)."""
    first, last = records[0], records[-1]
    crf_lr, margin = last.get("crf_lr"), last.get("emission_margin")
    if not crf_lr or not margin:
        return None
    wanted = margin / target
    if last["mean_abs_transition"] >= wanted:
        return None
    grown = last["mean_abs_transition"] - first["mean_abs_transition"]
    if grown <= 0 or last["step"] <= first["step"]:
        return float(f"{100 * crf_lr:.1g}")
    needed = wanted - first["mean_abs_transition"]
    return float(f"{crf_lr * needed / grown:.1g}")


@registry.loggers("spacy_crf_lr.CRFDiagnosticsLogger.v1")
def crf_diagnostics_logger(
    progress_bar: bool = False,
    path: Optional[str] = None,
    max_dev_docs: int = 200,
    advise_ratio: Optional[float] = 20.0,
    advise_evals: int = 3,
) -> Callable:
    """spaCy's console table plus the CRF diagnostics of each evaluation (from the CRF components'
    scores). path: the JSONL file; None (default) = `crf_diagnostics.jsonl` in the training output
    directory (nothing is written when training has no output directory). max_dev_docs: the first N
    dev docs give the emission margin. advise_ratio / advise_evals: warn once, with a suggested
    crf_lr, when a CRF's ratio stays above advise_ratio for the first advise_evals evaluations (null: never)."""
    if not isinstance(max_dev_docs, int) or not 1 <= max_dev_docs <= MAX_MARGIN_DOCS:
        raise ValueError(f"max_dev_docs must be an integer from 1 to {MAX_MARGIN_DOCS}, got {max_dev_docs!r}.")
    if advise_ratio is not None and not (isinstance(advise_ratio, (int, float)) and advise_ratio > 0):
        raise ValueError(f"advise_ratio must be a number > 0 or null, got {advise_ratio!r}.")
    if not isinstance(advise_evals, int) or isinstance(advise_evals, bool) or advise_evals < 1:
        raise ValueError(f"advise_evals must be an integer >= 1, got {advise_evals!r}.")

    def setup(nlp, stdout: IO = sys.stdout, stderr: IO = sys.stderr):
        msg = Printer(no_print=True)
        write_line = lambda text: print(text, file=stdout, flush=True)  # noqa: E731
        components = [name for name, proc in nlp.pipeline if isinstance(proc, CRFPipe)]
        columns = column_names(components)
        training = nlp.config["training"]
        score_cols = [col for col, weight in training["score_weights"].items() if weight is not None]
        crf_cols = [col for name in components for col in columns[name]]
        logged_pipes = [name for name, proc in nlp.pipeline if getattr(proc, "is_trainable", False)]
        header, widths, aligns = setup_table(
            cols=["E", "#"] + [f"Loss {pipe}" for pipe in logged_pipes] + score_cols + crf_cols + ["Score"],
            widths=[3, 6] + [8] * len(logged_pipes) + [6] * (len(score_cols) + len(crf_cols)) + [6],
        )
        write_line(msg.row(header, widths=widths, spacing=2))
        write_line(msg.row(["-" * width for width in widths], spacing=2))
        state: Dict[str, Any] = {"file": None, "path": None, "warned": False, "progress": None}
        history: Dict[str, List[Dict[str, Any]]] = {name: [] for name in components}
        advised: set = set()

        def record_of(name: str, info: Dict[str, Any], measures: Dict[str, Any]) -> Dict[str, Any]:
            applied = measures.get("last_update") or {}
            per_doc = measures.get("margin_by_doc", [])[:max_dev_docs]
            margin = margin_of(per_doc)
            record = {"step": info["step"], "epoch": info["epoch"], "score": float(info["score"])}
            record.update({key: measures.get(key) for key in MEASURE_KEYS})
            record.update(emission_margin=margin, ratio=scale_ratio(margin, measures["mean_abs_transition"]))
            record.update(learn_rate=applied.get("learn_rate"), crf_lr=applied.get("crf_lr"))
            if applied.get("param_lrs"):
                record["param_lrs"] = applied["param_lrs"]
            record.update(
                loss=_number(info.get("losses", {}).get(name)),
                n_dev_docs=len(per_doc),
                averaged=applied.get("averaged"),
                seconds=info.get("seconds"),
            )
            for key, value in (info.get("other_scores") or {}).items():
                if key not in record and _number(value) is not None:
                    record[key] = float(value)
            return record

        def advise(record: Dict[str, Any]) -> None:
            name = record["component"]
            history[name].append(record)
            # the evaluation at step 0 follows a single update: both scales are still ~0, it proves nothing
            seen = [r for r in history[name] if r["step"] > 0]
            if advise_ratio is None or name in advised or len(seen) != advise_evals or record["decoder"] != "crf":
                return
            if all((r["ratio"] if r["ratio"] is not None else math.inf) > advise_ratio for r in seen):
                suggestion = advise_crf_lr(history[name])
                if suggestion is not None:
                    advised.add(name)
                    record["advice_crf_lr"] = suggestion
                    ratio = record["ratio"] if record["ratio"] is not None else math.inf
                    write_line(
                        msg.warn(
                            f"CRF '{name}': emission/transition ratio above {advise_ratio:g} for the first "
                            f"{advise_evals} evaluations after step 0 (now {ratio:.3g}): the transitions barely "
                            f"change a decision. Try crf_lr = {suggestion:g} (applied now: {record['crf_lr']:g}; it "
                            f"aims at a ratio of {TARGET_RATIO:g} over the same steps)."
                        )
                    )

        def write(records: List[Dict[str, Any]], info: Dict[str, Any]) -> None:
            if state["file"] is None:
                target: Optional[Path] = Path(path) if path is not None else None
                if target is None and info.get("output_path"):
                    target = Path(info["output_path"]).parent / DEFAULT_FILE
                if target is None:
                    if not state["warned"]:
                        state["warned"] = True
                        write_line(msg.warn("CRF diagnostics: no output directory and no `path`: not written"))
                    return
                state["path"] = Path(target)
                state["path"].parent.mkdir(parents=True, exist_ok=True)
                state["file"] = state["path"].open("w", encoding="utf-8")
            for record in records:
                state["file"].write(json.dumps(record, allow_nan=False) + "\n")
            state["file"].flush()

        def log_step(info: Optional[Dict[str, Any]]) -> None:
            if info is None:
                if state["progress"] is not None:
                    state["progress"].update(1)
                return
            scores = info.get("other_scores") or {}
            records = [
                record_of(name, info, scores[f"{name}_crf"])
                for name in components
                if isinstance(scores.get(f"{name}_crf"), dict)
            ]
            for record in records:
                advise(record)
            write(records, info)
            cells: Dict[str, Any] = {}
            for record in records:
                cells.update(zip(columns[record["component"]], console_cells(record)))
            losses = [f"{float(info['losses'].get(pipe, 0.0)):.2f}" for pipe in logged_pipes]
            shown = []
            for col in score_cols:
                value = _number(scores.get(col, 0.0))
                if value is None:
                    raise ValueError(f"Score {col!r} is not a number: {scores.get(col)!r}; score_weights need numbers.")
                shown.append(f"{value if col == 'speed' else 100 * value:.2f}")
            row = [info["epoch"], info["step"]] + losses + shown + [cells.get(c, "n/a") for c in crf_cols]
            if state["progress"] is not None:
                state["progress"].close()
            write_line(msg.row(row + [f"{float(info['score']):.2f}"], widths=widths, aligns=aligns, spacing=2))
            if progress_bar:
                import tqdm

                state["progress"] = tqdm.tqdm(
                    total=training["eval_frequency"],
                    disable=None,
                    leave=False,
                    file=stderr,
                    desc=f"Epoch {info['epoch'] + 1}",
                )

        def finalize() -> None:
            if state["file"] is not None:
                state["file"].close()
                write_line(msg.info(f"CRF diagnostics written to {state['path']}"))

        return log_step, finalize

    return setup
