"""The in-process data store (the default).

:class:`MemoryDataStore` keeps tasks, schedules, jobs and results as Python objects in
this process. Every operation works on indexes, so its cost depends on the size of the
batch it handles, not on how much is stored:

* **due schedules**: a heap keyed by ``(next_fire_time, id)`` holding only schedules that
  are unpaused, not leased and have a next fire time (so ``acquire_schedules`` and
  ``get_next_schedule_run_time`` never see paused or leased ones, and never spin);
* **schedule leases**: a heap keyed by ``acquired_until``, turning expired leases back
  into due entries;
* **runnable jobs**: one FIFO queue per task, ordered by ``(created_at, insertion)``, and
  a heap of tasks keyed by the age of their oldest queued job. A task that has reached
  its ``max_running_jobs`` leaves that heap until a slot frees up, so its queued jobs
  never delay the jobs of other tasks and are never scanned;
* **job leases**: a heap of acquire batches keyed by ``acquired_until``;
* **start deadlines** and **result expiry**: heaps keyed by time.

Heaps use lazy deletion (stale entries are skipped when they surface) and are rebuilt
when stale entries outnumber live ones, so memory stays proportional to what is stored.

Objects are kept by reference (nothing is serialized). What a caller could mutate is
copied: stored schedules and triggers are copies of what was added, ``get_schedules`` /
``get_tasks`` / ``get_jobs`` return copies, and ``acquire_schedules`` returns schedules
with their own copy of the trigger (the scheduler advances it). Two things are shared on
purpose, because copying them would cost more than the rest of the job's trip through the
store: the jobs returned by :meth:`MemoryDataStore.acquire_jobs` are the stored objects,
and the contents of ``args``/``kwargs``/``metadata`` are never deep-copied. Callers must
treat those as read-only.

The store is not thread-safe: use it from one event loop (any number of schedulers in
that loop may share it).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from itertools import count
from logging import Logger
from typing import Any, TypeVar
from uuid import UUID, uuid4

import attrs

from .._clock import get_clock
from .._converters import as_optional_aware_datetime, check_bare_url
from .._enums import ConflictPolicy, JobOutcome
from .._events import (
    Event,
    JobAcquired,
    JobAdded,
    JobReleased,
    JobRemoved,
    LeaseLost,
    ScheduleAdded,
    ScheduleRemoved,
    ScheduleUpdated,
    TaskAdded,
    TaskRemoved,
    TaskUpdated,
)
from .._exceptions import ConflictingIdError, TaskLookupError
from .._structures import Job, JobResult, Schedule, ScheduleResult, Task, share_empty
from ..abc import EventBroker
from ..eventbrokers.local import LocalEventBroker
from ..triggers._base import clone_trigger
from .base import BaseDataStore

T = TypeVar("T")

_set = object.__setattr__  # sets a slot without running attrs converters/validators

#: Heaps are rebuilt once they hold this many more stale entries than live ones.
_COMPACT_SLACK = 256


def _shallow_copy(obj: T) -> T:
    """Copy an attrs instance field by field (several times faster than ``attrs.evolve``)."""
    cls = type(obj)
    copier = _COPIERS.get(cls)
    if copier is None:
        copier = _COPIERS[cls] = _make_copier(cls)
    return copier(obj)  # type: ignore[no-any-return,unused-ignore]


def _make_copier(cls: type) -> Any:
    """Compile a function that copies the fields of ``cls`` without running converters."""
    names = [field.name for field in attrs.fields(cls)]
    lines = ["def copy(obj):", "    new = new_instance(cls)"]
    lines += [f"    set_field(new, {name!r}, obj.{name})" for name in names]
    lines.append("    return new")
    namespace: dict[str, Any] = {"new_instance": object.__new__, "set_field": _set, "cls": cls}
    exec("\n".join(lines), namespace)  # the code is built from attrs field names
    return namespace["copy"]


_COPIERS: dict[type, Any] = {}


def _copy_schedule(schedule: Schedule) -> Schedule:
    """A copy whose trigger can be advanced without touching the stored schedule."""
    new = _shallow_copy(schedule)
    _set(new, "trigger", clone_trigger(schedule.trigger))
    return new


class _TaskQueue:
    """The queued jobs of one task, oldest first.

    Jobs usually arrive in ``created_at`` order and go to a deque (O(1)); a job older than
    the newest queued one goes to a small heap instead. Entries are
    ``(created_at, seq, job)``; ``seq`` is unique, so jobs themselves are never compared.
    Removed jobs are not searched for: they are dropped when they reach the head.
    """

    __slots__ = ("fifo", "late", "version", "scheduled", "key", "stale")

    def __init__(self) -> None:
        self.fifo: deque[tuple[datetime, int, Job]] = deque()
        self.late: list[tuple[datetime, int, Job]] = []
        #: Version of this queue's valid entry in the store's ready heap.
        self.version = 0
        #: Whether the ready heap holds a valid entry for this queue.
        self.scheduled = False
        #: The ``created_at`` of that entry (a lower bound of the current head's).
        self.key: datetime | None = None
        #: How many entries belong to jobs removed since they were queued.
        self.stale = 0

    def __len__(self) -> int:
        return len(self.fifo) + len(self.late)

    def push(self, entry: tuple[datetime, int, Job]) -> None:
        fifo = self.fifo
        if fifo and entry[0] < fifo[-1][0]:
            heapq.heappush(self.late, entry)
        else:
            fifo.append(entry)

    def head(self) -> tuple[datetime, int, Job] | None:
        fifo, late = self.fifo, self.late
        if late:
            if fifo and fifo[0] < late[0]:
                return fifo[0]
            return late[0]
        return fifo[0] if fifo else None

    def pop_head(self) -> None:
        fifo, late = self.fifo, self.late
        if late and (not fifo or late[0] < fifo[0]):
            heapq.heappop(late)
        else:
            fifo.popleft()

    def compact(self, is_live: Any) -> None:
        """Drop the entries of removed jobs (order is preserved)."""
        self.fifo = deque(entry for entry in self.fifo if is_live(entry[2]))
        self.late = [entry for entry in self.late if is_live(entry[2])]
        heapq.heapify(self.late)
        self.stale = 0


class _LeaseBatch:
    """The jobs leased by one ``acquire_jobs`` (or ``extend_acquired_job_leases``) call.

    ``live`` counts the jobs still held under this batch; at zero the list is dropped so
    released jobs are not kept alive until the lease time passes.
    """

    __slots__ = ("until", "jobs", "live")

    def __init__(self, until: datetime, jobs: list[Job]) -> None:
        self.until = until
        self.jobs = jobs
        self.live = len(jobs)


class MemoryDataStore(BaseDataStore):
    """Keeps everything in this process's memory; lost when the process exits.

    Fast and dependency-free; the default store. Share one instance between schedulers
    only within one event loop. Use a persistent store (SQLAlchemy, MongoDB, Redis) to
    keep schedules across restarts or to share them between processes.
    """

    #: Contents live in this process only, so tasks may hold callables that have no
    #: importable reference (lambdas, nested functions).
    persistent = False

    @classmethod
    def from_url(cls, url: str) -> MemoryDataStore:
        """Create the store from ``"memory://"`` (the scheme it claims; there is nothing
        else to configure)."""
        check_bare_url(url, "memory", cls.__name__)
        return cls()

    def __init__(self) -> None:
        self._seq = count()
        # Tasks
        self._tasks: dict[str, Task] = {}
        # Schedules
        self._schedules: dict[str, Schedule] = {}
        self._schedule_ids_by_task: dict[str, set[str]] = {}
        self._due: list[tuple[datetime, str, int]] = []
        self._due_seq: dict[str, int] = {}
        self._schedule_leases: list[tuple[datetime, int, str, str]] = []
        self._held_schedules: dict[str, set[str]] = {}
        self._exhausted: set[str] = set()
        # Jobs
        self._jobs: dict[UUID, Job] = {}
        self._queues: dict[str, _TaskQueue] = {}
        self._ready: list[tuple[datetime, int, str, int]] = []
        self._deadlines: list[tuple[datetime, int, Job]] = []
        self._acquired: dict[UUID, _LeaseBatch] = {}
        self._job_leases: list[tuple[datetime, int, _LeaseBatch]] = []
        self._live_batches = 0
        self._job_counts_by_schedule: dict[str, int] = {}
        # Results
        self._results: dict[UUID, JobResult] = {}
        self._result_expiry: list[tuple[datetime, int, UUID]] = []

    def __repr__(self) -> str:
        return "MemoryDataStore()"

    async def start(
        self, exit_stack: AsyncExitStack, event_broker: EventBroker, logger: Logger
    ) -> None:
        await super().start(exit_stack, event_broker, logger)

    def _direct_delivery(self) -> Any:
        """The local broker's ``deliver_local`` when its ``publish()`` does nothing more
        (then events are handed over without a coroutine each), else ``None``."""
        broker = self._event_broker
        if broker is not None and type(broker).publish is LocalEventBroker.publish:
            return broker.deliver_local  # type: ignore[attr-defined]
        return None

    async def _publish(self, event: Event) -> None:
        await self._publish_all((event,))

    async def _publish_all(self, events: Sequence[Event]) -> None:
        deliver = self._direct_delivery()
        for event in events:
            if deliver is not None:
                deliver(event)
            elif self._event_broker is not None:
                await self._event_broker.publish(event)

    def _wants(self, event_type: type[Event]) -> bool:
        """Whether an event of this type would reach anyone (else it is not built)."""
        broker = self._event_broker
        return broker is not None and broker.has_subscribers(event_type)

    #
    # Tasks
    #

    async def add_task(self, task: Task) -> None:
        existing = self._tasks.get(task.id)
        stored = _shallow_copy(task)
        if existing is None:
            _set(stored, "running_jobs", 0)
            event: Event = TaskAdded(task_id=task.id)
        else:
            _set(stored, "running_jobs", existing.running_jobs)
            event = TaskUpdated(task_id=task.id)
        self._tasks[task.id] = stored
        if existing is not None:
            # A raised max_running_jobs may have freed slots for queued jobs
            self._schedule_queue(task.id)
        await self._publish(event)

    async def remove_task(self, task_id: str) -> None:
        if self._tasks.pop(task_id, None) is None:
            raise TaskLookupError(task_id)
        self._schedule_queue(task_id)  # no task, no limit
        await self._publish(TaskRemoved(task_id=task_id))

    async def get_task(self, task_id: str) -> Task:
        task = self._tasks.get(task_id)
        if task is None:
            raise TaskLookupError(task_id)
        return _shallow_copy(task)

    async def get_tasks(self) -> list[Task]:
        return [_shallow_copy(self._tasks[task_id]) for task_id in sorted(self._tasks)]

    #
    # Schedules
    #

    async def get_schedules(self, ids: set[str] | None = None) -> list[Schedule]:
        if ids is None:
            keys: Iterable[str] = sorted(self._schedules)
        else:
            keys = sorted(ids)
        schedules = self._schedules
        return [_copy_schedule(schedules[key]) for key in keys if key in schedules]

    async def add_schedule(self, schedule: Schedule, conflict_policy: ConflictPolicy) -> None:
        existing = self._schedules.get(schedule.id)
        if existing is not None:
            if conflict_policy is ConflictPolicy.do_nothing:
                return
            if conflict_policy is ConflictPolicy.exception:
                raise ConflictingIdError(schedule.id)
            self._unindex_schedule(existing)
        stored = _copy_schedule(schedule)
        _set(stored, "kwargs", share_empty(stored.kwargs))
        _set(stored, "metadata", share_empty(stored.metadata))
        self._schedules[stored.id] = stored
        self._schedule_ids_by_task.setdefault(stored.task_id, set()).add(stored.id)
        self._index_schedule(stored)
        event_class = ScheduleAdded if existing is None else ScheduleUpdated
        if self._wants(event_class):
            await self._publish(
                event_class(
                    schedule_id=stored.id,
                    task_id=stored.task_id,
                    next_fire_time=stored.next_fire_time,
                )
            )

    async def remove_schedules(self, ids: Iterable[str], *, finished: bool = False) -> None:
        events: list[Event] = []
        for schedule_id in ids:
            schedule = self._schedules.pop(schedule_id, None)
            if schedule is None:
                continue
            self._unindex_schedule(schedule)
            events.append(
                ScheduleRemoved(
                    schedule_id=schedule_id, task_id=schedule.task_id, finished=finished
                )
            )
        await self._publish_all(events)

    async def acquire_schedules(
        self, scheduler_id: str, lease_duration: timedelta, limit: int
    ) -> list[Schedule]:
        now = get_clock().now()
        self._expire_schedule_leases(now)
        schedules = self._schedules
        due, due_seq = self._due, self._due_seq
        candidates: list[Schedule] = []
        while due and len(candidates) < limit:
            fire_time, schedule_id, seq = due[0]
            if due_seq.get(schedule_id) != seq:
                heapq.heappop(due)
                continue
            if fire_time > now:
                break
            heapq.heappop(due)
            del due_seq[schedule_id]
            candidates.append(schedules[schedule_id])

        # Schedules this scheduler already holds are acquirable again (a restart with the
        # same identity need not wait for its own leases to run out)
        own = [
            schedules[schedule_id]
            for schedule_id in self._held_schedules.get(scheduler_id, ())
            if _is_due(schedules[schedule_id], now)
        ]
        if own:
            from_heap = candidates
            candidates = sorted(from_heap + own, key=_schedule_order)[:limit]
            chosen = {schedule.id for schedule in candidates}
            for schedule in from_heap:
                if schedule.id not in chosen:
                    self._index_schedule(schedule)  # give it back to the due heap

        if not candidates:
            return []
        token = uuid4().hex
        until = now + lease_duration
        held = self._held_schedules.setdefault(scheduler_id, set())
        acquired: list[Schedule] = []
        for schedule in candidates:
            if schedule.acquired_by is not None:
                previous = self._held_schedules.get(schedule.acquired_by)
                if previous is not None:
                    previous.discard(schedule.id)
            _set(schedule, "acquired_by", scheduler_id)
            _set(schedule, "acquired_until", until)
            _set(schedule, "lease_token", token)
            held.add(schedule.id)
            self._push(self._schedule_leases, (until, next(self._seq), schedule.id, token), None)
            acquired.append(_copy_schedule(schedule))
        return acquired

    async def release_schedules(
        self, scheduler_id: str, results: Sequence[ScheduleResult]
    ) -> list[str]:
        refused: list[str] = []
        events: list[Event] = []
        now = get_clock().now()
        want_updated = self._wants(ScheduleUpdated)
        want_added = self._wants(JobAdded)
        for result in results:
            schedule = self._schedules.get(result.schedule_id)
            if (
                schedule is None
                or schedule.lease_token is None
                or schedule.lease_token != result.lease_token
            ):
                refused.append(result.schedule_id)
                continue
            if result.jobs:
                self._insert_jobs(result.jobs)  # first: it raises on a duplicate job ID
            self._unindex_schedule(schedule, keep_task=True)
            _set(schedule, "trigger", result.trigger)
            _set(schedule, "last_fire_time", as_optional_aware_datetime(result.last_fire_time))
            _set(schedule, "next_fire_time", as_optional_aware_datetime(result.next_fire_time))
            _set(schedule, "acquired_by", None)
            _set(schedule, "acquired_until", None)
            _set(schedule, "lease_token", None)
            self._index_schedule(schedule)
            if want_updated:
                events.append(
                    ScheduleUpdated(
                        schedule_id=schedule.id,
                        task_id=schedule.task_id,
                        next_fire_time=schedule.next_fire_time,
                    )
                )
            if want_added:
                events.extend(
                    JobAdded(
                        timestamp=now,
                        job_id=job.id,
                        task_id=job.task_id,
                        schedule_id=job.schedule_id,
                    )
                    for job in result.jobs
                )

        if refused:
            events.append(LeaseLost(scheduler_id=scheduler_id, schedule_ids=refused))
        await self._publish_all(events)
        return refused

    async def get_next_schedule_run_time(self) -> datetime | None:
        self._expire_schedule_leases(get_clock().now())
        due, due_seq = self._due, self._due_seq
        while due:
            fire_time, schedule_id, seq = due[0]
            if due_seq.get(schedule_id) == seq:
                return fire_time
            heapq.heappop(due)
        return None

    async def extend_acquired_schedule_leases(
        self, scheduler_id: str, schedule_ids: set[str], duration: timedelta
    ) -> None:
        until = get_clock().now() + duration
        for schedule_id in schedule_ids:
            schedule = self._schedules.get(schedule_id)
            if (
                schedule is not None
                and schedule.acquired_by == scheduler_id
                and schedule.lease_token is not None
            ):
                _set(schedule, "acquired_until", until)
                self._index_schedule(schedule)

    # Schedule indexes

    def _index_schedule(self, schedule: Schedule) -> None:
        """(Re)file ``schedule`` in the due heap or the lease heap, per its current state."""
        schedule_id = schedule.id
        self._due_seq.pop(schedule_id, None)
        seq = next(self._seq)
        if schedule.lease_token is not None and schedule.acquired_until is not None:
            self._push(
                self._schedule_leases,
                (schedule.acquired_until, seq, schedule_id, schedule.lease_token),
                None,
            )
            if schedule.acquired_by is not None:
                self._held_schedules.setdefault(schedule.acquired_by, set()).add(schedule_id)
        elif not schedule.paused and schedule.next_fire_time is not None:
            self._due_seq[schedule_id] = seq
            self._push(self._due, (schedule.next_fire_time, schedule_id, seq), self._due_seq)
        if schedule.next_fire_time is None:
            self._exhausted.add(schedule_id)
        else:
            self._exhausted.discard(schedule_id)

    def _unindex_schedule(self, schedule: Schedule, *, keep_task: bool = False) -> None:
        schedule_id = schedule.id
        self._due_seq.pop(schedule_id, None)
        self._exhausted.discard(schedule_id)
        if schedule.acquired_by is not None:
            held = self._held_schedules.get(schedule.acquired_by)
            if held is not None:
                held.discard(schedule_id)
                if not held:
                    del self._held_schedules[schedule.acquired_by]
        if not keep_task:
            ids = self._schedule_ids_by_task.get(schedule.task_id)
            if ids is not None:
                ids.discard(schedule_id)
                if not ids:
                    del self._schedule_ids_by_task[schedule.task_id]

    def _expire_schedule_leases(self, now: datetime) -> None:
        """Make schedules whose lease ran out acquirable again."""
        leases = self._schedule_leases
        while leases and leases[0][0] <= now:
            until, _, schedule_id, token = heapq.heappop(leases)
            schedule = self._schedules.get(schedule_id)
            if (
                schedule is None
                or schedule.lease_token != token
                or schedule.acquired_until != until
            ):
                continue  # stale entry: released, re-leased or extended since
            if schedule.acquired_by is not None:
                held = self._held_schedules.get(schedule.acquired_by)
                if held is not None:
                    held.discard(schedule_id)
                    if not held:
                        del self._held_schedules[schedule.acquired_by]
            if not schedule.paused and schedule.next_fire_time is not None:
                seq = next(self._seq)
                self._due_seq[schedule_id] = seq
                self._push(self._due, (schedule.next_fire_time, schedule_id, seq), self._due_seq)

    def _push(self, heap: list[Any], entry: tuple[Any, ...], live: Any) -> None:
        """Push onto a lazily-deleted heap, rebuilding it when mostly stale."""
        heapq.heappush(heap, entry)
        if len(heap) > 2 * len(self._schedules) + _COMPACT_SLACK:
            if heap is self._due:
                heap[:] = [item for item in heap if live.get(item[1]) == item[2]]
            else:
                heap[:] = [item for item in heap if self._lease_entry_is_live(item)]
            heapq.heapify(heap)

    def _lease_entry_is_live(self, entry: tuple[datetime, int, str, str]) -> bool:
        schedule = self._schedules.get(entry[2])
        return (
            schedule is not None
            and schedule.lease_token == entry[3]
            and schedule.acquired_until == entry[0]
        )

    #
    # Jobs
    #

    async def add_jobs(self, jobs: Sequence[Job]) -> None:
        self._insert_jobs(jobs)
        if self._wants(JobAdded):
            now = get_clock().now()
            await self._publish_all(
                [
                    JobAdded(
                        timestamp=now,
                        job_id=job.id,
                        task_id=job.task_id,
                        schedule_id=job.schedule_id,
                    )
                    for job in jobs
                ]
            )

    def _insert_jobs(self, jobs: Sequence[Job]) -> None:
        """Insert a batch of jobs, all or none (a duplicate ID rejects the batch)."""
        stored = self._jobs
        for index, job in enumerate(jobs):
            if job.id in stored:  # also catches a duplicate within the batch
                for inserted in jobs[:index]:
                    del stored[inserted.id]
                raise ValueError(f"A job with the ID {job.id} already exists")
            stored[job.id] = job

        queues, counts, seq = self._queues, self._job_counts_by_schedule, self._seq
        for job in jobs:
            if job.lease_token is not None or job.acquired_by is not None:
                _set(job, "acquired_by", None)  # a new job is never leased
                _set(job, "acquired_until", None)
                _set(job, "lease_token", None)
            entry = (job.created_at, next(seq), job)
            queue = queues.get(job.task_id)
            if queue is None:
                queue = queues[job.task_id] = _TaskQueue()
            queue.push(entry)
            if not queue.scheduled:
                self._schedule_queue(job.task_id)
            elif entry[0] < queue.key:  # type: ignore[operator]
                # Older than the queue's head (seq breaks ties in favour of the head)
                self._schedule_queue(job.task_id, force=True)
            if job.schedule_id is not None:
                counts[job.schedule_id] = counts.get(job.schedule_id, 0) + 1
            if job.start_deadline is not None:
                heapq.heappush(self._deadlines, (job.start_deadline, entry[1], job))
        if len(self._deadlines) > 2 * len(stored) + _COMPACT_SLACK:
            self._deadlines[:] = [item for item in self._deadlines if self._is_queued(item[2])]
            heapq.heapify(self._deadlines)

    async def get_jobs(self, ids: Iterable[UUID] | None = None) -> list[Job]:
        if ids is None:
            jobs: Iterable[Job] = self._jobs.values()
        else:
            stored = self._jobs
            jobs = [stored[job_id] for job_id in dict.fromkeys(ids) if job_id in stored]
        # sorted() is stable and the dict keeps insertion order: this is hand-out order
        return [_shallow_copy(job) for job in sorted(jobs, key=_created_at)]

    async def remove_jobs(self, ids: Iterable[UUID]) -> list[UUID]:
        removed: list[UUID] = []
        events: list[Event] = []
        for job_id in ids:
            job = self._jobs.get(job_id)
            if job is None or job.acquired_by is not None:
                continue
            self._forget_job(job)
            removed.append(job_id)
            events.append(JobRemoved(job_id=job_id, task_id=job.task_id))
        await self._publish_all(events)
        return removed

    async def acquire_jobs(
        self, scheduler_id: str, lease_duration: timedelta, limit: int | None = None
    ) -> list[Job]:
        now = get_clock().now()
        events: list[Event] = []
        self._abandon_expired_leases(now, events)
        self._release_missed_deadlines(now, scheduler_id, events)

        stored, tasks, queues, ready = self._jobs, self._tasks, self._queues, self._ready
        token = uuid4().hex
        until = now + lease_duration
        acquired: list[Job] = []
        while ready and (limit is None or len(acquired) < limit):
            _, key_seq, task_id, version = ready[0]
            queue = queues[task_id]
            if queue.version != version:
                heapq.heappop(ready)
                continue
            head = queue.head()
            if queue.stale:
                while head is not None and stored.get(head[2].id) is not head[2]:
                    queue.pop_head()  # removed since it was queued
                    queue.stale -= 1
                    head = queue.head()
            if head is None:
                heapq.heappop(ready)
                queue.scheduled = False
                continue
            if head[1] != key_seq:
                # The entry's key was only a lower bound: refile and look again
                queue.key = head[0]
                heapq.heapreplace(ready, (head[0], head[1], task_id, version))
                continue

            job = head[2]
            deadline = job.start_deadline
            if deadline is not None and deadline < now:
                self._forget_job(job, queued=False)
                self._finish(job, JobOutcome.missed_start_deadline, now, scheduler_id, events)
            else:
                task = tasks.get(task_id)
                if task is not None:
                    max_jobs = task.max_running_jobs
                    running = task.running_jobs
                    if max_jobs is not None and running >= max_jobs:
                        # No free slot: the task waits outside the heap until one frees up
                        heapq.heappop(ready)
                        queue.scheduled = False
                        continue
                    _set(task, "running_jobs", running + 1)
                _set(job, "acquired_by", scheduler_id)
                _set(job, "acquired_until", until)
                _set(job, "lease_token", token)
                acquired.append(job)

            # Refile the queue under its new head right away
            queue.pop_head()
            head = queue.head()
            if head is None:
                heapq.heappop(ready)
                queue.scheduled = False
            else:
                queue.key = head[0]
                heapq.heapreplace(ready, (head[0], head[1], task_id, version))

        if acquired:
            batch = _LeaseBatch(until, acquired.copy())
            self._push_lease_batch(batch)
            by_id = self._acquired
            want_acquired = self._wants(JobAcquired)
            for job in acquired:
                by_id[job.id] = batch
                if want_acquired:
                    events.append(
                        JobAcquired(
                            timestamp=now,
                            job_id=job.id,
                            scheduler_id=scheduler_id,
                            task_id=job.task_id,
                            schedule_id=job.schedule_id,
                            scheduled_start=job.scheduled_fire_time,
                        )
                    )
        await self._publish_all(events)
        return acquired

    async def release_jobs(
        self, scheduler_id: str, releases: Sequence[tuple[Job, JobResult]]
    ) -> list[UUID]:
        stored, tasks, acquired = self._jobs, self._tasks, self._acquired
        refused: list[UUID] = []
        events: list[Event] = []
        want_released = self._wants(JobReleased)
        for job, result in releases:
            job_id = job.id
            current = stored.get(job_id)
            if (
                current is None
                or current.lease_token is None
                or current.lease_token != job.lease_token
            ):
                refused.append(job_id)
                continue
            del stored[job_id]
            batch = acquired.pop(job_id, None)
            if batch is not None:
                self._drop_from_batch(batch)
                task = tasks.get(current.task_id)
                if task is not None and task.running_jobs > 0:
                    _set(task, "running_jobs", task.running_jobs - 1)
                    if not self._queues[current.task_id].scheduled:
                        self._schedule_queue(current.task_id)
            if current.schedule_id is not None:
                self._discount_schedule_job(current.schedule_id)
            if result.expires_at > result.finished_at:
                self._store_result(result)
            if want_released:
                events.append(
                    JobReleased.from_result(
                        result,
                        scheduler_id,
                        current.task_id,
                        current.schedule_id,
                        current.scheduled_fire_time,
                    )
                )
        if refused:
            events.append(LeaseLost(scheduler_id=scheduler_id, job_ids=tuple(refused)))
        await self._publish_all(events)
        return refused

    async def get_job_result(self, job_id: UUID) -> JobResult | None:
        result = self._results.get(job_id)
        if result is None or result.expires_at <= get_clock().now():
            return None
        return result

    async def extend_acquired_job_leases(
        self, scheduler_id: str, job_ids: set[UUID], duration: timedelta
    ) -> None:
        until = get_clock().now() + duration
        extended: list[Job] = []
        for job_id in job_ids:
            job = self._jobs.get(job_id)
            if job is None or job.acquired_by != scheduler_id or job_id not in self._acquired:
                continue
            _set(job, "acquired_until", until)
            extended.append(job)
        if extended:
            batch = _LeaseBatch(until, extended)
            for job in extended:
                self._drop_from_batch(self._acquired[job.id])
                self._acquired[job.id] = batch
            self._push_lease_batch(batch)

    async def reap_abandoned_jobs(self, scheduler_id: str) -> None:
        now = get_clock().now()
        events: list[Event] = []
        stored = self._jobs
        for job_id in list(self._acquired):
            job = stored[job_id]
            if job.acquired_by == scheduler_id:
                self._abandon(job, now, events)
        await self._publish_all(events)

    async def cleanup(self) -> None:
        now = get_clock().now()
        events: list[Event] = []

        # Expired results
        results, expiry = self._results, self._result_expiry
        while expiry and expiry[0][0] <= now:
            expires_at, _, job_id = heapq.heappop(expiry)
            result = results.get(job_id)
            if result is not None and result.expires_at == expires_at:
                del results[job_id]

        # Jobs whose lease ran out
        self._abandon_expired_leases(now, events)

        # Exhausted schedules with no jobs left
        finished: list[Schedule] = []
        for schedule_id in list(self._exhausted):
            schedule = self._schedules.get(schedule_id)
            if schedule is None or schedule.next_fire_time is not None:
                self._exhausted.discard(schedule_id)
            elif not self._job_counts_by_schedule.get(schedule_id):
                finished.append(schedule)
        for schedule in finished:
            del self._schedules[schedule.id]
            self._unindex_schedule(schedule)
            events.append(
                ScheduleRemoved(schedule_id=schedule.id, task_id=schedule.task_id, finished=True)
            )
        await self._publish_all(events)

    # Job internals

    def _is_queued(self, job: Job) -> bool:
        return self._jobs.get(job.id) is job and job.acquired_by is None

    def _schedule_queue(self, task_id: str, *, force: bool = False) -> None:
        """Put the task's queue in the ready heap (again) if it has jobs waiting."""
        queue = self._queues.get(task_id)
        if queue is None or (queue.scheduled and not force):
            return
        head = queue.head()
        if head is None:
            queue.scheduled = False
            return
        queue.version += 1
        queue.scheduled = True
        queue.key = head[0]
        heapq.heappush(self._ready, (head[0], head[1], task_id, queue.version))
        if len(self._ready) > 2 * len(self._queues) + _COMPACT_SLACK:
            self._ready[:] = [
                item for item in self._ready if self._queues[item[2]].version == item[3]
            ]
            heapq.heapify(self._ready)

    def _forget_job(self, job: Job, *, queued: bool = True) -> None:
        """Delete a job that is not acquired, with its index entries. ``queued``: its
        entry is still in its task's queue (and becomes stale there)."""
        del self._jobs[job.id]
        if job.schedule_id is not None:
            self._discount_schedule_job(job.schedule_id)
        if queued:
            queue = self._queues[job.task_id]
            queue.stale += 1
            if queue.stale > _COMPACT_SLACK and queue.stale * 2 > len(queue):
                queue.compact(self._is_queued)

    def _discount_schedule_job(self, schedule_id: str) -> None:
        counts = self._job_counts_by_schedule
        remaining = counts.get(schedule_id, 0) - 1
        if remaining > 0:
            counts[schedule_id] = remaining
        else:
            counts.pop(schedule_id, None)

    def _store_result(self, result: JobResult) -> None:
        self._results[result.job_id] = result
        heapq.heappush(self._result_expiry, (result.expires_at, next(self._seq), result.job_id))

    def _push_lease_batch(self, batch: _LeaseBatch) -> None:
        self._live_batches += 1
        leases = self._job_leases
        heapq.heappush(leases, (batch.until, next(self._seq), batch))
        if len(leases) > 2 * self._live_batches + _COMPACT_SLACK:
            leases[:] = [item for item in leases if item[2].live > 0]
            heapq.heapify(leases)

    def _drop_from_batch(self, batch: _LeaseBatch) -> None:
        batch.live -= 1
        if batch.live == 0:
            batch.jobs = []
            self._live_batches -= 1

    def _abandon_expired_leases(self, now: datetime, events: list[Event]) -> None:
        """Release the jobs whose lease ran out as ``abandoned`` (never run them again)."""
        leases = self._job_leases
        while leases and leases[0][0] <= now:
            batch = heapq.heappop(leases)[2]
            for job in batch.jobs:
                if self._acquired.get(job.id) is batch:
                    self._abandon(job, now, events)

    def _release_missed_deadlines(
        self, now: datetime, scheduler_id: str, events: list[Event]
    ) -> None:
        """Release queued jobs past their start deadline, including those of tasks that
        have no free slot (they never reach the head of the ready heap)."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] < now:
            job = heapq.heappop(deadlines)[2]
            if self._is_queued(job):
                self._forget_job(job)
                self._finish(job, JobOutcome.missed_start_deadline, now, scheduler_id, events)

    def _abandon(self, job: Job, now: datetime, events: list[Event]) -> None:
        """Release an acquired job whose holder is gone, giving back its task slot."""
        del self._jobs[job.id]
        self._drop_from_batch(self._acquired.pop(job.id))
        task = self._tasks.get(job.task_id)
        if task is not None and task.running_jobs > 0:
            _set(task, "running_jobs", task.running_jobs - 1)
            self._schedule_queue(job.task_id)
        if job.schedule_id is not None:
            self._discount_schedule_job(job.schedule_id)
        self._finish(job, JobOutcome.abandoned, now, job.acquired_by or "", events)

    def _finish(
        self,
        job: Job,
        outcome: JobOutcome,
        now: datetime,
        scheduler_id: str,
        events: list[Event],
    ) -> None:
        """Record the result of a job the store released by itself, and its event."""
        result = JobResult.from_job(job, outcome, finished_at=now)
        if result.should_be_stored:
            self._store_result(result)
        events.append(
            JobReleased.from_result(
                result,
                scheduler_id,
                job.task_id,
                job.schedule_id,
                job.scheduled_fire_time,
            )
        )


def _is_due(schedule: Schedule, now: datetime) -> bool:
    return (
        not schedule.paused
        and schedule.next_fire_time is not None
        and schedule.next_fire_time <= now
    )


def _schedule_order(schedule: Schedule) -> tuple[datetime, str]:
    return (schedule.next_fire_time, schedule.id)  # type: ignore[return-value]


def _created_at(job: Job) -> datetime:
    return job.created_at
