"""WebSocket close codes with a meaning between the platform and an EPOS (one home for both sides).

The platform sends them (:mod:`dojo_epos.platform.gateway`); the EPOS connector reads them
(:mod:`dojo_epos.epos.session`) and decides whether to come back, and how soon.
"""

from __future__ import annotations

__all__ = ["CLOSE_GOING_AWAY", "CLOSE_REPLACED", "CLOSE_SERVICE_RESTART"]

#: A socket replaced by a newer one of the same account scope (a private-use code). A connector
#: that sees it must not reconnect at once, or two connectors on one scope evict each other in a loop.
CLOSE_REPLACED = 4000
#: RFC 6455 "going away": the platform shuts down (come back later).
CLOSE_GOING_AWAY = 1001
#: RFC 6455 "service restart": the platform restarts (come back soon, with back-off).
CLOSE_SERVICE_RESTART = 1012
