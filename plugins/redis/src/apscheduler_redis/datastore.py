"""A data store that keeps tasks, schedules, jobs and results in Redis.

Many schedulers and workers can share one Redis server safely: every operation that reads
and changes shared state is a single Lua script (see :mod:`apscheduler_redis._scripts`),
which Redis runs atomically. Leases carry fencing tokens, so a scheduler whose lease ran
out and was taken over can neither release nor fire the item twice.

Due schedules and runnable jobs are kept in sorted sets, so acquiring work costs in
proportion to the batch, not to what is stored. "Now" always comes from the caller's clock
(:func:`apscheduler._clock.get_clock` semantics through the public API), passed into the
scripts; the store never reads the Redis server's clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from logging import Logger
from typing import Any
from uuid import UUID, uuid4

from apscheduler import (
    ConflictingIdError,
    ConflictPolicy,
    Event,
    Job,
    JobAcquired,
    JobAdded,
    JobDeserializationFailed,
    JobOutcome,
    JobReleased,
    JobRemoved,
    JobResult,
    LeaseLost,
    RetrySettings,
    Schedule,
    ScheduleAdded,
    ScheduleDeserializationFailed,
    ScheduleRemoved,
    ScheduleResult,
    ScheduleUpdated,
    Task,
    TaskAdded,
    TaskLookupError,
    TaskRemoved,
    TaskUpdated,
)
from apscheduler.abc import EventBroker, Serializer
from apscheduler.datastores.base import BaseExternalDataStore
from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ._client import client_from_url, describe_client
from ._codec import (
    JOB_VOLATILE,
    SCHEDULE_VOLATILE,
    dump_document,
    from_us,
    load_document,
    raw,
    text,
    us_str,
    without,
)
from ._scripts import SCRIPTS

_ARGS = ("args", "kwargs")
_RESULT_BINARY = ("exception", "return_value")
#: Lease taken on jobs the store releases by itself, between its two script calls.
_TAKEOVER_LEASE = timedelta(minutes=1)


def _now() -> datetime:
    # The core's clock (swappable in tests with use_clock()).
    from apscheduler._clock import get_clock

    return get_clock().now()


class RedisDataStore(BaseExternalDataStore):
    """Keeps tasks, schedules, jobs and job results in Redis.

    :param client_or_url: a ``redis.asyncio.Redis`` client (without
        ``decode_responses=True``), or a URL (``redis://[:password@]host[:port][/db]``,
        ``rediss://`` for TLS, ``unix:///path``). A client created from a URL is closed
        when the store stops; a client passed in is left open.
    :param prefix: prefix of every key the store uses; stores with different prefixes
        on one server are independent
    :param serializer: serializes triggers, arguments and results (JSON by default;
        ``"pickle"`` trusts whoever can write to Redis)
    :param start_from_scratch: delete everything under ``prefix`` when the store starts
    :param retry_settings: how long and how often operations are retried when Redis is
        unreachable
    :param client_options: extra keyword arguments for ``Redis.from_url`` (URL only)
    """

    _temporary_failure_exceptions = (RedisConnectionError, RedisTimeoutError, OSError)

    def __init__(
        self,
        client_or_url: Redis | str = "redis://localhost:6379",
        *,
        prefix: str = "apscheduler",
        serializer: Serializer | str | None = None,
        start_from_scratch: bool = False,
        retry_settings: RetrySettings | None = None,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(serializer=serializer, retry_settings=retry_settings)
        if not prefix:
            raise ValueError("prefix must be a non-empty string")
        if isinstance(client_or_url, str):
            self._client = client_from_url(client_or_url, client_options)
            self._owns_client = True
        elif isinstance(client_or_url, Redis):
            if client_options:
                raise TypeError("client_options can only be given with a URL")
            if client_or_url.connection_pool.connection_kwargs.get("decode_responses"):
                raise ValueError(
                    "RedisDataStore needs a client without decode_responses=True "
                    "(stored triggers and arguments may be binary)"
                )
            self._client = client_or_url
            self._owns_client = False
        else:
            raise TypeError(
                f"Expected a redis.asyncio.Redis client or a URL, got {type(client_or_url)!r}"
            )
        self.prefix = prefix
        self.start_from_scratch = start_from_scratch
        self._scripts: dict[str, AsyncScript] = {
            name: self._client.register_script(source) for name, source in SCRIPTS.items()
        }

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisDataStore:
        """Create a store from a Redis URL; ``options`` are the constructor's keyword
        arguments (``prefix=``, ``serializer=``...)."""
        return cls(url, **options)

    @property
    def client(self) -> Redis:
        """The redis-py client the store uses."""
        return self._client

    def __repr__(self) -> str:
        where = describe_client(self._client)
        return f"{type(self).__name__}({where!r}, prefix={self.prefix!r})"

    async def start(
        self, exit_stack: AsyncExitStack, event_broker: EventBroker, logger: Logger
    ) -> None:
        """Check that Redis answers (raising if it does not) and optionally wipe the
        store's keys."""
        await super().start(exit_stack, event_broker, logger)
        if self._owns_client:
            exit_stack.push_async_callback(self._client.aclose)
        await self._with_retry(self._client.ping)
        if self.start_from_scratch:
            await self._with_retry(self.clear)

    async def clear(self) -> None:
        """Delete every key of this store (everything under ``prefix + ":"``)."""
        pattern = self.prefix.replace("\\", "\\\\")
        for char in "*?[]":
            pattern = pattern.replace(char, "\\" + char)
        batch: list[bytes] = []
        async for key in self._client.scan_iter(match=f"{pattern}:*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                await self._client.delete(*batch)
                batch.clear()
        if batch:
            await self._client.delete(*batch)

    # Plumbing

    async def _run(self, name: str, *args: Any, now: datetime | None = None) -> Any:
        """Run a script with the prefix and "now" in front of ``args``, retrying on
        connection errors."""
        argv = [self.prefix, us_str(now or _now()), *args]
        script = self._scripts[name]
        return await self._with_retry(lambda: script(args=argv))

    async def _publish_all(self, events: Iterable[Event]) -> None:
        for event in events:
            await self._publish(event)

    # Tasks

    async def add_task(self, task: Task) -> None:
        doc = dump_document(without(task.marshal(), ("running_jobs",)))
        limit = "" if task.max_running_jobs is None else str(task.max_running_jobs)
        existed = await self._run("add_task", task.id, doc, limit)
        event = TaskUpdated(task_id=task.id) if existed else TaskAdded(task_id=task.id)
        await self._publish(event)

    async def remove_task(self, task_id: str) -> None:
        if not await self._run("remove_task", task_id):
            raise TaskLookupError(task_id)
        await self._publish(TaskRemoved(task_id=task_id))

    async def get_task(self, task_id: str) -> Task:
        async def fetch() -> list[Any]:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hget(self._key("tasks"), task_id)
                pipe.hget(self._key("task_running"), task_id)
                return await pipe.execute()

        doc, running = await self._with_retry(fetch)
        if doc is None:
            raise TaskLookupError(task_id)
        return self._load_task(doc, running)

    async def get_tasks(self) -> list[Task]:
        async def fetch() -> list[Any]:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hgetall(self._key("tasks"))
                pipe.hgetall(self._key("task_running"))
                return await pipe.execute()

        docs, running = await self._with_retry(fetch)
        tasks = [self._load_task(doc, running.get(task_id)) for task_id, doc in docs.items()]
        return sorted(tasks, key=lambda task: task.id)

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    @staticmethod
    def _load_task(doc: bytes, running: bytes | None) -> Task:
        data = load_document(doc)
        data["running_jobs"] = int(running or 0)
        return Task.unmarshal(data)

    # Schedules

    def _schedule_args(self, schedule: Schedule) -> list[str | bytes]:
        marshalled = schedule.marshal(self.serializer)
        doc = dump_document(without(marshalled, SCHEDULE_VOLATILE), _ARGS)
        times = json.dumps([marshalled["next_fire_time"], marshalled["last_fire_time"]])
        return [doc, marshalled["trigger"], times, us_str(schedule.next_fire_time)]

    def _load_schedule(self, row: list[Any]) -> Schedule:
        schedule_id, doc, trigger, times, owner, token, until = row
        data = load_document(doc, _ARGS)
        next_fire_time, last_fire_time = json.loads(times)
        data.update(
            trigger=raw(trigger),
            next_fire_time=next_fire_time,
            last_fire_time=last_fire_time,
            acquired_by=text(owner) or None,
            lease_token=text(token) or None,
            acquired_until=from_us(until) if until else None,
        )
        return Schedule.unmarshal(self.serializer, data)

    def _load_schedules(self, rows: list[Any], events: list[Event]) -> list[Schedule]:
        schedules: list[Schedule] = []
        for row in rows:
            try:
                schedules.append(self._load_schedule(row))
            except Exception as exc:
                schedule_id = text(row[0])
                self._logger.error(
                    "Skipping schedule %r: it cannot be deserialized: %s", schedule_id, exc
                )
                events.append(
                    ScheduleDeserializationFailed(
                        schedule_id=schedule_id, exception=f"{type(exc).__name__}: {exc}"
                    )
                )
        return schedules

    async def get_schedules(self, ids: set[str] | None = None) -> list[Schedule]:
        if ids is not None and not ids:
            return []
        args = ["1"] if ids is None else ["0", *ids]
        rows = await self._run("get_schedules", *args)
        events: list[Event] = []
        schedules = self._load_schedules(rows, events)
        await self._publish_all(events)
        return sorted(schedules, key=lambda schedule: schedule.id)

    async def add_schedule(self, schedule: Schedule, conflict_policy: ConflictPolicy) -> None:
        doc, trigger, times, nft = self._schedule_args(schedule)
        leased = schedule.lease_token is not None and schedule.acquired_until is not None
        outcome = text(
            await self._run(
                "add_schedule",
                schedule.id,
                schedule.task_id,
                doc,
                trigger,
                times,
                nft,
                "1" if schedule.paused else "0",
                conflict_policy.name,
                (schedule.acquired_by or "") if leased else "",
                (schedule.lease_token or "") if leased else "",
                us_str(schedule.acquired_until) if leased else "",
            )
        )
        if outcome == "exists":
            if conflict_policy is ConflictPolicy.exception:
                raise ConflictingIdError(schedule.id)
            return
        event_class = ScheduleAdded if outcome == "added" else ScheduleUpdated
        await self._publish(
            event_class(
                schedule_id=schedule.id,
                task_id=schedule.task_id,
                next_fire_time=schedule.next_fire_time,
            )
        )

    async def remove_schedules(self, ids: Iterable[str], *, finished: bool = False) -> None:
        ids = list(ids)
        if not ids:
            return
        removed = await self._run("remove_schedules", *ids)
        await self._publish_all(
            ScheduleRemoved(schedule_id=text(sid), task_id=text(tid), finished=finished)
            for sid, tid in removed
        )

    async def acquire_schedules(
        self, scheduler_id: str, lease_duration: timedelta, limit: int
    ) -> list[Schedule]:
        if limit <= 0:
            return []
        now = _now()
        token = uuid4().hex
        rows = await self._run(
            "acquire_schedules",
            scheduler_id,
            token,
            us_str(now + lease_duration),
            limit,
            now=now,
        )
        # A schedule that cannot be read stays leased until its lease runs out, so it is
        # retried (and reported) once per lease period instead of on every loop.
        events: list[Event] = []
        schedules = self._load_schedules(rows, events)
        await self._publish_all(events)
        return schedules

    async def release_schedules(
        self, scheduler_id: str, results: Sequence[ScheduleResult]
    ) -> list[str]:
        if not results:
            return []
        args: list[Any] = [len(results)]
        for result in results:
            times = json.dumps(
                [
                    result.next_fire_time.isoformat() if result.next_fire_time else None,
                    result.last_fire_time.isoformat() if result.last_fire_time else None,
                ]
            )
            args += [
                result.schedule_id,
                result.lease_token or "",
                self.serializer.serialize(result.trigger),
                times,
                us_str(result.next_fire_time),
                len(result.jobs),
            ]
            for job in result.jobs:
                args += self._job_args(job)
        refused_raw = await self._run("release_schedules", *args)
        refused = [text(schedule_id) for schedule_id in refused_raw]

        refused_set = set(refused)
        events: list[Event] = []
        for result in results:
            if result.schedule_id in refused_set:
                continue
            events.append(
                ScheduleUpdated(
                    schedule_id=result.schedule_id,
                    task_id=result.task_id,
                    next_fire_time=result.next_fire_time,
                )
            )
            events.extend(
                JobAdded(job_id=job.id, task_id=job.task_id, schedule_id=job.schedule_id)
                for job in result.jobs
            )
        if refused:
            self._logger.warning(
                "Scheduler %r lost the lease of schedule(s) %s before releasing them",
                scheduler_id,
                ", ".join(refused),
            )
            events.append(LeaseLost(scheduler_id=scheduler_id, schedule_ids=refused))
        await self._publish_all(events)
        return refused

    async def get_next_schedule_run_time(self) -> datetime | None:
        value = await self._run("next_schedule_run_time")
        return None if value is None else from_us(value)

    async def extend_acquired_schedule_leases(
        self, scheduler_id: str, schedule_ids: set[str], duration: timedelta
    ) -> None:
        if schedule_ids:
            now = _now()
            await self._run(
                "extend_schedule_leases",
                scheduler_id,
                us_str(now + duration),
                *schedule_ids,
                now=now,
            )

    # Jobs

    def _job_args(self, job: Job) -> list[str]:
        doc = dump_document(without(job.marshal(self.serializer), JOB_VOLATILE), _ARGS)
        return [
            str(job.id),
            doc,
            job.task_id,
            us_str(job.created_at),
            us_str(job.start_deadline),
            job.schedule_id or "",
        ]

    def _load_job(self, doc: bytes, owner: Any, token: Any, until: Any) -> Job:
        data = load_document(doc, _ARGS)
        data.update(
            acquired_by=text(owner) or None,
            lease_token=text(token) or None,
            acquired_until=from_us(until) if until else None,
        )
        return Job.unmarshal(self.serializer, data)

    async def add_jobs(self, jobs: Sequence[Job]) -> None:
        if not jobs:
            return
        args: list[str] = []
        seen: set[UUID] = set()
        for job in jobs:
            if job.id in seen:
                raise ValueError(f"A job with the ID {job.id} already exists")
            seen.add(job.id)
            args += self._job_args(job)
        existing = text(await self._run("add_jobs", *args))
        if existing:
            raise ValueError(f"A job with the ID {existing} already exists")
        await self._publish_all(
            JobAdded(job_id=job.id, task_id=job.task_id, schedule_id=job.schedule_id)
            for job in jobs
        )

    async def get_jobs(self, ids: Iterable[UUID] | None = None) -> list[Job]:
        if ids is None:
            args = ["1"]
        else:
            args = ["0", *dict.fromkeys(str(job_id) for job_id in ids)]
            if len(args) == 1:
                return []
        rows = await self._run("get_jobs", *args)
        rows.sort(key=lambda row: (float(row[5]), row[6]))
        jobs: list[Job] = []
        events: list[Event] = []
        for job_id, doc, owner, token, until, _score, _member in rows:
            try:
                jobs.append(self._load_job(doc, owner, token, until))
            except Exception as exc:
                self._logger.error(
                    "Skipping job %s: it cannot be deserialized: %s", text(job_id), exc
                )
                events.append(
                    JobDeserializationFailed(
                        job_id=text(job_id), exception=f"{type(exc).__name__}: {exc}"
                    )
                )
        await self._publish_all(events)
        return jobs

    async def remove_jobs(self, ids: Iterable[UUID]) -> list[UUID]:
        id_list = list(dict.fromkeys(str(job_id) for job_id in ids))
        if not id_list:
            return []
        removed = await self._run("remove_jobs", *id_list)
        removed_ids = [UUID(text(job_id)) for job_id, _ in removed]
        await self._publish_all(
            JobRemoved(job_id=job_id, task_id=text(task_id))
            for job_id, (_, task_id) in zip(removed_ids, removed)
        )
        return removed_ids

    async def acquire_jobs(
        self, scheduler_id: str, lease_duration: timedelta, limit: int | None = None
    ) -> list[Job]:
        if limit is not None and limit <= 0:
            return []
        now = _now()
        token = uuid4().hex
        abandoned, missed, acquired = await self._run(
            "acquire_jobs",
            scheduler_id,
            token,
            us_str(now + lease_duration),
            -1 if limit is None else limit,
            now=now,
        )
        to_release: list[tuple[Any, JobOutcome, str]] = []
        events: list[Event] = []
        jobs: list[Job] = []
        for row in abandoned:
            to_release.append((row, JobOutcome.abandoned, text(row[1])))
        for row in missed:
            to_release.append((row, JobOutcome.missed_start_deadline, scheduler_id))
        for row in acquired:
            job_id, _owner, doc, _task = row
            try:
                job = self._load_job(doc, scheduler_id, token, us_str(now + lease_duration))
            except Exception as exc:
                self._logger.error(
                    "Job %s cannot be deserialized; releasing it: %s", text(job_id), exc
                )
                events.append(
                    JobDeserializationFailed(
                        job_id=text(job_id), exception=f"{type(exc).__name__}: {exc}"
                    )
                )
                to_release.append((row, JobOutcome.deserialization_failed, scheduler_id))
                continue
            jobs.append(job)
            events.append(JobAcquired.from_job(job, scheduler_id))

        if to_release:
            events[:0] = await self._release_by_store(token, to_release, now)
        await self._publish_all(events)
        return jobs

    async def _release_by_store(
        self, token: str, items: list[tuple[Any, JobOutcome, str]], now: datetime
    ) -> list[JobReleased]:
        """Release jobs the store took over (abandoned, missed their deadline, unreadable)
        and return their ``JobReleased`` events (to publish after the commit)."""
        args: list[Any] = []
        events: list[JobReleased] = []
        for (job_id_raw, _owner, doc, task_id), outcome, releaser in items:
            job_id = UUID(text(job_id_raw))
            job: Job | None = None
            try:
                job = self._load_job(doc, None, None, None)
            except Exception:
                job = None
            if job is not None:
                result = JobResult.from_job(job, outcome, finished_at=now)
            else:
                result = JobResult(job_id=job_id, outcome=outcome, finished_at=now, expires_at=now)
            result_doc = ""
            if result.should_be_stored:
                try:
                    result_doc = dump_document(result.marshal(self.serializer), _RESULT_BINARY)
                except Exception as exc:
                    self._logger.error("Cannot store the result of job %s: %s", job_id, exc)
            args += [str(job_id), token, result_doc, us_str(result.expires_at)]
            released = JobReleased.from_result(
                result,
                releaser,
                text(task_id),
                job.schedule_id if job else None,
                job.scheduled_fire_time if job else None,
            )
            events.append(released)
        refused_raw = await self._run("release_jobs", *args, now=now)
        refused = {UUID(text(job_id)) for job_id in refused_raw}
        # Refused: someone else took the job over in between (and reports it)
        return [event for event in events if event.job_id not in refused]

    async def release_jobs(
        self, scheduler_id: str, releases: Sequence[tuple[Job, JobResult]]
    ) -> list[UUID]:
        if not releases:
            return []
        args: list[Any] = []
        for job, result in releases:
            result_doc = ""
            if result.should_be_stored:
                result_doc = dump_document(result.marshal(self.serializer), _RESULT_BINARY)
            args += [str(job.id), job.lease_token or "", result_doc, us_str(result.expires_at)]
        refused_raw = await self._run("release_jobs", *args)
        refused = [UUID(text(job_id)) for job_id in refused_raw]
        refused_set = set(refused)
        events: list[Event] = [
            JobReleased.from_result(
                result, scheduler_id, job.task_id, job.schedule_id, job.scheduled_fire_time
            )
            for job, result in releases
            if job.id not in refused_set
        ]
        if refused:
            self._logger.warning(
                "Scheduler %r lost the lease of job(s) %s before releasing them",
                scheduler_id,
                ", ".join(str(job_id) for job_id in refused),
            )
            events.append(LeaseLost(scheduler_id=scheduler_id, job_ids=refused))
        await self._publish_all(events)
        return refused

    async def get_job_result(self, job_id: UUID) -> JobResult | None:
        doc = await self._with_retry(lambda: self._client.hget(self._key("result"), str(job_id)))
        if doc is None:
            return None
        try:
            result = JobResult.unmarshal(self.serializer, load_document(doc, _RESULT_BINARY))
        except Exception as exc:
            self._logger.error("The result of job %s cannot be deserialized: %s", job_id, exc)
            return None
        if result.expires_at <= _now():
            return None
        return result

    async def extend_acquired_job_leases(
        self, scheduler_id: str, job_ids: set[UUID], duration: timedelta
    ) -> None:
        if job_ids:
            now = _now()
            await self._run(
                "extend_job_leases",
                scheduler_id,
                us_str(now + duration),
                *(str(job_id) for job_id in job_ids),
                now=now,
            )

    async def reap_abandoned_jobs(self, scheduler_id: str) -> None:
        now = _now()
        token = uuid4().hex
        until = us_str(now + _TAKEOVER_LEASE)
        rows = await self._run("claim_own_jobs", scheduler_id, token, until, now=now)
        if rows:
            items = [(row, JobOutcome.abandoned, scheduler_id) for row in rows]
            await self._publish_all(await self._release_by_store(token, items, now))

    async def cleanup(self) -> None:
        now = _now()
        token = uuid4().hex
        until = us_str(now + _TAKEOVER_LEASE)
        rows = await self._run("cleanup_expired", "", token, until, now=now)
        events: list[Event] = []
        if rows:
            items = [(row, JobOutcome.abandoned, text(row[1])) for row in rows]
            events += await self._release_by_store(token, items, now)
        removed = await self._run("cleanup_finished_schedules", now=now)
        events += [
            ScheduleRemoved(schedule_id=text(sid), task_id=text(tid), finished=True)
            for sid, tid in removed
        ]
        await self._publish_all(events)
