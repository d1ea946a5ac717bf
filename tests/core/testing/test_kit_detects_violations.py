"""The conformance kit fails components that break the contracts it checks.

Each test runs one kit test against a deliberately broken component and expects it to
fail, so a kit test that silently passes everything would be caught here.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone
from logging import getLogger
from typing import Any

import pytest
from apscheduler import Event, ScheduleResult
from apscheduler.abc import Serializer, Trigger
from apscheduler.datastores.memory import MemoryDataStore
from apscheduler.eventbrokers.base import BaseEventBroker
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.testing import DataStoreTests, EventBrokerTests, SerializerTests, TriggerTests
from apscheduler.testing.datastore import started_datastore

pytestmark = pytest.mark.anyio


class NoFencingStore(MemoryDataStore):
    """Applies every release, whoever holds the lease."""

    async def release_schedules(
        self, scheduler_id: str, results: Sequence[ScheduleResult]
    ) -> list[str]:
        for result in results:
            schedule = self._schedules.get(result.schedule_id)
            if schedule is not None:
                schedule.lease_token = result.lease_token
        return await super().release_schedules(scheduler_id, results)


class BusyLoopStore(MemoryDataStore):
    """Reports paused schedules as due (the upstream busy-loop bug)."""

    async def get_next_schedule_run_time(self) -> datetime | None:
        times = [s.next_fire_time for s in self._schedules.values() if s.next_fire_time]
        return min(times, default=None)


class ReadOnceResultsStore(MemoryDataStore):
    """Deletes a result when it is read (the upstream behaviour)."""

    async def get_job_result(self, job_id: Any) -> Any:
        result = await super().get_job_result(job_id)
        self._results.pop(job_id, None)
        return result


@pytest.mark.parametrize(
    ("store_class", "test_name"),
    [
        (NoFencingStore, "test_release_schedules_fenced_after_takeover"),
        (BusyLoopStore, "test_get_next_schedule_run_time"),
        (ReadOnceResultsStore, "test_release_jobs_stores_result"),
    ],
)
async def test_datastore_kit_catches(store_class: type[MemoryDataStore], test_name: str) -> None:
    async with started_datastore(store_class()) as harness:
        with pytest.raises(AssertionError):
            await getattr(DataStoreTests(), test_name)(harness)


async def test_datastore_kit_passes_the_memory_store() -> None:
    """Control for the test above: the same kit tests pass on the real store."""
    for name in (
        "test_release_schedules_fenced_after_takeover",
        "test_get_next_schedule_run_time",
        "test_release_jobs_stores_result",
    ):
        async with started_datastore(MemoryDataStore()) as harness:
            await getattr(DataStoreTests(), name)(harness)


class SharedQueueBroker(BaseEventBroker):
    """Delivers to every listener from one loop, so a slow listener blocks the rest."""

    async def publish(self, event: Event) -> None:
        for subscription in list(self._subscriptions.values()):
            if subscription.matches(event):
                result = subscription.callback(event)
                if hasattr(result, "__await__"):
                    await result

    async def publish_local(self, event: Event) -> None:
        await self.publish(event)


class ImpatientEventBrokerTests(EventBrokerTests):
    delivery_timeout = 0.5


async def test_event_broker_kit_catches_head_of_line_blocking() -> None:
    broker = SharedQueueBroker()
    async with AsyncExitStack() as stack:
        await broker.start(stack, getLogger(__name__))
        kit = ImpatientEventBrokerTests()
        with pytest.raises(TimeoutError):
            await kit.test_slow_async_listener_does_not_delay_others(broker)


async def test_event_broker_kit_passes_local_broker() -> None:
    kit = EventBrokerTests()
    async with AsyncExitStack() as stack:
        broker = LocalEventBroker()
        await broker.start(stack, getLogger(__name__))
        await kit.test_slow_async_listener_does_not_delay_others(broker)


class NaiveTrigger(Trigger):
    """Returns naive datetimes."""

    def __init__(self) -> None:
        self.current = datetime(2030, 1, 1)

    def next(self) -> datetime | None:
        self.current += timedelta(hours=1)
        return self.current

    def __getstate__(self) -> Any:
        return {"current": self.current}

    def __setstate__(self, state: Any) -> None:
        self.current = state["current"]


class RepeatingTrigger(NaiveTrigger):
    """Returns the same aware time twice."""

    def __init__(self) -> None:
        self.current = datetime(2030, 1, 1, tzinfo=timezone.utc)
        self.count = 0

    def next(self) -> datetime | None:
        self.count += 1
        return self.current + timedelta(hours=self.count // 2)

    def __getstate__(self) -> Any:
        return {"current": self.current.isoformat(), "count": self.count}

    def __setstate__(self, state: Any) -> None:
        self.current = datetime.fromisoformat(state["current"])
        self.count = state["count"]


@pytest.mark.parametrize(
    ("trigger_class", "test_name"),
    [
        (NaiveTrigger, "test_fire_times_aware_and_strictly_increasing"),
        (NaiveTrigger, "test_state_is_json_compatible"),
        (RepeatingTrigger, "test_fire_times_aware_and_strictly_increasing"),
    ],
)
def test_trigger_kit_catches(trigger_class: type[Trigger], test_name: str) -> None:
    with pytest.raises((AssertionError, TypeError)):
        getattr(TriggerTests(), test_name)(trigger_class())


class LeakyErrorsSerializer(Serializer):
    """Lets the underlying errors escape instead of SerializationError and
    DeserializationError."""

    name = "leaky"

    def serialize(self, obj: Any) -> bytes:
        import pickle

        return pickle.dumps(obj)

    def deserialize(self, serialized: bytes) -> Any:
        import pickle

        return pickle.loads(serialized)


@pytest.mark.parametrize("test_name", ["test_unserializable_value", "test_garbage_payloads"])
def test_serializer_kit_catches(test_name: str) -> None:
    with pytest.raises(Exception) as exc_info:
        getattr(SerializerTests(), test_name)(LeakyErrorsSerializer())
    assert "SerializationError" not in type(exc_info.value).__name__
