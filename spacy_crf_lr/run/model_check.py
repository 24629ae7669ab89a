"""A model checked before it loads: a pipeline directory whose config.cfg parses and names only registered
functions and factories, or an installed package; each problem is one line naming the model and the setting."""

import difflib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, Tuple

CONFIG_HINT = "Make sure the sections and values are formatted correctly."  # confection's boilerplate line
INSTALL_HINT = " (is the package that provides it installed?)"
SECTIONS_LOADED = ("nlp", "components")  # what spacy.load builds; [training] and the rest are for `spacy train`


def check_model(model: str) -> None:
    """Raise a ValueError unless model is an installed package or a pipeline directory whose config.cfg passes
    check_config."""
    from spacy.util import is_package

    path = Path(model)
    if path.is_dir():
        if not (path / "config.cfg").is_file():
            raise ValueError(f"model {model}: not a trained pipeline (no config.cfg in the directory)")
        check_config(model, path / "config.cfg")
    elif not is_package(model):
        raise ValueError(f"model {model}: not found (give a pipeline directory or an installed package name)")


def check_config(model: str, config_path: Path) -> None:
    """Raise a one-line ValueError if config_path cannot be parsed, lacks [nlp] or [components], or names a
    function or component factory that is not registered (a missing package, or a typo: close names are given)."""
    from spacy.util import load_config

    prefix = f"model {model}: config.cfg"
    try:
        config = load_config(config_path, interpolate=True)
    except Exception as err:  # confection, configparser and the decoder each raise their own types
        raise ValueError(f"{prefix} cannot be read: {_one_line(err)}") from None
    for section in SECTIONS_LOADED:
        if not isinstance(config.get(section), dict):
            raise ValueError(f"{prefix} has no [{section}] section: not a spaCy pipeline's config")
    _check_factories(prefix, config)  # first: loading a plugin's factories adds its registries (span_getters, ...)
    for location, registry_name, name in registered_names(config):
        setting = f"{prefix}: [{location}] @{registry_name} = {name!r}"
        try:
            registered = _is_registered(registry_name, name)
        except ImportError as err:  # an installed plugin whose entry point names a module it no longer has
            raise ValueError(f"{setting} cannot be imported: {err}") from None
        if not registered:
            raise ValueError(f"{setting} is not registered{_close_names(registry_name, name)}{INSTALL_HINT}")


def registered_names(config: Dict[str, Any]) -> Iterator[Tuple[str, str, str]]:
    """(section, registry, name) of every `@registry = name` in the sections spacy.load builds."""

    def walk(section: str, block: Dict[str, Any]) -> Iterator[Tuple[str, str, str]]:
        for key, value in block.items():
            if isinstance(value, dict):
                yield from walk(f"{section}.{key}", value)
            elif key.startswith("@") and isinstance(value, str):
                yield section, key[1:], value

    for section in SECTIONS_LOADED:
        yield from walk(section, config[section])


def _is_registered(registry_name: str, name: str) -> bool:
    from spacy.util import registry

    return registry.has(registry_name, name)


def _close_names(registry_name: str, name: str) -> str:
    """`; close: a, b` naming up to 3 functions of the registry spelled like name, or nothing."""
    from spacy.util import registry

    try:
        names = list(getattr(registry, registry_name).get_all())
    except (AttributeError, ImportError):  # no such registry, or a broken plugin among its entry points
        return ""
    return _close(name, names)


def _close(name: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(names), n=3, cutoff=0.8)
    return f"; close: {', '.join(close)}" if close else ""


def _check_factories(prefix: str, config: Dict[str, Any]) -> None:
    """Raise if [nlp] lang is not a spaCy language or a component's factory is not registered for it."""
    from spacy.util import get_lang_class

    lang = config["nlp"].get("lang")
    try:
        lang_class = get_lang_class(lang)
    except ImportError:
        raise ValueError(f"{prefix}: [nlp] lang = {lang!r} is not a language spaCy has") from None
    # Plugins register their factories when a pipeline is first made: their entry points name them until then.
    # A plugin factory the config uses is loaded here, as spacy.load would, so that its module adds its registries.
    plugins = {point.name: point for point in entry_points(group="spacy_factories")}
    for component, block in config["components"].items():
        factory = block.get("factory") if isinstance(block, dict) else None
        if factory is None or lang_class.has_factory(factory):
            continue
        where = f"{prefix}: [components.{component}] factory = {factory!r}"
        if factory not in plugins:
            close = _close(factory, sorted(set(plugins) | set(lang_class.factories)))
            raise ValueError(f"{where} is not registered{close}{INSTALL_HINT}")
        try:
            plugins[factory].load()
        except ImportError as err:
            raise ValueError(f"{where} cannot be imported: {err}") from None


def _one_line(err: Exception) -> str:
    """The error's text in one line, without confection's boilerplate or the parser's '<string>' for the file."""
    text = getattr(err, "desc", None) or str(err) or type(err).__name__
    lines = [line.strip() for line in text.replace(CONFIG_HINT, "").splitlines() if line.strip()]
    return " ".join(lines).replace("file: '<string>', ", "").replace("'<string>' ", "").replace(": '<string>'", "")
