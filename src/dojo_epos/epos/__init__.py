"""The EPOS side: one handler, served over REST (an ASGI app) and over the WebSocket connector."""
