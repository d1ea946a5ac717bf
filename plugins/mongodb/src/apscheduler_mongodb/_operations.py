"""The MongoDB store's operations, written against pymongo's synchronous API.

:class:`Operations` does the database work of each :class:`~apscheduler.abc.DataStore`
method in a worker thread and returns ``(value, events)``; the async store publishes the
events once the writes are done. Every method may be run again with the same tokens
after a connection failure (the store retries): each step either matches documents by
the caller's token or is harmless to repeat.

MongoDB has no multi-document atomicity without transactions (which need a replica set
and are not available in mongomock), so the store relies only on single-document
atomicity:

**Leases.** ``acquire_*`` stamp documents with ``update_many`` whose filter says "not
leased, or lease expired"; MongoDB evaluates the filter and applies the update to each
document atomically, so two schedulers can never both stamp one document. Each acquire
call uses a fresh ``lease_token`` and reads back what carries it.

**Fencing.** A release first swaps the holder's ``lease_token`` for a fresh release token
(one conditional ``update_many``); only documents that still carried the holder's token
are swapped, and from then on only the releaser touches them. Releases whose token was
gone are refused and reported with ``LeaseLost``.

**Task slots.** ``max_running_jobs`` is enforced with the task document's ``slots``
array (IDs of the jobs holding a slot): slots are taken with a conditional
``$addToSet`` whose filter requires room (``"slots.<n>": {"$exists": false}``) and given
back with ``$pull``; both are idempotent, so a retried or repeated release can never
free a slot twice.

**Jobs of a schedule release, exactly once.** The jobs are inserted first, marked
``pending`` (invisible to every reader); then the fenced update of the schedule commits
the release and records its token in ``committed_releases``; then the marks are removed.
If the releaser dies in between, :meth:`Operations.cleanup` finishes the work: marked
jobs whose release token is in their schedule's ``committed_releases`` are made visible,
and those whose release can no longer commit (the schedule's lease token changed) are
deleted. A fire time thus yields its jobs once: never twice, and never lost once the
schedule's progress is committed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import attrs
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
    Schedule,
    ScheduleAdded,
    ScheduleDeserializationFailed,
    ScheduleRemoved,
    ScheduleResult,
    ScheduleUpdated,
    SerializationError,
    Task,
    TaskAdded,
    TaskLookupError,
    TaskRemoved,
    TaskUpdated,
)
from apscheduler._clock import get_clock
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from ._backend import DUPLICATE_KEY, Backend
from ._documents import Documents, iso, parse_datetime, to_us

SCHEMA_VERSION = 1

#: ``acquired_by`` of a schedule that could not be deserialized: it is held for one
#: lease duration, so it is reported once per lease instead of on every acquire.
QUARANTINED = "apscheduler:undeserializable"

#: How long a job claimed for release stays protected from being claimed again (by an
#: expiry sweep); if the releaser dies, the job is released as abandoned after this.
RELEASE_CLAIM = timedelta(minutes=5)

#: Upper bound on find-and-claim rounds in one acquire call.
MAX_ROUNDS = 10

SCHEDULE_ORDER = [("next_fire_time_us", 1), ("_id", 1)]
JOB_ORDER = [("created_at_us", 1), ("seq", 1)]
PENDING_FIELDS = {"pending": "", "pending_schedule": "", "pending_lease": ""}
_UNLEASE = {"acquired_by": None, "acquired_until": None, "acquired_until_us": None,
            "lease_token": None}

Result = tuple[Any, list[Event]]


def _lease_expired_or_free(now_us: int | None) -> list[dict[str, Any]]:
    return [{"acquired_until_us": None}, {"acquired_until_us": {"$lte": now_us}}]


@attrs.define(frozen=True)
class _JobInfo:
    """What a release needs to know about a job (from a Job or a raw document)."""

    id: str
    task_id: str
    schedule_id: str | None
    scheduled_fire_time: datetime | None

    @classmethod
    def of_job(cls, job: Job) -> _JobInfo:
        return cls(str(job.id), job.task_id, job.schedule_id, job.scheduled_fire_time)

    @classmethod
    def of_document(cls, doc: dict[str, Any]) -> _JobInfo:
        try:
            fire_time = parse_datetime(doc.get("scheduled_fire_time"))
        except (TypeError, ValueError):
            fire_time = None
        return cls(str(doc["_id"]), str(doc.get("task_id", "")), doc.get("schedule_id"),
                   fire_time)


class Operations:
    """The synchronous implementation of each data store operation."""

    def __init__(self, backend: Backend, documents: Documents, logger: logging.Logger):
        self.db = backend
        self.docs = documents
        self.logger = logger

    @staticmethod
    def now() -> datetime:
        return get_clock().now()

    # Setup

    def initialize(self, start_from_scratch: bool) -> Result:
        db = self.db
        if start_from_scratch:
            for collection in (db.tasks, db.schedules, db.jobs, db.job_results, db.metadata):
                collection.drop()
        schema = db.metadata.find_one({"_id": "schema"})
        if schema is None:
            db.metadata.update_one(
                {"_id": "schema"}, {"$setOnInsert": {"version": SCHEMA_VERSION}}, upsert=True
            )
        elif schema.get("version", 0) > SCHEMA_VERSION:
            raise RuntimeError(
                f"The MongoDB data store in database {db.database.name!r} has schema version "
                f"{schema['version']}, newer than this version of apscheduler-mongodb "
                f"supports ({SCHEMA_VERSION}); upgrade apscheduler-mongodb"
            )
        db.schedules.create_index(SCHEDULE_ORDER)
        db.schedules.create_index("acquired_by")
        db.schedules.create_index("task_id")
        db.jobs.create_index(JOB_ORDER)
        for field in ("acquired_until_us", "acquired_by", "start_deadline_us", "lease_token",
                      "schedule_id", "task_id", "pending"):
            db.jobs.create_index(field)
        db.job_results.create_index("expires_at_us")
        return None, []

    # Tasks

    def add_task(self, task: Task) -> Result:
        result = self.db.tasks.update_one(
            {"_id": task.id},
            {"$set": self.docs.task_fields(task), "$setOnInsert": {"slots": []}},
            upsert=True,
        )
        event = TaskAdded if result.upserted_id is not None else TaskUpdated
        return None, [event(task_id=task.id)]

    def remove_task(self, task_id: str) -> Result:
        if self.db.tasks.delete_one({"_id": task_id}).deleted_count == 0:
            raise TaskLookupError(task_id)
        return None, [TaskRemoved(task_id=task_id)]

    def get_task(self, task_id: str) -> Result:
        doc = self.db.tasks.find_one({"_id": task_id})
        if doc is None:
            raise TaskLookupError(task_id)
        return self.docs.task(doc), []

    def get_tasks(self) -> Result:
        docs = list(self.db.tasks.find({}, sort=[("_id", 1)]))
        return [self.docs.task(doc) for doc in docs], []

    # Schedules

    def get_schedules(self, ids: set[str] | None) -> Result:
        if ids is not None and not ids:
            return [], []
        query = {} if ids is None else {"_id": {"$in": sorted(ids)}}
        schedules: list[Schedule] = []
        events: list[Event] = []
        for doc in list(self.db.schedules.find(query, sort=[("_id", 1)])):
            try:
                schedules.append(self.docs.schedule(doc))
            except Exception as exc:
                events.append(self._schedule_failed(doc, exc))
        return schedules, events

    def add_schedule(self, schedule: Schedule, conflict_policy: ConflictPolicy) -> Result:
        doc = self.docs.schedule_document(schedule)  # serialization errors: before any write
        event_class: type[ScheduleAdded | ScheduleUpdated] = ScheduleAdded
        try:
            self.db.schedules.insert_one(doc)
        except DuplicateKeyError:
            if conflict_policy is ConflictPolicy.do_nothing:
                return None, []
            if conflict_policy is ConflictPolicy.exception:
                raise ConflictingIdError(schedule.id) from None
            self.db.schedules.replace_one({"_id": schedule.id}, doc)
            event_class = ScheduleUpdated
        event = event_class(
            schedule_id=schedule.id,
            task_id=schedule.task_id,
            next_fire_time=schedule.next_fire_time,
        )
        return None, [event]

    def remove_schedules(self, ids: Iterable[str], finished: bool) -> Result:
        events: list[Event] = []
        for schedule_id in dict.fromkeys(ids):
            doc = self.db.schedules.find_one_and_delete(
                {"_id": schedule_id}, projection={"task_id": 1}
            )
            if doc is not None:
                events.append(
                    ScheduleRemoved(
                        schedule_id=schedule_id,
                        task_id=str(doc.get("task_id", "")),
                        finished=finished,
                    )
                )
        return None, events

    def acquire_schedules(
        self, scheduler_id: str, lease_duration: timedelta, limit: int, token: str
    ) -> Result:
        now = self.now()
        now_us = to_us(now)
        until = now + lease_duration
        available: dict[str, Any] = {
            "paused": False,
            "next_fire_time_us": {"$ne": None, "$lte": now_us},
            "$or": [
                *_lease_expired_or_free(now_us),
                {"acquired_by": scheduler_id},
                {"lease_token": token},
            ],
        }
        lease = {"$set": {"acquired_by": scheduler_id, "acquired_until": until.isoformat(),
                          "acquired_until_us": to_us(until), "lease_token": token}}

        acquired: list[str] = []
        for _ in range(MAX_ROUNDS):
            wanted = limit - len(acquired)
            if wanted <= 0:
                break
            query = dict(available)
            if acquired:
                query["_id"] = {"$nin": acquired}
            ids = [
                doc["_id"]
                for doc in list(
                    self.db.schedules.find(
                        query, projection={"_id": 1}, sort=SCHEDULE_ORDER, limit=wanted
                    )
                )
            ]
            if not ids:
                break
            result = self.db.schedules.update_many({**available, "_id": {"$in": ids}}, lease)
            if result.matched_count == len(ids):
                acquired.extend(ids)
            else:  # others took some of them meanwhile: see which are ours
                mine = self.db.schedules.find(
                    {"_id": {"$in": ids}, "lease_token": token}, projection={"_id": 1}
                )
                acquired.extend(doc["_id"] for doc in list(mine))

        if not acquired:
            return [], []
        docs = list(
            self.db.schedules.find(
                {"_id": {"$in": acquired}, "lease_token": token}, sort=SCHEDULE_ORDER
            )
        )
        schedules: list[Schedule] = []
        events: list[Event] = []
        broken: list[str] = []
        for doc in docs:
            try:
                schedules.append(self.docs.schedule(doc))
            except Exception as exc:
                events.append(self._schedule_failed(doc, exc))
                broken.append(doc["_id"])
        if broken:
            # Keep it leased (by nobody) for one lease duration: not re-acquired and
            # re-reported on every call, and get_next_schedule_run_time ignores it
            self.db.schedules.update_many(
                {"_id": {"$in": broken}, "lease_token": token},
                {"$set": {"acquired_by": QUARANTINED, "lease_token": None}},
            )
        return schedules, events

    def release_schedules(
        self,
        scheduler_id: str,
        results: Sequence[ScheduleResult],
        release: str,
        progress: dict[str, Any],
    ) -> Result:
        # Serialize everything first, so that a serialization error changes nothing
        by_id: dict[str, ScheduleResult] = {}
        refused: list[str] = []
        updates = []
        for result in results:
            if result.lease_token is None:
                refused.append(result.schedule_id)
                continue
            by_id[result.schedule_id] = result
            fields = {
                **_UNLEASE,
                "trigger": self.docs.serialize(result.trigger),
                "last_fire_time": iso(result.last_fire_time),
                "next_fire_time": iso(result.next_fire_time),
                "next_fire_time_us": to_us(result.next_fire_time),
                "last_release": release,
            }
            update: dict[str, Any] = {"$set": fields}
            if result.jobs:
                update["$addToSet"] = {"committed_releases": release}
            updates.append(
                ({"_id": result.schedule_id, "lease_token": result.lease_token}, update, False)
            )
        with_jobs = [result for result in by_id.values() if result.jobs]
        pending_docs = []
        for result in with_jobs:
            for job in result.jobs:
                doc = self.docs.job_document(job, 0)
                doc.update(pending=release, pending_schedule=result.schedule_id,
                           pending_lease=result.lease_token)
                pending_docs.append(doc)

        accepted: set[str] | None = progress.get("accepted")
        if accepted is None:
            # 1. the jobs, invisible until committed
            if pending_docs:
                first_seq = self._reserve_seq(len(pending_docs))
                for offset, doc in enumerate(pending_docs):
                    doc["seq"] = first_seq + offset
                self._insert_pending(pending_docs, release)

            # 2. the commit: fenced by each schedule's lease token
            matched, _ = self.db.bulk_update(self.db.schedules, updates)
            if matched == len(updates):
                accepted = set(by_id)
            else:
                found = self.db.schedules.find(
                    {"_id": {"$in": list(by_id)},
                     "$or": [{"last_release": release}, {"committed_releases": release}]},
                    projection={"_id": 1},
                )
                accepted = {doc["_id"] for doc in list(found)}
            progress["accepted"] = accepted

        # 3. make the committed jobs visible; drop those of refused releases
        committed = [r.schedule_id for r in with_jobs if r.schedule_id in accepted]
        aborted = [r.schedule_id for r in with_jobs if r.schedule_id not in accepted]
        if committed:
            self.db.jobs.update_many(
                {"pending": release, "pending_schedule": {"$in": committed}},
                {"$unset": PENDING_FIELDS},
            )
            self.db.schedules.update_many(
                {"_id": {"$in": committed}}, {"$pull": {"committed_releases": release}}
            )
        if aborted:
            self.db.jobs.delete_many({"pending": release, "pending_schedule": {"$in": aborted}})

        events: list[Event] = []
        for result in results:
            if result.schedule_id not in accepted or result.lease_token is None:
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
        refused.extend(schedule_id for schedule_id in by_id if schedule_id not in accepted)
        if refused:
            events.append(
                LeaseLost(scheduler_id=scheduler_id, schedule_ids=refused)
            )
        return refused, events

    def get_next_schedule_run_time(self) -> Result:
        now_us = to_us(self.now())
        doc = self.db.schedules.find_one(
            {"paused": False, "next_fire_time_us": {"$ne": None},
             "$or": _lease_expired_or_free(now_us)},
            projection={"next_fire_time": 1},
            sort=SCHEDULE_ORDER,
        )
        return (None if doc is None else parse_datetime(doc["next_fire_time"])), []

    def extend_acquired_schedule_leases(
        self, scheduler_id: str, schedule_ids: set[str], duration: timedelta
    ) -> Result:
        until = self.now() + duration
        self.db.schedules.update_many(
            {"_id": {"$in": list(schedule_ids)}, "acquired_by": scheduler_id,
             "lease_token": {"$ne": None}},
            {"$set": {"acquired_until": until.isoformat(), "acquired_until_us": to_us(until)}},
        )
        return None, []

    # Jobs

    def add_jobs(self, jobs: Sequence[Job]) -> Result:
        if not jobs:
            return None, []
        docs = [self.docs.job_document(job, 0) for job in jobs]  # may raise: nothing written
        ids = [doc["_id"] for doc in docs]
        if len(set(ids)) != len(ids):
            raise ValueError("The same job was given more than once")
        existing = list(self.db.jobs.find({"_id": {"$in": ids}}, projection={"_id": 1}))
        if existing:
            raise ValueError(f"A job with the ID {existing[0]['_id']} already exists")
        first_seq = self._reserve_seq(len(docs))
        for offset, doc in enumerate(docs):
            doc["seq"] = first_seq + offset
        try:
            self.db.jobs.insert_many(docs, ordered=True)
        except (DuplicateKeyError, BulkWriteError) as exc:
            raise ValueError(f"A job with one of the IDs {ids} already exists") from exc
        events: list[Event] = [
            JobAdded(job_id=job.id, task_id=job.task_id, schedule_id=job.schedule_id)
            for job in jobs
        ]
        return None, events

    def get_jobs(self, ids: Iterable[UUID] | None) -> Result:
        query: dict[str, Any] = {"pending": None}
        if ids is not None:
            query["_id"] = {"$in": [str(job_id) for job_id in ids]}
        jobs: list[Job] = []
        events: list[Event] = []
        for doc in list(self.db.jobs.find(query, sort=JOB_ORDER)):
            try:
                jobs.append(self.docs.job(doc))
            except Exception as exc:
                events.append(self._job_failed(doc, exc))
        return jobs, events

    def remove_jobs(self, ids: Iterable[UUID]) -> Result:
        removed: list[UUID] = []
        events: list[Event] = []
        for job_id in dict.fromkeys(ids):
            doc = self.db.jobs.find_one_and_delete(
                {"_id": str(job_id), "acquired_by": None, "pending": None},
                projection={"task_id": 1},
            )
            if doc is not None:
                removed.append(job_id)
                events.append(JobRemoved(job_id=job_id, task_id=str(doc.get("task_id", ""))))
        return removed, events

    def acquire_jobs(
        self,
        scheduler_id: str,
        lease_duration: timedelta,
        limit: int | None,
        token: str,
        sweep_tokens: tuple[str, str],
        progress: dict[str, Any],
    ) -> Result:
        now = self.now()
        events: list[Event] = []
        progress["attempt"] = attempt = progress.get("attempt", 0) + 1
        if attempt > 1:
            self._undo_claims(token)
        self._abandon_expired(now, sweep_tokens[0], events, retry=attempt > 1)
        self._release_missed_deadlines(
            now, scheduler_id, sweep_tokens[1], events, retry=attempt > 1
        )
        if limit is not None and limit <= 0:
            return [], events

        # Free slots of the tasks that have a max_running_jobs
        limited = {
            doc["_id"]: doc
            for doc in list(
                self.db.tasks.find(
                    {"max_running_jobs": {"$ne": None}},
                    projection={"max_running_jobs": 1, "slots": 1},
                )
            )
        }
        free = {
            task_id: doc["max_running_jobs"] - len(doc.get("slots") or ())
            for task_id, doc in limited.items()
        }

        # Pick queued jobs, oldest first, skipping tasks without a free slot
        selected: list[tuple[dict[str, Any], Job]] = []
        broken: list[tuple[dict[str, Any], Exception]] = []
        query: dict[str, Any] = {"acquired_by": None, "pending": None}
        full = [task_id for task_id, count in free.items() if count <= 0]
        if full:
            query["task_id"] = {"$nin": full}
        page = None if limit is None else max(2 * limit, 32)
        after: tuple[Any, Any] | None = None
        for _ in range(MAX_ROUNDS):
            page_query = dict(query)
            if after is not None:
                page_query["$or"] = [
                    {"created_at_us": {"$gt": after[0]}},
                    {"created_at_us": after[0], "seq": {"$gt": after[1]}},
                ]
            docs = list(self.db.jobs.find(page_query, sort=JOB_ORDER, limit=page or 0))
            for doc in docs:
                try:
                    job = self.docs.job(doc)
                except Exception as exc:
                    broken.append((doc, exc))
                    continue
                room = free.get(job.task_id)
                if room is not None:
                    if room <= 0:
                        continue
                    free[job.task_id] = room - 1
                selected.append((doc, job))
                if limit is not None and len(selected) >= limit:
                    break
            if page is None or len(docs) < page or (
                limit is not None and len(selected) >= limit
            ):
                break
            after = (docs[-1].get("created_at_us"), docs[-1].get("seq"))

        claim_ids = [doc["_id"] for doc, _ in selected] + [doc["_id"] for doc, _ in broken]
        if not claim_ids:
            return [], events

        # Claim them (others may have taken some meanwhile)
        until = now + lease_duration
        lease = {"$set": {"acquired_by": scheduler_id, "acquired_until": until.isoformat(),
                          "acquired_until_us": to_us(until), "lease_token": token}}
        result = self.db.jobs.update_many(
            {"_id": {"$in": claim_ids}, "acquired_by": None, "pending": None}, lease
        )
        if result.matched_count == len(claim_ids):
            claimed = set(claim_ids)
        else:
            found = self.db.jobs.find(
                {"_id": {"$in": claim_ids}, "lease_token": token}, projection={"_id": 1}
            )
            claimed = {doc["_id"] for doc in list(found)}

        # Take task slots; give back the claims that got none
        by_task: dict[str, list[str]] = defaultdict(list)
        for doc, job in selected:
            if doc["_id"] in claimed:
                by_task[job.task_id].append(doc["_id"])
        granted: set[str] = set()
        for task_id, ids in by_task.items():
            granted.update(self._take_slots(task_id, ids, limited.get(task_id)))
        no_slot = [job_id for ids in by_task.values() for job_id in ids if job_id not in granted]
        if no_slot:
            self.db.jobs.update_many(
                {"_id": {"$in": no_slot}, "lease_token": token}, {"$set": _UNLEASE}
            )

        # Jobs that cannot be deserialized are released at once
        broken_claimed = [(doc, error) for doc, error in broken if doc["_id"] in claimed]
        if broken_claimed:
            releases = []
            for doc, error in broken_claimed:
                events.append(self._job_failed(doc, error))
                releases.append(
                    (_JobInfo.of_document(doc),
                     self._result_of(doc, JobOutcome.deserialization_failed, now),
                     scheduler_id)
                )
            self._finish_releases(releases, token, events)

        acquired: list[Job] = []
        for doc, job in selected:
            if doc["_id"] in granted:
                job.acquired_by = scheduler_id
                job.acquired_until = until
                job.lease_token = token
                acquired.append(job)
                events.append(
                    JobAcquired(
                        job_id=job.id,
                        scheduler_id=scheduler_id,
                        task_id=job.task_id,
                        schedule_id=job.schedule_id,
                        scheduled_start=job.scheduled_fire_time,
                    )
                )
        return acquired, events

    def release_jobs(
        self,
        scheduler_id: str,
        releases: Sequence[tuple[Job, JobResult]],
        release: str,
        progress: dict[str, Any],
    ) -> Result:
        now = self.now()
        claimed: set[str] | None = progress.get("claimed")
        if claimed is None:
            progress["claimed"] = claimed = self._claim_for_release(releases, release, now)
        events: list[Event] = []
        accepted = [
            (_JobInfo.of_job(job), result, scheduler_id)
            for job, result in releases
            if str(job.id) in claimed
        ]
        self._finish_releases(accepted, release, events)
        refused = [job.id for job, _ in releases if str(job.id) not in claimed]
        if refused:
            events.append(LeaseLost(scheduler_id=scheduler_id, job_ids=refused))
        return refused, events

    def _claim_for_release(
        self, releases: Sequence[tuple[Job, JobResult]], release: str, now: datetime
    ) -> set[str]:
        """Swap the holder's lease token of each job for ``release``; return the IDs of
        the jobs that still carried the holder's token (or already carry ``release``)."""
        by_token: dict[str, list[str]] = defaultdict(list)
        for job, _ in releases:
            if job.lease_token is not None:
                by_token[job.lease_token].append(str(job.id))
        all_ids = [job_id for ids in by_token.values() for job_id in ids]
        claimed: set[str] = set()
        if all_ids:
            query = {"$or": [{"_id": {"$in": ids}, "lease_token": lease_token}
                             for lease_token, ids in by_token.items()]
                     + [{"_id": {"$in": all_ids}, "lease_token": release}]}
            result = self.db.jobs.update_many(
                query,
                {"$set": {"lease_token": release,
                          "acquired_until_us": to_us(now + RELEASE_CLAIM)}},
            )
            if result.matched_count == len(all_ids):
                claimed = set(all_ids)
            else:
                found = self.db.jobs.find(
                    {"_id": {"$in": all_ids}, "lease_token": release}, projection={"_id": 1}
                )
                claimed = {doc["_id"] for doc in list(found)}
        return claimed

    def get_job_result(self, job_id: UUID) -> Result:
        now_us = to_us(self.now())
        doc = self.db.job_results.find_one({"_id": str(job_id), "expires_at_us": {"$gt": now_us}})
        return (None if doc is None else self.docs.result(doc)), []

    def extend_acquired_job_leases(
        self, scheduler_id: str, job_ids: set[UUID], duration: timedelta
    ) -> Result:
        until = self.now() + duration
        self.db.jobs.update_many(
            {"_id": {"$in": [str(job_id) for job_id in job_ids]},
             "acquired_by": scheduler_id, "lease_token": {"$ne": None}},
            {"$set": {"acquired_until": until.isoformat(), "acquired_until_us": to_us(until)}},
        )
        return None, []

    def reap_abandoned_jobs(
        self, scheduler_id: str, release: str, progress: dict[str, Any]
    ) -> Result:
        now = self.now()
        events: list[Event] = []
        progress["attempt"] = attempt = progress.get("attempt", 0) + 1
        self._sweep(
            {"acquired_by": scheduler_id, "pending": None, "lease_token": {"$ne": None}},
            release, now, JobOutcome.abandoned, None, events, retry=attempt > 1,
        )
        return None, events

    def cleanup(self, release: str, progress: dict[str, Any]) -> Result:
        now = self.now()
        now_us = to_us(now)
        events: list[Event] = []
        progress["attempt"] = attempt = progress.get("attempt", 0) + 1
        self.db.job_results.delete_many({"expires_at_us": {"$lte": now_us}})
        self._abandon_expired(now, release, events, retry=attempt > 1)
        self._finish_interrupted_releases(events)

        # Exhausted schedules with no jobs left
        not_leased = {"next_fire_time_us": None, "$or": _lease_expired_or_free(now_us)}
        candidates = list(self.db.schedules.find(not_leased, projection={"_id": 1}))
        if candidates:
            ids = [doc["_id"] for doc in candidates]
            busy = set(self.db.jobs.distinct("schedule_id", {"schedule_id": {"$in": ids}}))
            for schedule_id in ids:
                if schedule_id in busy:
                    continue
                doc = self.db.schedules.find_one_and_delete(
                    {**not_leased, "_id": schedule_id}, projection={"task_id": 1}
                )
                if doc is not None:
                    events.append(
                        ScheduleRemoved(
                            schedule_id=schedule_id,
                            task_id=str(doc.get("task_id", "")),
                            finished=True,
                        )
                    )
        return None, events

    # Internals

    def _reserve_seq(self, count: int) -> int:
        """Reserve ``count`` consecutive job sequence numbers; return the first."""
        doc = self.db.metadata.find_one_and_update(
            {"_id": "job_seq"},
            {"$inc": {"value": count}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return int(doc["value"]) - count + 1

    def _insert_pending(self, docs: list[dict[str, Any]], release: str) -> None:
        try:
            self.db.jobs.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            duplicates = [
                error["op"]["_id"] if "op" in error else docs[error["index"]]["_id"]
                for error in exc.details["writeErrors"]
                if error.get("code") == DUPLICATE_KEY
            ]
            if len(duplicates) != len(exc.details["writeErrors"]):
                raise
            ours = self.db.jobs.count_documents({"_id": {"$in": duplicates}, "pending": release})
            if ours != len(duplicates):  # not a retry of this very release
                raise ValueError(
                    f"A job with one of the IDs {duplicates} already exists"
                ) from exc

    def _take_slots(
        self, task_id: str, ids: list[str], task: dict[str, Any] | None
    ) -> list[str]:
        """Give as many of ``ids`` as possible a slot of the task; return those that got
        one. ``task`` is the task document as read before (``None``: no limit)."""
        if task is None:
            # No max_running_jobs (or no task at all): record the running jobs if the
            # task exists, but never refuse
            self.db.tasks.update_one({"_id": task_id}, {"$addToSet": {"slots": {"$each": ids}}})
            return ids
        for _ in range(MAX_ROUNDS):
            slots = task.get("slots") or []
            have = [job_id for job_id in ids if job_id in slots]
            want = [job_id for job_id in ids if job_id not in slots]
            maximum = task.get("max_running_jobs")
            if maximum is None:
                self._take_slots(task_id, want, None)
                return ids
            take = want[: max(maximum - len(slots), 0)]
            if not take:
                return have
            # Applies only if there is still room for all of them
            result = self.db.tasks.update_one(
                {"_id": task_id, "max_running_jobs": maximum,
                 f"slots.{maximum - len(take)}": {"$exists": False}},
                {"$addToSet": {"slots": {"$each": take}}},
            )
            if result.matched_count:
                return have + take
            task = self.db.tasks.find_one(
                {"_id": task_id}, projection={"max_running_jobs": 1, "slots": 1}
            )
            if task is None:
                return ids  # the task was removed: no limit
        return []

    def _undo_claims(self, token: str) -> None:
        """Give back what a failed attempt of ``acquire_jobs`` claimed with ``token``
        (its reply was lost, so the caller never got those jobs)."""
        docs = list(self.db.jobs.find({"lease_token": token}, projection={"task_id": 1}))
        if not docs:
            return
        by_task: dict[str, list[str]] = defaultdict(list)
        for doc in docs:
            by_task[str(doc.get("task_id", ""))].append(doc["_id"])
        self.db.bulk_update(
            self.db.tasks,
            [({"_id": task_id}, {"$pull": {"slots": {"$in": ids}}}, False)
             for task_id, ids in by_task.items()],
        )
        self.db.jobs.update_many({"lease_token": token}, {"$set": _UNLEASE})

    def _abandon_expired(
        self, now: datetime, release: str, events: list[Event], *, retry: bool = False
    ) -> None:
        """Release the jobs whose lease ran out as ``abandoned``, freeing their slots."""
        self._sweep(
            {"acquired_until_us": {"$lte": to_us(now)}, "pending": None},
            release, now, JobOutcome.abandoned, None, events, retry=retry,
        )

    def _release_missed_deadlines(
        self,
        now: datetime,
        scheduler_id: str,
        release: str,
        events: list[Event],
        *,
        retry: bool = False,
    ) -> None:
        """Release queued jobs past their start deadline (even if their task is full)."""
        self._sweep(
            {"acquired_by": None, "pending": None, "start_deadline_us": {"$lt": to_us(now)}},
            release, now, JobOutcome.missed_start_deadline, scheduler_id, events, retry=retry,
        )

    def _sweep(
        self,
        query: dict[str, Any],
        release: str,
        now: datetime,
        outcome: JobOutcome,
        scheduler_id: str | None,
        events: list[Event],
        *,
        retry: bool = False,
    ) -> None:
        """Claim the jobs matching ``query`` with ``release`` and release them with
        ``outcome``, reported as released by ``scheduler_id`` (``None``: their holder).
        ``retry``: an earlier attempt may have claimed some already."""
        claim: dict[str, Any] = {"lease_token": release,
                                 "acquired_until_us": to_us(now + RELEASE_CLAIM)}
        if scheduler_id is not None:
            claim["acquired_by"] = scheduler_id
        result = self.db.jobs.update_many(query, {"$set": claim})
        if result.modified_count == 0 and not retry:
            return
        docs = list(self.db.jobs.find({"lease_token": release}))
        releases = [
            (_JobInfo.of_document(doc), self._result_of(doc, outcome, now),
             scheduler_id or str(doc.get("acquired_by") or ""))
            for doc in docs
        ]
        self._finish_releases(releases, release, events)

    def _finish_releases(
        self,
        releases: list[tuple[_JobInfo, JobResult, str]],
        release: str,
        events: list[Event],
    ) -> None:
        """Store the results, give back the task slots and delete the jobs claimed with
        the token ``release``. Each step is idempotent (a repeated or racing release
        stores the first result only and frees each slot once)."""
        if not releases:
            return
        result_updates = []
        for info, result, _ in releases:
            if result.should_be_stored:
                doc = self._result_document(result)
                del doc["_id"]
                result_updates.append(({"_id": info.id}, {"$setOnInsert": doc}, True))
        self.db.bulk_update(self.db.job_results, result_updates)

        by_task: dict[str, list[str]] = defaultdict(list)
        for info, _, _ in releases:
            by_task[info.task_id].append(info.id)
        self.db.bulk_update(
            self.db.tasks,
            [({"_id": task_id}, {"$pull": {"slots": {"$in": ids}}}, False)
             for task_id, ids in by_task.items()],
        )
        self.db.jobs.delete_many(
            {"_id": {"$in": [info.id for info, _, _ in releases]}, "lease_token": release}
        )
        for info, result, scheduler_id in releases:
            events.append(
                JobReleased.from_result(
                    result, scheduler_id, info.task_id, info.schedule_id,
                    info.scheduled_fire_time,
                )
            )

    def _finish_interrupted_releases(self, events: list[Event]) -> None:
        """Complete schedule releases whose releaser died between its steps."""
        docs = list(
            self.db.jobs.find(
                {"pending": {"$ne": None}},
                projection={"pending": 1, "pending_schedule": 1, "pending_lease": 1,
                            "task_id": 1, "schedule_id": 1},
            )
        )
        if not docs:
            return
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for doc in docs:
            key = (doc.get("pending_schedule"), doc["pending"], doc.get("pending_lease"))
            groups[key].append(doc)
        schedules = {
            doc["_id"]: doc
            for doc in list(
                self.db.schedules.find(
                    {"_id": {"$in": list({key[0] for key in groups})}},
                    projection={"lease_token": 1, "committed_releases": 1},
                )
            )
        }
        for (schedule_id, release, lease_token), group in groups.items():
            ids = [doc["_id"] for doc in group]
            schedule = schedules.get(schedule_id)
            if schedule is not None and release in (schedule.get("committed_releases") or ()):
                self.db.jobs.update_many(
                    {"_id": {"$in": ids}, "pending": release}, {"$unset": PENDING_FIELDS}
                )
                self.db.schedules.update_one(
                    {"_id": schedule_id}, {"$pull": {"committed_releases": release}}
                )
                self.logger.warning(
                    "Completed an interrupted release of schedule %r: %d job(s) added",
                    schedule_id, len(ids),
                )
                events.extend(
                    JobAdded(job_id=doc["_id"], task_id=str(doc.get("task_id", "")),
                             schedule_id=doc.get("schedule_id"))
                    for doc in group
                )
            elif schedule is not None and schedule.get("lease_token") == lease_token:
                continue  # its holder may still commit it
            else:
                self.db.jobs.delete_many({"_id": {"$in": ids}, "pending": release})
                self.logger.warning(
                    "Discarded %d job(s) of a release of schedule %r that never committed",
                    len(ids), schedule_id,
                )

    def _result_of(self, doc: dict[str, Any], outcome: JobOutcome, now: datetime) -> JobResult:
        """The result of a job the store releases by itself, built from its document."""
        expiration = doc.get("result_expiration_time")
        if isinstance(expiration, bool) or not isinstance(expiration, (int, float)):
            expiration = 0
        return JobResult(
            job_id=doc["_id"],
            outcome=outcome,
            finished_at=now,
            expires_at=now + timedelta(seconds=max(expiration, 0)),
        )

    def _result_document(self, result: JobResult) -> dict[str, Any]:
        try:
            return self.docs.result_document(result)
        except SerializationError as exc:
            self.logger.warning(
                "The return value of job %s cannot be stored (%s); storing its result "
                "without it", result.job_id, exc,
            )
            return self.docs.result_document(attrs.evolve(result, return_value=None))

    def _schedule_failed(self, doc: dict[str, Any], exc: Exception) -> Event:
        self.logger.error(
            "Skipping schedule %r: it cannot be deserialized: %s: %s",
            doc.get("_id"), type(exc).__name__, exc,
        )
        return ScheduleDeserializationFailed(
            schedule_id=str(doc.get("_id")), exception=f"{type(exc).__name__}: {exc}"
        )

    def _job_failed(self, doc: dict[str, Any], exc: Exception) -> Event:
        self.logger.error(
            "Job %s cannot be deserialized: %s: %s", doc.get("_id"), type(exc).__name__, exc
        )
        return JobDeserializationFailed(
            job_id=doc["_id"], exception=f"{type(exc).__name__}: {exc}"
        )
