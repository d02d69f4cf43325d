"""The reference EPOS: a demo restaurant on SQLite or PostgreSQL implementing every capability.

Start with :func:`open_reference`; :mod:`.seed` fills a database, :mod:`.till` is what the
restaurant's own staff do. See :mod:`.totals` for how amounts add up and :mod:`.locks` /
:mod:`.payments` for the rules Dojo relies on.
"""

from dojo_epos.epos.reference.handler import ReferenceEpos, open_reference

__all__ = ["ReferenceEpos", "open_reference"]
