"""Find an EPOS handler from an import string, as uvicorn finds an app: ``pkg.module:MyEpos``.

The attribute may be a handler instance, an :class:`~dojo_epos.epos.handler.EposHandler` subclass
(called with no arguments), or a factory (a callable taking no arguments, sync or async) that
returns a handler. The current folder is put first on ``sys.path``, so a module beside the user
imports as it would in their own ``python -c``. Every mistake is a :class:`HandlerLoadError`
saying what was tried and how to fix it.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from typing import Any

from dojo_epos.epos.handler import EposHandler

__all__ = ["HandlerLoadError", "close_handler", "load_handler"]


class HandlerLoadError(Exception):
    """The import string did not lead to a handler; the message says why and what to do."""


def _resolve(spec: str) -> Any:
    module_name, sep, attrs = spec.partition(":")
    if not sep or not module_name or not attrs:
        raise HandlerLoadError(f"--handler takes 'module:attribute' (e.g. myepos:MyEpos), not {spec!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise HandlerLoadError(f"cannot import module {module_name!r} from {cwd} (or the installed "
                                   "packages): run from the folder that holds it, or install it") from None
        raise HandlerLoadError(f"importing {module_name!r} failed: {exc}") from exc
    for attr in attrs.split("."):
        try:
            target = getattr(target, attr)
        except AttributeError:
            raise HandlerLoadError(f"module {module_name!r} has no attribute {attrs!r}") from None
    return target


async def load_handler(spec: str) -> EposHandler:
    """The handler ``spec`` names: an instance, a subclass (instantiated), or a factory (called)."""
    target = _resolve(spec)
    if isinstance(target, EposHandler):
        return target
    if not callable(target):
        raise HandlerLoadError(f"{spec} is a {type(target).__name__}, not an EposHandler, "
                               "an EposHandler subclass or a factory returning one")
    if inspect.isclass(target) and not issubclass(target, EposHandler):
        raise HandlerLoadError(f"{spec} is a class, but not a subclass of dojo_epos.EposHandler")
    try:
        made = target()
        if inspect.isawaitable(made):
            made = await made
    except TypeError as exc:
        raise HandlerLoadError(f"calling {spec}() failed: {exc}; it must take no arguments") from exc
    if not isinstance(made, EposHandler):
        raise HandlerLoadError(f"{spec}() returned a {type(made).__name__}, not an EposHandler")
    return made


async def close_handler(handler: EposHandler) -> None:
    """Call the handler's ``aclose()`` (or ``close()``), if it has one."""
    for name in ("aclose", "close"):
        closer = getattr(handler, name, None)
        if callable(closer):
            result = closer()
            if inspect.isawaitable(result):
                await result
            return
