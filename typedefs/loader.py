"""The typedef documents shipped with featmesh.

featmesh's own types are split over several JSON files in this package (one per
kind of def, for readable diffs); ``load_typedefs`` merges every ``*.json`` file here
except the Atlas base model into one document. ``businessMetadataDefs`` holds
business metadata (Purview's managed attributes): attribute groups set on entities of
the types each attribute's ``options.applicableEntityTypes`` names. ``atlas_base.json`` holds the part of
Atlas's base model featmesh builds on (Referenceable, Asset, DataSet, Process): it
describes types Atlas already has and is never pushed.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SECTIONS = (
    "enumDefs",
    "structDefs",
    "classificationDefs",
    "entityDefs",
    "relationshipDefs",
    "businessMetadataDefs",
)
BASE_FILE = "atlas_base.json"

# The category Atlas writes in each section's defs.
SECTION_CATEGORY = {
    "enumDefs": "ENUM",
    "structDefs": "STRUCT",
    "classificationDefs": "CLASSIFICATION",
    "entityDefs": "ENTITY",
    "relationshipDefs": "RELATIONSHIP",
    "businessMetadataDefs": "BUSINESS_METADATA",
}


def empty_document() -> dict[str, list[Any]]:
    return {section: [] for section in SECTIONS}


def _read(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_typedefs() -> dict[str, list[Any]]:
    """featmesh's own type system as one Atlas typedefs document (every section)."""
    names = sorted(
        entry.name
        for entry in resources.files(__package__).iterdir()
        if entry.name.endswith(".json") and entry.name != BASE_FILE
    )
    return merge_documents(*(_read(name) for name in names))


def load_base_typedefs() -> dict[str, list[Any]]:
    """The subset of Atlas's base model that featmesh's types extend."""
    return merge_documents(_read(BASE_FILE))


def merge_documents(*docs: dict[str, Any]) -> dict[str, list[Any]]:
    """One document holding every def of ``docs``, in order; every section present.

    Sections other than ``SECTIONS`` are left out; ``validate_document`` reports them
    when it is given a document directly.
    """
    merged = empty_document()
    for doc in docs:
        for section in SECTIONS:
            merged[section].extend(doc.get(section) or [])
    return merged
