"""Documentation: descriptions that tell a consumer more than the name does."""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from typing import Any

from featmesh.connector.model import FeatureSet
from featmesh.policies.context import CheckContext
from featmesh.policies.registry import check
from featmesh.policies.types import PASS, Outcome, fail

_PLACEHOLDERS = frozenset({"todo", "tbd", "na", "none", "description", "feature", "tbc", "fixme"})
_DROP = str.maketrans("", "", string.punctuation + string.whitespace)

MIN_LENGTH = {"type": "integer", "minimum": 0, "default": 20, "description": "Minimum characters."}


def description_problem(name: str, description: str, min_length: int) -> str | None:
    """Why a description is not good enough, or None when it is."""
    text = description.strip()
    if not text:
        return "no description"
    flat = text.lower().translate(_DROP)
    if flat == name.lower().translate(_DROP) or flat in _PLACEHOLDERS:
        return f"description {text!r} only repeats the name or is a placeholder"
    if len(text) < min_length:
        return f"description is {len(text)} characters, fewer than {min_length}"
    return None


@check("set_description", dimension="documentation", params={"min_length": MIN_LENGTH})
def set_description(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set has a description of some length that is not just its name.

    Fails:  ``name: card_txn_7d``, ``description: "Card txn 7d"``
    Passes: ``description: "Card transactions per customer over the last 7 days, by merchant type"``
    Fix: write a sentence under ``description:`` saying what the set holds, per which
    key, over which window.
    """
    problem = description_problem(fs.name, fs.description, p["min_length"])
    return PASS if problem is None else fail(f"feature set '{fs.name}': {problem}")


@check(
    "feature_description",
    target="feature",
    dimension="documentation",
    params={"min_length": {**MIN_LENGTH, "default": 10}},
)
def feature_description(
    fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext
) -> Iterator[tuple[str, Outcome]]:
    """Every feature has a description that is not just its name.

    Fails:  ``name: txn_count``, no description, or ``description: "txn count"``
    Passes: ``description: "Number of settled card transactions in the window"``
    Fix: give each feature a ``description:`` saying what it measures and in which unit.
    """
    min_length = p["min_length"]
    for feature in fs.features:
        problem = description_problem(feature.name, feature.description, min_length)
        if problem is not None:
            yield feature.name, fail(f"feature '{feature.name}': {problem}")
