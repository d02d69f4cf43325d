"""Dojo's side of the EPOS Data API, run locally: keys, registry, gateway, invocation, events.

Start here: :func:`build_platform_app` (the ASGI app), :class:`Platform` (its parts, for the tester
and the dashboard) and :func:`serve_platform` (what ``dojo-epos platform serve`` runs).
"""

from dojo_epos.platform.accounts import Caller, Environment, KeyPolicy, Scope
from dojo_epos.platform.app import Platform, PlatformSettings, build_platform_app, serve_platform
from dojo_epos.platform.gateway import CLOSE_REPLACED, Gateway
from dojo_epos.platform.invoke import Failure, InvocationResult, Invoker

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
