"""One pipeline from several trained ones: its CRF component averages the members' scores."""

from typing import Sequence, cast

from spacy.language import Language
from spacy.util import load_model_from_config

from ..ml.ensemble import ARCHITECTURE, fill_ensemble
from .base import CRFPipe


def ensemble_pipeline(members: Sequence[Language], component: str = "crf_segmenter") -> Language:
    """A pipeline like members[0] whose `component` is the mean of the members' emission scores under the mean of
    their CRF scores (spacy_crf_lr.CRFEnsemble.v1). The members need the same labels, component settings and
    tokenizer; their encoders may differ (another seed, another config)."""
    if len(members) < 2:
        raise ValueError(f"An ensemble needs at least 2 trained pipelines, got {len(members)}.")
    pipes = [_crf_pipe(nlp, component, i) for i, nlp in enumerate(members)]
    for i, (nlp, pipe) in enumerate(zip(members[1:], pipes[1:]), 1):
        differing = sorted(key for key in {*pipe.cfg, *pipes[0].cfg} if pipe.cfg.get(key) != pipes[0].cfg.get(key))
        if differing:
            raise ValueError(
                f"Pipeline {i} differs from pipeline 0 in the settings {differing} of '{component}': ensemble "
                "members need the same labels and settings."
            )
        if nlp.config["nlp"]["tokenizer"] != members[0].config["nlp"]["tokenizer"]:
            raise ValueError(f"Pipeline {i} has another tokenizer than pipeline 0: ensemble members need the same.")
    config = members[0].config.copy()
    config["components"][component]["model"] = {
        "@architectures": ARCHITECTURE,
        "*": {f"member{i}": nlp.config["components"][component]["model"] for i, nlp in enumerate(members)},
    }
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    nlp.from_bytes(members[0].to_bytes(exclude=[component]), exclude=[component, "config.cfg"])
    ensemble = cast(CRFPipe, nlp.get_pipe(component))
    nlp.meta.pop("performance", None)  # pipeline 0's scores, not the ensemble's
    nlp.meta["description"] = f"'{component}' averages {len(members)} trained pipelines (spacy_crf_lr ensemble)."
    fill_ensemble(ensemble.model, [pipe.model for pipe in pipes])
    # settings and word lists (the vocab came with the pipeline above)
    ensemble.from_bytes(pipes[0].to_bytes(exclude=["model", "vocab"]), exclude=["model", "vocab"])
    return nlp


def _crf_pipe(nlp: Language, component: str, index: int) -> CRFPipe:
    """The component `component` of pipeline `index`, checked to be a trained CRF component."""
    if component not in nlp.pipe_names:
        raise ValueError(f"Pipeline {index} has no component {component!r}; its components: {nlp.pipe_names}.")
    pipe = nlp.get_pipe(component)
    if not isinstance(pipe, CRFPipe):
        raise ValueError(
            f"Component {component!r} of pipeline {index} is a {type(pipe).__name__}, not a crf_segmenter or "
            "crf_tagger."
        )
    listeners = sorted({node.name for node in pipe.model.walk() if "listener" in node.name})
    if listeners:
        raise ValueError(
            f"Component {component!r} of pipeline {index} reads a shared encoder ({', '.join(listeners)}): only "
            "models with their own tok2vec can be ensembled."
        )
    if not pipe.model.get_ref("crf").has_param("transitions"):
        raise ValueError(f"Component {component!r} of pipeline {index} is not trained (its CRF has no scores).")
    return pipe
