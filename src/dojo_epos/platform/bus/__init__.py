"""The message bus between platform workers (see :mod:`.base`): in-process or NATS.

:func:`make_bus` picks one from a URL: ``memory`` (the default, one process) or ``nats://host:port``
(nats-py, the ``nats`` extra: ``pip install 'dojo-epos[nats]'``).
"""

from __future__ import annotations

from dojo_epos.platform.bus.base import (
    Bus,
    BusError,
    BusTimeout,
    BusUnavailable,
    NoResponders,
    Subscription,
    subject_token,
)
from dojo_epos.platform.bus.memory import MemoryBus

__all__ = [
    "Bus",
    "BusError",
    "BusTimeout",
    "BusUnavailable",
    "MemoryBus",
    "NoResponders",
    "Subscription",
    "make_bus",
    "subject_token",
]


def make_bus(url: str | None, *, name: str = "dojo-epos platform",
             namespace: str = "dojo-epos") -> Bus:
    """The bus a URL names: None/``memory`` -> :class:`MemoryBus`; ``nats://`` (or ``tls://``)
    -> :class:`~.nats.NatsBus` (its subjects under ``namespace``). Anything else is a ValueError
    saying what is accepted."""
    if url is None or url in ("", "memory", "memory://"):
        return MemoryBus()
    if url.startswith(("nats://", "tls://")):
        try:
            from dojo_epos.platform.bus.nats import NatsBus
        except ImportError:
            raise ValueError("the NATS bus needs nats-py: pip install 'dojo-epos[nats]'") from None
        return NatsBus(url, name=name, namespace=namespace)
    raise ValueError(f"unknown bus {url!r}: use 'memory' or nats://host:port")
