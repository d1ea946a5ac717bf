"""Enumerations shared by the scheduler, the data stores and the events.

Every enum is serialized by member *name*, and every API that accepts one also accepts
the name as a string (``coalesce="latest"``).
"""

from __future__ import annotations

from enum import Enum, auto


class SchedulerRole(Enum):
    """What a scheduler instance does: process schedules, run jobs, or both."""

    scheduler = auto()
    worker = auto()
    both = auto()


class RunState(Enum):
    """Lifecycle state of a scheduler."""

    starting = auto()
    started = auto()
    stopping = auto()
    stopped = auto()


class JobOutcome(Enum):
    """How a job ended."""

    success = auto()
    error = auto()
    missed_start_deadline = auto()
    deserialization_failed = auto()
    cancelled = auto()
    abandoned = auto()
    timed_out = auto()


class ConflictPolicy(Enum):
    """What :meth:`add_schedule` does when a schedule with the same ID exists."""

    replace = auto()
    do_nothing = auto()
    exception = auto()


class CoalescePolicy(Enum):
    """Which of several due fire times of one schedule produce jobs."""

    earliest = auto()
    latest = auto()
    all = auto()
