"""The local platform's web dashboard and virtual card terminal (see :mod:`.routes`)."""

from dojo_epos.platform.dashboard.routes import dashboard_routes

__all__ = ["dashboard_routes"]
