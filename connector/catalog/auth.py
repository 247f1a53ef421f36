"""Credentials for remote catalogs: from the environment or azure-identity, never argv.

Apache Atlas: ``ATLAS_USERNAME`` and ``ATLAS_PASSWORD`` (basic auth).
Microsoft Purview: a ``ClientSecretCredential`` when ``AZURE_TENANT_ID``,
``AZURE_CLIENT_ID`` and ``AZURE_CLIENT_SECRET`` are all set, else azure-identity's
``DefaultAzureCredential`` (managed identity, workload identity, Azure CLI, ...). Both
sign in at ``AZURE_AUTHORITY_HOST`` when it is set (sovereign clouds, e.g.
``login.chinacloudapi.cn``, ``login.microsoftonline.us``).

The token scope follows the Data Map host's cloud: ``https://purview.azure.net/.default``
for ``*.purview.azure.com`` (and any other host: private endpoints, loopback servers),
``https://purview.azure.cn/.default`` for ``*.purview.azure.cn`` (Azure China) and
``https://purview.azure.us/.default`` for ``*.purview.azure.us`` (US Government); the
account hosts per cloud are those of Azure's private DNS zone table
(https://learn.microsoft.com/azure/private-link/private-endpoint-dns, Microsoft.Purview rows).

A credential that cannot produce a token (Entra ID unreachable, a wrong secret, no
identity available) is a :class:`CatalogError` naming the credential chain that failed,
so a scan records what it read and evaluated and exits 3 instead of crashing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from pyapacheatlas.auth.base import AtlasAuthBase

from featmesh.connector import redact
from featmesh.connector.errors import CatalogError, UsageError

PURVIEW_SCOPE = "https://purview.azure.net/.default"
SOVEREIGN_SCOPES = {
    ".purview.azure.cn": "https://purview.azure.cn/.default",
    ".purview.azure.us": "https://purview.azure.us/.default",
}
MAX_REASON = 300


def purview_scope(host: str) -> str:
    """The Entra token scope for a Data Map host, from the host's cloud."""
    name = host.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    for suffix, scope in SOVEREIGN_SCOPES.items():
        if name.endswith(suffix):
            return scope
    return PURVIEW_SCOPE


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
    authority = {"authority": env["AZURE_AUTHORITY_HOST"]} if env.get("AZURE_AUTHORITY_HOST") else {}
    if tenant and client and secret:
        return ClientSecretCredential(tenant_id=tenant, client_id=client, client_secret=secret, **authority)
    return DefaultAzureCredential(exclude_interactive_browser_credential=True, **authority)


def credential_chain(credential: Any) -> str:
    """What a credential tries, in words, for an error message (never a value)."""
    name = type(credential).__name__
    if name == "ClientSecretCredential":
        return "ClientSecretCredential (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)"
    if name == "DefaultAzureCredential":
        return (
            "DefaultAzureCredential (environment, workload identity, managed identity, "
            "shared token cache, Azure CLI, Azure PowerShell, Azure Developer CLI)"
        )
    return name


def _reason(err: BaseException) -> str:
    """The first line of an azure-identity error: its kind and what the service said
    (an AADSTS code, say). azure-identity never puts the secret in it."""
    text = str(getattr(err, "message", None) or err).strip().splitlines()
    first = text[0].strip() if text else ""
    if len(first) > MAX_REASON:
        first = first[: MAX_REASON - 3] + "..."
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


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
            try:
                access = self._credential.get_token(self._scope)
            except Exception as err:  # azure-identity raises azure.core's AzureError family
                if not _is_azure_error(err):
                    raise
                raise CatalogError(
                    f"Purview: no Entra ID token for {self._scope} from "
                    f"{credential_chain(self._credential)}: {_reason(err)}"
                ) from None
            self._token, self._expires_on = access.token, float(access.expires_on)
            redact.register_value(access.token)
        return {"Authorization": f"Bearer {self._token}"}


def _is_azure_error(err: BaseException) -> bool:
    try:
        from azure.core.exceptions import AzureError
    except ImportError:  # pragma: no cover - azure-identity depends on azure-core
        return False
    return isinstance(err, AzureError)
