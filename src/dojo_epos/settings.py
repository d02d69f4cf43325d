"""Settings shared by the command line and the servers: flags first, then ``DOJO_*`` variables.

Nothing here reads files or opens connections; it only names defaults in one place.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_WS_URL",
    "DOJO_API_VERSION",
    "default_epos_db",
    "default_platform_db",
    "env",
    "mask_secret",
]

#: Dojo's API host; the local platform answers the same paths.
DEFAULT_API_URL = "https://api.dojo.tech"
#: Dojo's WebSocket endpoint for EPOS connectors (one endpoint; the key picks the environment).
DEFAULT_WS_URL = "wss://eu.ws.dojo.tech/epos"
#: The Dojo API version header we were built against (go-live checklist: hard-coded, not settable).
DOJO_API_VERSION = "2026-02-27"


def env(name: str, default: str | None = None) -> str | None:
    """An environment setting, where an empty value counts as unset."""
    value = os.environ.get(name)
    return value if value else default


def data_dir() -> Path:
    """Where local databases live by default (``DOJO_EPOS_DATA``, else ``./data``)."""
    return Path(env("DOJO_EPOS_DATA", "data") or "data")


def default_epos_db() -> str:
    """The reference EPOS database URL: ``EPOS_DB``, else a SQLite file in the data folder."""
    return env("EPOS_DB") or f"sqlite:///{data_dir() / 'epos.sqlite3'}"


def default_platform_db() -> str:
    """The local platform database URL: ``PLATFORM_DB``, else a SQLite file in the data folder."""
    return env("PLATFORM_DB") or f"sqlite:///{data_dir() / 'platform.sqlite3'}"


def mask_secret(secret: str | None) -> str:
    """A form of a key or password that is safe to log: its kind prefix and last four characters.

    ``sk_sandbox_abcdef123456789`` -> ``sk_sandbox_…6789``; short secrets are masked entirely.
    """
    if not secret:
        return "<none>"
    prefix = ""
    for candidate in ("sk_sandbox_", "sk_prod_", "sk_test_", "sk_"):
        if secret.startswith(candidate):
            prefix = candidate
            break
    if len(secret) - len(prefix) < 12:
        return f"{prefix}…"
    return f"{prefix}…{secret[-4:]}"
