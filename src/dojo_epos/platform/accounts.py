"""API keys, environments and the scope everything on the local platform is keyed by.

Dojo authenticates an EPOS with ``Authorization: Basic <key>``, where the key is sent *as is*: it is
not base64 (domain notes §3.10; the legacy Tables API did use base64, which is a common mix-up).
The key's prefix picks the environment: ``sk_sandbox_...`` is the sandbox, ``sk_prod_...``
production. ``software-house-id`` is required on every call (spec defect #36) and ``reseller-id`` is
optional and only recorded.

Like the local emulators of payment platforms, the local platform accepts *any* well-formed key by
default and gives it an account of its own; an allow-list restricts it to named keys. Either way the
key itself is never stored or logged: a :class:`Scope` carries a fingerprint (a hash) of it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "AuthFailure",
    "Caller",
    "Environment",
    "KeyPolicy",
    "Scope",
    "environment_of",
    "fingerprint",
    "key_label",
]


class Environment(StrEnum):
    """The two worlds a key can reach; they share hosts but never data."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"


_PREFIXES: dict[str, Environment] = {
    "sk_sandbox_": Environment.SANDBOX,
    "sk_prod_": Environment.PRODUCTION,
}
# After the prefix: a non-empty run of URL-safe characters. Dojo publishes no stricter shape.
_KEY_BODY = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")


def environment_of(key: str) -> Environment | None:
    """The environment a key reaches, or None if the key is not of a known form."""
    for prefix, environment in _PREFIXES.items():
        if key.startswith(prefix) and _KEY_BODY.match(key[len(prefix):]):
            return environment
    return None


def fingerprint(key: str) -> str:
    """A stable, non-reversible name for a key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def key_label(key: str) -> str:
    """How a person recognises a key they typed without the page showing it: its prefix and its
    last four characters (``sk_sandbox_…3f9a``), as payment dashboards label keys."""
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return f"{prefix}…{key[-4:]}"
    return f"…{key[-4:]}"


#: Key labels remembered per fingerprint (a bound: a flood of made-up keys cannot grow memory).
MAX_LABELS = 10_000


@dataclass(frozen=True, slots=True)
class Scope:
    """An account as the platform sees it: environment + key + software house.

    Registrations, sockets, events, calls and flow results are all keyed by it, so nothing leaks
    from sandbox to production, from one key to another, or between software houses on one key.
    """

    environment: Environment
    key_fingerprint: str
    software_house_id: str

    def __str__(self) -> str:
        return f"{self.environment.value}/{self.key_fingerprint}/{self.software_house_id}"


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: its scope plus what is recorded but does not scope anything."""

    scope: Scope
    reseller_id: str | None = None
    api_version: str | None = None


class AuthFailure(Exception):
    """A request the platform refuses: ``status`` is 401 (key) or 400 (identity headers)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _looks_base64(token: str) -> bool:
    """Whether ``token`` is base64 of something that looks like a key or ``user:key``."""
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return decoded.startswith("sk_") or ":" in decoded


class KeyPolicy:
    """Decides who may call: any well-formed key by default, or only the keys in an allow-list.

    The allow-list is kept as fingerprints, so the keys do not sit in memory longer than needed.
    """

    def __init__(self, allowed_keys: Iterable[str] | None = None) -> None:
        keys = list(allowed_keys or ())
        for key in keys:
            if environment_of(key) is None:
                raise ValueError(
                    "an allowed API key must start with sk_sandbox_ or sk_prod_ "
                    f"(got one of {len(key)} characters that does not)"
                )
        self._allowed = frozenset(fingerprint(k) for k in keys) if keys else None
        #: fingerprint -> :func:`key_label` of the keys seen since start (never the key itself).
        self.labels: dict[str, str] = {fingerprint(k): key_label(k) for k in keys}

    @property
    def restricted(self) -> bool:
        return self._allowed is not None

    def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The caller of a request with these headers (names matched case-insensitively).

        Raises :class:`AuthFailure`: 401 for a missing, malformed or refused key (checked first,
        as an HTTP server checks credentials before anything else), 400 for a missing
        ``software-house-id``.
        """
        lowered = {k.lower(): v for k, v in headers.items()}
        key = self._key_from(lowered.get("authorization"))
        environment = environment_of(key)
        assert environment is not None  # _key_from checked the form
        digest = fingerprint(key)
        if self._allowed is not None and digest not in self._allowed:
            raise AuthFailure(401, "invalid_api_key", "this API key is not accepted here")
        if digest not in self.labels and len(self.labels) < MAX_LABELS:
            self.labels[digest] = key_label(key)
        software_house = (lowered.get("software-house-id") or "").strip()
        if not software_house:
            raise AuthFailure(400, "missing_software_house_id",
                              "the software-house-id header is required")
        reseller = (lowered.get("reseller-id") or "").strip() or None
        version = (lowered.get("version") or "").strip() or None
        return Caller(Scope(environment, digest, software_house), reseller, version)

    @staticmethod
    def _key_from(authorization: str | None) -> str:
        if authorization is None or not authorization.strip():
            raise AuthFailure(401, "missing_api_key",
                              "send the API key as 'Authorization: Basic <key>'")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "basic" or not token:
            raise AuthFailure(401, "invalid_authorization",
                              "the Authorization header must be 'Basic <key>'")
        if environment_of(token) is None:
            if _looks_base64(token):
                raise AuthFailure(401, "invalid_api_key",
                                  "the key looks base64-encoded; send it as is: 'Basic sk_...'")
            raise AuthFailure(401, "invalid_api_key",
                              "an API key starts with sk_sandbox_ or sk_prod_")
        return token
