"""The two buses the platform suite runs against: in-process, and NATS at 127.0.0.1:4222.

``DOJO_EPOS_NATS_URL`` names another server. Each test gets its own subject namespace, so helpers
and CI runs sharing the machine's NATS never answer each other's requests. On NATS every call is
routed through the bus, even to a socket of the same process (``route_local_first=False``), so the
whole suite exercises the routed path; on the memory bus the platform runs as it ships.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

NATS_URL = os.environ.get("DOJO_EPOS_NATS_URL", "nats://127.0.0.1:4222")
BUSES = ["memory", "nats"]


def nats_reachable(url: str = NATS_URL) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 0.5):
            return True
    except OSError:
        return False


def require_nats(url: str = NATS_URL) -> None:
    """Skip without a NATS server, except on CI (where ``.ci/run`` starts one): there, fail."""
    if nats_reachable(url):
        return
    message = f"no NATS server at {url} (.ci/run starts nats-server; or run it yourself)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def bus_settings(kind: str) -> dict[str, Any]:
    """PlatformSettings fields for a bus kind (``memory`` or ``nats``)."""
    if kind == "memory":
        return {}
    require_nats()
    return {"bus_url": NATS_URL, "bus_namespace": f"test-{uuid.uuid4().hex[:12]}",
            "route_local_first": False}
