"""Tag schemes (BMES, BIO, BILUO) and the transitions they allow."""

from functools import lru_cache
from typing import Optional, Sequence, Tuple

import numpy

SCHEMES = ("BMES", "BIO", "BILUO")
# Prefixes each scheme knows; a label is PREFIX or PREFIX-TYPE ("O" has no type).
_PREFIXES = {"BMES": "BMES", "BIO": "BIO", "BILUO": "BILUO"}
# Prefixes that may open / close a sequence.
_STARTS = {"BMES": "BS", "BIO": "BO", "BILUO": "BUO"}
_ENDS = {"BMES": "ES", "BIO": "BIO", "BILUO": "LUO"}
# Prefixes after which the entity continues, and the prefixes that continue it.
_INSIDE_FROM = {"BMES": "BM", "BIO": "BI", "BILUO": "BI"}
_INSIDE_TO = {"BMES": "ME", "BIO": "I", "BILUO": "IL"}

ConstraintMasks = Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]


def check_scheme(scheme: Optional[str]) -> Optional[str]:
    """Return the scheme, or raise if it is not one we know."""
    if scheme is None or scheme in SCHEMES:
        return scheme
    raise ValueError(f"Unknown tag scheme {scheme!r}: allowed are {', '.join(SCHEMES)} or null (no constraints).")


def _split(scheme: str, label: str) -> Tuple[str, str]:
    """Split a label into (prefix, type), checking it belongs to the scheme."""
    prefix, _, type_ = label.partition("-")
    if len(prefix) != 1 or prefix not in _PREFIXES[scheme] or (prefix == "O" and type_):
        raise ValueError(
            f"Label {label!r} does not fit the {scheme} scheme: labels must be one of "
            f"{', '.join(_PREFIXES[scheme])}, optionally followed by '-TYPE'"
            + (" ('O' takes no type)" if "O" in _PREFIXES[scheme] else "")
            + "."
        )
    return prefix, type_


def _allowed(scheme: str, prev: Tuple[str, str], curr: Tuple[str, str]) -> bool:
    """Whether tag `curr` may follow tag `prev` under the scheme."""
    inside = prev[0] in _INSIDE_FROM[scheme]
    continues = curr[0] in _INSIDE_TO[scheme]
    if inside and scheme != "BIO":
        return continues and curr[1] == prev[1]
    if continues:
        return inside and curr[1] == prev[1]
    return True


@lru_cache(maxsize=64)
def constraint_masks(scheme: Optional[str], labels: Tuple[str, ...]) -> ConstraintMasks:
    """Boolean masks of allowed (transitions K×K, start K, end K) for the labels."""
    n = len(labels)
    if scheme is None:
        return numpy.ones((n, n), bool), numpy.ones(n, bool), numpy.ones(n, bool)
    check_scheme(scheme)
    parts = [_split(scheme, label) for label in labels]
    transitions = numpy.array([[_allowed(scheme, p, c) for c in parts] for p in parts], bool)
    start = numpy.array([p[0] in _STARTS[scheme] for p in parts], bool)
    end = numpy.array([p[0] in _ENDS[scheme] for p in parts], bool)
    return transitions.reshape((n, n)), start, end


def find_violation(scheme: Optional[str], labels: Sequence[str], tags: Sequence[Optional[str]]) -> Optional[str]:
    """Describe the first place where `tags` break the scheme, or return None. A None tag (unknown)
    is not checked, nor are the moves into and out of it."""
    if scheme is None or not tags:
        return None
    index = {label: i for i, label in enumerate(labels)}
    transitions, start, end = constraint_masks(scheme, tuple(labels))
    if tags[0] is not None and not start[index[tags[0]]]:
        return f"position 0: a sequence cannot start with {tags[0]!r}"
    for i in range(1, len(tags)):
        if tags[i - 1] is None or tags[i] is None:
            continue
        if not transitions[index[tags[i - 1]], index[tags[i]]]:
            return f"position {i}: {tags[i]!r} cannot follow {tags[i - 1]!r}"
    if tags[-1] is not None and not end[index[tags[-1]]]:
        return f"position {len(tags) - 1}: a sequence cannot end with {tags[-1]!r}"
    return None
