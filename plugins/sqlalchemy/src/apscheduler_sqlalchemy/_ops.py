"""The store's SQL, one method per operation, each run inside one transaction.

Every method takes the connection and an ``events`` list; events are appended there and
published by the store only after the transaction has committed. Methods never publish
and never commit themselves, so a retried transaction starts from a clean slate.

Concurrency rules used throughout:

* Rows that a competing scheduler may want at the same time (due schedules, queued jobs,
  expired leases) are selected ``FOR UPDATE SKIP LOCKED`` where the database supports
  it (PostgreSQL, MySQL 8, MariaDB >= 10.6): competitors take different rows instead of
  queueing behind each other. SQLite has no row locks; its writers are serialised by
  ``BEGIN IMMEDIATE``.
* Rows being released are locked plainly (``FOR UPDATE``) and their ``lease_token`` is
  compared with the releaser's: the fencing check and the write happen under one lock.
* Locks are always taken jobs first, then tasks in ID order, so that acquiring and
  releasing never deadlock each other.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import attrs
from apscheduler import (
    ConflictingIdError,
    ConflictPolicy,
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
    ScheduleUpdated,
    TaskAdded,
    TaskRemoved,
    TaskUpdated,
)
from apscheduler.abc import Serializer
from sqlalchemy import (
    Connection,
    Integer,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from ._clock import now
from ._rows import (
    from_us,
    job_from_row,
    result_from_row,
    result_to_row,
    schedule_from_row,
    task_from_row,
    td_to_us,
    to_us,
)
from ._schema import Tables

T = TypeVar("T")
Events = list[Any]

#: Largest number of values bound in one ``IN (...)`` list.
_IN_CHUNK = 500

#: How often (on the store's clock) ``acquire_jobs`` looks for expired job leases and
#: late queued jobs; see ``SQLOperations._sweep_due``.
SWEEP_INTERVAL = timedelta(seconds=1)


def _chunks(items: Sequence[T], size: int = _IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@attrs.define(frozen=True)
class _Finished:
    """A job being released, with what its ``JobReleased`` event needs."""

    job_id: UUID
    task_id: str
    schedule_id: str | None
    scheduled_fire_time: datetime | None
    result: JobResult
    released_by: str
    holds_slot: bool


@attrs.define(frozen=True)
class PreparedRelease:
    """A schedule release with its blobs serialized before the transaction."""

    schedule_id: str
    task_id: str
    lease_token: str | None
    trigger: bytes | None  # None: keep the stored trigger (it could not be serialized)
    last_fire_time: datetime | None
    next_fire_time: datetime | None
    job_rows: tuple[dict[str, Any], ...]
    jobs: tuple[Job, ...]


class SQLOperations:
    """The store's queries for one set of tables on one kind of database."""

    def __init__(
        self,
        tables: Tables,
        serializer: Serializer,
        dialect: str,
        skip_locked: bool,
        logger: logging.Logger,
    ) -> None:
        self.t = tables
        self.serializer = serializer
        self.dialect = dialect
        self.skip_locked = skip_locked
        self.logger = logger
        #: ``DELETE ... RETURNING`` (PostgreSQL, SQLite >= 3.35): the release's fencing
        #: check and delete in one statement
        self.returning = dialect == "postgresql" or (
            dialect == "sqlite" and sqlite3.sqlite_version_info >= (3, 35)
        )
        #: When expired leases and late jobs were last looked for (see ``acquire_jobs``)
        self._last_sweep: datetime | None = None
        self._build_statements()

    def _build_statements(self) -> None:
        """Build the statements of the hot path (adding, acquiring and releasing jobs)
        once. Values are bound parameters, so every execution reuses SQLAlchemy's compiled
        form instead of building, coercing and hashing a new expression tree."""
        jt, tt, rt = self.t.jobs, self.t.tasks, self.t.job_results
        self._insert_jobs = self._insert_ignoring_stmt(jt)
        self._insert_results = self._insert_ignoring_stmt(rt)
        full_tasks = select(tt.c.id).where(
            tt.c.max_running_jobs.is_not(None), tt.c.running_jobs >= tt.c.max_running_jobs
        )
        limited = (
            select(tt.c.id)
            .where(tt.c.id == jt.c.task_id, tt.c.max_running_jobs.is_not(None))
            .exists()
            .label("task_limited")
        )
        queued = (
            select(jt, limited)
            .where(jt.c.acquired_until.is_(None), jt.c.task_id.not_in(full_tasks))
            .order_by(jt.c.created_at)
        )
        self._select_queued = self._locked(queued, skip=True)
        self._select_queued_limit = self._locked(
            queued.limit(bindparam("b_limit", type_=Integer)), skip=True
        )
        self._select_task_slots = self._locked(
            select(tt.c.id, tt.c.running_jobs, tt.c.max_running_jobs)
            .where(self._in_param(tt.c.id, "b_ids"))
            .order_by(tt.c.id)
        )
        self._lease_jobs = (
            update(jt)
            .where(self._in_param(jt.c.id, "b_ids"))
            .values(
                acquired_by=bindparam("b_by"),
                acquired_until=bindparam("b_until"),
                lease_token=bindparam("b_token"),
            )
        )
        self._select_leases = self._locked(
            select(jt.c.id, jt.c.acquired_by, jt.c.lease_token).where(
                self._in_param(jt.c.id, "b_ids")
            )
        )
        self._delete_jobs = delete(jt).where(self._in_param(jt.c.id, "b_ids"))
        if self.returning:
            held = jt.c.acquired_by.is_not(None)
            self._delete_by_token = (
                delete(jt)
                .where(
                    self._in_param(jt.c.id, "b_ids"),
                    held,
                    jt.c.lease_token == bindparam("b_token"),
                )
                .returning(jt.c.id)
            )
            self._delete_by_owner = (
                delete(jt)
                .where(self._in_param(jt.c.id, "b_ids"), jt.c.acquired_by == bindparam("b_by"))
                .returning(jt.c.id)
            )
        delta: Any = bindparam("b_delta")
        self._running_up = (
            update(tt)
            .where(tt.c.id == bindparam("b_id"))
            .values(running_jobs=tt.c.running_jobs + delta)
        )
        self._running_down = (
            update(tt)
            .where(tt.c.id == bindparam("b_id"))
            .values(
                running_jobs=case((tt.c.running_jobs > delta, tt.c.running_jobs - delta), else_=0)
            )
        )
        self._select_expired_and_late = self._locked(
            select(*self._finishing_columns(), jt.c.acquired_until).where(
                or_(
                    jt.c.acquired_until < bindparam("b_now"),
                    and_(
                        jt.c.acquired_until.is_(None),
                        jt.c.start_deadline < bindparam("b_now"),
                    ),
                )
            ),
            skip=True,
        )

    # Helpers

    def _in(self, column: Any, values: Sequence[Any]) -> Any:
        """``column IN values``. On PostgreSQL ``column = ANY(:array)``: one parameter
        whatever the number of values, so the statement text (and the driver's prepared
        statement) is the same for every batch size."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            return column == any_(literal(list(values), ARRAY(column.type)))
        return column.in_(values)

    def _in_param(self, column: Any, name: str) -> Any:
        """Like :meth:`_in`, with the values bound at execution as parameter ``name``, for
        prebuilt statements; pass the values through :meth:`_id_list`.

        One parameter whatever the number of values where the database allows it, so the
        statement text never changes: ``= ANY(:array)`` on PostgreSQL, ``IN (SELECT value
        FROM json_each(:json))`` on SQLite. Elsewhere an expanding ``IN`` list."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            return column == any_(bindparam(name, type_=ARRAY(column.type)))
        if self.dialect == "sqlite":
            values: Select[Any] = select(literal_column("value")).select_from(
                func.json_each(bindparam(name, type_=Text))
            )
            return column.in_(values.scalar_subquery())
        return column.in_(bindparam(name, expanding=True))

    def _id_list(self, values: Iterable[Any]) -> Any:
        """The bound value of an :meth:`_in_param` parameter (IDs: UUIDs or strings)."""
        if self.dialect == "sqlite":
            # As stored by the Uuid type on SQLite: 32 hex digits
            return json.dumps([v.hex if isinstance(v, UUID) else v for v in values])
        return list(values)

    def _locked(self, stmt: Select[Any], *, skip: bool = False) -> Select[Any]:
        if self.dialect == "sqlite":
            return stmt  # BEGIN IMMEDIATE already holds the database's write lock
        if skip and self.skip_locked:
            return stmt.with_for_update(skip_locked=True)
        return stmt.with_for_update()

    def _insert_ignoring_duplicates(self, conn: Connection, table: Any, rows: list[dict]) -> None:
        """Insert rows, skipping those whose primary key exists (a retried transaction
        whose first commit did succeed must not fail on its own rows)."""
        if not rows:
            return
        if table is self.t.jobs:
            stmt = self._insert_jobs
        elif table is self.t.job_results:
            stmt = self._insert_results
        else:
            stmt = self._insert_ignoring_stmt(table)
        conn.execute(stmt, rows)

    def _insert_ignoring_stmt(self, table: Any) -> Any:
        if self.dialect in ("postgresql", "sqlite"):
            return _dialect_insert(self.dialect, table).on_conflict_do_nothing()
        if self.dialect == "mysql":
            stmt = _dialect_insert(self.dialect, table)
            pk = table.primary_key.columns.values()[0]
            return stmt.on_duplicate_key_update({pk.name: stmt.inserted[pk.name]})
        return insert(table)

    def _upsert(self, conn: Connection, table: Any, row: dict[str, Any]) -> None:
        pk = table.primary_key.columns.values()[0]
        updates = [name for name in row if name != pk.name]
        if self.dialect in ("postgresql", "sqlite"):
            stmt = _dialect_insert(self.dialect, table)
            stmt = stmt.on_conflict_do_update(
                index_elements=[pk], set_={name: stmt.excluded[name] for name in updates}
            )
            conn.execute(stmt, row)
        elif self.dialect == "mysql":
            stmt = _dialect_insert(self.dialect, table)
            stmt = stmt.on_duplicate_key_update({name: stmt.inserted[name] for name in updates})
            conn.execute(stmt, row)
        else:
            values = {name: row[name] for name in updates}
            if not conn.execute(update(table).where(pk == row[pk.name]).values(values)).rowcount:
                conn.execute(insert(table).values(row))

    # Tasks

    def add_task(self, conn: Connection, events: Events, row: dict[str, Any]) -> None:
        tt = self.t.tasks
        existed = conn.execute(select(tt.c.id).where(tt.c.id == row["id"])).first() is not None
        self._upsert(conn, tt, row)
        cls = TaskUpdated if existed else TaskAdded
        events.append(cls(task_id=row["id"]))

    def remove_task(self, conn: Connection, events: Events, task_id: str) -> bool:
        tt = self.t.tasks
        if not conn.execute(delete(tt).where(tt.c.id == task_id)).rowcount:
            return False
        events.append(TaskRemoved(task_id=task_id))
        return True

    def get_tasks(self, conn: Connection, events: Events, task_id: str | None) -> list[Any]:
        tt = self.t.tasks
        stmt = select(tt).order_by(tt.c.id)
        if task_id is not None:
            stmt = stmt.where(tt.c.id == task_id)
        return [task_from_row(row) for row in conn.execute(stmt).mappings()]

    # Schedules

    def _schedules_from_rows(self, rows: Iterable[Any], events: Events) -> list[Schedule]:
        schedules: list[Schedule] = []
        for row in rows:
            try:
                schedules.append(schedule_from_row(row, self.serializer))
            except Exception as exc:
                self.logger.error(
                    "Skipping schedule %r: it cannot be deserialized (%s)",
                    row["id"],
                    _describe(exc),
                )
                events.append(
                    ScheduleDeserializationFailed(schedule_id=row["id"], exception=_describe(exc))
                )
        return schedules

    def get_schedules(
        self, conn: Connection, events: Events, ids: list[str] | None
    ) -> list[Schedule]:
        st = self.t.schedules
        if ids is None:
            rows = conn.execute(select(st).order_by(st.c.id)).mappings().all()
        else:
            rows = []
            for chunk in _chunks(ids):
                rows.extend(conn.execute(select(st).where(self._in(st.c.id, chunk))).mappings())
            rows.sort(key=lambda row: row["id"])
        return self._schedules_from_rows(rows, events)

    def add_schedule(
        self,
        conn: Connection,
        events: Events,
        row: dict[str, Any],
        policy: ConflictPolicy,
    ) -> None:
        st = self.t.schedules
        # A stored schedule is never half-owned: replacing it ends any lease on it, so a
        # scheduler still processing the old version has its release refused.
        row = {**row, "acquired_by": None, "acquired_until": None, "lease_token": None}
        existed = (
            conn.execute(self._locked(select(st.c.id).where(st.c.id == row["id"]))).first()
            is not None
        )
        if existed:
            if policy is ConflictPolicy.do_nothing:
                return
            if policy is ConflictPolicy.exception:
                raise ConflictingIdError(row["id"])
            conn.execute(update(st).where(st.c.id == row["id"]).values(row))
            cls: Any = ScheduleUpdated
        else:
            if policy is ConflictPolicy.replace:
                self._upsert(conn, st, row)
            elif policy is ConflictPolicy.exception:
                try:
                    conn.execute(insert(st), row)
                except IntegrityError:
                    raise ConflictingIdError(row["id"]) from None
            else:
                self._insert_ignoring_duplicates(conn, st, [row])
            cls = ScheduleAdded
        events.append(
            cls(
                schedule_id=row["id"],
                task_id=row["task_id"],
                next_fire_time=from_us(row["next_fire_time"]),
            )
        )

    def remove_schedules(
        self, conn: Connection, events: Events, ids: list[str], finished: bool
    ) -> None:
        st = self.t.schedules
        for chunk in _chunks(ids):
            rows = conn.execute(
                self._locked(select(st.c.id, st.c.task_id).where(self._in(st.c.id, chunk)))
            ).all()
            if not rows:
                continue
            conn.execute(delete(st).where(self._in(st.c.id, [row.id for row in rows])))
            for row in rows:
                events.append(
                    ScheduleRemoved(schedule_id=row.id, task_id=row.task_id, finished=finished)
                )

    def acquire_schedules(
        self,
        conn: Connection,
        events: Events,
        scheduler_id: str,
        lease_duration: timedelta,
        limit: int,
    ) -> list[Schedule]:
        st = self.t.schedules
        now_us = to_us(now())
        until_us = now_us + td_to_us(lease_duration)
        due = (
            select(st.c.id)
            .where(
                st.c.paused == false(),
                st.c.next_fire_time <= now_us,
                or_(
                    st.c.acquired_until.is_(None),
                    st.c.acquired_until < now_us,
                    st.c.acquired_by == scheduler_id,
                ),
            )
            .order_by(st.c.next_fire_time, st.c.id)
            .limit(limit)
        )
        ids = list(conn.execute(self._locked(due, skip=True)).scalars())
        if not ids:
            return []
        token = uuid4().hex
        conn.execute(
            update(st)
            .where(self._in(st.c.id, ids))
            .values(acquired_by=scheduler_id, acquired_until=until_us, lease_token=token)
        )
        rows = conn.execute(select(st).where(self._in(st.c.id, ids))).mappings().all()
        schedules = self._schedules_from_rows(rows, events)
        good = {schedule.id for schedule in schedules}
        bad = [row["id"] for row in rows if row["id"] not in good]
        if bad:
            # Quarantine unreadable schedules for one lease period, held by nobody: not
            # re-acquired at once (no busy loop), and a scheduler that can read them (a
            # host with the missing plugin) gets them when the lease runs out.
            conn.execute(
                update(st)
                .where(self._in(st.c.id, bad))
                .values(acquired_by=None, acquired_until=until_us, lease_token=None)
            )
        schedules.sort(key=lambda schedule: (schedule.next_fire_time, schedule.id))
        return schedules

    def release_schedules(
        self,
        conn: Connection,
        events: Events,
        scheduler_id: str,
        releases: Sequence[PreparedRelease],
    ) -> list[str]:
        st = self.t.schedules
        ids = [release.schedule_id for release in releases]
        current: dict[str, Any] = {}
        for chunk in _chunks(ids):
            stmt = select(st.c.id, st.c.acquired_by, st.c.lease_token).where(
                self._in(st.c.id, chunk)
            )
            for locked_row in conn.execute(self._locked(stmt)):
                current[locked_row.id] = locked_row

        accepted: list[PreparedRelease] = []
        refused: list[PreparedRelease] = []
        for release in releases:
            row = current.get(release.schedule_id)
            if row is None:  # removed (or replaced) while it was being processed
                holds = False
            elif release.lease_token is not None:
                holds = row.lease_token == release.lease_token
            else:
                holds = row.acquired_by == scheduler_id
            (accepted if holds else refused).append(release)

        if accepted:
            values: dict[str, Any] = {
                "last_fire_time": bindparam("b_last"),
                "next_fire_time": bindparam("b_next"),
                "acquired_by": None,
                "acquired_until": None,
                "lease_token": None,
            }
            with_trigger = [r for r in accepted if r.trigger is not None]
            without_trigger = [r for r in accepted if r.trigger is None]
            for group, extra in ((with_trigger, True), (without_trigger, False)):
                if not group:
                    continue
                release_stmt = (
                    update(st)
                    .where(st.c.id == bindparam("b_id"))
                    .values({**values, "trigger": bindparam("b_trigger")} if extra else values)
                )
                params = [
                    {
                        "b_id": r.schedule_id,
                        "b_last": to_us(r.last_fire_time),
                        "b_next": to_us(r.next_fire_time),
                        **({"b_trigger": r.trigger} if extra else {}),
                    }
                    for r in group
                ]
                conn.execute(release_stmt, params)
            job_rows = [row for release in accepted for row in release.job_rows]
            self._insert_ignoring_duplicates(conn, self.t.jobs, job_rows)
            for release in accepted:
                events.append(
                    ScheduleUpdated(
                        schedule_id=release.schedule_id,
                        task_id=release.task_id,
                        next_fire_time=release.next_fire_time,
                    )
                )
                for job in release.jobs:
                    events.append(
                        JobAdded(job_id=job.id, task_id=job.task_id, schedule_id=job.schedule_id)
                    )
        if refused:
            refused_ids = [release.schedule_id for release in refused]
            events.append(LeaseLost(scheduler_id=scheduler_id, schedule_ids=refused_ids))
            return refused_ids
        return []

    def get_next_schedule_run_time(self, conn: Connection, events: Events) -> datetime | None:
        st = self.t.schedules
        now_us = to_us(now())
        stmt = select(func.min(st.c.next_fire_time)).where(
            st.c.paused == false(),
            st.c.next_fire_time.is_not(None),
            or_(st.c.acquired_until.is_(None), st.c.acquired_until < now_us),
        )
        return from_us(conn.execute(stmt).scalar())

    def extend_schedule_leases(
        self,
        conn: Connection,
        events: Events,
        scheduler_id: str,
        ids: list[str],
        duration: timedelta,
    ) -> None:
        st = self.t.schedules
        until_us = to_us(now()) + td_to_us(duration)
        for chunk in _chunks(ids):
            conn.execute(
                update(st)
                .where(st.c.acquired_by == scheduler_id, self._in(st.c.id, chunk))
                .values(acquired_until=until_us)
            )

    # Jobs

    def add_jobs(
        self, conn: Connection, events: Events, rows: list[dict[str, Any]], jobs: Sequence[Job]
    ) -> None:
        self._insert_ignoring_duplicates(conn, self.t.jobs, rows)
        for job in jobs:
            events.append(
                JobAdded(job_id=job.id, task_id=job.task_id, schedule_id=job.schedule_id)
            )

    def _jobs_from_rows(self, rows: Iterable[Any], events: Events) -> tuple[list[Job], list[Any]]:
        jobs: list[Job] = []
        failed: list[Any] = []
        for row in rows:
            try:
                jobs.append(job_from_row(row, self.serializer))
            except Exception as exc:
                self.logger.error("Job %s cannot be deserialized (%s)", row["id"], _describe(exc))
                events.append(JobDeserializationFailed(job_id=row["id"], exception=_describe(exc)))
                failed.append(row)
        return jobs, failed

    def get_jobs(self, conn: Connection, events: Events, ids: list[UUID] | None) -> list[Job]:
        jt = self.t.jobs
        order = (jt.c.created_at, jt.c.id)
        if ids is None:
            rows = conn.execute(select(jt).order_by(*order)).mappings().all()
        else:
            rows = []
            for chunk in _chunks(ids):
                rows.extend(conn.execute(select(jt).where(self._in(jt.c.id, chunk))).mappings())
            rows.sort(key=lambda row: (row["created_at"], str(row["id"])))
        return self._jobs_from_rows(rows, events)[0]

    def remove_jobs(self, conn: Connection, events: Events, ids: list[UUID]) -> list[UUID]:
        jt = self.t.jobs
        removed: list[UUID] = []
        for chunk in _chunks(ids):
            stmt = select(jt.c.id, jt.c.task_id).where(
                self._in(jt.c.id, chunk), jt.c.acquired_until.is_(None)
            )
            rows = conn.execute(self._locked(stmt)).all()
            if not rows:
                continue
            conn.execute(delete(jt).where(self._in(jt.c.id, [row.id for row in rows])))
            for row in rows:
                removed.append(row.id)
                events.append(JobRemoved(job_id=row.id, task_id=row.task_id))
        return removed

    def acquire_jobs(
        self,
        conn: Connection,
        events: Events,
        scheduler_id: str,
        lease_duration: timedelta,
        limit: int | None,
    ) -> list[Job]:
        current = now()
        now_us = to_us(current)
        if self._sweep_due(current):
            self._release_expired_and_late(conn, events, now_us, current, scheduler_id)

        if limit is None:
            cursor = conn.execute(self._select_queued)
        else:
            cursor = conn.execute(self._select_queued_limit, {"b_limit": limit})
        rows = cursor.mappings().all()
        if not rows:
            return []

        jobs, failed = self._jobs_from_rows(rows, events)
        limited_ids = {row["id"] for row in rows if row["task_limited"]}
        finished: list[_Finished] = []
        for row in failed:
            result = JobResult(
                job_id=row["id"],
                outcome=JobOutcome.deserialization_failed,
                finished_at=current,
                expires_at=current + timedelta(microseconds=row["result_expiration_time"]),
            )
            finished.append(_finished_from_row(row, result, scheduler_id, holds_slot=False))
        candidates: list[Job] = []
        for job in jobs:
            if job.start_deadline is not None and job.start_deadline < current:
                result = JobResult.from_job(
                    job, JobOutcome.missed_start_deadline, finished_at=current
                )
                finished.append(_finished_from_job(job, result, scheduler_id, holds_slot=False))
            else:
                candidates.append(job)

        acquired: list[Job] = candidates
        # Only tasks with a max_running_jobs are locked and checked for free slots
        task_ids = sorted({job.task_id for job in candidates if job.id in limited_ids})
        if task_ids:
            free: dict[str, float] = {}
            for chunk in _chunks(task_ids):
                params = {"b_ids": self._id_list(chunk)}
                for row in conn.execute(self._select_task_slots, params):
                    if row.max_running_jobs is not None:
                        free[row.id] = max(row.max_running_jobs - row.running_jobs, 0)
            acquired = []
            for job in candidates:
                slots = free.get(job.task_id, float("inf"))
                if slots > 0:
                    free[job.task_id] = slots - 1
                    acquired.append(job)

        if acquired:
            token = uuid4().hex
            until = current + lease_duration
            until_us = to_us(until)
            job_ids = [job.id for job in acquired]
            for job_chunk in _chunks(job_ids):
                conn.execute(
                    self._lease_jobs,
                    {
                        "b_ids": self._id_list(job_chunk),
                        "b_by": scheduler_id,
                        "b_until": until_us,
                        "b_token": token,
                    },
                )
            self._adjust_running_jobs(conn, Counter(job.task_id for job in acquired), +1)
            for job in acquired:
                job.acquired_by = scheduler_id
                job.acquired_until = until
                job.lease_token = token
                events.append(JobAcquired.from_job(job, scheduler_id))

        self._finish(conn, events, finished)
        return acquired

    def _sweep_due(self, current: datetime) -> bool:
        """Whether ``acquire_jobs`` should look for expired leases and late queued jobs.

        That query scans the leases of every running job, so it runs at most once per
        :data:`SWEEP_INTERVAL` of the clock (and whenever the clock went back), not on
        every acquire: an abandoned job or a late job waiting for a full task's slot is
        released up to that much later. Queued jobs that ``acquire_jobs`` selects are
        still checked for their start deadline every time.
        """
        last = self._last_sweep
        if last is not None and last <= current < last + SWEEP_INTERVAL:
            return False
        self._last_sweep = current
        return True

    def release_jobs(
        self,
        conn: Connection,
        events: Events,
        scheduler_id: str,
        releases: Sequence[tuple[Job, JobResult]],
        result_rows: dict[UUID, dict[str, Any]],
    ) -> list[UUID]:
        if self.returning:
            held = self._delete_held(conn, scheduler_id, [job for job, _ in releases])
        else:
            held = self._locked_held(conn, scheduler_id, [job for job, _ in releases])
        finished: list[_Finished] = []
        refused: list[UUID] = []
        for job, result in releases:
            if job.id in held:
                finished.append(_finished_from_job(job, result, scheduler_id, holds_slot=True))
            else:
                refused.append(job.id)
        # The held jobs' rows are already deleted when DELETE ... RETURNING was used
        self._finish(conn, events, finished, result_rows, delete=not self.returning)
        if refused:
            events.append(LeaseLost(scheduler_id=scheduler_id, job_ids=refused))
        return refused

    @staticmethod
    def _lease_groups(jobs: Sequence[Job]) -> dict[str | None, list[UUID]]:
        groups: dict[str | None, list[UUID]] = {}
        for job in jobs:
            groups.setdefault(job.lease_token, []).append(job.id)
        return groups

    def _delete_held(self, conn: Connection, scheduler_id: str, jobs: Sequence[Job]) -> set:
        """Delete the rows of the jobs whose lease the releaser still holds (same token,
        or same holder for a job without token) in one statement per lease; return
        their IDs. The fencing check and the delete are one atomic statement."""
        held: set[UUID] = set()
        for token, ids in self._lease_groups(jobs).items():
            for chunk in _chunks(ids):
                params: dict[str, Any]
                if token is not None:
                    stmt, params = self._delete_by_token, {"b_token": token}
                else:
                    stmt, params = self._delete_by_owner, {"b_by": scheduler_id}
                params["b_ids"] = self._id_list(chunk)
                held.update(conn.execute(stmt, params).scalars())
        return held

    def _locked_held(self, conn: Connection, scheduler_id: str, jobs: Sequence[Job]) -> set:
        """Lock the rows of the jobs being released; return the IDs of those whose lease
        the releaser still holds."""
        tokens = {job.id: job.lease_token for job in jobs}
        held: set[UUID] = set()
        for chunk in _chunks([job.id for job in jobs]):
            for row in conn.execute(self._select_leases, {"b_ids": self._id_list(chunk)}):
                if row.acquired_by is None:
                    continue
                token = tokens.get(row.id)
                if (
                    (row.lease_token == token)
                    if token is not None
                    else (row.acquired_by == scheduler_id)
                ):
                    held.add(row.id)
        return held

    def get_job_result(self, conn: Connection, events: Events, job_id: UUID) -> JobResult | None:
        rt = self.t.job_results
        stmt = select(rt).where(rt.c.job_id == job_id, rt.c.expires_at > to_us(now()))
        row = conn.execute(stmt).mappings().first()
        return None if row is None else result_from_row(row, self.serializer)

    def extend_job_leases(
        self,
        conn: Connection,
        events: Events,
        scheduler_id: str,
        ids: list[UUID],
        duration: timedelta,
    ) -> None:
        jt = self.t.jobs
        until_us = to_us(now()) + td_to_us(duration)
        for chunk in _chunks(ids):
            conn.execute(
                update(jt)
                .where(jt.c.acquired_by == scheduler_id, self._in(jt.c.id, chunk))
                .values(acquired_until=until_us)
            )

    def reap_abandoned_jobs(self, conn: Connection, events: Events, scheduler_id: str) -> None:
        jt = self.t.jobs
        self._release_as_abandoned(conn, events, jt.c.acquired_by == scheduler_id)

    def cleanup(self, conn: Connection, events: Events) -> None:
        st, jt, rt = self.t.schedules, self.t.jobs, self.t.job_results
        now_us = to_us(now())
        conn.execute(delete(rt).where(rt.c.expires_at <= now_us))
        self._release_expired(conn, events, now_us)
        exhausted = select(st.c.id, st.c.task_id).where(
            st.c.next_fire_time.is_(None),
            or_(st.c.acquired_until.is_(None), st.c.acquired_until < now_us),
            ~exists().where(jt.c.schedule_id == st.c.id),
        )
        rows = conn.execute(self._locked(exhausted, skip=True)).all()
        for chunk in _chunks(rows):
            conn.execute(delete(st).where(self._in(st.c.id, [row.id for row in chunk])))
        for row in rows:
            events.append(ScheduleRemoved(schedule_id=row.id, task_id=row.task_id, finished=True))

    # Releasing jobs

    def _release_expired(self, conn: Connection, events: Events, now_us: int) -> None:
        jt = self.t.jobs
        self._release_as_abandoned(conn, events, jt.c.acquired_until < now_us)

    def _release_expired_and_late(
        self, conn: Connection, events: Events, now_us: int, current: datetime, by: str
    ) -> None:
        """In one query: release jobs whose lease expired as ``abandoned`` (giving back
        their slots) and queued jobs past their start deadline as
        ``missed_start_deadline`` (including those waiting for a slot of a full task)."""
        rows = conn.execute(self._select_expired_and_late, {"b_now": now_us}).mappings().all()
        finished = []
        for row in rows:
            expires_at = current + timedelta(microseconds=row["result_expiration_time"])
            if row["acquired_until"] is None:
                outcome, holds_slot, released_by = JobOutcome.missed_start_deadline, False, by
            else:
                outcome, holds_slot = JobOutcome.abandoned, True
                released_by = row["acquired_by"]
                self.logger.warning(
                    "Job %s (task %r) was abandoned by %s (its lease ran out); releasing it",
                    row["id"],
                    row["task_id"],
                    released_by,
                )
            result = JobResult(
                job_id=row["id"], outcome=outcome, finished_at=current, expires_at=expires_at
            )
            finished.append(_finished_from_row(row, result, released_by, holds_slot=holds_slot))
        self._finish(conn, events, finished)

    def _finishing_columns(self) -> tuple[Any, ...]:
        """The job columns needed to release a job the store finishes itself."""
        jt = self.t.jobs
        return (
            jt.c.id,
            jt.c.task_id,
            jt.c.schedule_id,
            jt.c.scheduled_fire_time,
            jt.c.result_expiration_time,
            jt.c.acquired_by,
        )

    def _release_as_abandoned(self, conn: Connection, events: Events, condition: Any) -> None:
        """Release the acquired jobs matching ``condition`` with outcome ``abandoned``,
        giving back their task slots. Rows locked by a live releaser are skipped."""
        jt = self.t.jobs
        stmt = select(*self._finishing_columns()).where(
            jt.c.acquired_until.is_not(None), condition
        )
        rows = conn.execute(self._locked(stmt, skip=True)).mappings().all()
        if not rows:
            return
        current = now()
        finished = []
        for row in rows:
            result = JobResult(
                job_id=row["id"],
                outcome=JobOutcome.abandoned,
                finished_at=current,
                expires_at=current + timedelta(microseconds=row["result_expiration_time"]),
            )
            finished.append(_finished_from_row(row, result, row["acquired_by"], holds_slot=True))
            self.logger.warning(
                "Job %s (task %r) was abandoned by %s (its lease ran out); releasing it",
                row["id"],
                row["task_id"],
                row["acquired_by"],
            )
        self._finish(conn, events, finished)

    def _finish(
        self,
        conn: Connection,
        events: Events,
        finished: Sequence[_Finished],
        result_rows: dict[UUID, dict[str, Any]] | None = None,
        *,
        delete: bool = True,
    ) -> None:
        """Store the kept results, delete the jobs (unless already deleted), give back
        slots, queue events."""
        if not finished:
            return
        rows: list[dict[str, Any]] = []
        for item in finished:
            if not item.result.should_be_stored:
                continue
            row = (result_rows or {}).get(item.job_id)
            rows.append(row if row is not None else result_to_row(item.result, self.serializer))
        self._insert_ignoring_duplicates(conn, self.t.job_results, rows)
        if delete:
            ids = [item.job_id for item in finished]
            for chunk in _chunks(ids):
                conn.execute(self._delete_jobs, {"b_ids": self._id_list(chunk)})
        self._adjust_running_jobs(
            conn, Counter(item.task_id for item in finished if item.holds_slot), -1
        )
        for item in finished:
            events.append(
                JobReleased.from_result(
                    item.result,
                    item.released_by,
                    item.task_id,
                    item.schedule_id,
                    item.scheduled_fire_time,
                )
            )

    def _adjust_running_jobs(self, conn: Connection, counts: Counter[str], sign: int) -> None:
        if not counts:
            return
        stmt = self._running_up if sign > 0 else self._running_down
        # Sorted: tasks are always locked in ID order (no deadlock between releasers)
        conn.execute(
            stmt, [{"b_id": task_id, "b_delta": counts[task_id]} for task_id in sorted(counts)]
        )


def _dialect_insert(dialect: str, table: Any) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    from sqlalchemy.dialects.mysql import insert as mysql_insert

    return mysql_insert(table)


def _finished_from_row(
    row: Any, result: JobResult, released_by: str, *, holds_slot: bool
) -> _Finished:
    return _Finished(
        job_id=row["id"],
        task_id=row["task_id"],
        schedule_id=row["schedule_id"],
        scheduled_fire_time=from_us(row["scheduled_fire_time"]),
        result=result,
        released_by=released_by,
        holds_slot=holds_slot,
    )


def _finished_from_job(
    job: Job, result: JobResult, released_by: str, *, holds_slot: bool
) -> _Finished:
    return _Finished(
        job_id=job.id,
        task_id=job.task_id,
        schedule_id=job.schedule_id,
        scheduled_fire_time=job.scheduled_fire_time,
        result=result,
        released_by=released_by,
        holds_slot=holds_slot,
    )
