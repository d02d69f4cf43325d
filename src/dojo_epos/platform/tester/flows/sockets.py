"""The socket resilience flows: Reconnect, Keepalive and Replaced socket (issue 14, item 2).

Each one does to the EPOS's WebSocket what Dojo's side does in production, through the run's
:class:`~..sockets_port.FlowSockets`, and judges what the EPOS does back from the gateway's own
observations (handshakes noted with their times, pings counted), so an EPOS that is not ours is
judged exactly as ours. They need a connected EPOS socket on a WebSocket registration, and say so
in their first step otherwise. Every bound is a flow parameter (tests use small ones).

* **Reconnect**: the platform drops the socket; the EPOS must be back within ``reconnectWithin``
  seconds. Then the next ``refusals`` handshakes are refused (HTTP 503 by default) and the socket is
  dropped again: the attempts must back off, each interval no shorter than 3/4 of the one before
  (room for jitter) and the last at least 1.5 times the first and 0.1 s long. Hammering a platform
  that refuses makes its outage worse.
* **Keepalive**: the platform pings ``pings`` times; each pong must come within ``pongWithin``
  seconds (RFC 6455 says an endpoint must answer a ping). Then the socket is left idle for
  ``idleFor`` seconds: an EPOS that sends no ping meanwhile is *noted*, not failed.
* **Replaced socket**: a second socket for the scope replaces the EPOS's, which the platform closes
  with 4000. Over ``window`` seconds, each time the EPOS comes back it is replaced again, as a
  second EPOS on the scope would do: more than ``maxReconnects`` comebacks is a loop, and fails.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from dojo_epos.contract.close_codes import CLOSE_REPLACED, CLOSE_SERVICE_RESTART
from dojo_epos.contract.tester_models import Param
from dojo_epos.platform.gateway import EposSession, Handshake

from ..engine import FlowDef, FlowRun, StepFailed
from ..sockets_port import FlowSockets
from ._common import _p

__all__ = ["KEEPALIVE", "RECONNECT", "REPLACED_SOCKET", "SOCKET_RESILIENCE"]

#: An interval may be this much shorter than the one before it and still count as backing off.
SHRINK_ALLOWED = 0.75
#: The last interval must be at least this many times the first...
GROWTH_REQUIRED = 1.5
#: ...and at least this long (seconds): retrying faster than this after several refusals is
#: hammering, however the intervals vary.
HAMMERING = 0.1

# name -> (default, minimum, maximum); every parameter of these flows is a number
_NUMBERS: dict[str, tuple[float, float, float]] = {
    "reconnectWithin": (10, 0.1, 600), "refusals": (3, 2, 10), "backoffWithin": (120, 0.5, 900),
    "refusalStatus": (503, 401, 503), "pings": (3, 1, 20), "pongWithin": (5, 0.05, 60),
    "idleFor": (25, 0, 600), "closedWithin": (5, 0.05, 60), "window": (20, 0.1, 900),
    "maxReconnects": (1, 0, 100),
}


def _check(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], str | None]:
    def check(params: Mapping[str, Any]) -> str | None:
        for name in names:
            raw = params.get(name)
            if raw in (None, ""):
                continue
            _default, low, high = _NUMBERS[name]
            try:
                value = float(raw)
            except (TypeError, ValueError):
                return f"parameter {name} must be a number, not {raw!r}"
            if not low <= value <= high:
                return f"parameter {name} must be between {low:g} and {high:g}"
            if name == "refusalStatus" and value not in (401, 503):
                return "parameter refusalStatus must be 401 or 503"
        return None
    return check


def _num(run: FlowRun, name: str) -> float:
    return float(run.param(name, _NUMBERS[name][0]))


def _params(*names: str) -> tuple[Param, ...]:
    texts = {
        "reconnectWithin": "Seconds the EPOS has to reconnect after the platform drops its socket",
        "refusals": "How many handshakes in a row are refused while the back-off is measured",
        "refusalStatus": "The HTTP status of those refusals: 503 or 401",
        "backoffWithin": "Seconds the EPOS has to get back in after the refusals",
        "pings": "How many pings the platform sends",
        "pongWithin": "Seconds the EPOS has to answer each ping",
        "idleFor": "Seconds the socket is left idle to see whether the EPOS pings",
        "closedWithin": "Seconds the replaced socket has to be gone",
        "window": "Seconds the replaced EPOS is watched for comebacks",
        "maxReconnects": "Comebacks allowed within the window",
    }
    return tuple(_p(n, "number", texts[n], default=f"{_NUMBERS[n][0]:g}") for n in names)


async def _socket_here(run: FlowRun) -> tuple[FlowSockets, EposSession]:
    """The first step of every socket flow: the EPOS socket is connected, here, over a WebSocket
    registration."""
    async with run.step("Check the EPOS socket is connected") as step:
        sockets = run.sockets
        if sockets is None:
            raise StepFailed("this platform gives the tester no access to the EPOS socket")
        transport, why = await run.invoker.transport()
        step.check(transport == "ws", (
            f"the {run.definition.name} flow is about the EPOS's WebSocket, and this run uses "
            f"{transport} ({why}): register the EPOS over the WebSocket and connect it"))
        problem = await sockets.where()
        if problem is not None:
            raise StepFailed(problem)
        conn = sockets.session()
        assert conn is not None  # where() said it is here
        step.info(f"connected from {conn.client or 'an unknown address'} since "
                  f"{conn.connected_at.isoformat()}")
        return sockets, conn


def _attempts(handshakes: list[Handshake], start: float) -> str:
    shown = [f"+{h.at - start:.2f} s ({'accepted' if h.accepted else f'HTTP {h.status}'})"
             for h in handshakes[:12]]
    more = f" and {len(handshakes) - 12} more" if len(handshakes) > 12 else ""
    return ", ".join(shown) + more if shown else "none"


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def backs_off(intervals: list[float]) -> bool:
    """Whether successive intervals between attempts grow (see the module docstring)."""
    if len(intervals) < 2:
        return False
    steady = all(b >= SHRINK_ALLOWED * a for a, b in zip(intervals, intervals[1:], strict=False))
    return (steady and intervals[-1] >= GROWTH_REQUIRED * intervals[0]
            and intervals[-1] >= HAMMERING)


async def reconnect(run: FlowRun) -> None:
    sockets, _conn = await _socket_here(run)
    within, refusals = _num(run, "reconnectWithin"), int(_num(run, "refusals"))
    status, backoff_within = int(_num(run, "refusalStatus")), _num(run, "backoffWithin")
    try:
        async with run.step(f"Drop the socket (close {CLOSE_SERVICE_RESTART}); the EPOS must be "
                            f"back within {within:g} s") as step:
            dropped = await sockets.drop(CLOSE_SERVICE_RESTART, "resilience test: socket dropped")
            back = await sockets.wait_for_socket(dropped, within)
            seen = sockets.handshakes(dropped)
            if back is None:
                raise StepFailed(
                    f"the EPOS did not reconnect within {within:g} s after the platform closed its "
                    f"socket with {CLOSE_SERVICE_RESTART}; handshakes seen: {_attempts(seen, dropped)}")
            accepted = next(h for h in seen if h.accepted)
            step.info(f"reconnect time: {accepted.at - dropped:.3f} s "
                      f"(handshakes: {_attempts(seen, dropped)})")
        async with run.step(f"Refuse the next {refusals} handshakes with HTTP {status}; the "
                            "attempts must back off") as step:
            sockets.refuse(refusals, status)
            dropped = await sockets.drop(CLOSE_SERVICE_RESTART, "resilience test: socket dropped")
            back = await sockets.wait_for_socket(dropped, backoff_within)
            seen = sockets.handshakes(dropped)
            if back is None:
                raise StepFailed(
                    f"the EPOS was not back within {backoff_within:g} s of the drop after "
                    f"{sum(not h.accepted for h in seen)} refused handshake(s); handshakes seen: "
                    f"{_attempts(seen, dropped)}")
            first_ok = next(i for i, h in enumerate(seen) if h.accepted)
            upto = seen[:first_ok + 1]
            intervals = [b.at - a.at for a, b in zip(upto, upto[1:], strict=False)]
            step.info(f"handshakes after the drop: {_attempts(upto, dropped)}")
            step.info(f"intervals between attempts: {_seconds(intervals)} s")
            step.check(first_ok >= refusals, (
                f"the EPOS got in after {first_ok} refusal(s), fewer than the {refusals} asked "
                "for: the refusals were not all used"))
            step.check(backs_off(intervals), (
                f"the reconnect attempts do not back off: intervals {_seconds(intervals)} s (each "
                f"should be at least {SHRINK_ALLOWED:g} of the one before, and the last at least "
                f"{GROWTH_REQUIRED:g} times the first and {HAMMERING:g} s long); hammering a "
                "platform that refuses makes its outage worse"))
    finally:
        sockets.clean_up()


async def keepalive(run: FlowRun) -> None:
    sockets, conn = await _socket_here(run)
    count, within, idle = int(_num(run, "pings")), _num(run, "pongWithin"), _num(run, "idleFor")
    ka = conn.keepalive
    async with run.step(f"The platform pings the EPOS {count} time(s); each pong within "
                        f"{within:g} s") as step:
        if ka is None:
            raise StepFailed("this platform is served without timed pings (the server is not "
                             "running dojo_epos.keepalive.WS_PROTOCOL), so it cannot ping the EPOS")
        rtts: list[float] = []
        for number in range(1, count + 1):
            try:
                rtts.append(await ka.ping(within))
            except TimeoutError:
                raise StepFailed(
                    f"no pong to ping {number} within {within:g} s: the EPOS does not answer "
                    "WebSocket pings (RFC 6455: an endpoint must answer a ping with a pong); Dojo "
                    "closes a socket whose pings go unanswered") from None
            except ConnectionError:
                raise StepFailed(f"the socket closed while ping {number} waited for its pong") from None
        step.info(f"pong round trips: {', '.join(f'{r * 1000:.1f}' for r in rtts)} ms")
    async with run.step(f"Leave the socket idle for {idle:g} s: does the EPOS ping?") as step:
        before = ka.pings_received
        deadline = time.monotonic() + idle
        while time.monotonic() < deadline and not conn.closed:
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        step.check(not conn.closed, f"the EPOS socket closed while it was idle ({idle:g} s)")
        pinged = ka.pings_received - before
        if pinged:
            step.info(f"the EPOS pinged {pinged} time(s) in {idle:g} s")
        else:
            step.info(f"noted: the EPOS sent no ping in {idle:g} s on an idle socket; a socket "
                      "nobody pings can be cut by a proxy or NAT without either side knowing: "
                      "ping every 20 s or so")


async def replaced_socket(run: FlowRun) -> None:
    sockets, conn = await _socket_here(run)
    closed_within, window = _num(run, "closedWithin"), _num(run, "window")
    allowed = int(_num(run, "maxReconnects"))
    try:
        async with run.step(f"A second socket for the scope: the EPOS's is closed with "
                            f"{CLOSE_REPLACED}") as step:
            await sockets.replace(conn.reseller_id)
            gone = await sockets.wait_for_close(conn, closed_within)
            step.check(gone, f"the EPOS's socket was still open {closed_within:g} s after the "
                             "second socket replaced it")
            step.info(f"closed the EPOS's socket from {conn.client or 'an unknown address'} with "
                      f"{CLOSE_REPLACED} (replaced by a newer connection)")
        async with run.step(f"The replaced EPOS must not come back in a loop: at most {allowed} "
                            f"comeback(s) in {window:g} s") as step:
            start = time.monotonic()
            end, since, comebacks = start + window, start, 0
            while (left := end - time.monotonic()) > 0:
                back = await sockets.wait_for_socket(since, left)
                if back is None:
                    break
                comebacks += 1
                since = time.monotonic()
                await sockets.replace(back.reseller_id)  # the other EPOS takes the scope again
                if comebacks > allowed and comebacks > 20:
                    break  # a loop, plainly: no need to watch it spin to the end of the window
            seen = sockets.handshakes(start)
            step.info(f"handshakes in the window: {len(seen)} ({_attempts(seen, start)})")
            step.check(comebacks <= allowed, (
                f"the EPOS came back {comebacks} time(s) within {window:g} s after being replaced "
                f"(close {CLOSE_REPLACED}): two EPOSes on one scope would evict each other in a "
                f"loop; on {CLOSE_REPLACED}, stop, or back off for minutes"))
            step.info(f"the EPOS came back {comebacks} time(s) in {window:g} s" if comebacks else
                      f"the EPOS did not come back within {window:g} s (it stopped, or backs off "
                      "longer); reconnect it before running other flows")
    finally:
        sockets.clean_up()


_RECONNECT = ("reconnectWithin", "refusals", "refusalStatus", "backoffWithin")
RECONNECT = FlowDef(
    "Reconnect", _params(*_RECONNECT), reconnect,
    "The platform drops the socket: the EPOS must come back in time, and back off when refused",
    check_params=_check(_RECONNECT))
_KEEPALIVE = ("pings", "pongWithin", "idleFor")
KEEPALIVE = FlowDef(
    "Keepalive", _params(*_KEEPALIVE), keepalive,
    "The platform pings: the EPOS must answer in time; an EPOS that never pings is noted",
    check_params=_check(_KEEPALIVE))
_REPLACED = ("closedWithin", "window", "maxReconnects")
REPLACED_SOCKET = FlowDef(
    "Replaced socket", _params(*_REPLACED), replaced_socket,
    "A second socket replaces the EPOS's (close 4000): the EPOS must not come back in a loop",
    check_params=_check(_REPLACED))

#: The socket resilience flows, in the order Certification should run them (Replaced socket last:
#: an EPOS that honours 4000 by stopping is not connected afterwards).
SOCKET_RESILIENCE: tuple[FlowDef, ...] = (KEEPALIVE, RECONNECT, REPLACED_SOCKET)
