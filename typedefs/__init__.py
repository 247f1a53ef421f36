"""featmesh's Atlas / Purview type system, and a validator for typedef documents.

    doc = load_typedefs()                                      # featmesh's own types
    problems = validate_document(doc)                          # [] when Atlas accepts it
    ts = TypeSystem.from_documents(load_base_typedefs(), doc)  # resolved; ValueError if invalid
    ts.check_entity({"typeName": "featmesh_feature", "attributes": {...}})

This package imports nothing else of featmesh.
"""

from featmesh.typedefs.loader import SECTIONS, load_base_typedefs, load_typedefs, merge_documents
from featmesh.typedefs.system import (
    AttributeDef,
    ClassificationType,
    EntityType,
    RelationshipEnd,
    TypeSystem,
)
from featmesh.typedefs.typenames import PRIMITIVES
from featmesh.typedefs.validator import Problem, validate_document

__all__ = [
    "PRIMITIVES",
    "SECTIONS",
    "AttributeDef",
    "ClassificationType",
    "EntityType",
    "Problem",
    "RelationshipEnd",
    "TypeSystem",
    "load_base_typedefs",
    "load_typedefs",
    "merge_documents",
    "validate_document",
]
