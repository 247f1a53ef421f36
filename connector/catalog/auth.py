"""Credentials for remote catalogs: from the environment or azure-identity, never argv.

Apache Atlas: ``ATLAS_USERNAME`` and ``ATLAS_PASSWORD`` (basic auth).
Microsoft Purview: a ``ClientSecretCredential`` when ``AZURE_TENANT_ID``,
``AZURE_CLIENT_ID`` and ``AZURE_CLIENT_SECRET`` are all set, else azure-identity's
``DefaultAzureCredential`` (managed identity, workload identity, Azure CLI, ...).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from pyapacheatlas.auth.base import AtlasAuthBase

from featmesh.connector import redact
from featmesh.connector.errors import UsageError

PURVIEW_SCOPE = "https://purview.azure.net/.default"


def atlas_credentials(host: str, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    env = os.environ if env is None else env
    username, password = env.get("ATLAS_USERNAME"), env.get("ATLAS_PASSWORD")
    if not username or not password:
        raise UsageError(
            f"catalog atlas at {host}: set ATLAS_USERNAME and ATLAS_PASSWORD in the environment "
            "(credentials are never taken from the command line)"
        )
    return username, password


def azure_credential(env: Mapping[str, str] | None = None) -> Any:
    """The azure-identity credential featmesh uses for Purview."""
    env = os.environ if env is None else env
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    tenant, client, secret = (
        env.get(k) for k in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
    )
    if tenant and client and secret:
        return ClientSecretCredential(tenant_id=tenant, client_id=client, client_secret=secret)
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


class TokenAuthentication(AtlasAuthBase):
    """pyapacheatlas-style authentication with any azure-identity TokenCredential,
    for the Data Map scope; the token is refreshed five minutes before it expires."""

    def __init__(self, credential: Any, scope: str = PURVIEW_SCOPE, clock: Callable[[], float] = time.time):
        super().__init__()
        self._credential = credential
        self._scope = scope
        self._clock = clock
        self._token: str | None = None
        self._expires_on = 0.0

    def get_authentication_headers(self, **kwargs: Any) -> dict[str, str]:
        if self._token is None or self._clock() > self._expires_on - 300:
            access = self._credential.get_token(self._scope)
            self._token, self._expires_on = access.token, float(access.expires_on)
            redact.register_value(access.token)
        return {"Authorization": f"Bearer {self._token}"}
