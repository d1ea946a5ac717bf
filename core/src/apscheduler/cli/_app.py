"""Assembling the command tree, including subcommands contributed by plugins."""

from typing import Annotated

import typer

from .. import __version__
from .._registry import get_registry
from ._common import echo_warning


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"apscheduler {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Run and manage apscheduler schedulers from TOML configuration files.

    Start with 'apscheduler run CONFIG'; see 'apscheduler COMMAND --help'.
    """


def migrate_v3(ctx: typer.Context) -> None:
    """Import the jobs of an APScheduler 3 job store: --from URL --to URL [options].

    Run 'apscheduler migrate-v3 --help' for every option. Exits 0 when every job was
    converted and 1 when some were skipped (each is reported with the reason).
    """
    from ..migrate_v3 import main as migrate_main

    raise typer.Exit(migrate_main(list(ctx.args)))


def create_app() -> typer.Typer:
    """Build the ``apscheduler`` command with the built-in and plugin subcommands."""
    from ._manage import jobs_app, schedules_app
    from ._plugins import plugins, triggers_app
    from ._run import apply, check, run

    app = typer.Typer(
        name="apscheduler",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,  # locals may hold passwords from URLs
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    app.command("run")(run)
    app.command("check")(check)
    app.command("apply")(apply)
    app.command("plugins")(plugins)
    app.command(
        "migrate-v3",
        context_settings={
            "allow_extra_args": True,
            "ignore_unknown_options": True,
            "help_option_names": [],
        },
        add_help_option=False,
    )(migrate_v3)
    app.add_typer(schedules_app, name="schedules")
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(triggers_app, name="triggers")
    try:
        get_registry().hook.register_commands(cli=app)
    except Exception as exc:  # a broken plugin must not break the command
        echo_warning(f"a plugin's register_commands hook failed: {type(exc).__name__}: {exc}")
    return app


def main() -> None:
    """Console-script entry point."""
    create_app()(prog_name="apscheduler")
