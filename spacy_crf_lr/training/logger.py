"""`spacy_crf_lr.CRFDiagnosticsLogger.v1`: spaCy's console logger plus, at each evaluation,
diagnostics of every CRF component (transition matrix, its scale against the emission
scores, transition sanity), written as JSONL and shown as two extra console columns."""

import json
import math
import sys
from itertools import islice
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Optional, Tuple

import numpy
from spacy.training.loggers import console_logger
from spacy.util import minibatch, registry, resolve_dot_names
from wasabi import Printer

from ..pipeline.base import CRFPipe
from .diagnostics import emission_margin, infer_scheme, mean_abs_transition, scale_ratio, transition_sanity

DEFAULT_FILE = "crf_diagnostics.jsonl"  # in the training output directory (`spacy train --output`)


class _ConsoleView:
    """The nlp object as the wrapped console logger sees it: the same pipeline, but a
    training config whose score weights name the extra columns (weight 0: the columns are
    only displayed; the training score and the saved config are untouched)."""

    def __init__(self, nlp, config: Dict[str, Any]):
        self._nlp = nlp
        self.config = config

    def __getattr__(self, name: str):
        return getattr(self._nlp, name)


def column_names(components: List[str]) -> Dict[str, Tuple[str, str]]:
    """Console columns (sanity, ratio) per CRF component: crf_sanity / crf_ratio for a single
    component, crf1_sanity / crf1_ratio, crf2_... in pipeline order for several."""
    if len(components) == 1:
        return {components[0]: ("crf_sanity", "crf_ratio")}
    return {name: (f"crf{i}_sanity", f"crf{i}_ratio") for i, name in enumerate(components, 1)}


def _console_values(sanity: Optional[float], margin: Optional[float], ratio: Optional[float]) -> Tuple[float, float]:
    """Values for the console columns. The console multiplies scores by 100: sanity shows as a
    percentage, the ratio is divided by 100 so that it shows as itself ("inf": all transitions
    are zero; "nan": not measurable)."""
    shown_sanity = math.nan if sanity is None else sanity
    if ratio is not None:
        shown_ratio = ratio / 100
    else:
        shown_ratio = math.inf if margin else math.nan
    return shown_sanity, shown_ratio


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@registry.loggers("spacy_crf_lr.CRFDiagnosticsLogger.v1")
def crf_diagnostics_logger(progress_bar: bool = False, path: Optional[str] = None, max_dev_docs: int = 200) -> Callable:
    """spaCy's ConsoleLogger.v1 table plus CRF diagnostics at each evaluation.
    path: the JSONL file; None (default) = `crf_diagnostics.jsonl` in the training output
    directory (nothing is written when training has no output directory).
    max_dev_docs: the first N docs of the dev corpus give the emission margin."""
    if max_dev_docs < 1:
        raise ValueError(f"max_dev_docs must be >= 1, got {max_dev_docs!r}.")
    console = console_logger(progress_bar=progress_bar)

    def setup(nlp, stdout: IO = sys.stdout, stderr: IO = sys.stderr):
        msg = Printer(no_print=True)
        components = [name for name, proc in nlp.pipeline if isinstance(proc, CRFPipe)]
        columns = column_names(components)
        training = nlp.config["training"]
        weights = dict(training["score_weights"])
        for sanity_col, ratio_col in columns.values():
            weights.setdefault(sanity_col, 0.0)
            weights.setdefault(ratio_col, 0.0)
        view = _ConsoleView(nlp, {**nlp.config, "training": {**training, "score_weights": weights}})
        console_step, console_finalize = console(view, stdout, stderr)

        state: Dict[str, Any] = {"optimizer": None, "docs": None, "file": None, "path": None, "warned": False}
        # The training loop evaluates (and saves) with the optimizer's parameter averages; it
        # hands the optimizer to each component's finish_update, which is where we see it.
        originals = {}
        for name in components:
            proc = nlp.get_pipe(name)
            originals[name] = proc.finish_update

            def finish_update(sgd, _original=originals[name]):
                state["optimizer"] = sgd
                return _original(sgd)

            proc.finish_update = finish_update

        def dev_docs() -> list:
            if state["docs"] is None:
                config = nlp.config.interpolate()
                (corpus,) = resolve_dot_names(config, [config["training"]["dev_corpus"]])
                examples = (eg for eg in corpus(nlp) if len(eg.predicted))
                state["docs"] = [eg.predicted for eg in islice(examples, max_dev_docs)]
            return state["docs"]

        def emissions_of(name: str) -> List[numpy.ndarray]:
            """Emission scores of the component on the dev docs, after the components before it."""
            index = nlp.pipe_names.index(name)
            docs = [doc.copy() for doc in dev_docs()]
            for _, before in nlp.pipeline[:index]:
                docs = list(before.pipe(docs)) if hasattr(before, "pipe") else [before(doc) for doc in docs]
            model = nlp.get_pipe(name).model
            found = []
            for batch in minibatch(docs, size=64):
                scores = model.predict(list(batch))
                emissions = model.ops.to_numpy(scores.emissions)
                lengths = model.ops.to_numpy(scores.lengths)
                found.extend(emissions[i, : int(n)] for i, n in enumerate(lengths))
            return found

        def rates() -> Tuple[Optional[float], Optional[float]]:
            optimizer = state["optimizer"]
            if optimizer is not None:
                body = _number(optimizer.learn_rate)
                crf = _number(getattr(optimizer, "crf_lr", None))
            else:
                settings = nlp.config.interpolate()["training"]["optimizer"]
                body, crf = _number(settings.get("learn_rate")), _number(settings.get("crf_lr"))
            return body, body if crf is None else crf

        def diagnose(name: str, info: Dict[str, Any]) -> Dict[str, Any]:
            proc = nlp.get_pipe(name)
            labels = list(proc.labels)
            transitions, start, end = (numpy.asarray(a, dtype="float64") for a in proc.crf_scores())
            judged_by = infer_scheme(labels, proc.cfg.get("scheme"))
            sanity = transition_sanity(transitions, labels, judged_by) if judged_by else None
            emissions = emissions_of(name)
            margin = emission_margin(emissions)
            mean_abs = mean_abs_transition(transitions)
            body_lr, crf_lr = rates()
            record = {
                "step": info["step"],
                "epoch": info["epoch"],
                "score": float(info["score"]),
                "component": name,
                "decoder": proc.cfg.get("decoder"),
                "scheme": proc.cfg.get("scheme"),
                "sanity_scheme": judged_by,
                "labels": labels,
                "transitions": transitions.tolist(),
                "start": start.tolist(),
                "end": end.tolist(),
                "mean_abs_transition": mean_abs,
                "emission_margin": margin,
                "ratio": scale_ratio(margin, mean_abs),
                "sanity": sanity,
                "learn_rate": body_lr,
                "crf_lr": crf_lr,
                "loss": _number(info.get("losses", {}).get(name)),
                "n_dev_docs": len(emissions),
                "averaged": bool(state["optimizer"] is not None and state["optimizer"].averages),
                "seconds": info.get("seconds"),
            }
            for key, value in (info.get("other_scores") or {}).items():
                if key not in record and _number(value) is not None:
                    record[key] = float(value)
            return record

        def write(records: List[Dict[str, Any]], info: Dict[str, Any]) -> None:
            if state["file"] is None:
                target = path
                if target is None and info.get("output_path"):
                    target = Path(info["output_path"]).parent / DEFAULT_FILE
                if target is None:
                    if not state["warned"]:
                        state["warned"] = True
                        print(msg.warn("CRF diagnostics: no output directory and no `path`: not written"), file=stdout)
                    return
                state["path"] = Path(target)
                state["path"].parent.mkdir(parents=True, exist_ok=True)
                state["file"] = state["path"].open("w", encoding="utf-8")
            for record in records:
                state["file"].write(json.dumps(record, allow_nan=False) + "\n")
            state["file"].flush()

        def log_step(info: Optional[Dict[str, Any]]) -> None:
            if info is None:
                console_step(None)
                return
            optimizer = state["optimizer"]
            averages = optimizer.averages if optimizer is not None else None
            if averages:
                with nlp.use_params(averages):
                    records = [diagnose(name, info) for name in components]
            else:
                records = [diagnose(name, info) for name in components]
            write(records, info)
            shown = dict(info.get("other_scores") or {})
            for record in records:
                sanity_col, ratio_col = columns[record["component"]]
                shown[sanity_col], shown[ratio_col] = _console_values(
                    record["sanity"], record["emission_margin"], record["ratio"]
                )
            console_step({**info, "other_scores": shown})

        def finalize() -> None:
            console_finalize()
            for name, original in originals.items():
                proc = nlp.get_pipe(name) if name in nlp.component_names else None
                if proc is not None and proc.finish_update is not original:
                    del proc.finish_update
            if state["file"] is not None:
                state["file"].close()
                print(msg.info(f"CRF diagnostics written to {state['path']}"), file=stdout)

        return log_step, finalize

    return setup
