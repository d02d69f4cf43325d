"""Dojo's side of the EPOS Data API, run locally: keys, registry, gateway, invocation, events.

Start here: :func:`build_platform_app` (the ASGI app), :class:`Platform` (its parts, for the tester
and the dashboard) and :func:`serve_platform` (what ``dojo-epos platform serve`` runs).

Layers, from the bottom: :mod:`.accounts` and :mod:`.store`; the services (:mod:`.registry`,
:mod:`.gateway`, :mod:`.invoke`, :mod:`.events`, :mod:`.tester`, :mod:`.terminal`), which take their
collaborators in their constructors and know nothing of HTTP; :mod:`.container`, which builds and
wires them; the HTTP layer (:mod:`.http`, :mod:`.dashboard`); and :mod:`.app` on top, which puts
the routes on the parts. ``pyproject.toml``'s import-linter contracts keep it so.
"""

from dojo_epos.platform.accounts import Caller, Environment, KeyPolicy, Scope
from dojo_epos.platform.app import build_platform_app, serve_platform
from dojo_epos.platform.container import Platform, PlatformSettings
from dojo_epos.platform.gateway import CLOSE_REPLACED, Gateway
from dojo_epos.platform.invoke import Invoker
from dojo_epos.platform.outcome import Failure, InvocationResult

__all__ = [
    "CLOSE_REPLACED",
    "Caller",
    "Environment",
    "Failure",
    "Gateway",
    "InvocationResult",
    "Invoker",
    "KeyPolicy",
    "Platform",
    "PlatformSettings",
    "Scope",
    "build_platform_app",
    "serve_platform",
]
