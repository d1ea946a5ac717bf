"""Abstract interfaces that triggers, serializers, data stores, event brokers and job
executors implement. Plugins subclass these; the conformance kit in
:mod:`apscheduler.testing` checks that an implementation keeps the contracts.
"""

from __future__ import annotations

import copy
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from logging import Logger
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from ._enums import ConflictPolicy
    from ._events import Event
    from ._structures import Job, JobResult, Schedule, ScheduleResult, Task


class Trigger(Iterator[datetime], metaclass=ABCMeta):
    """Computes the fire times of a schedule, one at a time.

    Contract: :meth:`next` returns aware datetimes in strictly increasing order, or
    ``None`` when there are no more; ``__setstate__(__getstate__())`` restores an
    equivalent trigger, and the state holds only JSON-compatible values plus aware
    datetimes, dates and timedeltas.
    """

    __slots__ = ()

    @abstractmethod
    def next(self) -> datetime | None:
        """Return the next fire time and advance, or ``None`` if there are no more."""

    @abstractmethod
    def __getstate__(self) -> Any:
        """Return the trigger's state (configuration plus progress)."""

    @abstractmethod
    def __setstate__(self, state: Any) -> None:
        """Restore the state returned by :meth:`__getstate__`."""

    def __iter__(self) -> Iterator[datetime]:
        return self

    def __next__(self) -> datetime:
        value = self.next()
        if value is None:
            raise StopIteration
        return value

    def preview(self, count: int = 10) -> list[datetime]:
        """Return up to ``count`` upcoming fire times without advancing this trigger."""
        clone = copy.deepcopy(self)
        result: list[datetime] = []
        while len(result) < count:
            value = clone.next()
            if value is None:
                break
            result.append(value)
        return result


class Serializer(metaclass=ABCMeta):
    """Turns objects into bytes and back, for data stores and external event brokers."""

    __slots__ = ()

    #: The registered name of the serializer (``"json"``, ``"pickle"``...), used in errors.
    name: str = ""

    @abstractmethod
    def serialize(self, obj: Any) -> bytes:
        """Raise :class:`~apscheduler.SerializationError` naming the offending type."""

    @abstractmethod
    def deserialize(self, serialized: bytes) -> Any:
        """Raise :class:`~apscheduler.DeserializationError` on bad input."""


class Subscription(metaclass=ABCMeta):
    """A listener registration; :meth:`unsubscribe` is idempotent."""

    @abstractmethod
    def unsubscribe(self) -> None:
        """Stop delivering events to this subscription's callback."""

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.unsubscribe()


class EventBroker(metaclass=ABCMeta):
    """Delivers events to subscribers in this process and, for external brokers, to the
    other processes sharing it."""

    @abstractmethod
    async def start(self, exit_stack: AsyncExitStack, logger: Logger) -> None:
        """Start background work and register its cleanup on ``exit_stack``."""

    @abstractmethod
    async def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber, in this process and elsewhere."""

    @abstractmethod
    async def publish_local(self, event: Event) -> None:
        """Deliver ``event`` to the subscribers in this process only."""

    @abstractmethod
    def subscribe(
        self,
        callback: Callable[[Event], Any],
        event_types: type[Event] | str | Iterable[type[Event] | str] | None = None,
        *,
        is_async: bool = True,
        one_shot: bool = False,
    ) -> Subscription:
        """Register ``callback`` for ``event_types``: classes or their names (``None`` = all
        events); unknown names raise ``ValueError``.

        ``is_async=False`` runs a synchronous callback in a worker thread. Each
        subscription has its own delivery queue, so a slow listener delays only itself.
        """

    def has_subscribers(self, event_type: type[Event]) -> bool:
        """Whether publishing an event of ``event_type`` could reach anyone.

        Publishers may skip building the event when this is ``False``. The default is
        ``True``; a broker that relays events to other processes must keep it so.
        """
        return True


class DataStore(metaclass=ABCMeta):
    """Keeps tasks, schedules, jobs and job results, shared by any number of schedulers.

    Designed for the hardest backend (SQL shared by many processes):

    * Work is handed out under **leases**: ``acquire_*`` sets ``acquired_by``,
      ``acquired_until`` and a fresh ``lease_token`` on each item. Leases are renewed with
      ``extend_*_leases``; an item whose lease ran out can be acquired by someone else.
    * **Fencing**: a release is applied only if the item still carries the releasing
      scheduler's ``lease_token``. Refused releases are reported (``LeaseLost`` event and
      the return value), never half-applied.
    * **Batches**: many jobs are added, acquired and released per call, so a SQL store
      does one transaction per batch, not per job. Jobs produced by a schedule's fire
      times are inserted in the same transaction that advances the schedule.
    * Events are published after the data is committed.
    """

    #: ``False`` for stores whose contents live only in this process (the memory store):
    #: they may hold tasks whose callable has no importable reference (a lambda).
    persistent: bool = True

    @abstractmethod
    async def start(
        self, exit_stack: AsyncExitStack, event_broker: EventBroker, logger: Logger
    ) -> None:
        """Connect, create or migrate the schema, and remember the broker for publishing."""

    # Tasks

    @abstractmethod
    async def add_task(self, task: Task) -> None:
        """Insert or update a task (never touching ``running_jobs``); publish
        ``TaskAdded`` or ``TaskUpdated``."""

    @abstractmethod
    async def remove_task(self, task_id: str) -> None:
        """Delete a task; ``TaskLookupError`` if missing; publish ``TaskRemoved``."""

    @abstractmethod
    async def get_task(self, task_id: str) -> Task:
        """Return the task; ``TaskLookupError`` if missing."""

    @abstractmethod
    async def get_tasks(self) -> list[Task]:
        """Return all tasks sorted by ID."""

    # Schedules

    @abstractmethod
    async def get_schedules(self, ids: set[str] | None = None) -> list[Schedule]:
        """Return the schedules with the given IDs (``None`` = all), sorted by ID.

        A schedule that cannot be deserialized is skipped and reported with a
        ``ScheduleDeserializationFailed`` event; it never breaks the listing.
        """

    @abstractmethod
    async def add_schedule(self, schedule: Schedule, conflict_policy: ConflictPolicy) -> None:
        """Insert a schedule; on an existing ID apply ``conflict_policy``: ``do_nothing``,
        ``exception`` (``ConflictingIdError``) or ``replace`` (publishes
        ``ScheduleUpdated``). New schedules publish ``ScheduleAdded``."""

    @abstractmethod
    async def remove_schedules(self, ids: Iterable[str], *, finished: bool = False) -> None:
        """Delete the listed schedules that exist; publish ``ScheduleRemoved`` for each."""

    @abstractmethod
    async def acquire_schedules(
        self, scheduler_id: str, lease_duration: timedelta, limit: int
    ) -> list[Schedule]:
        """Lease up to ``limit`` due (``next_fire_time <= now``), unpaused schedules that are
        not leased by someone else (or whose lease expired), earliest first."""

    @abstractmethod
    async def release_schedules(
        self, scheduler_id: str, results: Sequence[ScheduleResult]
    ) -> list[str]:
        """Apply each result whose ``lease_token`` still matches: store the trigger state,
        ``last_fire_time`` and ``next_fire_time``, insert its ``jobs``, clear the lease,
        and publish ``ScheduleUpdated`` + ``JobAdded``. Return the IDs of the schedules
        whose release was refused (lease lost); publish ``LeaseLost`` for them."""

    @abstractmethod
    async def get_next_schedule_run_time(self) -> datetime | None:
        """Earliest ``next_fire_time`` among unpaused schedules not leased by anyone
        (or whose lease expired); ``None`` if there are none."""

    @abstractmethod
    async def extend_acquired_schedule_leases(
        self, scheduler_id: str, schedule_ids: set[str], duration: timedelta
    ) -> None:
        """Set ``acquired_until = now + duration`` on the listed schedules this scheduler
        holds."""

    # Jobs

    @abstractmethod
    async def add_jobs(self, jobs: Sequence[Job]) -> None:
        """Insert jobs in one batch; publish ``JobAdded`` for each."""

    async def add_job(self, job: Job) -> None:
        """Insert one job (see :meth:`add_jobs`)."""
        await self.add_jobs([job])

    @abstractmethod
    async def get_jobs(self, ids: Iterable[UUID] | None = None) -> list[Job]:
        """Return queued and running jobs in the order they are handed out (FIFO)."""

    @abstractmethod
    async def remove_jobs(self, ids: Iterable[UUID]) -> list[UUID]:
        """Delete the listed jobs that are **not** currently acquired; publish
        ``JobRemoved``; return the IDs removed."""

    @abstractmethod
    async def acquire_jobs(
        self, scheduler_id: str, lease_duration: timedelta, limit: int | None = None
    ) -> list[Job]:
        """Lease up to ``limit`` runnable jobs, oldest first.

        Jobs past their ``start_deadline`` or that cannot be deserialized are released at
        once (outcomes ``missed_start_deadline`` / ``deserialization_failed``). A task's
        ``max_running_jobs`` is honoured against ``running_jobs``; jobs without a free
        slot stay queued. Jobs whose previous lease expired are released as
        ``abandoned`` (giving back their slot) rather than run twice. Publishes
        ``JobAcquired`` for each job handed out.
        """

    @abstractmethod
    async def release_jobs(
        self, scheduler_id: str, releases: Sequence[tuple[Job, JobResult]]
    ) -> list[UUID]:
        """For each (job, result) whose ``lease_token`` still matches: store the result if
        it is kept (``expires_at > finished_at``), give back the task's running-job slot,
        delete the job, and publish ``JobReleased``. Return the IDs refused (lease lost)."""

    async def release_job(self, scheduler_id: str, job: Job, result: JobResult) -> None:
        """Release one job (see :meth:`release_jobs`)."""
        await self.release_jobs(scheduler_id, [(job, result)])

    @abstractmethod
    async def get_job_result(self, job_id: UUID) -> JobResult | None:
        """Return the stored result, or ``None``; results stay readable until expiry."""

    @abstractmethod
    async def extend_acquired_job_leases(
        self, scheduler_id: str, job_ids: set[UUID], duration: timedelta
    ) -> None:
        """Set ``acquired_until = now + duration`` on the listed jobs this scheduler holds."""

    @abstractmethod
    async def reap_abandoned_jobs(self, scheduler_id: str) -> None:
        """Release every job still leased by ``scheduler_id`` (left over from a previous
        run with the same identity) with outcome ``abandoned``."""

    @abstractmethod
    async def cleanup(self) -> None:
        """Purge expired results; release jobs whose lease expired as ``abandoned``;
        delete exhausted schedules (``next_fire_time`` is ``None``) that have no jobs left,
        publishing ``ScheduleRemoved(finished=True)``."""


class JobExecutor(metaclass=ABCMeta):
    """Runs a job's callable: on the event loop, in a thread, in a process..."""

    async def start(self, exit_stack: AsyncExitStack) -> None:  # noqa: B027 - optional hook
        """Start pools or background work; register cleanup on ``exit_stack``."""

    @abstractmethod
    async def run_job(self, func: Callable[..., Any], job: Job) -> Any:
        """Call ``func(*job.args, **job.kwargs)`` (awaiting it if needed) and return the
        value. ``current_job`` must be set to ``job`` while the function runs."""

    def check_job_arguments(  # noqa: B027 - optional hook, accepting everything
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Raise ``SerializationError`` early if this executor cannot pass these arguments
        to ``func`` (for example, when they cannot cross a process boundary).

        Called by ``add_job``/``add_schedule``; the default accepts everything.
        """
