"""Conformance tests for :class:`apscheduler.abc.DataStore` implementations.

Subclass :class:`DataStoreTests` and provide a ``datastore`` fixture that returns a new,
**not started** store on an **empty** backend. The kit starts it with a
:class:`RecordingEventBroker` (a ``LocalEventBroker`` that records what is published)
under a :class:`~apscheduler._clock.FakeClock`, so every lease, due time and expiry is
driven by moving the clock, never by sleeping. A store must therefore take "now" from
``apscheduler._clock.get_clock()``, not from the database server.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from logging import getLogger
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import anyio
import attrs
import pytest

from .._clock import FakeClock, use_clock
from .._enums import ConflictPolicy, JobOutcome
from .._events import (
    Event,
    JobAcquired,
    JobAdded,
    JobDeserializationFailed,
    JobReleased,
    JobRemoved,
    LeaseLost,
    ScheduleAdded,
    ScheduleDeserializationFailed,
    ScheduleRemoved,
    ScheduleUpdated,
    TaskAdded,
    TaskRemoved,
    TaskUpdated,
)
from .._exceptions import ConflictingIdError, SerializationError, TaskLookupError
from .._structures import Job, JobResult, Schedule, ScheduleResult, Task
from ..abc import DataStore
from ..eventbrokers.local import LocalEventBroker
from ._fixtures import optional_fixture
from ._kit_trigger import FixedTimesTrigger, ensure_kit_trigger_registered

E = TypeVar("E", bound=Event)

#: The lease duration used by the tests.
LEASE = timedelta(seconds=30)
_LOGGER = getLogger("apscheduler.testing")


class RecordingEventBroker(LocalEventBroker):
    """A local broker that also appends every published event to :attr:`events`, at the
    moment it is published (so tests need not wait for delivery)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)
        await super().publish(event)

    async def publish_local(self, event: Event) -> None:
        self.events.append(event)
        await super().publish_local(event)


@attrs.define(eq=False)
class DataStoreHarness:
    """A started store, the broker recording its events and the fake clock in force."""

    store: DataStore
    broker: RecordingEventBroker
    clock: FakeClock

    def events(self, *types: type[E]) -> list[E]:
        """The recorded events of the given classes (all events if none given)."""
        events = self.broker.events
        if not types:
            return list(events)  # type: ignore[arg-type]
        return [event for event in events if isinstance(event, types)]

    def clear_events(self) -> None:
        self.broker.events.clear()

    def now(self) -> datetime:
        return self.clock.now()


@asynccontextmanager
async def started_datastore(
    store: DataStore, clock: FakeClock | None = None
) -> AsyncIterator[DataStoreHarness]:
    """Start ``store`` with a :class:`RecordingEventBroker` while ``clock`` (a new
    :class:`FakeClock` by default) is installed; stop both on exit.

    This is what the ``datastore_harness`` fixture uses; it is public so that store
    authors can write extra tests in the same setting.
    """
    ensure_kit_trigger_registered()
    clock = clock or FakeClock()
    with use_clock(clock):
        async with AsyncExitStack() as stack:
            broker = RecordingEventBroker()
            await broker.start(stack, _LOGGER)
            await store.start(stack, broker, _LOGGER)
            yield DataStoreHarness(store, broker, clock)


#
# Builders (public so that implementers can use them in their own store tests)
#


def make_task(task_id: str = "task", **kwargs: Any) -> Task:
    """A task with a function reference and the ``async`` executor."""
    kwargs.setdefault("func", "apscheduler.testing.datastore:make_task")
    kwargs.setdefault("job_executor", "async")
    return Task(id=task_id, **kwargs)


def make_schedule(
    schedule_id: str,
    first_fire_time: datetime,
    *,
    task_id: str = "task",
    fire_times: int = 3,
    interval: timedelta = timedelta(hours=1),
    **kwargs: Any,
) -> Schedule:
    """A schedule driven by a :class:`FixedTimesTrigger` firing ``fire_times`` times from
    ``first_fire_time``, as the scheduler adds it (the trigger already advanced once)."""
    trigger = FixedTimesTrigger(*(first_fire_time + interval * i for i in range(fire_times)))
    kwargs.setdefault("job_executor", "async")
    return Schedule(
        id=schedule_id,
        task_id=task_id,
        trigger=trigger,
        next_fire_time=trigger.next(),
        **kwargs,
    )


def make_job(task_id: str = "task", **kwargs: Any) -> Job:
    kwargs.setdefault("executor", "async")
    return Job(task_id=task_id, **kwargs)


def fire(schedule: Schedule, *jobs: Job) -> ScheduleResult:
    """What a scheduler releases after processing the due fire time of ``schedule``:
    the trigger advanced once, and ``jobs``."""
    next_fire_time = schedule.trigger.next()
    return ScheduleResult(
        schedule_id=schedule.id,
        task_id=schedule.task_id,
        trigger=schedule.trigger,
        last_fire_time=schedule.next_fire_time,
        next_fire_time=next_fire_time,
        lease_token=schedule.lease_token,
        jobs=jobs,
    )


def _ids(items: Iterable[Any]) -> list[Any]:
    return [item.id for item in items]


class DataStoreTests:
    """Conformance tests of a data store. See the module docstring and
    ``docs/plugins/conformance-kit.md``.

    Fixtures to provide (in the subclass, the module or a ``conftest.py``):

    * ``datastore`` (required): a new, not started store on an empty backend; may be a
      sync or async (generator) fixture.
    * ``second_datastore`` (optional, required with ``supports_concurrent_stores =
      True``): another not started instance on the **same** backend as ``datastore``.

    Flags and hooks (class attributes / methods the subclass may override):

    * ``supports_concurrent_stores``: the backend can be shared by several store
      instances (processes); enables the tests that race two instances.
    * ``serializes_data``: the store serializes arguments and triggers; enables the tests
      that unserializable arguments fail when added and corrupt rows are isolated.
    * ``corrupt_schedule(store, schedule_id)`` / ``corrupt_job(store, job_id)``: async
      hooks that damage a stored row so it can no longer be deserialized; unimplemented
      hooks skip their tests.
    """

    supports_concurrent_stores: ClassVar[bool] = False
    serializes_data: ClassVar[bool] = False

    pytestmark = pytest.mark.anyio

    # Fixtures and hooks

    async def corrupt_schedule(self, store: DataStore, schedule_id: str) -> None:
        """Damage the stored schedule so that it fails to deserialize."""
        raise NotImplementedError

    async def corrupt_job(self, store: DataStore, job_id: UUID) -> None:
        """Damage the stored job so that it fails to deserialize."""
        raise NotImplementedError

    @pytest.fixture
    async def datastore_harness(
        self, datastore: DataStore, anyio_backend: Any
    ) -> AsyncIterator[DataStoreHarness]:
        async with started_datastore(datastore) as harness:
            yield harness

    @pytest.fixture
    def _kit_second_datastore(self, request: pytest.FixtureRequest) -> DataStore | None:
        return optional_fixture(request, "second_datastore")

    @pytest.fixture
    async def second_datastore_harness(
        self,
        datastore_harness: DataStoreHarness,
        _kit_second_datastore: DataStore | None,
    ) -> AsyncIterator[DataStoreHarness | None]:
        second_datastore = _kit_second_datastore
        if second_datastore is None:
            if self.supports_concurrent_stores:
                pytest.fail(
                    f"{type(self).__name__} sets supports_concurrent_stores but has no "
                    f"`second_datastore` fixture"
                )
            yield None
            return
        async with AsyncExitStack() as stack:
            broker = RecordingEventBroker()
            await broker.start(stack, _LOGGER)
            await second_datastore.start(stack, broker, _LOGGER)
            yield DataStoreHarness(second_datastore, broker, datastore_harness.clock)

    async def _corrupt(self, kind: str, store: DataStore, item_id: Any) -> None:
        if not self.serializes_data:
            pytest.skip("the store does not serialize data (serializes_data = False)")
        hook = self.corrupt_schedule if kind == "schedule" else self.corrupt_job
        try:
            await hook(store, item_id)
        except NotImplementedError:
            pytest.skip(f"corrupt_{kind}() is not implemented by {type(self).__name__}")

    #
    # Tasks
    #

    async def test_add_and_get_task(self, datastore_harness: DataStoreHarness) -> None:
        store = datastore_harness.store
        task = make_task(
            "t1",
            max_running_jobs=3,
            misfire_grace_time=timedelta(seconds=5),
            metadata={"team": "ops", "n": [1, 2]},
        )
        await store.add_task(task)
        stored = await store.get_task("t1")
        assert stored.id == "t1"
        assert stored.func == task.func
        assert stored.job_executor == "async"
        assert stored.max_running_jobs == 3
        assert stored.misfire_grace_time == timedelta(seconds=5)
        assert stored.metadata == {"team": "ops", "n": [1, 2]}
        assert stored.running_jobs == 0
        assert [event.task_id for event in datastore_harness.events(TaskAdded)] == ["t1"]

    async def test_update_task_keeps_running_jobs(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store = datastore_harness.store
        await store.add_task(make_task("t1", max_running_jobs=5))
        await store.add_jobs([make_job("t1")])
        assert len(await store.acquire_jobs("A", LEASE)) == 1
        datastore_harness.clear_events()

        await store.add_task(make_task("t1", func="pkg.mod:other", max_running_jobs=2))
        stored = await store.get_task("t1")
        assert stored.func == "pkg.mod:other"
        assert stored.max_running_jobs == 2
        assert stored.running_jobs == 1, "add_task must not touch running_jobs"
        assert [event.task_id for event in datastore_harness.events(TaskUpdated)] == ["t1"]
        assert not datastore_harness.events(TaskAdded)

    async def test_get_missing_task(self, datastore_harness: DataStoreHarness) -> None:
        with pytest.raises(TaskLookupError):
            await datastore_harness.store.get_task("nope")

    async def test_remove_task(self, datastore_harness: DataStoreHarness) -> None:
        store = datastore_harness.store
        await store.add_task(make_task("t1"))
        await store.remove_task("t1")
        with pytest.raises(TaskLookupError):
            await store.get_task("t1")
        assert [event.task_id for event in datastore_harness.events(TaskRemoved)] == ["t1"]
        with pytest.raises(TaskLookupError):
            await store.remove_task("t1")

    async def test_get_tasks_sorted_by_id(self, datastore_harness: DataStoreHarness) -> None:
        store = datastore_harness.store
        for task_id in ("b", "c", "a"):
            await store.add_task(make_task(task_id))
        assert _ids(await store.get_tasks()) == ["a", "b", "c"]

    #
    # Schedules
    #

    async def test_add_and_get_schedule(self, datastore_harness: DataStoreHarness) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        schedule = make_schedule(
            "s1",
            now + timedelta(minutes=5),
            args=(1, "two"),
            kwargs={"x": [3]},
            name="my schedule",
            misfire_grace_time=timedelta(seconds=7),
            max_jitter=timedelta(seconds=2),
            job_result_expiration_time=timedelta(minutes=1),
            metadata={"owner": "me"},
        )
        await store.add_schedule(schedule, ConflictPolicy.exception)

        [stored] = await store.get_schedules()
        assert stored.id == "s1"
        assert stored.task_id == "task"
        assert isinstance(stored.trigger, FixedTimesTrigger)
        assert stored.trigger.__getstate__() == schedule.trigger.__getstate__()
        assert stored.args == (1, "two")
        assert stored.kwargs == {"x": [3]}
        assert stored.name == "my schedule"
        assert stored.paused is False
        assert stored.misfire_grace_time == timedelta(seconds=7)
        assert stored.max_jitter == timedelta(seconds=2)
        assert stored.job_result_expiration_time == timedelta(minutes=1)
        assert stored.metadata == {"owner": "me"}
        assert stored.next_fire_time == now + timedelta(minutes=5)
        assert stored.last_fire_time is None
        assert stored.acquired_by is None
        assert stored.lease_token is None
        [event] = datastore_harness.events(ScheduleAdded)
        assert (event.schedule_id, event.task_id) == ("s1", "task")
        assert event.next_fire_time == now + timedelta(minutes=5)

    async def test_add_schedule_conflict_exception(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now, name="first"), ConflictPolicy.exception)
        with pytest.raises(ConflictingIdError):
            await store.add_schedule(
                make_schedule("s1", now, name="second"), ConflictPolicy.exception
            )
        [stored] = await store.get_schedules()
        assert stored.name == "first"
        assert len(datastore_harness.events(ScheduleAdded, ScheduleUpdated)) == 1

    async def test_add_schedule_conflict_do_nothing(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now, name="first"), ConflictPolicy.exception)
        await store.add_schedule(
            make_schedule("s1", now, name="second"), ConflictPolicy.do_nothing
        )
        [stored] = await store.get_schedules()
        assert stored.name == "first"
        assert len(datastore_harness.events(ScheduleAdded, ScheduleUpdated)) == 1

    async def test_add_schedule_conflict_replace(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now, name="first"), ConflictPolicy.exception)
        replacement = make_schedule("s1", now + timedelta(hours=2), name="second")
        await store.add_schedule(replacement, ConflictPolicy.replace)
        [stored] = await store.get_schedules()
        assert stored.name == "second"
        assert stored.next_fire_time == now + timedelta(hours=2)
        [event] = datastore_harness.events(ScheduleUpdated)
        assert event.schedule_id == "s1"
        assert event.next_fire_time == now + timedelta(hours=2)

    async def test_get_schedules_by_ids_sorted(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        for schedule_id in ("c", "a", "b"):
            await store.add_schedule(make_schedule(schedule_id, now), ConflictPolicy.exception)
        assert _ids(await store.get_schedules()) == ["a", "b", "c"]
        assert _ids(await store.get_schedules({"c", "a", "missing"})) == ["a", "c"]
        assert await store.get_schedules(set()) == []

    async def test_returned_schedules_do_not_share_state(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        """Changing a schedule object the store returned, or advancing its trigger, changes
        nothing in the store until it is written back."""
        store, now = datastore_harness.store, datastore_harness.now()
        schedule = make_schedule("s1", now)
        await store.add_schedule(schedule, ConflictPolicy.exception)
        schedule.trigger.next()  # the caller keeps using its own object
        [listed] = await store.get_schedules()
        listed.paused = True
        listed.trigger.next()
        [again] = await store.get_schedules()
        assert again.paused is False
        assert again.trigger.next() == now + timedelta(hours=1)

    async def test_remove_schedules(self, datastore_harness: DataStoreHarness) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        for schedule_id in ("s1", "s2", "s3"):
            await store.add_schedule(make_schedule(schedule_id, now), ConflictPolicy.exception)
        await store.remove_schedules(["s1", "s3", "missing"])
        assert _ids(await store.get_schedules()) == ["s2"]
        events = datastore_harness.events(ScheduleRemoved)
        assert sorted(event.schedule_id for event in events) == ["s1", "s3"]
        assert all(event.finished is False and event.task_id == "task" for event in events)
        assert await store.acquire_schedules("A", LEASE, 10) != []

    async def test_acquire_schedules_only_due(self, datastore_harness: DataStoreHarness) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("due", now), ConflictPolicy.exception)
        await store.add_schedule(
            make_schedule("later", now + timedelta(seconds=1)), ConflictPolicy.exception
        )
        [schedule] = await store.acquire_schedules("A", LEASE, 10)
        assert schedule.id == "due"
        assert schedule.acquired_by == "A"
        assert schedule.acquired_until == now + LEASE
        assert isinstance(schedule.lease_token, str) and schedule.lease_token
        assert schedule.trigger.__getstate__()["index"] == 1

    async def test_acquire_schedules_skips_paused(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(
            make_schedule("paused", now - timedelta(hours=1), paused=True),
            ConflictPolicy.exception,
        )
        await store.add_schedule(make_schedule("active", now), ConflictPolicy.exception)
        assert _ids(await store.acquire_schedules("A", LEASE, 10)) == ["active"]

    async def test_acquire_schedules_limit_and_order(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        offsets = {"e": 1, "b": 5, "d": 3, "a": 4, "c": 2}
        for schedule_id, minutes in offsets.items():
            schedule = make_schedule(schedule_id, now - timedelta(minutes=minutes))
            await store.add_schedule(schedule, ConflictPolicy.exception)
        first = await store.acquire_schedules("A", LEASE, 3)
        assert _ids(first) == ["b", "a", "d"]
        assert len({schedule.lease_token for schedule in first}) == 1
        second = await store.acquire_schedules("B", LEASE, 3)
        assert _ids(second) == ["c", "e"]
        assert second[0].lease_token != first[0].lease_token

    async def test_acquire_schedules_same_time_ordered_by_id(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        for schedule_id in ("b", "c", "a"):
            await store.add_schedule(make_schedule(schedule_id, now), ConflictPolicy.exception)
        assert _ids(await store.acquire_schedules("A", LEASE, 10)) == ["a", "b", "c"]

    async def test_acquire_schedules_skips_leased_by_others(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
        assert _ids(await store.acquire_schedules("A", LEASE, 10)) == ["s1"]
        datastore_harness.clock.advance(LEASE - timedelta(seconds=1))
        assert await store.acquire_schedules("B", LEASE, 10) == []

    async def test_acquire_schedules_after_lease_expired(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
        [first] = await store.acquire_schedules("A", LEASE, 10)
        datastore_harness.clock.advance(LEASE + timedelta(seconds=1))
        [second] = await store.acquire_schedules("B", LEASE, 10)
        assert second.acquired_by == "B"
        assert second.lease_token != first.lease_token
        assert second.acquired_until == datastore_harness.now() + LEASE

    async def test_acquire_schedules_own_lease(self, datastore_harness: DataStoreHarness) -> None:
        """A scheduler may re-acquire schedules it holds (a restart with the same identity);
        the new lease fences off the old one."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
        [old] = await store.acquire_schedules("A", LEASE, 10)
        [new] = await store.acquire_schedules("A", LEASE, 10)
        assert new.lease_token != old.lease_token
        assert await store.release_schedules("A", [fire(old)]) == ["s1"]
        assert await store.release_schedules("A", [fire(new)]) == []

    async def test_release_schedules_persists_progress(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
        [schedule] = await store.acquire_schedules("A", LEASE, 10)
        datastore_harness.clear_events()
        assert await store.release_schedules("A", [fire(schedule)]) == []

        [stored] = await store.get_schedules()
        assert stored.last_fire_time == now
        assert stored.next_fire_time == now + timedelta(hours=1)
        assert stored.trigger.__getstate__()["index"] == 2
        assert (stored.acquired_by, stored.acquired_until, stored.lease_token) == (
            None,
            None,
            None,
        )
        [event] = datastore_harness.events(ScheduleUpdated)
        assert event.schedule_id == "s1"
        assert event.next_fire_time == now + timedelta(hours=1)
        assert not datastore_harness.events(LeaseLost)
        # Released and not due yet: nobody can acquire it
        assert await store.acquire_schedules("B", LEASE, 10) == []
        datastore_harness.clock.advance(timedelta(hours=1))
        assert _ids(await store.acquire_schedules("B", LEASE, 10)) == ["s1"]

    async def test_release_schedules_inserts_jobs(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
        [schedule] = await store.acquire_schedules("A", LEASE, 10)
        jobs = [
            make_job(schedule_id="s1", scheduled_fire_time=now, args=(i,),
                     created_at=now + timedelta(milliseconds=i))
            for i in range(2)
        ]
        datastore_harness.clear_events()
        assert await store.release_schedules("A", [fire(schedule, *jobs)]) == []
        assert _ids(await store.get_jobs()) == _ids(jobs)
        added = datastore_harness.events(JobAdded)
        assert [event.job_id for event in added] == _ids(jobs)
        assert all(event.schedule_id == "s1" and event.task_id == "task" for event in added)

    async def test_release_schedules_fenced_after_takeover(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        """A scheduler whose lease expired and was taken over cannot release: nothing is
        applied, no job is inserted, and ``LeaseLost`` reports it."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
        [held_by_a] = await store.acquire_schedules("A", LEASE, 10)
        datastore_harness.clock.advance(LEASE + timedelta(seconds=1))
        [held_by_b] = await store.acquire_schedules("B", LEASE, 10)
        datastore_harness.clear_events()

        job = make_job(schedule_id="s1", scheduled_fire_time=now)
        assert await store.release_schedules("A", [fire(held_by_a, job)]) == ["s1"]
        assert await store.get_jobs() == []
        [stored] = await store.get_schedules()
        assert stored.acquired_by == "B"
        assert stored.lease_token == held_by_b.lease_token
        assert stored.next_fire_time == now
        assert stored.last_fire_time is None
        [lost] = datastore_harness.events(LeaseLost)
        assert lost.scheduler_id == "A"
        assert lost.schedule_ids == ("s1",)
        assert not datastore_harness.events(ScheduleUpdated, JobAdded)

        job_b = make_job(schedule_id="s1", scheduled_fire_time=now)
        assert await store.release_schedules("B", [fire(held_by_b, job_b)]) == []
        assert _ids(await store.get_jobs()) == [job_b.id]

    async def test_release_schedules_partial_refusal(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        """In one batch, results with a valid lease are applied and the others refused."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
        await store.add_schedule(make_schedule("s2", now), ConflictPolicy.exception)
        s1, s2 = await store.acquire_schedules("A", LEASE, 10)
        await store.remove_schedules(["s2"])
        assert await store.release_schedules("A", [fire(s1), fire(s2)]) == ["s2"]
        [stored] = await store.get_schedules()
        assert stored.next_fire_time == now + timedelta(hours=1)

    async def test_release_schedules_after_own_lease_expired(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        """An expired lease nobody took over still carries the holder's token: the late
        release is accepted (fencing is by token, not by time)."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
        [schedule] = await store.acquire_schedules("A", LEASE, 10)
        datastore_harness.clock.advance(LEASE * 2)
        assert await store.release_schedules("A", [fire(schedule)]) == []
        [stored] = await store.get_schedules()
        assert stored.next_fire_time == now + timedelta(hours=1)
        assert stored.acquired_by is None

    async def test_unreleased_trigger_progress_is_not_persisted(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        """A holder that advanced the trigger of an acquired schedule and then died leaves
        the stored trigger untouched for the next holder."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
        [schedule] = await store.acquire_schedules("A", LEASE, 10)
        schedule.trigger.next()
        schedule.trigger.next()
        datastore_harness.clock.advance(LEASE + timedelta(seconds=1))
        [taken_over] = await store.acquire_schedules("B", LEASE, 10)
        assert taken_over.next_fire_time == now
        assert taken_over.trigger.next() == now + timedelta(hours=1)

    async def test_exhausted_schedule_stays_until_cleanup(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("s1", now, fire_times=1), ConflictPolicy.exception)
        [schedule] = await store.acquire_schedules("A", LEASE, 10)
        result = fire(schedule)
        assert result.next_fire_time is None
        assert await store.release_schedules("A", [result]) == []
        [stored] = await store.get_schedules()
        assert stored.next_fire_time is None
        assert stored.last_fire_time == now
        assert await store.get_next_schedule_run_time() is None
        datastore_harness.clock.advance(timedelta(days=365))
        assert await store.acquire_schedules("A", LEASE, 10) == []

    async def test_get_next_schedule_run_time(self, datastore_harness: DataStoreHarness) -> None:
        """Paused and leased schedules are ignored (else a scheduler would spin on them);
        a schedule whose lease expired counts again."""
        store, now = datastore_harness.store, datastore_harness.now()
        assert await store.get_next_schedule_run_time() is None
        await store.add_schedule(
            make_schedule("paused", now - timedelta(hours=2), paused=True),
            ConflictPolicy.exception,
        )
        assert await store.get_next_schedule_run_time() is None
        await store.add_schedule(
            make_schedule("leased", now - timedelta(hours=1)), ConflictPolicy.exception
        )
        await store.add_schedule(
            make_schedule("later", now + timedelta(minutes=10)), ConflictPolicy.exception
        )
        assert await store.get_next_schedule_run_time() == now - timedelta(hours=1)
        assert _ids(await store.acquire_schedules("A", LEASE, 1)) == ["leased"]
        assert await store.get_next_schedule_run_time() == now + timedelta(minutes=10)
        datastore_harness.clock.advance(LEASE + timedelta(seconds=1))
        assert await store.get_next_schedule_run_time() == now - timedelta(hours=1)

    async def test_extend_schedule_leases(self, datastore_harness: DataStoreHarness) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        clock = datastore_harness.clock
        await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
        await store.add_schedule(make_schedule("s2", now), ConflictPolicy.exception)
        s1, s2 = await store.acquire_schedules("A", LEASE, 10)
        clock.advance(LEASE - timedelta(seconds=5))
        await store.extend_acquired_schedule_leases("A", {"s1"}, LEASE)
        await store.extend_acquired_schedule_leases("B", {"s2"}, LEASE)  # not B's: no effect
        clock.advance(timedelta(seconds=10))
        assert _ids(await store.acquire_schedules("B", LEASE, 10)) == ["s2"]
        [stored] = await store.get_schedules({"s1"})
        assert stored.acquired_by == "A"
        assert stored.acquired_until == now + LEASE - timedelta(seconds=5) + LEASE
        assert await store.release_schedules("A", [fire(s1)]) == []

    #
    # Jobs
    #

    async def test_add_and_get_jobs(self, datastore_harness: DataStoreHarness) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        job = make_job(
            args=(1, "a"),
            kwargs={"k": {"nested": True}},
            schedule_id="sched",
            scheduled_fire_time=now,
            jitter=timedelta(seconds=2),
            start_deadline=now + timedelta(minutes=1),
            result_expiration_time=timedelta(minutes=5),
            metadata={"m": 1},
        )
        await store.add_job(job)
        [stored] = await store.get_jobs()
        assert stored.id == job.id
        assert stored.task_id == "task"
        assert stored.args == (1, "a")
        assert stored.kwargs == {"k": {"nested": True}}
        assert stored.schedule_id == "sched"
        assert stored.scheduled_fire_time == now
        assert stored.executor == "async"
        assert stored.jitter == timedelta(seconds=2)
        assert stored.start_deadline == now + timedelta(minutes=1)
        assert stored.result_expiration_time == timedelta(minutes=5)
        assert stored.metadata == {"m": 1}
        assert stored.created_at == job.created_at
        assert stored.acquired_by is None
        [event] = datastore_harness.events(JobAdded)
        assert (event.job_id, event.task_id, event.schedule_id) == (job.id, "task", "sched")

    async def test_get_jobs_fifo(self, datastore_harness: DataStoreHarness) -> None:
        """Jobs are listed (and handed out) by ``created_at``, whatever the insertion
        order; ``ids`` restricts the listing."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        jobs = [make_job(created_at=now + timedelta(milliseconds=i * 10)) for i in range(4)]
        await store.add_jobs([jobs[1], jobs[2]])
        await store.add_jobs([jobs[3], jobs[0]])
        assert _ids(await store.get_jobs()) == _ids(jobs)
        assert _ids(await store.get_jobs([jobs[3].id, jobs[0].id])) == [jobs[0].id, jobs[3].id]
        assert [event.job_id for event in datastore_harness.events(JobAdded)] == _ids(
            [jobs[1], jobs[2], jobs[3], jobs[0]]
        )
        acquired = await store.acquire_jobs("A", LEASE)
        assert _ids(acquired) == _ids(jobs)
        assert _ids(await store.get_jobs()) == _ids(jobs), "running jobs are listed too"

    async def test_remove_jobs_only_not_acquired(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        running, queued = (
            make_job(created_at=now + timedelta(milliseconds=i)) for i in range(2)
        )
        await store.add_jobs([running, queued])
        assert _ids(await store.acquire_jobs("A", LEASE, 1)) == [running.id]
        removed = await store.remove_jobs([running.id, queued.id, make_job().id])
        assert removed == [queued.id]
        assert _ids(await store.get_jobs()) == [running.id]
        [event] = datastore_harness.events(JobRemoved)
        assert (event.job_id, event.task_id) == (queued.id, "task")
        assert await store.acquire_jobs("A", LEASE) == []

    async def test_acquire_jobs_fifo_and_limit(self, datastore_harness: DataStoreHarness) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        jobs = [
            make_job(schedule_id="s", scheduled_fire_time=now,
                     created_at=now + timedelta(milliseconds=i))
            for i in range(5)
        ]
        await store.add_jobs(jobs)
        datastore_harness.clear_events()
        first = await store.acquire_jobs("A", LEASE, 2)
        assert _ids(first) == _ids(jobs[:2])
        for job in first:
            assert job.acquired_by == "A"
            assert job.acquired_until == now + LEASE
        assert first[0].lease_token and first[0].lease_token == first[1].lease_token
        acquired_events = datastore_harness.events(JobAcquired)
        assert [event.job_id for event in acquired_events] == _ids(jobs[:2])
        assert all(
            (event.scheduler_id, event.task_id, event.schedule_id, event.scheduled_start)
            == ("A", "task", "s", now)
            for event in acquired_events
        )
        second = await store.acquire_jobs("B", LEASE)
        assert _ids(second) == _ids(jobs[2:])
        assert second[0].lease_token != first[0].lease_token
        assert await store.acquire_jobs("A", LEASE) == []
        assert (await store.get_task("task")).running_jobs == 5

    async def test_acquire_jobs_max_running_jobs(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        """A task at its ``max_running_jobs`` keeps its jobs queued without holding back
        the jobs of other tasks; releasing a job frees its slot."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task("limited", max_running_jobs=1))
        await store.add_task(make_task("free"))
        a1, a2, b1 = (
            make_job(task_id, created_at=now + timedelta(milliseconds=i))
            for i, task_id in enumerate(("limited", "limited", "free"))
        )
        await store.add_jobs([a1, a2, b1])
        acquired = await store.acquire_jobs("A", LEASE)
        assert _ids(acquired) == [a1.id, b1.id]
        assert (await store.get_task("limited")).running_jobs == 1
        assert await store.acquire_jobs("A", LEASE) == []

        result = JobResult.from_job(acquired[0], JobOutcome.success)
        assert await store.release_jobs("A", [(acquired[0], result)]) == []
        assert (await store.get_task("limited")).running_jobs == 0
        assert _ids(await store.acquire_jobs("A", LEASE)) == [a2.id]
        assert (await store.get_task("limited")).running_jobs == 1

    async def test_acquire_jobs_missed_start_deadline(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        """A job past its start deadline is released at once as ``missed_start_deadline``
        (result kept if it should be), without taking a task slot."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task(max_running_jobs=1))
        late = make_job(
            start_deadline=now + timedelta(seconds=5),
            schedule_id="s",
            scheduled_fire_time=now,
            result_expiration_time=timedelta(minutes=1),
        )
        on_time = make_job(created_at=now + timedelta(milliseconds=1))
        await store.add_jobs([late, on_time])
        datastore_harness.clock.advance(timedelta(seconds=10))
        datastore_harness.clear_events()

        assert _ids(await store.acquire_jobs("A", LEASE)) == [on_time.id]
        [released] = datastore_harness.events(JobReleased)
        assert released.job_id == late.id
        assert released.outcome is JobOutcome.missed_start_deadline
        assert (released.task_id, released.schedule_id) == ("task", "s")
        assert released.scheduled_start == now
        result = await store.get_job_result(late.id)
        assert result is not None
        assert result.outcome is JobOutcome.missed_start_deadline
        assert _ids(await store.get_jobs()) == [on_time.id]
        assert (await store.get_task("task")).running_jobs == 1

    async def test_missed_start_deadline_while_task_is_full(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        """A queued job whose task has no free slot is still released once its start
        deadline passes (it does not wait for the slot)."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task(max_running_jobs=1))
        running = make_job()
        waiting = make_job(
            start_deadline=now + timedelta(seconds=5), created_at=now + timedelta(seconds=1)
        )
        await store.add_jobs([running, waiting])
        assert _ids(await store.acquire_jobs("A", LEASE)) == [running.id]
        datastore_harness.clock.advance(timedelta(seconds=10))
        datastore_harness.clear_events()
        assert await store.acquire_jobs("A", LEASE) == []
        [released] = datastore_harness.events(JobReleased)
        assert released.job_id == waiting.id
        assert released.outcome is JobOutcome.missed_start_deadline
        assert _ids(await store.get_jobs()) == [running.id]

    async def test_acquire_jobs_abandons_expired_leases(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        """A job whose lease expired is released as ``abandoned`` (never run twice) and its
        task slot is given back."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task(max_running_jobs=1))
        first = make_job(result_expiration_time=timedelta(minutes=1))
        second = make_job(created_at=now + timedelta(milliseconds=1))
        await store.add_jobs([first, second])
        assert _ids(await store.acquire_jobs("A", LEASE)) == [first.id]
        datastore_harness.clock.advance(LEASE + timedelta(seconds=1))
        datastore_harness.clear_events()

        assert _ids(await store.acquire_jobs("B", LEASE)) == [second.id]
        [released] = datastore_harness.events(JobReleased)
        assert released.job_id == first.id
        assert released.outcome is JobOutcome.abandoned
        result = await store.get_job_result(first.id)
        assert result is not None and result.outcome is JobOutcome.abandoned
        assert (await store.get_task("task")).running_jobs == 1
        assert _ids(await store.get_jobs()) == [second.id]

    async def test_release_jobs_stores_result(self, datastore_harness: DataStoreHarness) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        job = make_job(
            schedule_id="s", scheduled_fire_time=now, result_expiration_time=timedelta(hours=1)
        )
        await store.add_jobs([job])
        [acquired] = await store.acquire_jobs("A", LEASE)
        datastore_harness.clock.advance(timedelta(seconds=3))
        datastore_harness.clear_events()
        result = JobResult.from_job(
            acquired, JobOutcome.success, started_at=now, return_value={"answer": 42}
        )
        assert await store.release_jobs("A", [(acquired, result)]) == []

        assert await store.get_jobs() == []
        assert (await store.get_task("task")).running_jobs == 0
        for _ in range(2):  # readable more than once
            stored = await store.get_job_result(job.id)
            assert stored is not None
            assert stored.job_id == job.id
            assert stored.outcome is JobOutcome.success
            assert stored.return_value == {"answer": 42}
            assert stored.started_at == now
            assert stored.finished_at == now + timedelta(seconds=3)
            assert stored.expires_at == now + timedelta(hours=1, seconds=3)
        [event] = datastore_harness.events(JobReleased)
        assert (event.job_id, event.scheduler_id, event.task_id) == (job.id, "A", "task")
        assert (event.schedule_id, event.scheduled_start) == ("s", now)
        assert event.outcome is JobOutcome.success
        assert event.started_at == now

    async def test_release_jobs_error_result(self, datastore_harness: DataStoreHarness) -> None:
        store = datastore_harness.store
        await store.add_task(make_task())
        await store.add_jobs([make_job(result_expiration_time=timedelta(minutes=1))])
        [job] = await store.acquire_jobs("A", LEASE)
        result = JobResult.from_job(
            job,
            JobOutcome.error,
            exception=ValueError("boom"),
            traceback=["Traceback (most recent call last):", "ValueError: boom"],
        )
        assert await store.release_jobs("A", [(job, result)]) == []
        stored = await store.get_job_result(job.id)
        assert stored is not None
        assert stored.outcome is JobOutcome.error
        assert isinstance(stored.exception, BaseException)
        assert str(stored.exception) == "boom"
        assert stored.traceback == ["Traceback (most recent call last):", "ValueError: boom"]
        [event] = datastore_harness.events(JobReleased)
        assert event.exception_message == "boom"
        assert event.exception_type is not None and event.exception_type.endswith("ValueError")

    async def test_release_jobs_without_keeping_result(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store = datastore_harness.store
        await store.add_task(make_task())
        await store.add_jobs([make_job()])  # result_expiration_time=0: not kept
        [job] = await store.acquire_jobs("A", LEASE)
        result = JobResult.from_job(job, JobOutcome.success, return_value=1)
        assert await store.release_jobs("A", [(job, result)]) == []
        assert await store.get_job_result(job.id) is None
        assert len(datastore_harness.events(JobReleased)) == 1
        assert await store.get_jobs() == []

    async def test_release_jobs_batch(self, datastore_harness: DataStoreHarness) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task(max_running_jobs=10))
        jobs = [
            make_job(created_at=now + timedelta(milliseconds=i),
                     result_expiration_time=timedelta(minutes=1))
            for i in range(5)
        ]
        await store.add_jobs(jobs)
        acquired = await store.acquire_jobs("A", LEASE)
        releases = [
            (job, JobResult.from_job(job, JobOutcome.success, return_value=i))
            for i, job in enumerate(acquired)
        ]
        assert await store.release_jobs("A", releases) == []
        assert await store.get_jobs() == []
        assert (await store.get_task("task")).running_jobs == 0
        for i, job in enumerate(jobs):
            result = await store.get_job_result(job.id)
            assert result is not None and result.return_value == i
        assert sorted(event.job_id for event in datastore_harness.events(JobReleased)) == sorted(
            _ids(jobs)
        )

    async def test_release_jobs_fenced(self, datastore_harness: DataStoreHarness) -> None:
        """A job released as abandoned after its lease ran out cannot be released again by
        its late holder; the refusal is returned and reported with ``LeaseLost``. A
        release carrying another lease token is refused too."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        late, other = (
            make_job(created_at=now + timedelta(milliseconds=i),
                     result_expiration_time=timedelta(minutes=1))
            for i in range(2)
        )
        await store.add_jobs([late, other])
        acquired_late, acquired_other = await store.acquire_jobs("A", LEASE)
        await store.extend_acquired_job_leases("A", {other.id}, LEASE * 10)
        datastore_harness.clock.advance(LEASE + timedelta(seconds=1))
        await store.cleanup()
        datastore_harness.clear_events()

        forged = attrs.evolve(acquired_other, lease_token="not-the-token")
        releases = [
            (acquired_late, JobResult.from_job(acquired_late, JobOutcome.success)),
            (forged, JobResult.from_job(forged, JobOutcome.success)),
        ]
        refused = await store.release_jobs("A", releases)
        assert sorted(refused) == sorted([late.id, other.id])
        [lost] = datastore_harness.events(LeaseLost)
        assert lost.scheduler_id == "A"
        assert sorted(lost.job_ids) == sorted([late.id, other.id])
        assert not datastore_harness.events(JobReleased)
        result = await store.get_job_result(late.id)
        assert result is not None and result.outcome is JobOutcome.abandoned
        assert _ids(await store.get_jobs()) == [other.id]
        assert (await store.get_task("task")).running_jobs == 1

    async def test_job_result_readable_until_expiry(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store = datastore_harness.store
        await store.add_task(make_task())
        await store.add_jobs([make_job(result_expiration_time=timedelta(seconds=10))])
        [job] = await store.acquire_jobs("A", LEASE)
        await store.release_jobs("A", [(job, JobResult.from_job(job, JobOutcome.success))])
        datastore_harness.clock.advance(timedelta(seconds=9))
        assert await store.get_job_result(job.id) is not None
        await store.cleanup()
        assert await store.get_job_result(job.id) is not None
        datastore_harness.clock.advance(timedelta(seconds=2))
        assert await store.get_job_result(job.id) is None
        await store.cleanup()
        assert await store.get_job_result(job.id) is None

    async def test_extend_job_leases(self, datastore_harness: DataStoreHarness) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        clock = datastore_harness.clock
        await store.add_task(make_task())
        jobs = [make_job(created_at=now + timedelta(milliseconds=i)) for i in range(2)]
        await store.add_jobs(jobs)
        kept, dropped = await store.acquire_jobs("A", LEASE)
        clock.advance(LEASE - timedelta(seconds=5))
        await store.extend_acquired_job_leases("A", {kept.id}, LEASE)
        await store.extend_acquired_job_leases("B", {dropped.id}, LEASE)  # not B's
        clock.advance(timedelta(seconds=10))
        datastore_harness.clear_events()
        await store.cleanup()
        assert [event.job_id for event in datastore_harness.events(JobReleased)] == [dropped.id]
        [stored] = await store.get_jobs()
        assert stored.id == kept.id
        assert stored.acquired_until == now + LEASE - timedelta(seconds=5) + LEASE
        result = JobResult.from_job(kept, JobOutcome.success)
        assert await store.release_jobs("A", [(kept, result)]) == []

    async def test_reap_abandoned_jobs(self, datastore_harness: DataStoreHarness) -> None:
        """A scheduler restarting with the same identity releases the jobs it left behind
        as ``abandoned``, at once, and only its own."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task(max_running_jobs=3))
        jobs = [make_job(created_at=now + timedelta(milliseconds=i)) for i in range(4)]
        await store.add_jobs(jobs)
        mine = await store.acquire_jobs("A", LEASE, 2)
        theirs = await store.acquire_jobs("B", LEASE, 1)
        datastore_harness.clear_events()
        await store.reap_abandoned_jobs("A")
        released = datastore_harness.events(JobReleased)
        assert sorted(event.job_id for event in released) == sorted(_ids(mine))
        assert all(event.outcome is JobOutcome.abandoned for event in released)
        assert _ids(await store.get_jobs()) == [theirs[0].id, jobs[3].id]
        assert (await store.get_task("task")).running_jobs == 1
        assert _ids(await store.acquire_jobs("A", LEASE)) == [jobs[3].id]

    async def test_cleanup_abandons_expired_job_leases(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store = datastore_harness.store
        await store.add_task(make_task(max_running_jobs=1))
        await store.add_jobs([make_job(result_expiration_time=timedelta(minutes=1))])
        [job] = await store.acquire_jobs("A", LEASE)
        datastore_harness.clock.advance(LEASE - timedelta(seconds=1))
        await store.cleanup()
        assert _ids(await store.get_jobs()) == [job.id]
        datastore_harness.clock.advance(timedelta(seconds=2))
        datastore_harness.clear_events()
        await store.cleanup()
        assert await store.get_jobs() == []
        [event] = datastore_harness.events(JobReleased)
        assert (event.job_id, event.outcome) == (job.id, JobOutcome.abandoned)
        assert event.scheduler_id == "A"
        assert (await store.get_task("task")).running_jobs == 0

    async def test_cleanup_removes_finished_schedules(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        """An exhausted schedule is deleted by cleanup once none of its jobs is left,
        with ``ScheduleRemoved(finished=True)``; other schedules stay."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        await store.add_schedule(
            make_schedule("done", now, fire_times=1), ConflictPolicy.exception
        )
        await store.add_schedule(make_schedule("active", now), ConflictPolicy.exception)
        active, done = await store.acquire_schedules("A", LEASE, 10)
        job = make_job(schedule_id="done", scheduled_fire_time=now)
        await store.release_schedules("A", [fire(done, job), fire(active)])

        await store.cleanup()
        assert _ids(await store.get_schedules()) == ["active", "done"], "its job is queued"
        [acquired] = await store.acquire_jobs("A", LEASE)
        await store.cleanup()
        assert _ids(await store.get_schedules()) == ["active", "done"], "its job is running"
        await store.release_jobs(
            "A", [(acquired, JobResult.from_job(acquired, JobOutcome.success))]
        )
        datastore_harness.clear_events()
        await store.cleanup()
        assert _ids(await store.get_schedules()) == ["active"]
        [event] = datastore_harness.events(ScheduleRemoved)
        assert (event.schedule_id, event.task_id, event.finished) == ("done", "task", True)

    #
    # Concurrency
    #

    async def _race(self, racers: list[tuple[DataStore, str]], acquire: Any) -> list[Any]:
        taken: list[Any] = []

        async def run(store: DataStore, scheduler_id: str) -> None:
            while True:
                batch = await acquire(store, scheduler_id)
                if not batch:
                    return
                taken.extend(item.id for item in batch)
                await anyio.sleep(0)  # let the other racer in

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for store, scheduler_id in racers:
                    tg.start_soon(run, store, scheduler_id)
        return taken

    def _racers(
        self, harness: DataStoreHarness, second: DataStoreHarness | None
    ) -> list[tuple[DataStore, str]]:
        other = second.store if second is not None else harness.store
        return [(harness.store, "A"), (other, "B"), (harness.store, "C"), (other, "D")]

    async def test_concurrent_acquire_schedules(
        self,
        datastore_harness: DataStoreHarness,
        second_datastore_harness: DataStoreHarness | None,
    ) -> None:
        """Schedulers racing to acquire and release schedules (on two store instances
        sharing the backend, when the store supports that) process each fire time once."""
        store, now = datastore_harness.store, datastore_harness.now()
        expected = {f"s{i:02}" for i in range(30)}
        for schedule_id in sorted(expected):
            await store.add_schedule(make_schedule(schedule_id, now), ConflictPolicy.exception)

        async def acquire(store: DataStore, scheduler_id: str) -> list[Schedule]:
            schedules = await store.acquire_schedules(scheduler_id, LEASE, 4)
            await anyio.sleep(0)  # let the other racers in while holding the leases
            assert await store.release_schedules(scheduler_id, [fire(s) for s in schedules]) == []
            return schedules

        taken = await self._race(self._racers(datastore_harness, second_datastore_harness),
                                 acquire)
        assert sorted(taken) == sorted(expected)

    async def test_concurrent_acquire_jobs(
        self,
        datastore_harness: DataStoreHarness,
        second_datastore_harness: DataStoreHarness | None,
    ) -> None:
        """Workers racing for jobs never acquire one job twice, and a task's
        ``max_running_jobs`` holds across them."""
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task("free"))
        await store.add_task(make_task("limited", max_running_jobs=3))
        jobs = [
            make_job("free" if i % 2 else "limited", created_at=now + timedelta(milliseconds=i))
            for i in range(40)
        ]
        await store.add_jobs(jobs)

        async def acquire(store: DataStore, scheduler_id: str) -> list[Job]:
            return await store.acquire_jobs(scheduler_id, LEASE, 3)

        taken = await self._race(self._racers(datastore_harness, second_datastore_harness),
                                 acquire)
        assert len(taken) == len(set(taken))
        expected = {job.id for job in jobs if job.task_id == "free"}
        limited = [job_id for job_id in taken if job_id not in expected]
        assert expected <= set(taken)
        assert len(limited) == 3
        assert (await store.get_task("limited")).running_jobs == 3

    #
    # Serialization (serializes_data = True)
    #

    async def test_unserializable_argument_fails_when_added(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        if not self.serializes_data:
            pytest.skip("the store does not serialize data (serializes_data = False)")
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        lock = threading.Lock()
        with pytest.raises(SerializationError, match="(?i)lock"):
            await store.add_schedule(
                make_schedule("s1", now, args=(lock,)), ConflictPolicy.exception
            )
        with pytest.raises(SerializationError, match="(?i)lock"):
            await store.add_jobs([make_job(kwargs={"lock": lock})])
        assert await store.get_schedules() == []
        assert await store.get_jobs() == []

    async def test_corrupt_schedule_is_isolated(
        self, datastore_harness: DataStoreHarness
    ) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_schedule(make_schedule("bad", now), ConflictPolicy.exception)
        await store.add_schedule(make_schedule("good", now), ConflictPolicy.exception)
        await self._corrupt("schedule", store, "bad")
        datastore_harness.clear_events()

        assert _ids(await store.get_schedules()) == ["good"]
        failures = datastore_harness.events(ScheduleDeserializationFailed)
        assert failures and all(event.schedule_id == "bad" for event in failures)
        assert _ids(await store.acquire_schedules("A", LEASE, 10)) == ["good"]

    async def test_corrupt_job_is_isolated(self, datastore_harness: DataStoreHarness) -> None:
        store, now = datastore_harness.store, datastore_harness.now()
        await store.add_task(make_task())
        bad = make_job(result_expiration_time=timedelta(minutes=1))
        good = make_job(created_at=now + timedelta(milliseconds=1))
        await store.add_jobs([bad, good])
        await self._corrupt("job", store, bad.id)
        datastore_harness.clear_events()

        assert _ids(await store.acquire_jobs("A", LEASE)) == [good.id]
        failures = datastore_harness.events(JobDeserializationFailed)
        assert failures and all(event.job_id == bad.id for event in failures)
        [released] = datastore_harness.events(JobReleased)
        assert (released.job_id, released.outcome) == (bad.id, JobOutcome.deserialization_failed)
        assert _ids(await store.get_jobs()) == [good.id]
        assert (await store.get_task("task")).running_jobs == 1
