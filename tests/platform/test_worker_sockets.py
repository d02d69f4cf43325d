"""The listening sockets of ``platform serve --workers N`` (:func:`listening_sockets`): one a
worker on one port, and a port another process already serves is refused, as with one worker."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from dojo_epos.platform.workers import REUSE_PORT, listening_sockets

pytestmark = [
    pytest.mark.socket,
    pytest.mark.skipif(not REUSE_PORT, reason="no SO_REUSEPORT balancing: one shared socket"),
]


def test_one_listening_socket_a_worker_on_the_port_chosen() -> None:
    sockets = listening_sockets("127.0.0.1", 0, 3)
    try:
        assert len(sockets) == 3
        assert len({s.getsockname()[1] for s in sockets}) == 1
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) for s in sockets)
    finally:
        for s in sockets:
            s.close()


def test_a_port_another_group_of_workers_serves_is_refused() -> None:
    """SO_REUSEPORT alone would have let the second group join the first one's port."""
    first = listening_sockets("127.0.0.1", 0, 2)
    port = first[0].getsockname()[1]
    try:
        with pytest.raises(OSError, match="in use"):
            listening_sockets("127.0.0.1", port, 2)
        # A second `platform serve --workers 2` on the port says so and stops (before any
        # database or bus is reached).
        done = subprocess.run(
            [sys.executable, "-m", "dojo_epos.cli", "platform", "serve", "--port", str(port),
             "--workers", "2", "--db", "postgresql://nobody@127.0.0.1:9/none",
             "--bus", "nats://127.0.0.1:9"],
            capture_output=True, text=True, timeout=60)
        assert done.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}" in done.stdout + done.stderr
    finally:
        for s in first:
            s.close()
