"""Which transport a tester run uses, and the ``transport`` parameter every flow takes.

The rule, stated once (README "Certifying your EPOS" repeats it):

* ``transport=rest`` or ``transport=ws`` pins the run to that transport: only the capabilities
  registered over it count, and every call goes over it.
* Without the parameter, a run uses the WebSocket when the EPOS has a WebSocket registration and its
  socket is connected, and REST otherwise (the same preference as the platform's invoker); the run
  keeps that transport to its end, so every step of one result is about one transport.

The first step of every result names the transport and why (``transport: ws (the EPOS socket is
connected)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dojo_epos.contract.tester_models import Param

__all__ = ["REST", "TRANSPORT_PARAM", "TRANSPORTS", "WS", "choose_transport", "parse_transport"]

REST, WS = "rest", "ws"
TRANSPORTS = (REST, WS)

TRANSPORT_PARAM = Param(
    name="transport", type="string", required=False,
    description="rest or ws; by default the WebSocket while the EPOS socket is connected, else REST")


def parse_transport(value: Any) -> str | None:
    """The ``transport`` parameter as given (None when absent); raises ValueError when invalid."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text not in TRANSPORTS:
        raise ValueError(f"parameter transport must be rest or ws, not {value!r}")
    return text


def choose_transport(asked: str | None, registered_over: Iterable[str], connected: bool) -> tuple[str, str]:
    """Apply the rule of this module: the transport and a short reason."""
    if asked is not None:
        return asked, "asked for"
    over = set(registered_over)
    if WS in over and connected:
        return WS, "the default: the EPOS socket is connected"
    if REST in over:
        return REST, "the default: REST, no EPOS socket is connected" if WS in over else \
            "the default: only REST is registered"
    if WS in over:
        return WS, "the default: only the WebSocket is registered, and no socket is connected"
    return REST, "the default: nothing is registered"
