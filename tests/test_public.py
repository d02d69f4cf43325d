"""The package's public face: what ``from dojo_epos import ...`` offers, pinned."""

from __future__ import annotations

import subprocess
import sys

import dojo_epos
from dojo_epos.contract import models
from dojo_epos.contract.errors import EposError
from dojo_epos.epos.handler import EposHandler, RequestContext
from dojo_epos.testing import EposTestClient


def test_all_is_pinned() -> None:
    assert dojo_epos.__all__ == [
        "AsyncClient", "CATALOGUE", "Capability", "Client", "ConnectionEvent", "Connector",
        "ConnectorGaveUp", "ConnectorState", "EposError", "EposHandler", "EposTestClient", "ErrorType",
        "PlatformApiError", "PlatformUnreachable", "Problem", "RequestContext", "__version__",
        "build_rest_app", "lookup", "models",
    ]


def test_every_public_name_is_the_object_it_names() -> None:
    from dojo_epos import EposError as E
    from dojo_epos import EposHandler as H
    from dojo_epos import EposTestClient as C
    from dojo_epos import RequestContext as R
    from dojo_epos import models as M

    assert (E, H, C, R, M) == (EposError, EposHandler, EposTestClient, RequestContext, models)
    for name in dojo_epos.__all__:
        assert getattr(dojo_epos, name) is not None, name
    assert set(dojo_epos.__all__) <= set(dir(dojo_epos))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        dojo_epos.NotAThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NotAThing" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_importing_the_package_loads_nothing_heavy() -> None:
    """The names load on first use: ``import dojo_epos`` (and so the CLI's start) stays quick."""
    code = ("import sys, dojo_epos; "
            "print(sorted(m for m in ('starlette', 'websockets', 'httpx') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
