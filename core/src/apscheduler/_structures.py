"""The records the scheduler keeps in its data store: tasks, schedules, jobs, results.

They are plain attrs classes. Data stores that persist them turn them into rows or
documents with :meth:`marshal` / :meth:`unmarshal`; the memory store keeps the objects.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID, SafeUUID

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


_set = object.__setattr__
_UUID_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_VERSION_BITS = (4 << 76) | (0x8000 << 48)
_uuid_values: Iterator[int] = iter(())


def _refill_uuid_values() -> Iterator[int]:
    global _uuid_values
    data = os.urandom(16 * 256)
    from_bytes, mask, bits = int.from_bytes, _UUID_VERSION_MASK, _UUID_VERSION_BITS
    _uuid_values = iter(
        [(from_bytes(data[i : i + 16], "big") & mask) | bits for i in range(0, len(data), 16)]
    )
    return _uuid_values


def _forget_uuid_values() -> None:
    global _uuid_values
    _uuid_values = iter(())  # a forked child must not hand out its parent's IDs


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_uuid_values)


def new_uuid4() -> UUID:
    """A random (version 4) UUID, like :func:`uuid.uuid4` but drawing the random bytes
    from ``os.urandom`` 256 IDs at a time (``uuid4()`` makes one system call per ID)."""
    value = next(_uuid_values, None)
    if value is None:  # (threads racing here each take their own fresh batch)
        value = next(_refill_uuid_values())
    uuid = object.__new__(UUID)
    _set(uuid, "int", value)
    _set(uuid, "is_safe", SafeUUID.unknown)
    return uuid


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


class _FrozenEmptyDict(dict[str, Any]):
    """The one empty, read-only dict (:data:`EMPTY_DICT`) that stored records share
    instead of holding an empty dict each. Copies and pickles are plain empty dicts."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            "this empty dict is shared and read-only; assign a new dict to the attribute"
        )

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> Any:
        return dict, ()

    def __copy__(self) -> dict[str, Any]:
        return {}

    def __deepcopy__(self, memo: Any) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return "{}"


#: Shared by records whose ``kwargs`` or ``metadata`` are empty (see :func:`share_empty`).
EMPTY_DICT: dict[str, Any] = _FrozenEmptyDict()


def share_empty(value: dict[str, Any]) -> dict[str, Any]:
    """``value``, or :data:`EMPTY_DICT` if it is empty (saves a dict per stored record)."""
    return value if value else EMPTY_DICT


def plain_dict(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` as a plain ``dict`` for serializers (:data:`EMPTY_DICT` becomes ``{}``)."""
    return {} if value is EMPTY_DICT else value


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
            "metadata": plain_dict(self.metadata),
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
            "kwargs": serializer.serialize(plain_dict(self.kwargs)),
            "name": self.name,
            "paused": self.paused,
            "pause_note": self.pause_note,
            "coalesce": self.coalesce.name,
            "misfire_grace_time": _seconds(self.misfire_grace_time),
            "max_jitter": _seconds(self.max_jitter),
            "job_executor": self.job_executor,
            "job_result_expiration_time": self.job_result_expiration_time.total_seconds(),
            "metadata": plain_dict(self.metadata),
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

    id: UUID = attrs.field(factory=new_uuid4, converter=as_uuid)
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

    @classmethod
    def _from_schedule(
        cls,
        schedule: Schedule,
        scheduled_fire_time: datetime,
        jitter: timedelta,
        start_deadline: datetime | None,
        created_at: datetime,
    ) -> Job:
        """A job of ``schedule`` (whose fields are already converted), built without
        running the converters again: the scheduler's hot path."""
        job = object.__new__(cls)
        _set(job, "id", new_uuid4())
        _set(job, "task_id", schedule.task_id)
        _set(job, "args", schedule.args)
        _set(job, "kwargs", dict(schedule.kwargs) if schedule.kwargs else {})
        _set(job, "schedule_id", schedule.id)
        _set(job, "scheduled_fire_time", as_aware_datetime(scheduled_fire_time))
        _set(job, "executor", schedule.job_executor)
        _set(job, "jitter", jitter)
        _set(job, "start_deadline", as_optional_aware_datetime(start_deadline))
        _set(job, "result_expiration_time", schedule.job_result_expiration_time)
        _set(job, "metadata", dict(schedule.metadata) if schedule.metadata else {})
        _set(job, "created_at", created_at)
        _set(job, "acquired_by", None)
        _set(job, "acquired_until", None)
        _set(job, "lease_token", None)
        return job

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
            "kwargs": serializer.serialize(plain_dict(self.kwargs)),
            "schedule_id": self.schedule_id,
            "scheduled_fire_time": _iso(self.scheduled_fire_time),
            "executor": self.executor,
            "jitter": self.jitter.total_seconds(),
            "start_deadline": _iso(self.start_deadline),
            "result_expiration_time": self.result_expiration_time.total_seconds(),
            "metadata": plain_dict(self.metadata),
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
