"""The ``apscheduler`` command: run a scheduler from a TOML file and manage its store.

``create_app()`` builds the command tree (a fresh ``typer.Typer`` each call, so plugins
registered in code are seen); installed plugins add subcommands through the
``register_commands(cli)`` hook. ``main()`` is the console-script entry point.
See ``docs/operator/cli.md``.
"""

from ._app import create_app, main

__all__ = ["create_app", "main"]
