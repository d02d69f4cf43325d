"""The contract: models, the capability catalogue, errors and the JSON-RPC codec.

Everything in this package is pure: no sockets, no database, no asyncio. Both sides of dojo-epos (the
EPOS and the local platform) are built around it.
"""
