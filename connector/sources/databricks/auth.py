"""Where the Databricks token comes from: the environment, or Microsoft Entra ID.

``DATABRICKS_TOKEN`` (a personal access token or any bearer token) wins. Without it,
a workspace on ``*.azuredatabricks.net`` gets an Entra token for the Azure Databricks
resource from azure-identity's ``DefaultAzureCredential`` (managed identity, workload
identity, Azure CLI login, ...). Tokens are read when a call is made and never stored
in the model, the report or a message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from featmesh.connector import redact
from featmesh.connector.errors import SourceError

TOKEN_ENV = "DATABRICKS_TOKEN"
AZURE_DATABRICKS_SCOPE = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default"
"""The Azure Databricks first-party application, as an OAuth scope."""


def is_azure(hostname: str) -> bool:
    return hostname.lower().endswith((".azuredatabricks.net", ".databricks.azure.us", ".databricks.azure.cn"))


def token_provider(hostname: str) -> tuple[Callable[[], str], str]:
    """A function returning a current bearer token, and a hint naming what to check
    when the workspace refuses it."""
    if is_azure(hostname):
        hint = f"check {TOKEN_ENV} or the Azure identity's access to the workspace"
        return _env_or_entra(hostname), hint
    return _from_env(hostname), f"check {TOKEN_ENV}"


def _from_env(hostname: str) -> Callable[[], str]:
    def token() -> str:
        value = os.environ.get(TOKEN_ENV, "").strip()
        if not value:
            raise SourceError(f"{hostname}: no credentials; set {TOKEN_ENV} in the environment")
        return value

    return token


def _env_or_entra(hostname: str) -> Callable[[], str]:
    credential: list[Any] = []

    def token() -> str:
        value = os.environ.get(TOKEN_ENV, "").strip()
        if value:
            return value
        if not credential:
            credential.append(_default_credential())
        try:
            token = str(credential[0].get_token(AZURE_DATABRICKS_SCOPE).token)
        except Exception as err:  # azure-identity raises several unrelated types
            raise SourceError(
                f"{hostname}: no credentials: {TOKEN_ENV} is not set and azure-identity "
                f"could not get a token ({type(err).__name__})"
            ) from None
        redact.register_value(token)
        return token

    return token


def _default_credential() -> Any:
    from azure.identity import DefaultAzureCredential  # imported late: it is slow to import

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)
