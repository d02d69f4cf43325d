"""dojo-epos: Dojo's EPOS Data API, both sides.

Serve the contract from an EPOS (one handler, REST and WebSocket), run Dojo's platform locally
(registry, gateway, events, tester flows), and talk to real Dojo or the local platform with one client.

What an EPOS engineer needs first is importable from here::

    from dojo_epos import EposError, EposHandler, EposTestClient, RequestContext, models

The names load on first use, so ``import dojo_epos`` (and the command line) stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it (``models`` is a module itself).
_PUBLIC = {
    "EposHandler": "dojo_epos.epos.handler",
    "RequestContext": "dojo_epos.epos.handler",
    "EposError": "dojo_epos.contract.errors",
    "ErrorType": "dojo_epos.contract.errors",
    "EposTestClient": "dojo_epos.testing",
    "models": "dojo_epos.contract",
    "Capability": "dojo_epos.contract.capabilities",
    "CATALOGUE": "dojo_epos.contract.capabilities",
    "lookup": "dojo_epos.contract.capabilities",
    "build_rest_app": "dojo_epos.epos.rest",
    "Connector": "dojo_epos.epos.connector",
    "ConnectionEvent": "dojo_epos.epos.connector",
    "ConnectorState": "dojo_epos.epos.connector",
    "ConnectorGaveUp": "dojo_epos.epos.connector",
    "Problem": "dojo_epos.epos.connector",
    "Client": "dojo_epos.client",
    "AsyncClient": "dojo_epos.client",
    "PlatformApiError": "dojo_epos.client",
    "PlatformUnreachable": "dojo_epos.client",
}

__all__ = [
    "AsyncClient",
    "CATALOGUE",
    "Capability",
    "Client",
    "ConnectionEvent",
    "Connector",
    "ConnectorGaveUp",
    "ConnectorState",
    "EposError",
    "EposHandler",
    "EposTestClient",
    "ErrorType",
    "PlatformApiError",
    "PlatformUnreachable",
    "Problem",
    "RequestContext",
    "__version__",
    "build_rest_app",
    "lookup",
    "models",
]

if TYPE_CHECKING:
    from dojo_epos.client import AsyncClient, Client, PlatformApiError, PlatformUnreachable
    from dojo_epos.contract import models
    from dojo_epos.contract.capabilities import CATALOGUE, Capability, lookup
    from dojo_epos.contract.errors import EposError, ErrorType
    from dojo_epos.epos.connector import (
        ConnectionEvent,
        Connector,
        ConnectorGaveUp,
        ConnectorState,
        Problem,
    )
    from dojo_epos.epos.handler import EposHandler, RequestContext
    from dojo_epos.epos.rest import build_rest_app
    from dojo_epos.testing import EposTestClient


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'dojo_epos' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
