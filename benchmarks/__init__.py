"""Benchmarks for dojo-epos, run by ``make bench`` (``python -m benchmarks``).

Each figure is a ratio against a bare baseline measured in the same run on the same machine: the
REST app against a raw ASGI app, the WebSocket path against a bare ``websockets`` echo, the database
at a million orders against ten thousand, the connector's memory against bare sockets, a flow
against the sum of its calls. See ``benchmarks/README.md``.
"""
