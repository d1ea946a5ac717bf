"""How tasks, schedules, jobs and results are laid out as MongoDB documents.

Every document is JSON-compatible: the core's ``marshal()`` dicts (datetimes as ISO 8601
strings with their offset, durations as seconds, enums by name), with ``_id`` for the ID.
The values the serializer produces (trigger state, arguments, return values, exceptions)
are stored as text when the serializer is JSON, so documents stay readable in a Mongo
shell, and as binary otherwise.

BSON dates only keep milliseconds, so every datetime the store queries on also gets an
integer ``<field>_us`` (microseconds since the Unix epoch, UTC) used for filtering and
sorting; the ISO string keeps the exact value and zone.

Fields used only by the store:

* ``tasks.slots``: IDs of the running jobs holding one of the task's
  ``max_running_jobs`` slots (``running_jobs`` is its length);
* ``jobs.seq``: insertion order, breaking ties between equal ``created_at``;
* ``jobs.pending`` / ``pending_schedule`` / ``pending_lease``: marks a job inserted by a
  schedule release that has not committed yet (see ``_operations``);
* ``schedules.last_release`` / ``committed_releases``: commit records of those releases.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import attrs
from apscheduler import Job, JobResult, Schedule, Task
from apscheduler.abc import Serializer

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)

_SCHEDULE_FIELDS = tuple(field.name for field in attrs.fields(Schedule) if field.name != "id")
_JOB_FIELDS = tuple(field.name for field in attrs.fields(Job) if field.name != "id")
_RESULT_FIELDS = tuple(
    field.name for field in attrs.fields(JobResult) if field.name != "job_id"
)


def to_us(value: datetime | None) -> int | None:
    """Microseconds since the Unix epoch (exact, whatever the zone of ``value``)."""
    return None if value is None else (value - EPOCH) // _MICROSECOND


def parse_datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class Documents:
    """Converts between the core's objects and documents, with one serializer."""

    def __init__(self, serializer: Serializer):
        self.serializer = serializer
        self._text = serializer.name == "json"

    # Serialized payloads

    def pack(self, data: bytes | None) -> str | bytes | None:
        if data is None:
            return None
        return data.decode("utf-8") if self._text else data

    @staticmethod
    def unpack(value: str | bytes | None) -> bytes | None:
        if value is None:
            return None
        return value.encode("utf-8") if isinstance(value, str) else bytes(value)

    def serialize(self, obj: Any) -> str | bytes:
        return self.pack(self.serializer.serialize(obj))  # type: ignore[return-value]

    # Tasks

    @staticmethod
    def task_fields(task: Task) -> dict[str, Any]:
        """The fields of a task document, except ``_id`` and ``slots``."""
        data = task.marshal()
        del data["id"], data["running_jobs"]
        return data

    @staticmethod
    def task(doc: dict[str, Any]) -> Task:
        return Task(
            id=doc["_id"],
            func=doc.get("func"),
            job_executor=doc["job_executor"],
            max_running_jobs=doc.get("max_running_jobs"),
            misfire_grace_time=doc.get("misfire_grace_time"),
            metadata=doc.get("metadata") or {},
            running_jobs=len(doc.get("slots") or ()),
        )

    # Schedules

    def schedule_document(self, schedule: Schedule) -> dict[str, Any]:
        data = schedule.marshal(self.serializer)
        doc: dict[str, Any] = {"_id": data.pop("id")}
        for key in ("trigger", "args", "kwargs"):
            data[key] = self.pack(data[key])
        doc.update(data)
        doc["next_fire_time_us"] = to_us(schedule.next_fire_time)
        doc["acquired_until_us"] = to_us(schedule.acquired_until)
        return doc

    def schedule(self, doc: dict[str, Any]) -> Schedule:
        data = {name: doc[name] for name in _SCHEDULE_FIELDS if name in doc}
        data["id"] = doc["_id"]
        for key in ("trigger", "args", "kwargs"):
            data[key] = self.unpack(data[key])
        return Schedule.unmarshal(self.serializer, data)

    # Jobs

    def job_document(self, job: Job, seq: int) -> dict[str, Any]:
        """A new, not acquired job's document."""
        data = job.marshal(self.serializer)
        doc: dict[str, Any] = {"_id": data.pop("id")}
        data["args"] = self.pack(data["args"])
        data["kwargs"] = self.pack(data["kwargs"])
        data["acquired_by"] = data["acquired_until"] = data["lease_token"] = None
        doc.update(data)
        doc["seq"] = seq
        doc["created_at_us"] = to_us(job.created_at)
        doc["start_deadline_us"] = to_us(job.start_deadline)
        doc["acquired_until_us"] = None
        return doc

    def job(self, doc: dict[str, Any]) -> Job:
        data = {name: doc[name] for name in _JOB_FIELDS if name in doc}
        data["id"] = doc["_id"]
        data["args"] = self.unpack(data["args"])
        data["kwargs"] = self.unpack(data["kwargs"])
        return Job.unmarshal(self.serializer, data)

    # Results

    def result_document(self, result: JobResult) -> dict[str, Any]:
        data = result.marshal(self.serializer)
        doc: dict[str, Any] = {"_id": data.pop("job_id")}
        data["exception"] = self.pack(data["exception"])
        data["return_value"] = self.pack(data["return_value"])
        doc.update(data)
        doc["expires_at_us"] = to_us(result.expires_at)
        return doc

    def result(self, doc: dict[str, Any]) -> JobResult:
        data = {name: doc[name] for name in _RESULT_FIELDS if name in doc}
        data["job_id"] = doc["_id"]
        data["exception"] = self.unpack(data.get("exception"))
        data["return_value"] = self.unpack(data.get("return_value"))
        return JobResult.unmarshal(self.serializer, data)


def job_id_str(job_id: UUID | str) -> str:
    return str(job_id)
