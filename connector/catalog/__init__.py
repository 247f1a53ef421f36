"""Catalogs featmesh publishes to, opened from a catalog URI.

``local[:PATH]`` is the embedded SQLite catalog (default ``.featmesh/catalog.db``);
remote catalogs (``atlas+https://HOST``, ``purview://ACCOUNT``, ``purview+https://HOST``) are modules named in
``SCHEMES`` and imported only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

from featmesh.connector.catalog.base import Catalog
from featmesh.connector.errors import UsageError

DEFAULT_LOCAL_PATH = ".featmesh/catalog.db"

SCHEMES: dict[str, str] = {
    "local": "featmesh.connector.catalog.local:open_local",
    "atlas+https": "featmesh.connector.catalog.atlas:open_atlas",
    "atlas+http": "featmesh.connector.catalog.atlas:open_atlas",
    "purview": "featmesh.connector.catalog.atlas:open_purview",
    "purview+https": "featmesh.connector.catalog.atlas:open_purview",
    "purview+http": "featmesh.connector.catalog.atlas:open_purview",
}


def open_catalog(uri: str | None, *, read_only: bool = False, **options: Any) -> Catalog:
    """Open the catalog a URI names. ``read_only`` opens without creating or writing;
    ``options`` (``batch_size``, ``history``) go to the catalog."""
    uri = uri or "local"
    scheme = uri.split(":", 1)[0]
    target = SCHEMES.get(scheme)
    if target is None:
        known = ", ".join(f"{s}:" for s in sorted(SCHEMES))
        raise UsageError(f"catalog '{uri}': unknown kind '{scheme}' (this version knows {known})")
    module, attr = target.split(":")
    opener = getattr(importlib.import_module(module), attr)
    catalog: Catalog = opener(uri, read_only=read_only, **options)
    return catalog


__all__ = ["DEFAULT_LOCAL_PATH", "Catalog", "open_catalog"]
