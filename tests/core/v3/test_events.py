"""The v3 event constants keep APScheduler 3's bit values."""

from __future__ import annotations

import apscheduler.events as events

V3_VALUES = {
    "EVENT_SCHEDULER_STARTED": 1,
    "EVENT_SCHEDULER_START": 1,
    "EVENT_SCHEDULER_SHUTDOWN": 2,
    "EVENT_SCHEDULER_PAUSED": 4,
    "EVENT_SCHEDULER_RESUMED": 8,
    "EVENT_EXECUTOR_ADDED": 16,
    "EVENT_EXECUTOR_REMOVED": 32,
    "EVENT_JOBSTORE_ADDED": 64,
    "EVENT_JOBSTORE_REMOVED": 128,
    "EVENT_ALL_JOBS_REMOVED": 256,
    "EVENT_JOB_ADDED": 512,
    "EVENT_JOB_REMOVED": 1024,
    "EVENT_JOB_MODIFIED": 2048,
    "EVENT_JOB_EXECUTED": 4096,
    "EVENT_JOB_ERROR": 8192,
    "EVENT_JOB_MISSED": 16384,
    "EVENT_JOB_SUBMITTED": 32768,
    "EVENT_JOB_MAX_INSTANCES": 65536,
    "EVENT_ALL": 131071,
}


def test_event_constants_have_v3_values() -> None:
    for name, value in V3_VALUES.items():
        assert getattr(events, name) == value, name


def test_event_classes() -> None:
    event = events.JobExecutionEvent(
        events.EVENT_JOB_ERROR, "id", "default", None, exception=ValueError("x"), traceback="tb"
    )
    assert isinstance(event, events.JobEvent) and isinstance(event, events.SchedulerEvent)
    assert (event.code, event.job_id, event.jobstore, event.retval) == (
        8192,
        "id",
        "default",
        None,
    )
    submission = events.JobSubmissionEvent(events.EVENT_JOB_SUBMITTED, "id", "default", [])
    assert submission.scheduled_run_times == []
    assert events.SchedulerEvent(events.EVENT_JOBSTORE_ADDED, "store").alias == "store"


def test_exceptions_at_v3_paths() -> None:
    import apscheduler
    from apscheduler.jobstores.base import ConflictingIdError, JobLookupError

    assert issubclass(JobLookupError, apscheduler.JobLookupError)
    assert issubclass(JobLookupError, KeyError)
    assert ConflictingIdError is apscheduler.ConflictingIdError
    assert str(JobLookupError("x")) == "No job by the id of x was found"
