"""Exceptions raised by the public API. All are re-exported from :mod:`apscheduler`."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID


class TaskLookupError(LookupError):
    """No task with the given ID exists."""

    def __init__(self, task_id: str):
        super().__init__(f"No task by the id of {task_id!r} was found")
        self.task_id = task_id


class ScheduleLookupError(LookupError):
    """No schedule with the given ID exists."""

    def __init__(self, schedule_id: str):
        super().__init__(f"No schedule by the id of {schedule_id!r} was found")
        self.schedule_id = schedule_id


class JobLookupError(LookupError):
    """No job (or stored job result) with the given ID exists."""

    def __init__(self, job_id: UUID | str):
        super().__init__(f"No job by the id of {job_id} was found")
        self.job_id = job_id


class CallableLookupError(LookupError):
    """A task's callable could not be imported in this process."""


class UnknownPluginError(LookupError):
    """A component was asked for by a name (or URL scheme) that no plugin registers.

    The message lists the known names, suggests the closest one and, when the name belongs
    to a bundled plugin that is not installed, gives the exact ``pip install`` line.
    """

    def __init__(
        self,
        kind: str,
        name: str,
        known: Iterable[str],
        *,
        suggestion: str | None = None,
        install_hint: str | None = None,
    ):
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        self.suggestion = suggestion
        self.install_hint = install_hint
        label = kind.replace("_", " ")
        parts = [f"Unknown {label} {name!r}."]
        if install_hint:
            parts.append(f"It is provided by a plugin that is not installed: {install_hint}")
        if suggestion:
            parts.append(f"Did you mean {suggestion!r}?")
        parts.append(f"Known {label} names: {', '.join(self.known) or '(none)'}.")
        super().__init__(" ".join(parts))


class PluginConflictError(RuntimeError):
    """Two plugins registered the same name (or URL scheme) for the same kind."""


class JobResultNotReady(Exception):
    """The job has not finished yet, and the caller asked not to wait."""

    def __init__(self, job_id: UUID):
        super().__init__(f"No job by the id of {job_id} has finished yet")
        self.job_id = job_id


class JobCancelled(Exception):
    """The job was cancelled before or while it ran (raised by ``run_job``)."""


class JobDeadlineMissed(Exception):
    """The job was not started before its start deadline (raised by ``run_job``)."""


class JobTimedOut(Exception):
    """The job ran longer than its timeout and was stopped (raised by ``run_job``)."""


class ConflictingIdError(KeyError):
    """A schedule with this ID already exists and the conflict policy is ``exception``."""

    def __init__(self, schedule_id: str):
        super().__init__(
            f"This operation would conflict with an existing schedule with ID {schedule_id!r}"
        )
        self.schedule_id = schedule_id


class SerializationError(Exception):
    """An object could not be serialized (the message names the type and the serializer)."""


class DeserializationError(Exception):
    """Stored data could not be turned back into objects."""


class MaxIterationsReached(Exception):
    """A combining trigger could not find a common fire time within its iteration budget."""


class LeaseLostError(RuntimeError):
    """A scheduler tried to release something whose lease it no longer holds (fencing)."""
