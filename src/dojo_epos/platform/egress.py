"""Where the platform may connect when it calls an EPOS: the address guard (SSRF).

The platform calls whatever URL an EPOS registers, so a registration must not turn it into a way to
reach what only the machine itself should: link-local addresses (169.254.0.0/16, where cloud
metadata services such as 169.254.169.254 live, and fe80::/10), the unspecified address, multicast,
and the metadata host names. Loopback and private addresses stay allowed: an EPOS under development
runs on this machine or the shop's LAN.

Two checks, because either alone can be dodged:

- :func:`refused_host`, at registration: a host literal is read the way the resolver the HTTP client
  uses will read it (``inet_aton``: decimal ``2852039166``, hexadecimal ``0xa9fea9fe``, octal
  ``0251.0376.0251.0376`` and short dotted ``169.254.43518`` all mean 169.254.169.254);
- :class:`GuardedBackend`, at call time: the network backend of the platform's HTTP client resolves
  the name itself, refuses the call when any address it resolves to is refused, and connects to the
  checked address (so a DNS name that points at a link-local address, or is changed to after
  registration, is caught too).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx

from dojo_epos.platform.pool_stream import QuickReadableStream

__all__ = ["IDLE_EXPIRY", "GuardedBackend", "RefusedAddress", "guarded_transport", "literal_address",
           "refused_host"]

#: Seconds an idle kept-alive connection to an EPOS is reused for (httpx's default is 5). Servers
#: close idle connections on their own clock (gunicorn after 2 s, uvicorn and Node after 5): a call
#: sent on a connection the server is closing fails with "Server disconnected without sending a
#: response", and a flow step would fail for an EPOS that did nothing wrong. Below every common
#: server's timeout, the platform lets go first.
IDLE_EXPIRY = 1.0

#: Host names of cloud metadata services, refused whatever they resolve to.
METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog",
                            "instance-data", "instance-data.ec2.internal"})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(httpx.ConnectError):
    """The platform refused to connect: the EPOS's host is (or resolves to) a refused address."""


def literal_address(host: str) -> Address | None:
    """The address a host literal means to the resolver, or None for a name to look up.

    IPv6 literals as :mod:`ipaddress` reads them; IPv4 in every form ``inet_aton`` accepts (which
    is what ``getaddrinfo`` uses for numeric hosts), not only the dotted quad.
    """
    name = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if name and all(c in "0123456789abcdefx." for c in name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _why(address: Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local:
        return f"a link-local address ({address})"
    if address.is_unspecified or address.is_multicast:
        return f"an address no EPOS can have ({address})"
    return None


def refused_host(host: str) -> str | None:
    """Why the platform refuses to call ``host`` (a name or a literal in any spelling), or None.

    Names are not resolved here (what a name resolves to can change after registration): the call
    itself checks (:class:`GuardedBackend`).
    """
    name = host.strip("[]").rstrip(".").lower()
    if name in METADATA_HOSTS:
        return f"a cloud metadata host ({name})"
    address = literal_address(name)
    return None if address is None else _why(address)


Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> addresses``: how a name is looked up (``getaddrinfo``; tests pass their own)."""


async def _resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _refused_among(host: str, addresses: Iterable[str]) -> str | None:
    for text in addresses:
        why = _why(ipaddress.ip_address(text.split("%", 1)[0]))
        if why is not None:
            return f"{host} resolves to {why}"
    return None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses :func:`refused_host` allows."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None,
                 resolve: Resolver | None = None) -> None:
        self.inner = inner or httpcore.AnyIOBackend()
        self.resolve = resolve or _resolve

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        why = refused_host(host)
        if why is not None:
            raise RefusedAddress(f"refused to connect to {host}: {why}")
        literal = literal_address(host)
        if literal is not None:
            target = str(literal)
        else:
            addresses = await self.resolve(host, port)
            why = _refused_among(host, addresses)
            if why is not None:
                raise RefusedAddress(f"refused to connect: {why}")
            if not addresses:
                raise httpx.ConnectError(f"{host} resolves to no address")
            target = addresses[0]
        # Connect to the address checked, never to the name again (it could resolve differently).
        return QuickReadableStream(await self.inner.connect_tcp(
            target, port, timeout=timeout, local_address=local_address,
            socket_options=socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise RefusedAddress("the platform does not call EPOSes over Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(resolve: Resolver | None = None) -> httpx.AsyncHTTPTransport:
    """httpx's own transport, connecting through :class:`GuardedBackend`."""
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(
        max_connections=100, max_keepalive_connections=20, keepalive_expiry=IDLE_EXPIRY))
    # httpx exposes no network_backend option; its pool keeps the backend here (checked by
    # tests/platform/test_egress.py, which fails if a new httpx moves it).
    pool = transport._pool
    pool._network_backend = GuardedBackend(pool._network_backend, resolve)
    return transport
