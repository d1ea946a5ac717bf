"""Hook specs that plugins rely on, exercised through in-code plugins: the lifecycle
hooks (``scheduler_started`` / ``scheduler_stopped``) and every registrar hook end to end
(``register_triggers``, ``register_data_stores``, ``register_event_brokers``,
``register_serializers``): a registered component is used by name or URL by a real
scheduler. ``register_commands`` is covered in
``tests/core/cli/test_plugins_and_triggers.py``, ``register_job_executors`` and the
registry's error handling in ``tests/core/test_registry.py``; ``tests/docs/test_meta.py``
checks that every hook spec is exercised somewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest
from apscheduler import AsyncScheduler, Event, JobOutcome, JobReleased, RunState
from apscheduler._registry import get_registry
from apscheduler.abc import Trigger
from apscheduler.clock import get_clock
from apscheduler.datastores.memory import MemoryDataStore
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.hookspecs import Register, hookimpl
from apscheduler.serializers.json import JSONSerializer

pytestmark = pytest.mark.anyio

RegisterPlugin = Callable[[object, str], None]


@pytest.fixture
def register_plugin() -> Iterator[RegisterPlugin]:
    """Register in-code plugins for one test and unregister them afterwards."""
    registry = get_registry()
    names: list[str] = []

    def register(plugin: object, name: str) -> None:
        names.append(registry.register_plugin(plugin, name))

    yield register
    for name in reversed(names):
        registry.unregister_plugin(name)


def add(a: int, b: int) -> int:
    return a + b


# Lifecycle hooks


class LifecycleRecorder:
    """Records each lifecycle call with the scheduler and its state at that moment."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, RunState]] = []

    @hookimpl
    def scheduler_started(self, scheduler: Any) -> None:
        self.calls.append(("started", scheduler, scheduler.state))

    @hookimpl
    def scheduler_stopped(self, scheduler: Any) -> None:
        self.calls.append(("stopped", scheduler, scheduler.state))


async def test_lifecycle_hooks_receive_the_scheduler(register_plugin: RegisterPlugin) -> None:
    recorder = LifecycleRecorder()
    register_plugin(recorder, "test-lifecycle")
    async with AsyncScheduler() as scheduler:
        await scheduler.start_in_background()
        # called before start_in_background() returns: the scheduler is already running
        assert recorder.calls == [("started", scheduler, RunState.started)]
    assert recorder.calls == [
        ("started", scheduler, RunState.started),
        ("stopped", scheduler, RunState.stopped),
    ]


class MetricsPlugin:
    """What the hook is for: a plugin attaching itself to every scheduler, no user code."""

    def __init__(self) -> None:
        self.outcomes: list[JobOutcome] = []
        self.seen = anyio.Event()

    @hookimpl
    def scheduler_started(self, scheduler: Any) -> None:
        scheduler.subscribe(self.on_release, {JobReleased})

    def on_release(self, event: Event) -> None:
        assert isinstance(event, JobReleased)
        self.outcomes.append(event.outcome)
        self.seen.set()


async def test_started_hook_lets_a_plugin_subscribe_to_events(
    register_plugin: RegisterPlugin,
) -> None:
    metrics = MetricsPlugin()
    register_plugin(metrics, "test-metrics")
    async with AsyncScheduler() as scheduler:
        await scheduler.start_in_background()
        assert await scheduler.run_job(add, args=(2, 3)) == 5
        with anyio.fail_after(5):
            await metrics.seen.wait()
    assert metrics.outcomes == [JobOutcome.success]


class BrokenLifecyclePlugin:
    @hookimpl
    def scheduler_started(self, scheduler: Any) -> None:
        raise RuntimeError("started hook failed")

    @hookimpl
    def scheduler_stopped(self, scheduler: Any) -> None:
        raise RuntimeError("stopped hook failed")


async def test_failing_lifecycle_hooks_are_logged_and_do_not_stop_the_scheduler(
    register_plugin: RegisterPlugin, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = LifecycleRecorder()
    register_plugin(recorder, "test-well-behaved")
    # Registered last, so pluggy would call it first
    register_plugin(BrokenLifecyclePlugin(), "test-broken-lifecycle")
    with caplog.at_level(logging.ERROR):
        async with AsyncScheduler() as scheduler:
            await scheduler.start_in_background()
            assert scheduler.state is RunState.started
            assert await scheduler.run_job(add, args=(1, 1)) == 2
    messages = [record.getMessage() for record in caplog.records]
    for hook in ("scheduler_started", "scheduler_stopped"):
        assert f"A plugin's {hook} hook raised (plugin 'test-broken-lifecycle')" in messages
    assert scheduler.state is RunState.stopped
    # The broken plugin did not keep the other plugin's hooks from running
    assert [call[0] for call in recorder.calls] == ["started", "stopped"]


# register_event_brokers


class HookTestEventBroker(LocalEventBroker):
    """A broker claimed by URL scheme; records the URL it was created from."""

    def __init__(self, url: str | None = None, *, channel: str = "default") -> None:
        super().__init__()
        self.url = url
        self.channel = channel

    @classmethod
    def from_url(cls, url: str, **options: Any) -> HookTestEventBroker:
        return cls(url, **options)


class EventBrokerPlugin:
    @hookimpl
    def register_event_brokers(self, register: Register) -> None:
        register("hooktest", HookTestEventBroker, url_schemes=["hooktest"])


async def test_registered_event_broker_is_created_from_its_url(
    register_plugin: RegisterPlugin,
) -> None:
    register_plugin(EventBrokerPlugin(), "test-broker-plugin")
    async with AsyncScheduler(event_broker="hooktest://somewhere") as scheduler:
        broker = scheduler.event_broker
        assert isinstance(broker, HookTestEventBroker)
        assert broker.url == "hooktest://somewhere"
        await scheduler.start_in_background()
        assert await scheduler.run_job(add, args=(20, 22)) == 42


async def test_registered_event_broker_is_created_from_a_config_dict(
    register_plugin: RegisterPlugin,
) -> None:
    register_plugin(EventBrokerPlugin(), "test-broker-plugin")
    scheduler = AsyncScheduler(event_broker={"type": "hooktest", "channel": "jobs"})
    assert isinstance(scheduler.event_broker, HookTestEventBroker)
    assert scheduler.event_broker.channel == "jobs"


# register_serializers


class CountingSerializer(JSONSerializer):
    """JSON that counts its calls, registered under its own name."""

    name = "hooktest-json"

    def __init__(self) -> None:
        super().__init__()
        self.serialized = 0

    def serialize(self, obj: Any) -> bytes:
        self.serialized += 1
        return super().serialize(obj)


class SerializerPlugin:
    @hookimpl
    def register_serializers(self, register: Register) -> None:
        register("hooktest-json", CountingSerializer)


async def test_persistent_store_uses_a_serializer_by_registered_name(
    register_plugin: RegisterPlugin, tmp_path: Path
) -> None:
    pytest.importorskip("apscheduler_sqlalchemy")
    register_plugin(SerializerPlugin(), "test-serializer-plugin")
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    async with AsyncScheduler(data_store={"url": url, "serializer": "hooktest-json"}) as scheduler:
        serializer = scheduler.data_store.serializer  # type: ignore[attr-defined]
        assert isinstance(serializer, CountingSerializer)
        await scheduler.start_in_background()
        assert await scheduler.run_job(add, args=(3, 4)) == 7
    assert serializer.serialized > 0


def test_unknown_serializer_name_lists_the_registered_ones(
    register_plugin: RegisterPlugin,
) -> None:
    from apscheduler import UnknownPluginError

    register_plugin(SerializerPlugin(), "test-serializer-plugin")
    with pytest.raises(UnknownPluginError) as exc_info:
        get_registry().resolve("serializer", "hooktest-jsn")
    assert "hooktest-json" in str(exc_info.value)


# register_triggers


class HookTestTrigger(Trigger):
    """Fires ``count`` times, ``seconds`` apart, from ``start_time`` (default: now)."""

    def __init__(
        self, *, seconds: float = 1, count: int = 3, start_time: datetime | None = None
    ) -> None:
        self.seconds = seconds
        self.remaining = count
        self.next_time = start_time or get_clock().now()

    def next(self) -> datetime | None:
        if self.remaining <= 0:
            return None
        self.remaining -= 1
        value = self.next_time
        self.next_time = value + timedelta(seconds=self.seconds)
        return value

    def __getstate__(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "remaining": self.remaining,
            "next_time": self.next_time.isoformat(),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.seconds = state["seconds"]
        self.remaining = state["remaining"]
        self.next_time = datetime.fromisoformat(state["next_time"])


class TriggerPlugin:
    @hookimpl
    def register_triggers(self, register: Register) -> None:
        register("hooktest-trigger", HookTestTrigger)


async def test_registered_trigger_is_used_by_name(register_plugin: RegisterPlugin) -> None:
    register_plugin(TriggerPlugin(), "test-trigger-plugin")
    released = anyio.Event()

    def on_release(event: Event) -> None:
        assert isinstance(event, JobReleased)
        if event.outcome is JobOutcome.success:
            released.set()

    async with AsyncScheduler() as scheduler:
        scheduler.subscribe(on_release, {JobReleased})
        schedule_id = await scheduler.add_schedule(
            add, "hooktest-trigger", seconds=3600, count=2, args=(1, 2)
        )
        schedule = await scheduler.get_schedule(schedule_id)
        assert isinstance(schedule.trigger, HookTestTrigger)
        assert schedule.trigger.seconds == 3600  # the options reached the constructor
        await scheduler.start_in_background()
        with anyio.fail_after(5):
            await released.wait()


def test_registered_trigger_is_stored_by_its_name(register_plugin: RegisterPlugin) -> None:
    register_plugin(TriggerPlugin(), "test-trigger-plugin")
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    trigger = HookTestTrigger(seconds=60, count=3, start_time=start)
    assert trigger.next() == start
    serializer = JSONSerializer()
    payload = serializer.serialize(trigger)
    assert b'"hooktest-trigger"' in payload
    assert b"HookTestTrigger" not in payload  # the name, never the class path
    restored = serializer.deserialize(payload)
    assert type(restored) is HookTestTrigger
    assert restored.preview(5) == [start + timedelta(seconds=60), start + timedelta(seconds=120)]


# register_data_stores


class HookTestDataStore(MemoryDataStore):
    """A memory store claimed by URL scheme; records the URL it was created from."""

    def __init__(self, url: str | None = None, *, label: str = "") -> None:
        super().__init__()
        self.url = url
        self.label = label

    @classmethod
    def from_url(cls, url: str, **options: Any) -> HookTestDataStore:
        return cls(url, **options)


class DataStorePlugin:
    @hookimpl
    def register_data_stores(self, register: Register) -> None:
        register("hookstore", HookTestDataStore, url_schemes=["hookstore", "hookstore+x"])


async def test_registered_data_store_is_created_from_its_url(
    register_plugin: RegisterPlugin,
) -> None:
    register_plugin(DataStorePlugin(), "test-store-plugin")
    async with AsyncScheduler(data_store="HookStore+X://somewhere/db") as scheduler:
        store = scheduler.data_store
        assert isinstance(store, HookTestDataStore)
        assert store.url == "HookStore+X://somewhere/db"  # schemes match case-insensitively
        await scheduler.start_in_background()
        assert await scheduler.run_job(add, args=(40, 2)) == 42


def test_registered_data_store_is_created_by_name_and_from_a_config_dict(
    register_plugin: RegisterPlugin,
) -> None:
    register_plugin(DataStorePlugin(), "test-store-plugin")
    by_name = AsyncScheduler(data_store="hookstore").data_store
    assert isinstance(by_name, HookTestDataStore) and by_name.url is None
    from_dict = AsyncScheduler(
        data_store={"type": "hookstore", "url": "hookstore://h/db", "label": "jobs"}
    ).data_store
    assert isinstance(from_dict, HookTestDataStore)
    assert (from_dict.url, from_dict.label) == ("hookstore://h/db", "jobs")
