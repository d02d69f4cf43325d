"""The entry point PyInstaller freezes into ``dist/dojo-epos`` (``make onefile``): the CLI as is."""

from dojo_epos.cli import main

main()
