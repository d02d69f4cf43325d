"""The platform's HTTP layer: the API routes and the EPOS socket endpoint, above the services.

Each ``*_routes`` function takes the services it serves (never the whole platform); the dashboard's
pages are in :mod:`dojo_epos.platform.dashboard`; :mod:`dojo_epos.platform.app` assembles them.
"""
