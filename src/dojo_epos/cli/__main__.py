"""``python -m dojo_epos.cli``: the same as the ``dojo-epos`` command."""

from dojo_epos.cli import main

main()
