"""pluggy hook specifications of apscheduler plugins.

A plugin is any object or module with functions marked ``@hookimpl`` whose names match
the specs below. Installed plugins are found through the ``apscheduler`` entry-point
group; each entry point names a module (or object) that holds the hook implementations.

Registrar hooks receive a ``register`` callable::

    @hookimpl
    def register_data_stores(register):
        register("mystore", "my_package.store:MyStore", url_schemes=["mystore"])

The target may be the class itself or a lazy ``"module:attr"`` string; lazy targets are
imported only when first used, so discovering plugins never imports their dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import typer

PROJECT_NAME = "apscheduler"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The ``register`` callable passed to the registrar hooks."""

    def __call__(
        self,
        name: str,
        target: Any,
        *,
        url_schemes: tuple[str, ...] | list[str] = (),
        description: str = "",
    ) -> None: ...


@hookspec
def register_triggers(register: Register) -> None:
    """Register trigger classes by name (``"cron"``, ``"interval"``...).

    The name is what users pass to ``add_schedule(func, "cron", hour=9)`` and what
    serializers store with the trigger's state.
    """


@hookspec
def register_data_stores(register: Register) -> None:
    """Register data store classes by name, claiming URL schemes with ``url_schemes``.

    A class that claims schemes must accept the URL as its first constructor argument or
    provide a ``from_url(url, **options)`` classmethod.
    """


@hookspec
def register_event_brokers(register: Register) -> None:
    """Register event broker classes by name, claiming URL schemes with ``url_schemes``."""


@hookspec
def register_job_executors(register: Register) -> None:
    """Register job executor classes by name (``"threadpool"``, ``"processpool"``...)."""


@hookspec
def register_serializers(register: Register) -> None:
    """Register serializer classes by name (``"json"``, ``"pickle"``, ``"cbor"``)."""


@hookspec
def register_commands(cli: typer.Typer) -> None:
    """Add subcommands to the ``apscheduler`` command (``cli.command()(func)`` or
    ``cli.add_typer(sub_app, name=...)``)."""


@hookspec
def scheduler_started(scheduler: Any) -> None:
    """Called with each ``AsyncScheduler`` as it starts (after its services are up).

    Lets a plugin attach itself with no user code, e.g. a metrics exporter subscribing to
    the scheduler's events. Exceptions are logged and do not stop the scheduler.
    """


@hookspec
def scheduler_stopped(scheduler: Any) -> None:
    """Called with each ``AsyncScheduler`` after it has stopped."""


def register_plugin(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object (or module) in code, without an entry point, and return
    the name it is registered under.

    For tests, notebooks and applications that bundle their own components; its hooks
    are called at once, exactly as an installed plugin's are when it is discovered.
    """
    from ._registry import get_registry

    return get_registry().register_plugin(plugin, name)


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered with :func:`register_plugin` and everything it
    registered."""
    from ._registry import get_registry

    get_registry().unregister_plugin(name)
