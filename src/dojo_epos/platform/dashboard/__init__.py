"""The local platform's web dashboard: its pages, including the virtual terminal's (see :mod:`.routes`)."""

from dojo_epos.platform.dashboard.routes import dashboard_routes

__all__ = ["dashboard_routes"]
