"""What every command shares: error reporting and exit codes, output helpers, and
opening the data store named by a configuration file.

Exit codes: ``0`` success; ``2`` the input is wrong (invalid configuration, unknown
schedule ID, bad option) and nothing was changed; ``1`` something failed at run time
(the store cannot be reached...); ``130`` interrupted.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from .._exceptions import (
    JobLookupError,
    ScheduleLookupError,
    TaskLookupError,
    UnknownPluginError,
)
from ..config import ConfigError, load_config, resolve_services

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Environment variable holding the default of ``--config``.
CONFIG_ENV = "APSCHEDULER_CONFIG"


class CLIError(Exception):
    """An error reported as ``error: <message>`` lines and an exit code."""

    def __init__(self, message: str | list[str], code: int = EXIT_USAGE):
        self.lines = [message] if isinstance(message, str) else list(message)
        self.code = code
        super().__init__("\n".join(self.lines))


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` of the first leaf of an exception group, on one line."""
    children = getattr(exc, "exceptions", None)
    while isinstance(children, (list, tuple)) and children:
        exc = children[0]
        children = getattr(exc, "exceptions", None)
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def stdout() -> Console:
    """A console for tables on standard output (created per call: tests swap streams)."""
    return Console(highlight=False)


def say(text: str) -> None:
    """Print a message line on standard output (never wrapped)."""
    typer.echo(text)


def echo_error(line: str) -> None:
    """Print one ``error:`` line on standard error (never wrapped)."""
    typer.secho(f"error: {line}", err=True, fg=typer.colors.RED)


def echo_warning(line: str) -> None:
    typer.secho(f"warning: {line}", err=True, fg=typer.colors.YELLOW)


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON to standard output."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def handle_errors(func: F) -> F:
    """Turn the errors a user can fix into ``error:`` lines and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            for line in exc.lines():
                echo_error(line)
            raise typer.Exit(EXIT_USAGE) from None
        except CLIError as exc:
            for line in exc.lines:
                echo_error(line)
            raise typer.Exit(exc.code) from None
        except (ScheduleLookupError, JobLookupError, TaskLookupError, UnknownPluginError) as exc:
            echo_error(str(exc))
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            echo_error("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


def config_option_help() -> str:
    return f"The configuration file naming the data store (default: ${CONFIG_ENV})."


def require_config(config: Path | None) -> Path:
    if config is None:
        raise CLIError(f"no configuration given: pass --config FILE or set {CONFIG_ENV}")
    return config


@contextmanager
def open_scheduler(config: Path | None) -> Iterator[Any]:
    """A started sync :class:`~apscheduler.Scheduler` on the configuration's store and
    broker, with its loops **not** running (it processes no schedules and runs no jobs).

    Task modules are not imported: only the services are needed.
    """
    from .. import Scheduler
    from .._registry import get_registry

    file = load_config(require_config(config))
    services = resolve_services(file)
    try:
        store_name = get_registry().name_of("data_store", type(services.data_store))
    except LookupError:
        store_name = ""
    if store_name == "memory":
        echo_warning(
            "the configuration uses the memory data store, which lives inside one process: "
            "this command sees an empty store, not the one of a running scheduler"
        )
    scheduler = Scheduler(
        services.data_store,
        services.event_broker,
        identity=f"apscheduler-cli-{file.display_name}",
        timezone=services.timezone,
        cleanup_interval=None,
    )
    try:
        scheduler.__enter__()
    except Exception as exc:
        raise CLIError(
            f"cannot open the {services.description}: {describe_exception(exc)}",
            EXIT_FAILURE,
        ) from None
    try:
        yield scheduler
    finally:
        scheduler.__exit__(None, None, None)
