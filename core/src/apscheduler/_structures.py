"""The records the scheduler keeps in its data store: tasks, schedules, jobs, results.

They are plain attrs classes. Data stores that persist them turn them into rows or
documents with :meth:`marshal` / :meth:`unmarshal`; the memory store keeps the objects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import attrs

from ._clock import get_clock
from ._converters import (
    as_aware_datetime,
    as_enum,
    as_job_outcome,
    as_optional_aware_datetime,
    as_optional_timedelta,
    as_timedelta,
    as_uuid,
)
from ._enums import CoalescePolicy, JobOutcome

if TYPE_CHECKING:
    from .abc import Serializer, Trigger


class UnsetValue:
    """Marks a parameter that was not given (distinct from an explicit ``None``)."""

    _instance: UnsetValue | None = None

    def __new__(cls) -> UnsetValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unset>"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "unset"


unset: Any = UnsetValue()


def _as_coalesce(value: CoalescePolicy | str | bool) -> CoalescePolicy:
    """``True`` means ``latest`` (APScheduler 3's ``coalesce=True``), ``False`` means ``all``."""
    if value is True:
        return CoalescePolicy.latest
    if value is False:
        return CoalescePolicy.all
    return as_enum(CoalescePolicy)(value)


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value)


def _as_dict(value: Any) -> dict[str, Any]:
    return {} if value is None else dict(value)


def _validate_metadata(instance: Any, attribute: Any, value: dict[str, Any]) -> None:
    check_json_compatible(value, f"{type(instance).__name__}.{attribute.name}")


def check_json_compatible(value: Any, path: str) -> None:
    """Raise ``TypeError`` unless ``value`` is made only of JSON types (str keys)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_json_compatible(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} keys must be strings, got {key!r}")
            check_json_compatible(item, f"{path}[{key!r}]")
        return
    raise TypeError(f"{path} must be JSON-compatible; {type(value).__name__} is not")


def merge_metadata(*sources: Any) -> dict[str, Any]:
    """Merge metadata dicts left to right (later keys win); unset/None are skipped."""
    result: dict[str, Any] = {}
    for source in sources:
        if source:
            result.update(source)
    return result


@attrs.define(kw_only=True, eq=False)
class TaskDefaults:
    """Defaults applied to tasks that do not set a value themselves.

    ``max_running_jobs`` defaults to ``None`` (no limit). APScheduler 4.0 defaulted to 1
    per *task*, so a hundred ``add_job(f)`` calls ran one after another; set
    ``max_running_jobs=1`` on a task to keep its runs from overlapping (further jobs
    then **wait in the queue**; they are not dropped). ``job_executor`` unset means:
    coroutine functions run on ``"async"``, everything else on ``"threadpool"``, so a
    blocking function never stalls the event loop.
    """

    job_executor: str | UnsetValue = attrs.field(default=unset)
    max_running_jobs: int | None = attrs.field(default=None)
    misfire_grace_time: timedelta | None = attrs.field(
        default=None, converter=as_optional_timedelta
    )
    metadata: dict[str, Any] = attrs.field(
        factory=dict, converter=_as_dict, validator=_validate_metadata
    )

    def __attrs_post_init__(self) -> None:
        if self.max_running_jobs is not None and self.max_running_jobs < 1:
            raise ValueError("max_running_jobs must be a positive integer or None")


@attrs.define(kw_only=True, eq=False)
class TaskParameters:
    """What the :func:`task` decorator records on a function."""

    id: str | UnsetValue = unset
    job_executor: str | UnsetValue = unset
    max_running_jobs: int | None | UnsetValue = unset
    misfire_grace_time: timedelta | None | UnsetValue = unset
    metadata: dict[str, Any] | UnsetValue = unset


@attrs.define(kw_only=True, eq=False)
class Task:
    """A callable plus the settings shared by all of its jobs.

    ``func`` is a ``"module:qualname"`` reference, or ``None`` when the callable cannot be
    referenced (lambda, nested function): such a task only runs where it was configured.
    ``running_jobs`` is maintained by the data store.
    """

    id: str = attrs.field(validator=attrs.validators.min_len(1))
    func: str | None = attrs.field(default=None)
    job_executor: str
    max_running_jobs: int | None = None
    misfire_grace_time: timedelta | None = attrs.field(
        default=None, converter=as_optional_timedelta
    )
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_as_dict)
    running_jobs: int = 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def marshal(self) -> dict[str, Any]:
        """Return a JSON-compatible dict of this task."""
        return {
            "id": self.id,
            "func": self.func,
            "job_executor": self.job_executor,
            "max_running_jobs": self.max_running_jobs,
            "misfire_grace_time": _seconds(self.misfire_grace_time),
            "metadata": self.metadata,
            "running_jobs": self.running_jobs,
        }

    @classmethod
    def unmarshal(cls, data: dict[str, Any]) -> Task:
        return cls(**data)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@attrs.define(kw_only=True, eq=False)
class Schedule:
    """When and with which arguments a task runs, driven by a trigger.

    ``next_fire_time`` is ``None`` once the trigger is exhausted. ``acquired_by``,
    ``acquired_until`` and ``lease_token`` describe the current lease: a data store only
    accepts the release of a schedule from the holder of the current ``lease_token``.
    """

    id: str = attrs.field(validator=attrs.validators.min_len(1))
    task_id: str
    trigger: Trigger
    args: tuple[Any, ...] = attrs.field(default=(), converter=_as_tuple)
    kwargs: dict[str, Any] = attrs.field(factory=dict, converter=_as_dict)
    name: str | None = None
    paused: bool = False
    pause_note: str | None = None
    coalesce: CoalescePolicy = attrs.field(default=CoalescePolicy.latest, converter=_as_coalesce)
    misfire_grace_time: timedelta | None = attrs.field(
        default=None, converter=as_optional_timedelta
    )
    max_jitter: timedelta | None = attrs.field(default=None, converter=as_optional_timedelta)
    job_executor: str
    job_result_expiration_time: timedelta = attrs.field(
        default=timedelta(0), converter=as_timedelta
    )
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_as_dict)
    next_fire_time: datetime | None = attrs.field(
        default=None, converter=as_optional_aware_datetime
    )
    last_fire_time: datetime | None = attrs.field(
        default=None, converter=as_optional_aware_datetime
    )
    acquired_by: str | None = None
    acquired_until: datetime | None = attrs.field(
        default=None, converter=as_optional_aware_datetime
    )
    lease_token: str | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __lt__(self, other: Schedule) -> bool:
        if self.next_fire_time is None:
            return False
        if other.next_fire_time is None:
            return True
        return self.next_fire_time < other.next_fire_time

    @property
    def next_run_time(self) -> datetime | None:
        """Alias of ``next_fire_time`` (the name APScheduler 3 users know)."""
        return self.next_fire_time

    def marshal(self, serializer: Serializer) -> dict[str, Any]:
        """Return a dict whose ``trigger``, ``args`` and ``kwargs`` are serialized bytes.

        Every other value is JSON-compatible (datetimes as ISO strings, durations as
        seconds, enums by name), so document stores can keep it as is.
        """
        return {
            "id": self.id,
            "task_id": self.task_id,
            "trigger": serializer.serialize(self.trigger),
            "args": serializer.serialize(self.args),
            "kwargs": serializer.serialize(self.kwargs),
            "name": self.name,
            "paused": self.paused,
            "pause_note": self.pause_note,
            "coalesce": self.coalesce.name,
            "misfire_grace_time": _seconds(self.misfire_grace_time),
            "max_jitter": _seconds(self.max_jitter),
            "job_executor": self.job_executor,
            "job_result_expiration_time": self.job_result_expiration_time.total_seconds(),
            "metadata": self.metadata,
            "next_fire_time": _iso(self.next_fire_time),
            "last_fire_time": _iso(self.last_fire_time),
            "acquired_by": self.acquired_by,
            "acquired_until": _iso(self.acquired_until),
            "lease_token": self.lease_token,
        }

    @classmethod
    def unmarshal(cls, serializer: Serializer, data: dict[str, Any]) -> Schedule:
        data = dict(data)
        data["trigger"] = serializer.deserialize(data["trigger"])
        data["args"] = serializer.deserialize(data["args"])
        data["kwargs"] = serializer.deserialize(data["kwargs"])
        return cls(**data)


@attrs.define(kw_only=True, frozen=True)
class ScheduleResult:
    """What a scheduler hands back to the store after processing an acquired schedule.

    ``jobs`` are the jobs produced by the fire times that were due; the store inserts them
    in the same transaction that advances the schedule, and only if the releasing
    scheduler still holds the lease (``lease_token``), so a fire time yields its jobs once.
    """

    schedule_id: str
    task_id: str
    trigger: Trigger
    last_fire_time: datetime | None
    next_fire_time: datetime | None
    lease_token: str | None = None
    jobs: tuple[Job, ...] = ()


@attrs.define(kw_only=True, eq=False)
class Job:
    """A request to run a task once, queued in the data store until a worker takes it."""

    id: UUID = attrs.field(factory=uuid4, converter=as_uuid)
    task_id: str
    args: tuple[Any, ...] = attrs.field(default=(), converter=_as_tuple)
    kwargs: dict[str, Any] = attrs.field(factory=dict, converter=_as_dict)
    schedule_id: str | None = None
    scheduled_fire_time: datetime | None = attrs.field(
        default=None, converter=as_optional_aware_datetime
    )
    executor: str
    jitter: timedelta = attrs.field(default=timedelta(0), converter=as_timedelta)
    start_deadline: datetime | None = attrs.field(
        default=None, converter=as_optional_aware_datetime
    )
    result_expiration_time: timedelta = attrs.field(default=timedelta(0), converter=as_timedelta)
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_as_dict)
    created_at: datetime = attrs.field(
        factory=lambda: get_clock().now(), converter=as_aware_datetime
    )
    acquired_by: str | None = None
    acquired_until: datetime | None = attrs.field(
        default=None, converter=as_optional_aware_datetime
    )
    lease_token: str | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Job) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def next_deadline(self) -> datetime | None:
        """When the job should start: its start deadline, else its scheduled fire time."""
        return self.start_deadline or self.scheduled_fire_time

    @property
    def task(self) -> str:
        """The job's task ID (alias of ``task_id``)."""
        return self.task_id

    @property
    def original_scheduled_time(self) -> datetime | None:
        """The fire time before jitter was added."""
        if self.scheduled_fire_time is None:
            return None
        return self.scheduled_fire_time - self.jitter

    def marshal(self, serializer: Serializer) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "task_id": self.task_id,
            "args": serializer.serialize(self.args),
            "kwargs": serializer.serialize(self.kwargs),
            "schedule_id": self.schedule_id,
            "scheduled_fire_time": _iso(self.scheduled_fire_time),
            "executor": self.executor,
            "jitter": self.jitter.total_seconds(),
            "start_deadline": _iso(self.start_deadline),
            "result_expiration_time": self.result_expiration_time.total_seconds(),
            "metadata": self.metadata,
            "created_at": self.created_at.isoformat(),
            "acquired_by": self.acquired_by,
            "acquired_until": _iso(self.acquired_until),
            "lease_token": self.lease_token,
        }

    @classmethod
    def unmarshal(cls, serializer: Serializer, data: dict[str, Any]) -> Job:
        data = dict(data)
        data["args"] = serializer.deserialize(data["args"])
        data["kwargs"] = serializer.deserialize(data["kwargs"])
        return cls(**data)


@attrs.define(kw_only=True, frozen=True)
class JobResult:
    """The outcome of one job, kept until ``expires_at`` (readable any number of times)."""

    job_id: UUID = attrs.field(converter=as_uuid)
    outcome: JobOutcome = attrs.field(converter=as_job_outcome)
    started_at: datetime | None = attrs.field(default=None, converter=as_optional_aware_datetime)
    finished_at: datetime = attrs.field(converter=as_aware_datetime)
    expires_at: datetime = attrs.field(converter=as_aware_datetime)
    exception: BaseException | None = None
    return_value: Any = None
    traceback: list[str] | None = None

    @classmethod
    def from_job(
        cls,
        job: Job,
        outcome: JobOutcome,
        *,
        finished_at: datetime | None = None,
        started_at: datetime | None = None,
        exception: BaseException | None = None,
        return_value: Any = None,
        traceback: list[str] | None = None,
    ) -> JobResult:
        real_finished_at = finished_at or get_clock().now()
        return cls(
            job_id=job.id,
            outcome=outcome,
            started_at=started_at,
            finished_at=real_finished_at,
            expires_at=real_finished_at + job.result_expiration_time,
            exception=exception,
            return_value=return_value,
            traceback=traceback,
        )

    @property
    def should_be_stored(self) -> bool:
        return self.expires_at > self.finished_at

    def marshal(self, serializer: Serializer) -> dict[str, Any]:
        return {
            "job_id": str(self.job_id),
            "outcome": self.outcome.name,
            "started_at": _iso(self.started_at),
            "finished_at": self.finished_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "exception": (
                _serialize_exception(serializer, self.exception)
                if self.outcome is JobOutcome.error
                else None
            ),
            "return_value": (
                serializer.serialize(self.return_value)
                if self.outcome is JobOutcome.success
                else None
            ),
            "traceback": self.traceback,
        }

    @classmethod
    def unmarshal(cls, serializer: Serializer, data: dict[str, Any]) -> JobResult:
        data = dict(data)
        if data.get("exception") is not None:
            data["exception"] = _deserialize_exception(serializer, data["exception"])
        if data.get("return_value") is not None:
            data["return_value"] = serializer.deserialize(data["return_value"])
        return cls(**data)


def _serialize_exception(serializer: Serializer, exc: BaseException | None) -> bytes | None:
    """Serialize an exception; one the serializer cannot handle becomes a ``RemoteError``."""
    from ._exceptions import SerializationError

    if exc is None:
        return None
    try:
        return serializer.serialize(exc)
    except SerializationError:
        return serializer.serialize(RemoteError.from_exception(exc))


def _deserialize_exception(serializer: Serializer, data: bytes) -> BaseException:
    exc = serializer.deserialize(data)
    if isinstance(exc, BaseException):
        return exc
    return RemoteError(str(exc))


class RemoteError(Exception):
    """Stands in for an exception raised in a job that could not be stored as itself.

    ``type_name`` is the qualified name of the original exception class.
    """

    def __init__(self, message: str, type_name: str = "Exception"):
        super().__init__(message)
        self.type_name = type_name

    @classmethod
    def from_exception(cls, exc: BaseException) -> RemoteError:
        exc_type = type(exc)
        return cls(str(exc), f"{exc_type.__module__}.{exc_type.__qualname__}")

    def __reduce__(self) -> Any:
        return (partial(RemoteError, type_name=self.type_name), (str(self),))

    def __str__(self) -> str:
        return super().__str__()
