"""Refuse a client that keeps failing basic auth (429), so passwords cannot be guessed at speed.

Each client (the peer address) has a bucket of ``burst`` failed attempts that refills at ``per_second``.
A wrong or missing password takes one from it; while it is empty, every request from that client is
answered 429 with ``Retry-After`` *before* its credentials are looked at (so a right guess is not
revealed either). Good requests take nothing, and other clients are never affected, so Dojo calling
with the right password is not slowed. Memory is bounded: at most ``max_clients`` buckets are kept,
the least recently failing dropped first.

``AuthThrottle(...)`` is the setting; ``build_rest_app(..., auth_throttle=None)`` turns it off.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["AuthThrottle"]


@dataclass
class AuthThrottle:
    """Failed-auth budget per client: ``burst`` at once, then ``per_second`` (see the module)."""

    burst: int = 10
    per_second: float = 1.0
    max_clients: int = 10_000
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict, init=False,
                                                            repr=False)

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_second <= 0 or self.max_clients < 1:
            raise ValueError("burst and max_clients must be at least 1 and per_second positive")

    def _tokens(self, client: str, now: float) -> float:
        entry = self._buckets.get(client)
        if entry is None:
            return float(self.burst)
        tokens, since = entry
        return min(float(self.burst), tokens + (now - since) * self.per_second)

    def retry_after(self, client: str) -> int | None:
        """Seconds the client must wait before trying again, or None when it may try now."""
        tokens = self._tokens(client, self.clock())
        if tokens >= 1:
            return None
        return max(1, math.ceil((1 - tokens) / self.per_second))

    def failed(self, client: str) -> None:
        """Count one failed attempt by ``client``."""
        now = self.clock()
        tokens = self._tokens(client, now)
        self._buckets[client] = (max(0.0, tokens - 1), now)
        self._buckets.move_to_end(client)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
