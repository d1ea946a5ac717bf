"""Behaviour of MemoryDataStore beyond the conformance kit: its indexes stay consistent
and bounded, nothing is scanned that need not be, and what it shares or copies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from apscheduler import ConflictPolicy, Job, JobOutcome, JobReleased, JobResult
from apscheduler.datastores import memory
from apscheduler.datastores.memory import MemoryDataStore
from apscheduler.testing.datastore import (
    DataStoreHarness,
    fire,
    make_job,
    make_schedule,
    make_task,
    started_datastore,
)

pytestmark = pytest.mark.anyio

LEASE = timedelta(seconds=30)


@pytest.fixture
async def harness() -> AsyncIterator[DataStoreHarness]:
    async with started_datastore(MemoryDataStore()) as harness:
        yield harness


def store_of(harness: DataStoreHarness) -> MemoryDataStore:
    assert isinstance(harness.store, MemoryDataStore)
    return harness.store


async def test_schedule_indexes_emptied_on_removal(harness: DataStoreHarness) -> None:
    """Removing schedules leaves nothing behind in the per-task index (upstream kept the
    IDs forever) nor in the lease and due indexes."""
    store, now = store_of(harness), harness.now()
    for i in range(10):
        schedule = make_schedule(f"s{i}", now, task_id=f"task{i % 3}")
        await store.add_schedule(schedule, ConflictPolicy.exception)
    await store.acquire_schedules("A", LEASE, 4)
    assert store._schedule_ids_by_task.keys() == {"task0", "task1", "task2"}
    await store.remove_schedules([f"s{i}" for i in range(10)])
    assert store._schedule_ids_by_task == {}
    assert store._held_schedules == {}
    assert store._due_seq == {}
    assert await store.get_next_schedule_run_time() is None


async def test_replace_moves_schedule_between_tasks(harness: DataStoreHarness) -> None:
    store, now = store_of(harness), harness.now()
    await store.add_schedule(make_schedule("s", now, task_id="a"), ConflictPolicy.exception)
    await store.add_schedule(make_schedule("s", now, task_id="b"), ConflictPolicy.replace)
    assert store._schedule_ids_by_task == {"b": {"s"}}


async def test_due_heap_stays_bounded(harness: DataStoreHarness) -> None:
    """Replacing, pausing and firing schedules over and over leaves stale heap entries,
    which are compacted away."""
    store, now = store_of(harness), harness.now()
    for i in range(5):
        await store.add_schedule(make_schedule(f"s{i}", now), ConflictPolicy.exception)
    for round_ in range(400):
        for i in range(5):
            schedule = make_schedule(f"s{i}", now, paused=round_ % 2 == 0)
            await store.add_schedule(schedule, ConflictPolicy.replace)
        for schedule in await store.acquire_schedules("A", LEASE, 10):
            await store.release_schedules("A", [fire(schedule)])
    limit = 2 * 5 + memory._COMPACT_SLACK + 1
    assert len(store._due) <= limit
    assert len(store._schedule_leases) <= limit


async def test_blocked_task_is_not_scanned(
    harness: DataStoreHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queued jobs of a task at its max_running_jobs are not looked at while it has
    no free slot, however many there are."""
    store, now = store_of(harness), harness.now()
    await store.add_task(make_task("busy", max_running_jobs=1))
    await store.add_task(make_task("other"))
    await store.add_jobs([make_job("busy") for _ in range(1000)])
    assert len(await store.acquire_jobs("A", LEASE)) == 1  # the busy task is now full

    looked_at: list[Any] = []
    original = memory._TaskQueue.head

    def head(queue: memory._TaskQueue) -> Any:
        looked_at.append(queue)
        return original(queue)

    monkeypatch.setattr(memory._TaskQueue, "head", head)
    busy_queue = store._queues["busy"]
    for i in range(20):
        await store.add_jobs([make_job("other", created_at=now + timedelta(seconds=i))])
        assert len(await store.acquire_jobs("A", LEASE)) == 1
    assert busy_queue not in looked_at


async def test_fifo_across_tasks_with_late_arrivals(harness: DataStoreHarness) -> None:
    """Hand-out order is by created_at across tasks, also for jobs added after newer
    ones (two schedulers adding concurrently)."""
    store, now = store_of(harness), harness.now()
    await store.add_task(make_task("a"))
    await store.add_task(make_task("b"))
    jobs = [
        make_job("ab"[i % 2], created_at=now + timedelta(milliseconds=i)) for i in range(12)
    ]
    order = [5, 0, 7, 1, 11, 2, 3, 10, 4, 6, 9, 8]
    for i in order[:6]:
        await store.add_jobs([jobs[i]])
    first = await store.acquire_jobs("A", LEASE, 3)
    assert [job.id for job in first] == [jobs[i].id for i in (0, 1, 2)]
    for i in order[6:]:
        await store.add_jobs([jobs[i]])
    rest = await store.acquire_jobs("A", LEASE)
    assert [job.id for job in rest] == [job.id for job in jobs[3:]]


async def test_raising_max_running_jobs_frees_queued_jobs(harness: DataStoreHarness) -> None:
    store = store_of(harness)
    await store.add_task(make_task(max_running_jobs=1))
    await store.add_jobs([make_job() for _ in range(3)])
    assert len(await store.acquire_jobs("A", LEASE)) == 1
    assert await store.acquire_jobs("A", LEASE) == []
    await store.add_task(make_task(max_running_jobs=3))
    assert len(await store.acquire_jobs("A", LEASE)) == 2
    assert (await store.get_task("task")).running_jobs == 3


async def test_removed_jobs_are_compacted(harness: DataStoreHarness) -> None:
    store = store_of(harness)
    await store.add_task(make_task())
    jobs = [make_job() for _ in range(2000)]
    await store.add_jobs(jobs)
    await store.remove_jobs([job.id for job in jobs[:1900]])
    assert len(store._queues["task"]) < 1000
    acquired = await store.acquire_jobs("A", LEASE)
    assert [job.id for job in acquired] == [job.id for job in jobs[1900:]]


async def test_released_jobs_are_not_retained(harness: DataStoreHarness) -> None:
    """Once every job of an acquire batch is released, nothing keeps them alive until
    their lease time passes."""
    store = store_of(harness)
    await store.add_task(make_task())
    await store.add_jobs([make_job() for _ in range(50)])
    acquired = await store.acquire_jobs("A", LEASE)
    await store.release_jobs(
        "A", [(job, JobResult.from_job(job, JobOutcome.success)) for job in acquired]
    )
    assert store._acquired == {}
    assert store._live_batches == 0
    assert all(not entry[2].jobs for entry in store._job_leases)
    assert store._jobs == {}


async def test_returned_objects(harness: DataStoreHarness) -> None:
    """get_jobs / get_task return copies; acquire_jobs returns the stored jobs (the hot
    path does not copy), stamped with the lease."""
    store = store_of(harness)
    await store.add_task(make_task())
    job = make_job()
    await store.add_jobs([job])
    [listed] = await store.get_jobs()
    assert listed is not job
    listed.metadata = {"changed": True}
    task = await store.get_task("task")
    task.running_jobs = 99
    assert (await store.get_task("task")).running_jobs == 0
    [acquired] = await store.acquire_jobs("A", LEASE)
    assert acquired is job
    assert job.acquired_by == "A"
    assert job.metadata == {}


async def test_added_job_lease_fields_are_cleared(harness: DataStoreHarness) -> None:
    store = store_of(harness)
    job = make_job(acquired_by="ghost", lease_token="stale", acquired_until=harness.now())
    await store.add_jobs([job])
    [acquired] = await store.acquire_jobs("A", LEASE)
    assert acquired.acquired_by == "A"
    assert acquired.lease_token != "stale"


async def test_duplicate_job_id_rejects_whole_batch(harness: DataStoreHarness) -> None:
    store = store_of(harness)
    existing = make_job()
    await store.add_jobs([existing])
    fresh = make_job()
    with pytest.raises(ValueError, match="already exists"):
        await store.add_jobs([fresh, Job(id=existing.id, task_id="task", executor="async")])
    assert [job.id for job in await store.get_jobs()] == [existing.id]
    with pytest.raises(ValueError, match="already exists"):
        await store.add_jobs([fresh, make_job(), Job(id=fresh.id, task_id="t", executor="a")])
    assert [job.id for job in await store.get_jobs()] == [existing.id]
    assert [job.id for job in await store.acquire_jobs("A", LEASE)] == [existing.id]


async def test_same_trigger_object_for_two_schedules(harness: DataStoreHarness) -> None:
    """Adding two schedules built on one trigger object does not make them share it."""
    store, now = store_of(harness), harness.now()
    schedule = make_schedule("a", now)
    other = make_schedule("b", now)
    other.trigger = schedule.trigger
    await store.add_schedule(schedule, ConflictPolicy.exception)
    await store.add_schedule(other, ConflictPolicy.exception)
    a, b = await store.acquire_schedules("A", LEASE, 10)
    await store.release_schedules("A", [fire(a)])
    [b_stored] = await store.get_schedules({"b"})
    assert b_stored.trigger.__getstate__()["index"] == 1


async def test_abandoned_job_event_names_dead_holder(harness: DataStoreHarness) -> None:
    store = store_of(harness)
    await store.add_task(make_task())
    await store.add_jobs([make_job()])
    await store.acquire_jobs("dead-node", LEASE)
    harness.clock.advance(LEASE * 2)
    await store.acquire_jobs("live-node", LEASE)
    [event] = harness.events(JobReleased)
    assert event.outcome is JobOutcome.abandoned
    assert event.scheduler_id == "dead-node"


async def test_many_jobs_round_trip(harness: DataStoreHarness) -> None:
    """A larger volume through add / acquire / release keeps every count consistent."""
    store = store_of(harness)
    await store.add_task(make_task(max_running_jobs=100))
    await store.add_task(make_task("unlimited"))
    jobs = [make_job("task" if i % 3 else "unlimited") for i in range(20_000)]
    for start in range(0, len(jobs), 500):
        await store.add_jobs(jobs[start : start + 500])
    seen = set()
    while True:
        batch = await store.acquire_jobs("A", LEASE, 250)
        if not batch:
            break
        assert (await store.get_task("task")).running_jobs <= 100
        seen.update(job.id for job in batch)
        await store.release_jobs(
            "A", [(job, JobResult.from_job(job, JobOutcome.success)) for job in batch]
        )
    assert len(seen) == len(jobs)
    assert (await store.get_task("task")).running_jobs == 0
    assert store._jobs == {} and store._acquired == {}


def test_not_persistent() -> None:
    """The scheduler may keep lambdas as tasks on this store (nothing leaves the process)."""
    assert MemoryDataStore.persistent is False
