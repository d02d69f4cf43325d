"""Signed webhooks: how the local platform signs a delivery, and how an EPOS verifies one.

Dojo signs every webhook delivery in a ``dojo-signature`` header but does not publish the algorithm
(domain notes §9). The local platform's documented choice, the usual one::

    dojo-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

The secret is the subscription's active secret (``GET /webhooks/{id}/secrets``), used as UTF-8 bytes.
Signing the timestamp with the body lets a receiver refuse replays: :func:`verify_signature` refuses
a timestamp further than ``tolerance`` seconds from now. During a secret rotation a receiver passes
every secret it still trusts; one matching is enough. The comparison is constant-time.

An EPOS's receiver, with any web framework (the raw body, before JSON parsing)::

    from dojo_epos.webhooks import verify_signature

    if not verify_signature(raw_body, request.headers.get("dojo-signature"), [secret]):
        return 400
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

__all__ = ["SIGNATURE_HEADER", "TOLERANCE_SECONDS", "sign", "signature_header", "verify_signature"]

#: The header a delivery's signature travels in.
SIGNATURE_HEADER = "dojo-signature"
#: How far (seconds) a signed timestamp may be from the receiver's clock.
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``dojo-signature`` value for ``body`` (``timestamp`` defaults to now)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={sign(secret, moment, body)}"


def _parse(header: str) -> tuple[int, list[str]] | None:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify_signature(
    body: bytes,
    header: str | None,
    secrets: Iterable[str],
    *,
    tolerance: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether ``header`` is a valid ``dojo-signature`` of the raw ``body`` under one of ``secrets``.

    False for a missing or malformed header, a timestamp outside ``tolerance`` seconds of ``now``
    (default: the current time), or no matching signature. Never raises on bad input.
    """
    if not header:
        return False
    parsed = _parse(header)
    if parsed is None:
        return False
    timestamp, given = parsed
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    for secret in secrets:
        expected = sign(secret, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in given):
            return True
    return False
