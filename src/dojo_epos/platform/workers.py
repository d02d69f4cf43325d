"""``platform serve --workers N``: N platform processes serving one port.

The parent makes the listening sockets and forks N workers that each run the whole platform
(:func:`~.app.serve_platform`). Where the system has ``SO_REUSEPORT`` (Linux), there is one socket
a worker, all bound to the port, and the kernel spreads new connections (HTTP requests or EPOS
sockets) over them evenly, by their addresses. Every socket listens before the first worker starts
(nothing is refused while they start), and the parent keeps them all open: a worker's replacement
takes over its socket, with the connections that waited in it meanwhile. Elsewhere the workers
share one socket and whichever accepts first gets the connection.

Why not one shared socket everywhere: when several processes accept from one socket, the one that
wakes first takes the connection, and an idle moment (registrations, a dashboard's first requests)
hands most of the connections to one worker (asyncio accepts every connection waiting when it
wakes, so a burst goes to one). Clients keep their connections alive, so the split lasts: in the
two-worker benchmark one worker did 85% of the work (``worker_cores`` 0.93 against 0.16).

Workers share nothing in memory: registrations, flows and the call log are in the database, and
calls reach the worker holding a scope's socket over the bus (NATS). The parent only supervises: a
worker that dies (even by ``kill -9``) is replaced, and its EPOSes, whose sockets died with it,
reconnect (to the others, or, where the kernel puts a reconnection on the dead worker's listening
socket, to its replacement, which is a second or two away). SIGTERM or SIGINT to the parent stops
every worker gracefully.

Why not uvicorn's own ``--workers``: it needs the app as an import string, so the settings would
have to travel through environment variables, and it spawns fresh interpreters. Forking after the
settings are parsed keeps them as Python objects, and starts a worker in a fraction of the time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

__all__ = ["REUSE_PORT", "listening_socket", "listening_sockets", "serve_workers"]

log = logging.getLogger("dojo_epos.platform.workers")

#: A worker that dies this soon after it started is not restarted more often than once a second.
_RESTART_PAUSE = 1.0


#: Whether workers listen on sockets of their own (the kernel balancing connections over them).
REUSE_PORT = hasattr(socket, "SO_REUSEPORT") and sys.platform.startswith("linux")


def _bound(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio turns TCP_NODELAY on only for sockets whose proto says
    # TCP, and accepted sockets inherit it (with proto 0 every small answer waits for delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def listening_socket(host: str, port: int, backlog: int = 2048, *,
                     reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening, inheritable by forked workers;
    ``reuse_port``: one of several on the port, each a worker's (see the module's docstring)."""
    sock = _bound(host, port, reuse_port=reuse_port)
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def listening_sockets(host: str, port: int, workers: int) -> list[socket.socket]:
    """One listening socket a worker on ``host:port`` (``SO_REUSEPORT``), or one shared socket
    where there is no such balancing.

    The port is claimed first with a plain bind, closed at once: ``SO_REUSEPORT`` would let these
    sockets join another process's group on a port already served (a second ``platform serve``
    on the same port would start and take half its connections), where the plain bind fails
    with "address in use", as a single worker's socket does. It also picks the port for port 0.
    """
    if not REUSE_PORT:
        return [listening_socket(host, port)]
    probe = _bound(host, port, reuse_port=False)
    port = probe.getsockname()[1]
    probe.close()
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            sockets.append(listening_socket(host, port, reuse_port=True))
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def serve_workers(
    workers: int,
    sockets: Sequence[socket.socket],
    run_worker: Callable[[int, Sequence[socket.socket]], Coroutine[Any, Any, None]],
) -> int:
    """Fork ``workers`` processes, worker ``i`` running ``run_worker(i, [sockets[i]])`` (or the one
    socket they share); supervise them until SIGTERM/SIGINT, then stop them. Returns the exit code
    for the parent. ``sockets``: :func:`listening_sockets`."""
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    children: dict[int, int] = {}  # pid -> worker index
    started: dict[int, float] = {}  # worker index -> when it last started
    stopping = False

    def spawn(index: int) -> None:
        pause = _RESTART_PAUSE - (time.monotonic() - started.get(index, -_RESTART_PAUSE))
        if pause > 0:
            time.sleep(pause)
        started[index] = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            code = 0
            try:
                own = sockets[index % len(sockets)]
                for other in sockets:  # the worker's copies; the parent keeps every socket
                    if other is not own:
                        other.close()
                asyncio.run(run_worker(index, [own]))
            except KeyboardInterrupt:
                code = 0
            except BaseException:
                log.exception("worker %d failed", index)
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
        children[pid] = index
        log.info("worker %d started (pid %d)", index, pid)

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    sys.stdout.flush()  # or every worker would inherit, and print again, what is still buffered
    sys.stderr.flush()
    try:
        for index in range(workers):
            spawn(index)
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            index = children.pop(pid, -1)
            if stopping or index < 0:
                continue
            how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                   else f"exit {os.WEXITSTATUS(status)}")
            print(f"worker {index} (pid {pid}) stopped ({how}); starting another", flush=True)
            spawn(index)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        deadline = time.monotonic() + 10
        for pid in list(children):
            while time.monotonic() < deadline:
                done, _status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.05)
            else:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        for sock in sockets:
            sock.close()
    return 0
