"""MongoDB-specific behaviour beyond the conformance kit: URLs and registration, the
document format, recovery of interrupted releases, retries of connection failures,
quarantine of undeserializable schedules."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
import tenacity
from apscheduler import (
    ConflictPolicy,
    JobAdded,
    JobOutcome,
    JobResult,
    LeaseLost,
    RetrySettings,
    ScheduleDeserializationFailed,
)
from apscheduler._clock import FakeClock, use_clock
from apscheduler._registry import get_registry
from apscheduler.abc import DataStore
from apscheduler.testing import DataStoreHarness, RecordingEventBroker
from apscheduler.testing._kit_trigger import ensure_kit_trigger_registered
from apscheduler.testing.datastore import fire, make_job, make_schedule, make_task
from apscheduler_mongodb import MongoDBDataStore
from pymongo.errors import AutoReconnect

pytestmark = pytest.mark.anyio

LEASE = timedelta(seconds=30)
FAST_RETRY = RetrySettings(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_none())


class SimulatedCrash(Exception):
    """Stands for the process dying in the middle of an operation."""


@pytest.fixture
def store(mongodb_client: Any, database_name: str) -> MongoDBDataStore:
    return MongoDBDataStore(mongodb_client, database=database_name, retry_settings=FAST_RETRY)


@pytest.fixture
async def harness(store: MongoDBDataStore, anyio_backend: str) -> AsyncIterator[DataStoreHarness]:
    ensure_kit_trigger_registered()
    clock = FakeClock(datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=timezone.utc))
    with use_clock(clock):
        async with AsyncExitStack() as stack:
            broker = RecordingEventBroker()
            await broker.start(stack, logging.getLogger(__name__))
            await store.start(stack, broker, logging.getLogger(__name__))
            yield DataStoreHarness(store, broker, clock)


def raw(store: MongoDBDataStore, collection: str) -> Any:
    """The raw collection, bypassing the store."""
    return store.client[store.database][collection]


class Intercept:
    """Wraps one collection of a started store; ``hook(method, args, kwargs, call)`` runs
    instead of each call and decides what happens."""

    def __init__(self, store: MongoDBDataStore, collection: str, hook: Callable[..., Any]):
        self._backend = store._operations.db
        self._name = collection
        self._original = getattr(self._backend, collection)
        self._hook = hook
        setattr(self._backend, collection, self)

    def restore(self) -> None:
        setattr(self._backend, self._name, self._original)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._original, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._hook(name, args, kwargs, lambda: attr(*args, **kwargs))

        return call


def json_only(value: Any, path: str = "doc") -> None:
    if value is None or isinstance(value, (str, int, float, bool)):
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            json_only(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{path} has key {key!r}"
            json_only(item, f"{path}.{key}")
        return
    raise AssertionError(f"{path} is a {type(value).__name__}, not a JSON type")


#
# Construction, URLs, registration
#


def test_registered_under_mongodb_url_schemes() -> None:
    registry = get_registry()
    store = registry.create(
        "data_store", "mongodb://admin:s3cret@db.example:27017/jobs?authSource=admin", DataStore
    )
    assert isinstance(store, MongoDBDataStore)
    assert store.database == "jobs"
    assert "s3cret" not in repr(store)
    srv = registry.create("data_store", "mongodb+srv://cluster.example.net", DataStore)
    assert isinstance(srv, MongoDBDataStore)
    assert srv.database == "apscheduler"
    named = registry.create(
        "data_store", {"type": "mongodb", "url": "mongodb://localhost", "database": "x"},
        DataStore,
    )
    assert isinstance(named, MongoDBDataStore) and named.database == "x"


def test_core_reexport() -> None:
    from apscheduler.datastores.mongodb import MongoDBDataStore as reexported

    assert reexported is MongoDBDataStore


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="mongodb://"):
        MongoDBDataStore("postgresql://localhost/db")
    with pytest.raises(TypeError, match="MongoClient"):
        MongoDBDataStore(42)


#
# Documents
#


async def test_documents_are_json_compatible_with_exact_times(
    harness: DataStoreHarness, store: MongoDBDataStore
) -> None:
    now = harness.now()
    assert now.microsecond == 123456
    await store.add_task(make_task(max_running_jobs=2, metadata={"team": "ops"}))
    await store.add_schedule(
        make_schedule("s1", now, args=(datetime(2001, 2, 3, 4, 5, 6, 7),), kwargs={"k": [1]}),
        ConflictPolicy.exception,
    )
    job = make_job(start_deadline=now + timedelta(microseconds=1), args=(1, "a"),
                   result_expiration_time=timedelta(minutes=1))
    await store.add_jobs([job])
    [acquired] = await store.acquire_jobs("A", LEASE)
    await store.release_jobs(
        "A",
        [(acquired, JobResult.from_job(acquired, JobOutcome.success, return_value={"v": 1},
                                       finished_at=now + timedelta(microseconds=5)))],
    )
    await store.add_jobs([make_job()])

    for collection in ("tasks", "schedules", "jobs", "job_results"):
        docs = list(raw(store, collection).find())
        assert docs, collection
        for doc in docs:
            json_only(doc, collection)

    [schedule] = await store.get_schedules()
    assert schedule.next_fire_time == now
    assert schedule.next_fire_time.microsecond == 123456
    assert schedule.args == (datetime(2001, 2, 3, 4, 5, 6, 7),)
    doc = raw(store, "schedules").find_one({"_id": "s1"})
    assert isinstance(doc["trigger"], str), "JSON payloads are stored as readable text"
    assert doc["next_fire_time_us"] % 1_000_000 == 123456


async def test_pickle_serializer_stores_binary(
    mongodb_client: Any, database_name: str, anyio_backend: str
) -> None:
    store = MongoDBDataStore(mongodb_client, database=database_name, serializer="pickle")
    ensure_kit_trigger_registered()
    async with AsyncExitStack() as stack:
        await store.start(stack, RecordingEventBroker(), logging.getLogger(__name__))
        now = datetime.now(timezone.utc)
        schedule = make_schedule("s1", now, args=({1, 2},))
        await store.add_schedule(schedule, ConflictPolicy.exception)
        [schedule] = await store.get_schedules()
        assert schedule.args == ({1, 2},)
        assert isinstance(raw(store, "schedules").find_one()["trigger"], bytes)


async def test_indexes_on_due_times(harness: DataStoreHarness, store: MongoDBDataStore) -> None:
    schedule_keys = [list(index["key"]) for index in raw(store, "schedules").list_indexes()]
    job_keys = [list(index["key"]) for index in raw(store, "jobs").list_indexes()]
    result_keys = [list(index["key"]) for index in raw(store, "job_results").list_indexes()]
    assert ["next_fire_time_us", "_id"] in schedule_keys
    assert ["created_at_us", "seq"] in job_keys
    assert ["acquired_until_us"] in job_keys and ["start_deadline_us"] in job_keys
    assert ["expires_at_us"] in result_keys


async def test_refuses_newer_schema(
    mongodb_client: Any, database_name: str, anyio_backend: str
) -> None:
    mongodb_client[database_name].metadata.insert_one({"_id": "schema", "version": 99})
    store = MongoDBDataStore(mongodb_client, database=database_name)
    async with AsyncExitStack() as stack:
        with pytest.raises(RuntimeError, match="newer"):
            await store.start(stack, RecordingEventBroker(), logging.getLogger(__name__))


async def test_start_from_scratch(
    mongodb_client: Any, database_name: str, anyio_backend: str
) -> None:
    mongodb_client[database_name].tasks.insert_one({"_id": "old", "job_executor": "async"})
    store = MongoDBDataStore(mongodb_client, database=database_name, start_from_scratch=True)
    async with AsyncExitStack() as stack:
        await store.start(stack, RecordingEventBroker(), logging.getLogger(__name__))
        assert await store.get_tasks() == []


#
# Exactly-once job creation when a release is interrupted
#


async def test_release_interrupted_before_commit(
    harness: DataStoreHarness, store: MongoDBDataStore
) -> None:
    """The releaser dies after inserting the jobs but before committing the schedule:
    the jobs never become visible, and are discarded once another scheduler takes the
    schedule over (which then produces the fire time's jobs itself)."""
    now = harness.now()
    await store.add_task(make_task())
    await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
    [held_by_a] = await store.acquire_schedules("A", LEASE, 10)

    backend = store._operations.db
    original = backend.bulk_update

    def crash(collection: Any, updates: Any) -> Any:
        if collection is backend.schedules:
            raise SimulatedCrash
        return original(collection, updates)

    backend.bulk_update = crash  # type: ignore[method-assign]
    try:
        with pytest.raises(SimulatedCrash):
            await store.release_schedules("A", [fire(held_by_a, make_job(schedule_id="s1"))])
    finally:
        backend.bulk_update = original  # type: ignore[method-assign]

    assert raw(store, "jobs").count_documents({}) == 1, "inserted, but pending"
    assert await store.get_jobs() == []
    assert await store.acquire_jobs("W", LEASE) == []
    await store.cleanup()  # A still holds the lease and could commit: keep
    assert raw(store, "jobs").count_documents({}) == 1

    harness.clock.advance(LEASE + timedelta(seconds=1))
    [held_by_b] = await store.acquire_schedules("B", LEASE, 10)
    await store.cleanup()  # A's release can never commit now
    assert raw(store, "jobs").count_documents({}) == 0

    job_b = make_job(schedule_id="s1")
    assert await store.release_schedules("B", [fire(held_by_b, job_b)]) == []
    assert [job.id for job in await store.get_jobs()] == [job_b.id]


async def test_release_interrupted_after_commit(
    harness: DataStoreHarness, store: MongoDBDataStore
) -> None:
    """The releaser dies after committing the schedule but before making its jobs
    visible: cleanup finishes the release, so the fire time's job is not lost."""
    now = harness.now()
    await store.add_task(make_task())
    await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
    [schedule] = await store.acquire_schedules("A", LEASE, 10)
    job = make_job(schedule_id="s1", scheduled_fire_time=now)

    def hook(method: str, args: Any, kwargs: Any, call: Callable[[], Any]) -> Any:
        if method == "update_many" and "pending" in args[0]:
            raise SimulatedCrash
        return call()

    intercept = Intercept(store, "jobs", hook)
    try:
        with pytest.raises(SimulatedCrash):
            await store.release_schedules("A", [fire(schedule, job)])
    finally:
        intercept.restore()

    [stored] = await store.get_schedules()
    assert stored.last_fire_time == now and stored.acquired_by is None, "committed"
    assert await store.get_jobs() == []
    harness.clear_events()

    await store.cleanup()
    assert [queued.id for queued in await store.get_jobs()] == [job.id]
    assert [event.job_id for event in harness.events(JobAdded)] == [job.id]
    assert raw(store, "schedules").find_one({"_id": "s1"})["committed_releases"] == []
    await store.cleanup()
    assert len(await store.get_jobs()) == 1


#
# Connection failures are retried, and retries are idempotent
#


def fail_once_after(method_name: str, predicate: Callable[..., bool] = lambda *a: True) -> Any:
    """A hook that lets the first matching call reach the database, then raises a
    connection error (the reply was lost): the store retries the whole operation."""
    state = {"failed": False}

    def hook(method: str, args: Any, kwargs: Any, call: Callable[[], Any]) -> Any:
        result = call()
        if method == method_name and predicate(*args) and not state["failed"]:
            state["failed"] = True
            raise AutoReconnect("connection lost (simulated)")
        return result

    hook.state = state  # type: ignore[attr-defined]
    return hook


async def test_retried_release_schedules_inserts_jobs_once(
    harness: DataStoreHarness, store: MongoDBDataStore
) -> None:
    now = harness.now()
    await store.add_task(make_task())
    await store.add_schedule(make_schedule("s1", now), ConflictPolicy.exception)
    [schedule] = await store.acquire_schedules("A", LEASE, 10)
    job = make_job(schedule_id="s1")
    hook = fail_once_after("update_many", lambda query, *_: "pending" in query)
    intercept = Intercept(store, "jobs", hook)
    try:
        assert await store.release_schedules("A", [fire(schedule, job)]) == []
    finally:
        intercept.restore()
    assert hook.state["failed"]
    assert [queued.id for queued in await store.get_jobs()] == [job.id]
    assert not harness.events(LeaseLost)


async def test_retried_acquire_and_release_jobs(
    harness: DataStoreHarness, store: MongoDBDataStore
) -> None:
    await store.add_task(make_task(max_running_jobs=2))
    jobs = [make_job(created_at=harness.now() + timedelta(milliseconds=i),
                     result_expiration_time=timedelta(minutes=1)) for i in range(3)]
    await store.add_jobs(jobs)

    claim = fail_once_after(
        "update_many", lambda query, *_: "_id" in query and "acquired_by" in query
    )
    intercept = Intercept(store, "jobs", claim)
    try:
        acquired = await store.acquire_jobs("A", LEASE)
    finally:
        intercept.restore()
    assert claim.state["failed"]
    assert [job.id for job in acquired] == [jobs[0].id, jobs[1].id]
    assert (await store.get_task("task")).running_jobs == 2

    delete = fail_once_after("delete_many")
    intercept = Intercept(store, "jobs", delete)
    try:
        releases = [(job, JobResult.from_job(job, JobOutcome.success)) for job in acquired]
        assert await store.release_jobs("A", releases) == []
    finally:
        intercept.restore()
    assert delete.state["failed"]
    assert not harness.events(LeaseLost)
    assert (await store.get_task("task")).running_jobs == 0
    for job in acquired:
        result = await store.get_job_result(job.id)
        assert result is not None and result.outcome is JobOutcome.success
    assert [job.id for job in await store.acquire_jobs("A", LEASE)] == [jobs[2].id]


async def test_gives_up_after_retries(harness: DataStoreHarness, store: MongoDBDataStore) -> None:
    def hook(method: str, args: Any, kwargs: Any, call: Callable[[], Any]) -> Any:
        raise AutoReconnect("server gone (simulated)")

    intercept = Intercept(store, "tasks", hook)
    try:
        with pytest.raises(AutoReconnect):
            await store.get_tasks()
    finally:
        intercept.restore()


#
# Isolation of bad data
#


async def test_undeserializable_schedule_is_quarantined_for_a_lease(
    harness: DataStoreHarness, store: MongoDBDataStore
) -> None:
    """A schedule that cannot be read is reported once per lease duration, not on every
    acquire, and does not make the next run time look due."""
    now = harness.now()
    await store.add_schedule(make_schedule("bad", now), ConflictPolicy.exception)
    await store.add_schedule(
        make_schedule("later", now + timedelta(minutes=5)), ConflictPolicy.exception
    )
    raw(store, "schedules").update_one({"_id": "bad"}, {"$set": {"args": "not json"}})

    assert await store.acquire_schedules("A", LEASE, 10) == []
    assert len(harness.events(ScheduleDeserializationFailed)) == 1
    assert await store.get_next_schedule_run_time() == now + timedelta(minutes=5)
    assert await store.acquire_schedules("A", LEASE, 10) == []
    assert len(harness.events(ScheduleDeserializationFailed)) == 1

    harness.clock.advance(LEASE + timedelta(seconds=1))
    assert await store.acquire_schedules("B", LEASE, 10) == []
    assert len(harness.events(ScheduleDeserializationFailed)) == 2


async def test_unstorable_return_value(
    harness: DataStoreHarness, store: MongoDBDataStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A return value the serializer cannot store does not block the release: the result
    is kept without it, and a warning says why."""
    await store.add_task(make_task())
    await store.add_jobs([make_job(result_expiration_time=timedelta(minutes=1))])
    [job] = await store.acquire_jobs("A", LEASE)
    result = JobResult.from_job(job, JobOutcome.success, return_value=threading.Lock())
    with caplog.at_level(logging.WARNING):
        assert await store.release_jobs("A", [(job, result)]) == []
    stored = await store.get_job_result(job.id)
    assert stored is not None and stored.outcome is JobOutcome.success
    assert stored.return_value is None
    assert "cannot be stored" in caplog.text


async def test_pending_jobs_are_not_removable(
    harness: DataStoreHarness, store: MongoDBDataStore
) -> None:
    """remove_jobs and get_jobs only see committed jobs."""
    await store.add_task(make_task())
    job = make_job()
    await store.add_jobs([job])
    raw(store, "jobs").update_one({"_id": str(job.id)}, {"$set": {"pending": "x"}})
    assert await store.remove_jobs([job.id]) == []
    assert await store.get_jobs() == []
    raw(store, "jobs").update_one({"_id": str(job.id)}, {"$unset": {"pending": ""}})
    assert await store.remove_jobs([UUID(str(job.id))]) == [job.id]
