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


def check_uri(uri: str) -> None:
    """UsageError when ``uri`` is not a catalog URI this version can open (checked
    without opening it, so that a config names its line before anything runs)."""
    from urllib.parse import urlsplit

    scheme = uri.split(":", 1)[0]
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}:" for s in sorted(SCHEMES))
        raise UsageError(f"catalog '{uri}': unknown kind '{scheme}' (this version knows {known})")
    if scheme.startswith("atlas+"):
        parts = urlsplit(uri.partition("+")[2])
        if not parts.hostname:
            raise UsageError(
                f"catalog '{uri}': expected atlas+https://HOST[:PORT] or atlas+http://HOST[:PORT]"
            )
        if parts.username or parts.password:
            raise UsageError(
                "catalog URI must not hold credentials: set ATLAS_USERNAME and ATLAS_PASSWORD "
                "in the environment"
            )
    if scheme == "purview":
        account = uri.partition("://")[2].strip("/")
        if not uri.startswith("purview://") or not account or "/" in account or "." in account:
            raise UsageError(f"catalog '{uri}': expected purview://ACCOUNT (the Purview account name)")


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


__all__ = ["DEFAULT_LOCAL_PATH", "Catalog", "check_uri", "open_catalog"]
