"""Apache Atlas's error answers, for the fake Atlas server (``tests/fakeatlas.py``).

Status, ``errorCode`` and message templates follow ``AtlasErrorCode`` in apache/atlas
(intg/src/main/java/org/apache/atlas/AtlasErrorCode.java). Note Atlas's own quirk:
``INSTANCE_CRUD_INVALID_PARAMS`` (a payload failing value checks, a missing mandatory
attribute included) answers 404, not 400.
"""

from __future__ import annotations

from typing import Any

CODES: dict[str, tuple[int, str, str]] = {
    "UNKNOWN_TYPE": (400, "ATLAS-400-00-001", "Unknown type {0} for {1}.{2}"),
    "INCOMPATIBLE_SUPERTYPE": (400, "ATLAS-400-00-003", "{0}: incompatible supertype {1}"),
    "CANNOT_ADD_MANDATORY_ATTRIBUTE": (400, "ATLAS-400-00-00C", "{0} : can not add mandatory attribute"),
    "ATTRIBUTE_DELETION_NOT_SUPPORTED": (400, "ATLAS-400-00-00D", "{0} : attribute delete not supported"),
    "SUPERTYPE_REMOVAL_NOT_SUPPORTED": (400, "ATLAS-400-00-00E", "superType remove not supported: {0}"),
    "INVALID_TYPE_DEFINITION": (400, "ATLAS-400-00-011", "Invalid type definition {0}"),
    "TYPE_NAME_INVALID": (400, "ATLAS-400-00-014", "Type {0} with name {1} does not exist"),
    "TYPE_CATEGORY_INVALID": (400, "ATLAS-400-00-015", "Type Category {0} is invalid"),
    "TYPE_NAME_INVALID_FORMAT": (400, "ATLAS-400-00-019", "{0}: invalid name"),
    "INVALID_PARAMETERS": (400, "ATLAS-400-00-01A", "invalid parameters: {0}"),
    "CLASSIFICATION_ALREADY_ASSOCIATED": (
        400,
        "ATLAS-400-00-01B",
        "instance {0} already is associated with classification {1}",
    ),
    "INVALID_OBJECT_ID": (400, "ATLAS-400-00-021", "ObjectId is not valid {0}"),
    "UNKNOWN_ATTRIBUTE": (400, "ATLAS-400-00-023", "Attribute {0} not found for type {1}"),
    "ATTRIBUTE_UPDATE_NOT_SUPPORTED": (400, "ATLAS-400-00-027", "{0} : attribute update not supported"),
    "BAD_REQUEST": (400, "ATLAS-400-00-029", "{0}"),
    "RELATIONSHIPDEF_DOUBLE_CONTAINERS": (
        400,
        "ATLAS-400-00-02D",
        "relationshipDef {0} creation attempted with both ends as containers",
    ),
    "RELATIONSHIPDEF_ASSOCIATION_AND_CONTAINER": (
        400,
        "ATLAS-400-00-030",
        "ASSOCIATION relationshipDef {0} creation attempted with an end specifying isContainer",
    ),
    "RELATIONSHIPDEF_COMPOSITION_NO_CONTAINER": (
        400,
        "ATLAS-400-00-031",
        "{0} relationshipDef creation attempted without an end specifying isContainer",
    ),
    "RELATIONSHIPDEF_COMPOSITION_MULTIPLE_PARENTS": (
        400,
        "ATLAS-400-00-033",
        "COMPOSITION relationshipDef {0} can only have one parent; "
        "so cannot have SET cardinality on children",
    ),
    "RELATIONSHIPDEF_LIST_ON_END": (
        400,
        "ATLAS-400-00-034",
        "relationshipDef {0} cannot have a LIST cardinality on an end",
    ),
    "RELATIONSHIPDEF_INVALID_END_TYPE": (
        400,
        "ATLAS-400-00-035",
        "relationshipDef {0} has invalid end type {1}",
    ),
    "RELATIONSHIPDEF_INVALID_END1_UPDATE": (
        400,
        "ATLAS-400-00-037",
        "invalid update for relationshipDef {0}",
    ),
    "RELATIONSHIPDEF_INVALID_END2_UPDATE": (
        400,
        "ATLAS-400-00-038",
        "invalid update for relationshipDef {0}",
    ),
    "RELATIONSHIPDEF_INVALID_CATEGORY_UPDATE": (
        400,
        "ATLAS-400-00-039",
        "invalid update for relationship {0}",
    ),
    "RELATIONSHIP_INVALID_ENDTYPE": (
        400,
        "ATLAS-400-00-045",
        "Invalid entity-type for relationship attribute '{0}': entity specified (guid={1}) is of type "
        "'{2}', but expected type is '{3}'",
    ),
    "MISSING_MANDATORY_ATTRIBUTE": (400, "ATLAS-400-00-02B", "Mandatory field {0}.{1} has empty/null value"),
    "APPLICABLE_ENTITY_TYPES_DELETION_NOT_SUPPORTED": (
        400,
        "ATLAS-400-00-093",
        "Cannot remove applicableEntityTypes in Attribute Def: {0}, defined in business-metadata: {1}",
    ),
    "BUSINESS_METADATA_DEF_ATTRIBUTE_TYPE_INVALID": (
        400,
        "ATLAS-400-00-094",
        "{0}.{1}: invalid attribute type. Business-metadata attribute cannot be of type "
        "entity/classification/struct/business-metadata",
    ),
    "ENTITYTYPE_REMOVAL_NOT_SUPPORTED": (
        400,
        "ATLAS-400-00-051",
        "EntityTypes cannot be removed from ClassificationDef '{0}'",
    ),
    "CLASSIFICATIONDEF_INVALID_ENTITYTYPES": (
        400,
        "ATLAS-400-00-052",
        "ClassificationDef '{0}' has invalid '{1}' in entityTypes",
    ),
    "INVALID_ENTITY_FOR_CLASSIFICATION": (
        400,
        "ATLAS-400-00-055",
        "Entity (guid='{0}',typename='{1}') cannot be classified by Classification '{2}', because "
        "'{1}' is not in the ClassificationDef's restrictions.",
    ),
    "CLASSIFICATION_NOT_ASSOCIATED_WITH_ENTITY": (
        400,
        "ATLAS-400-00-06D",
        "Classification {0} is not associated with entity",
    ),
    "TYPE_NAME_NOT_FOUND": (404, "ATLAS-404-00-001", "Given typename {0} was invalid"),
    "INSTANCE_GUID_NOT_FOUND": (404, "ATLAS-404-00-005", "Given instance guid {0} is invalid/not found"),
    "INSTANCE_CRUD_INVALID_PARAMS": (
        404,
        "ATLAS-404-00-007",
        "Invalid instance creation/updation parameters passed : {0}",
    ),
    "CLASSIFICATION_NOT_FOUND": (404, "ATLAS-404-00-008", "Given classification {0} was invalid"),
    "INSTANCE_BY_UNIQUE_ATTRIBUTE_NOT_FOUND": (
        404,
        "ATLAS-404-00-009",
        "Instance {0} with unique attribute {1} does not exist",
    ),
    "REFERENCED_ENTITY_NOT_FOUND": (404, "ATLAS-404-00-00A", "Referenced entity {0} is not found"),
    "TYPE_ALREADY_EXISTS": (409, "ATLAS-409-00-001", "Given type {0} already exists"),
    "TYPE_HAS_REFERENCES": (409, "ATLAS-409-00-002", "Given type {0} has references"),
    "INSTANCE_ALREADY_EXISTS": (409, "ATLAS-409-00-003", "failed to update entity: {0}"),
}


class AtlasError(Exception):
    """An answer Atlas gives with an ``errorCode``: raise it from a handler."""

    def __init__(self, key: str, *args: Any):
        status, code, template = CODES[key]
        self.key = key
        self.status = status
        self.code = code
        self.message = template.format(*args)
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, str]:
        return {"errorCode": self.code, "errorMessage": self.message}


# Typedef validator and diff messages (typedefs package) -> the AtlasErrorCode Atlas uses.
_TYPEDEF_PROBLEMS = (
    ("LIST", "RELATIONSHIPDEF_LIST_ON_END"),
    ("both ends are containers", "RELATIONSHIPDEF_DOUBLE_CONTAINERS"),
    ("ASSOCIATION cannot have a container", "RELATIONSHIPDEF_ASSOCIATION_AND_CONTAINER"),
    ("needs exactly one end with isContainer", "RELATIONSHIPDEF_COMPOSITION_NO_CONTAINER"),
    ("child end of a COMPOSITION", "RELATIONSHIPDEF_COMPOSITION_MULTIPLE_PARENTS"),
    ("unknown end type", "RELATIONSHIPDEF_INVALID_END_TYPE"),
    ("applicableEntityTypes names", "TYPE_NAME_NOT_FOUND"),
    ("maxStrLength", "MISSING_MANDATORY_ATTRIBUTE"),
    ("not allowed on business metadata", "BUSINESS_METADATA_DEF_ATTRIBUTE_TYPE_INVALID"),
    ("entityTypes", "CLASSIFICATIONDEF_INVALID_ENTITYTYPES"),
    ("superType", "INCOMPATIBLE_SUPERTYPE"),
    ("unknown type", "UNKNOWN_TYPE"),
    ("start with a letter", "TYPE_NAME_INVALID_FORMAT"),
)

_UPDATE_PROBLEMS = (
    ("is mandatory", "CANNOT_ADD_MANDATORY_ATTRIBUTE"),
    ("applicableEntityTypes can only grow", "APPLICABLE_ENTITY_TYPES_DELETION_NOT_SUPPORTED"),
    ("entityTypes", "ENTITYTYPE_REMOVAL_NOT_SUPPORTED"),
    ("removed (an update", "ATTRIBUTE_DELETION_NOT_SUPPORTED"),
    ("changes type", "ATTRIBUTE_UPDATE_NOT_SUPPORTED"),
    ("superType", "SUPERTYPE_REMOVAL_NOT_SUPPORTED"),
    ("relationshipCategory", "RELATIONSHIPDEF_INVALID_CATEGORY_UPDATE"),
    ("endDef1", "RELATIONSHIPDEF_INVALID_END1_UPDATE"),
    ("endDef2", "RELATIONSHIPDEF_INVALID_END2_UPDATE"),
    ("category", "TYPE_CATEGORY_INVALID"),
)


def typedef_error(problem: str, *, update: bool = False) -> AtlasError:
    """The AtlasError for the first typedef problem (the generic one when no rule matches)."""
    table = _UPDATE_PROBLEMS if update else _TYPEDEF_PROBLEMS
    for needle, key in table:
        if needle.lower() in problem.lower():
            error = AtlasError(key, problem, "", "", "")
            error.message = problem
            return error
    return AtlasError("INVALID_TYPE_DEFINITION", problem)
