"""The plugin registry: discovery through real entry points, lazy targets, lookups by
name and URL scheme, errors that say what to do, and operator controls."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from apscheduler import PluginConflictError, UnknownPluginError
from apscheduler._registry import PluginRegistry
from apscheduler.abc import DataStore, EventBroker, JobExecutor, Serializer
from apscheduler.hookspecs import hookimpl


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_builtins_register_through_the_same_hooks() -> None:
    registry = PluginRegistry(load_entry_points=False)
    assert [plugin.name for plugin in registry.plugins()] == ["builtins"]
    assert registry.names("trigger") == [
        "and",
        "calendarinterval",
        "cron",
        "date",
        "interval",
        "or",
    ]
    assert registry.names("data_store") == ["memory"]
    assert registry.names("event_broker") == ["local"]
    assert registry.names("job_executor") == ["async", "threadpool"]
    assert registry.names("serializer") == ["cbor", "json", "pickle"]


def test_entry_point_plugin_is_discovered_without_importing_its_target() -> None:
    """The sample plugin (installed in the workspace) registers a lazy "module:attr"."""
    result = run_python(
        """
        import sys
        from apscheduler._registry import get_registry
        registry = get_registry()
        registration = registry.get("trigger", "every-other-second")
        assert registration.distribution == "apscheduler-sample-plugin", registration
        assert "apscheduler_sample_plugin.trigger" not in sys.modules
        cls = registry.resolve("trigger", "every-other-second")
        assert cls.__name__ == "EveryOtherSecondTrigger"
        assert "apscheduler_sample_plugin.trigger" in sys.modules
        print("ok")
        """
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_discovery_imports_no_heavy_dependency_of_bundled_plugins() -> None:
    result = run_python(
        """
        import sys
        from apscheduler._registry import get_registry
        registry = get_registry()
        assert "sqlalchemy" in registry.names("data_store")
        assert "redis" in registry.names("event_broker")
        heavy = {"sqlalchemy", "redis", "paho", "pymongo", "asyncpg", "psycopg"}
        loaded = sorted(name for name in heavy if name in sys.modules)
        print(loaded)
        """
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_unknown_name_lists_known_names_and_suggests_closest() -> None:
    registry = PluginRegistry(load_entry_points=False)
    with pytest.raises(UnknownPluginError) as exc_info:
        registry.get("trigger", "crontab")
    message = str(exc_info.value)
    assert "Did you mean 'cron'?" in message
    assert "interval" in message and "calendarinterval" in message
    assert isinstance(exc_info.value, LookupError)


def test_known_but_missing_plugin_gives_the_pip_install_line() -> None:
    registry = PluginRegistry(load_entry_points=False)
    with pytest.raises(UnknownPluginError, match=r'pip install "apscheduler\[mongodb\]"'):
        registry.get("data_store", "mongodb")
    with pytest.raises(UnknownPluginError, match=r'pip install "apscheduler\[processpool\]"'):
        registry.get("job_executor", "processpool")
    with pytest.raises(UnknownPluginError, match=r'pip install "apscheduler\[sqlite\]"'):
        registry.create("data_store", "sqlite:///jobs.db", DataStore)
    with pytest.raises(UnknownPluginError, match=r'pip install "apscheduler\[redis\]"'):
        registry.create("event_broker", "redis://localhost", EventBroker)


def test_block_list_disables_an_installed_plugin() -> None:
    result = run_python(
        """
        from apscheduler._registry import get_registry
        try:
            get_registry().get("data_store", "mongodb")
        except LookupError as exc:
            print(exc)
        """,
        APSCHEDULER_DISABLE_PLUGINS="mongodb",
    )
    assert 'pip install "apscheduler[mongodb]"' in result.stdout, result.stderr


def test_allow_list_loads_only_the_named_plugins() -> None:
    result = run_python(
        """
        from apscheduler._registry import get_registry
        print(sorted(p.name for p in get_registry().plugins()))
        """,
        APSCHEDULER_PLUGINS="sample",
    )
    assert result.stdout.strip() == "['builtins', 'sample']", result.stderr


def test_url_schemes_resolve_to_installed_plugins() -> None:
    result = run_python(
        """
        from apscheduler._registry import get_registry
        registry = get_registry()
        for kind, url in [
            ("data_store", "sqlite:///x.db"), ("data_store", "postgresql+asyncpg://h/db"),
            ("data_store", "mysql+asyncmy://h/db"), ("data_store", "mongodb://h"),
            ("data_store", "redis://h"), ("event_broker", "redis://h"),
            ("event_broker", "mqtt://h"), ("data_store", "memory://"),
        ]:
            print(kind, url.split(":")[0], registry.resolve_url(kind, url).name)
        """
    )
    lines = result.stdout.strip().splitlines()
    assert lines == [
        "data_store sqlite sqlalchemy",
        "data_store postgresql+asyncpg sqlalchemy",
        "data_store mysql+asyncmy sqlalchemy",
        "data_store mongodb mongodb",
        "data_store redis redis",
        "event_broker redis redis",
        "event_broker mqtt mqtt",
        "data_store memory memory",
    ], result.stderr


class DuplicateCron:
    @hookimpl
    def register_triggers(self, register: Any) -> None:
        register("cron", "somewhere.else:CronTrigger")


class DuplicateScheme:
    @hookimpl
    def register_data_stores(self, register: Any) -> None:
        register("other-memory", "somewhere.else:Store", url_schemes=["memory"])


def test_two_plugins_claiming_one_name_is_an_error_naming_both() -> None:
    registry = PluginRegistry(load_entry_points=False)
    with pytest.raises(PluginConflictError) as exc_info:
        registry.register_plugin(DuplicateCron(), "dup-cron")
    message = str(exc_info.value)
    assert "'builtins'" in message and "'dup-cron'" in message
    assert "cron" in registry.names("trigger")
    assert [p.name for p in registry.plugins()] == ["builtins"]  # nothing half-registered
    with pytest.raises(PluginConflictError, match="URL scheme 'memory'"):
        registry.register_plugin(DuplicateScheme(), "dup-scheme")


class InCodeExecutor(JobExecutor):
    async def run_job(self, func: Any, job: Any) -> Any:
        return func(*job.args, **job.kwargs)


class InCodePlugin:
    @hookimpl
    def register_job_executors(self, register: Any) -> None:
        register("in-code", InCodeExecutor)


def test_in_code_registration_and_unregistration() -> None:
    registry = PluginRegistry(load_entry_points=False)
    registry.register_plugin(InCodePlugin(), "in-code-plugin")
    executor = registry.create("job_executor", "in-code", JobExecutor)
    assert isinstance(executor, InCodeExecutor)
    assert registry.name_of("job_executor", InCodeExecutor) == "in-code"
    registry.unregister_plugin("in-code-plugin")
    with pytest.raises(UnknownPluginError):
        registry.get("job_executor", "in-code")


def test_create_from_name_dict_and_instance() -> None:
    registry = PluginRegistry(load_entry_points=False)
    serializer = registry.create("serializer", "json", Serializer)
    assert type(serializer).__name__ == "JSONSerializer"
    assert registry.create("serializer", serializer, Serializer) is serializer
    executor = registry.create(
        "job_executor", {"type": "threadpool", "max_workers": 3}, JobExecutor
    )
    assert executor.max_workers == 3
    with pytest.raises(ValueError, match="'type' or a 'url'"):
        registry.create("job_executor", {"max_workers": 3}, JobExecutor)


def test_name_of_unregistered_class_explains_how_to_register() -> None:
    registry = PluginRegistry(load_entry_points=False)
    with pytest.raises(LookupError, match="register_triggers"):
        registry.name_of("trigger", InCodeExecutor)


def test_broken_plugin_is_reported_not_fatal(tmp_path: Any) -> None:
    """A plugin whose module fails to import is recorded in ``errors``."""
    result = run_python(
        """
        from importlib.metadata import EntryPoint
        from apscheduler import _registry
        broken = EntryPoint(name="broken", value="no_such_module_xyz", group="apscheduler")
        _registry._apscheduler_entry_points = lambda: [broken]
        registry = _registry.PluginRegistry()
        print(registry.errors[0])
        print(registry.names("trigger")[:2])
        """
    )
    assert "broken" in result.stdout and "no_such_module_xyz" in result.stdout, result.stderr
    assert "['and', 'calendarinterval']" in result.stdout


def test_version_is_exposed() -> None:
    import apscheduler

    assert apscheduler.__version__ == "4.1.0.dev0"
    assert apscheduler.version_info[:3] == (4, 1, 0)


@pytest.mark.anyio
async def test_builtin_url_schemes_build_working_components() -> None:
    """``data_store="memory://"`` and ``event_broker="local://"`` are accepted like any
    other URL, and a scheduler built from them runs jobs."""
    from apscheduler import AsyncScheduler
    from apscheduler.datastores.memory import MemoryDataStore
    from apscheduler.eventbrokers.local import LocalEventBroker

    async with AsyncScheduler(data_store="memory://", event_broker="local://") as scheduler:
        assert isinstance(scheduler.data_store, MemoryDataStore)
        assert isinstance(scheduler.event_broker, LocalEventBroker)
        await scheduler.start_in_background()
        job_id = await scheduler.add_job(max, args=[2, 5], result_expiration_time=30)
        result = await scheduler.get_job_result(job_id)
        assert result is not None and result.return_value == 5


@pytest.mark.parametrize(
    "kind, url", [("data_store", "memory://somewhere"), ("event_broker", "local://host:1")]
)
def test_builtin_url_with_options_is_refused_clearly(kind: str, url: str) -> None:
    registry = PluginRegistry(load_entry_points=False)
    base = DataStore if kind == "data_store" else EventBroker
    with pytest.raises(ValueError, match="with nothing after the scheme"):
        registry.create(kind, url, base)


def test_lazy_target_naming_a_re_export_still_serializes_by_name(tmp_path: Any) -> None:
    """A plugin may register ``"pkg:Trigger"`` while the class is defined in
    ``pkg.impl``; a trigger created by importing ``pkg.impl`` directly must still be
    stored under its registered name (and read back)."""
    package = tmp_path / "reexporting_plugin"
    package.mkdir()
    (package / "__init__.py").write_text("from .impl import EveryMinute\n")
    (package / "impl.py").write_text(
        textwrap.dedent(
            """
            from apscheduler.triggers.interval import IntervalTrigger

            class EveryMinute(IntervalTrigger):
                def __init__(self, **kwargs):
                    super().__init__(minutes=1, **kwargs)
            """
        )
    )
    result = run_python(
        """
        from apscheduler.hookspecs import hookimpl, register_plugin
        from apscheduler.serializers.json import JSONSerializer

        class Plugin:
            @hookimpl
            def register_triggers(self, register):
                register("every-minute", "reexporting_plugin:EveryMinute")

        register_plugin(Plugin(), "reexporting")
        from reexporting_plugin.impl import EveryMinute

        serializer = JSONSerializer()
        data = serializer.serialize(EveryMinute(start_time="2026-01-01T00:00:00+00:00"))
        assert b"every-minute" in data, data
        restored = serializer.deserialize(data)
        print(type(restored).__name__, restored.next())
        """,
        PYTHONPATH=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "EveryMinute 2026-01-01 00:00:00+00:00"
