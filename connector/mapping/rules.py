"""Rules that resolve a source URI to an existing catalog entity.

A rule is a regular expression over the source's URI (or table name) with named
groups, a catalog typeName, and a qualifiedName template using those groups:

    match: '^abfss://(?P<container>[^@/]+)@(?P<account>[^./]+)\\.dfs\\.core\\.windows\\.net/(?P<path>.*)$'
    type: azure_datalake_gen2_path
    qualified_name: 'https://{account}.dfs.core.windows.net/{container}/{path}'

The first rule that matches gives the entity featmesh looks for in the catalog; only
where the catalog holds no such entity is a ``featmesh_data_product`` placeholder made.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from featmesh.connector.errors import InputError
from featmesh.connector.patterns import PatternError, compile_linear


@dataclass(frozen=True, kw_only=True)
class MappingRule:
    pattern: Any
    """A compiled pattern: ``re`` for the built-in rules, RE2 for a config's."""
    type_name: str
    qualified_name: str
    source_kinds: tuple[str, ...] = ()
    """Only sources of these kinds (empty: any kind)."""

    def apply(self, kind: str, uri: str) -> tuple[str, str] | None:
        if self.source_kinds and kind not in self.source_kinds:
            return None
        match = self.pattern.match(uri)
        if not match:
            return None
        groups = {k: (v or "") for k, v in match.groupdict().items()}
        return self.type_name, self.qualified_name.format(**groups).rstrip("/")

    @classmethod
    def from_config(cls, raw: Mapping[str, Any], where: str = "") -> MappingRule:
        """Build a rule from a config mapping; errors name ``where``."""
        try:
            pattern = compile_linear(raw["match"])
        except PatternError as err:
            raise InputError(f"invalid regular expression in 'match': {err}", where=where) from None
        template = raw["qualified_name"]
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f}
        unknown = names - set(pattern.groupindex)
        if unknown:
            raise InputError(
                f"qualified_name uses {sorted(unknown)}, which 'match' has no named group for",
                where=where,
            )
        return cls(
            pattern=pattern,
            type_name=raw["type"],
            qualified_name=template,
            source_kinds=tuple(raw.get("source_kinds", ())),
        )


DEFAULT_RULES: tuple[MappingRule, ...] = (
    MappingRule(
        pattern=re.compile(
            r"^abfss?://(?P<container>[^@/]+)@(?P<account>[^./]+)\.dfs\.core\.windows\.net/?(?P<path>.*)$"
        ),
        type_name="azure_datalake_gen2_path",
        qualified_name="https://{account}.dfs.core.windows.net/{container}/{path}",
    ),
    MappingRule(
        pattern=re.compile(
            r"^wasbs?://(?P<container>[^@/]+)@(?P<account>[^./]+)\.blob\.core\.windows\.net/?(?P<path>.*)$"
        ),
        type_name="azure_blob_path",
        qualified_name="https://{account}.blob.core.windows.net/{container}/{path}",
    ),
)
"""Purview's own qualifiedNames for ADLS Gen2 and Blob paths."""


def resolve(rules: Iterable[MappingRule], kind: str, uri: str) -> tuple[str, str] | None:
    for rule in rules:
        found = rule.apply(kind, uri)
        if found:
            return found
    return None
