"""dojo-epos: Dojo's EPOS Data API, both sides.

Serve the contract from an EPOS (one handler, REST and WebSocket), run Dojo's platform locally
(registry, gateway, events, tester flows), and talk to real Dojo or the local platform with one client.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
