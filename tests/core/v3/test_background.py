"""The APScheduler 3 job API on ``BackgroundScheduler`` (the most used v3 scheduler)."""

from __future__ import annotations

import io
import os
import queue
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from apscheduler import Scheduler
from apscheduler.events import (
    EVENT_ALL,
    EVENT_ALL_JOBS_REMOVED,
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers import SchedulerAlreadyRunningError, SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED

from . import jobfuncs


class EventLog:
    """A listener that queues the v3 events it gets, for the test to wait on."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue()

    def __call__(self, event: Any) -> None:
        self.queue.put(event)

    def wait_for(self, code: int, timeout: float = 10) -> Any:
        while True:
            event = self.queue.get(timeout=timeout)
            if event.code == code:
                return event


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    scheduler = BackgroundScheduler(timezone="UTC")
    yield scheduler
    if scheduler.running:
        scheduler.shutdown()


def in_past(seconds: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(seconds=seconds)


def test_state_constants_and_running(scheduler: BackgroundScheduler) -> None:
    assert (STATE_STOPPED, STATE_RUNNING, STATE_PAUSED) == (0, 1, 2)
    assert scheduler.state == STATE_STOPPED and not scheduler.running
    scheduler.start()
    assert scheduler.state == STATE_RUNNING and scheduler.running
    with pytest.raises(SchedulerAlreadyRunningError):
        scheduler.start()
    with pytest.raises(SchedulerAlreadyRunningError):
        scheduler.configure(timezone="UTC")
    scheduler.shutdown()
    assert scheduler.state == STATE_STOPPED
    with pytest.raises(SchedulerNotRunningError):
        scheduler.shutdown()


def test_jobs_added_before_start_are_pending(scheduler: BackgroundScheduler) -> None:
    job = scheduler.add_job(
        jobfuncs.add,
        "date",
        args=[1, 2],
        id="early",
        run_date=in_past(0.1),
        misfire_grace_time=None,
    )
    assert job.pending
    assert job.next_run_time is None
    assert [j.id for j in scheduler.get_jobs()] == ["early"]
    assert "pending" in str(job)
    scheduler.start()
    assert jobfuncs.wait_for("add") == [3]


def test_add_job_returns_a_v3_job(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    before = datetime.now(timezone.utc)
    job = scheduler.add_job(
        jobfuncs.add, "interval", minutes=5, args=(1,), kwargs={"y": 2}, id="j1", name="Adder"
    )
    assert not job.pending
    assert (job.id, job.name, job.func, job.args, job.kwargs) == (
        "j1",
        "Adder",
        jobfuncs.add,
        (1,),
        {"y": 2},
    )
    assert job.executor == "default"
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 1)
    # v3: an interval trigger first fires one interval after the job is added
    assert before + timedelta(minutes=5) <= job.next_run_time
    assert job.next_run_time <= datetime.now(timezone.utc) + timedelta(minutes=5)
    stored = scheduler.get_job("j1")
    assert stored is not None and stored.next_run_time == job.next_run_time
    assert stored.func is jobfuncs.add
    assert scheduler.get_job("nope") is None


def test_textual_func_reference_and_default_id(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    job = scheduler.add_job(
        "tests.core.v3.jobfuncs:add",
        "date",
        args=[2, 3],
        run_date=in_past(0.1),
        misfire_grace_time=None,
    )
    assert job.func is jobfuncs.add
    assert len(job.id) == 32  # uuid4().hex, as in v3
    assert job.name == "add"
    assert jobfuncs.wait_for("add") == [5]


def test_arguments_are_checked_at_add_time(scheduler: BackgroundScheduler) -> None:
    with pytest.raises(ValueError, match="arguments"):
        scheduler.add_job(jobfuncs.add, "interval", seconds=1, args=[1, 2, 3])
    with pytest.raises(TypeError, match="max_instances"):
        scheduler.add_job(jobfuncs.noop, "interval", seconds=1, max_instances=0)


def test_conflicting_id_and_replace_existing(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="same", args=[1])
    with pytest.raises(ConflictingIdError):
        scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="same")
    scheduler.add_job(
        jobfuncs.noop, "interval", hours=2, id="same", args=[2], replace_existing=True
    )
    job = scheduler.get_job("same")
    assert job is not None and job.args == (2,)
    assert len(scheduler.get_jobs()) == 1


def test_remove_job_and_lookup_error(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="gone")
    scheduler.remove_job("gone")
    assert scheduler.get_jobs() == []
    with pytest.raises(JobLookupError):
        scheduler.remove_job("gone")
    with pytest.raises(KeyError):  # v3's JobLookupError is a KeyError
        scheduler.remove_job("gone")


def test_modify_reschedule_pause_resume(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    job = scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="m", args=[1])
    modified = scheduler.modify_job(
        "m",
        args=["new"],
        kwargs={"k": "v"},
        name="Renamed",
        max_instances=2,
        coalesce=False,
        misfire_grace_time=30,
    )
    assert (modified.args, modified.kwargs, modified.name) == (("new",), {"k": "v"}, "Renamed")
    stored = scheduler.get_job("m")
    assert stored is not None
    assert (stored.max_instances, stored.coalesce, stored.misfire_grace_time) == (2, False, 30)
    assert stored.next_run_time == job.next_run_time

    rescheduled = scheduler.reschedule_job("m", trigger="cron", hour=3, minute=0)
    assert rescheduled.next_run_time is not None
    assert (rescheduled.next_run_time.hour, rescheduled.next_run_time.minute) == (3, 0)

    paused = scheduler.pause_job("m")
    assert paused.next_run_time is None
    assert scheduler.get_job("m").next_run_time is None  # type: ignore[union-attr]
    assert "paused" in str(scheduler.get_job("m"))
    resumed = scheduler.resume_job("m")
    assert resumed is not None and resumed.next_run_time == rescheduled.next_run_time

    with pytest.raises(AttributeError, match="not modifiable"):
        scheduler.modify_job("m", id="other")
    with pytest.raises(JobLookupError):
        scheduler.modify_job("missing", name="x")


def test_job_methods_delegate_to_the_scheduler(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    job = scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="self")
    job.modify(name="Modified")
    job.pause()
    assert scheduler.get_job("self").next_run_time is None  # type: ignore[union-attr]
    job.resume()
    job.reschedule("interval", minutes=1)
    stored = scheduler.get_job("self")
    assert stored is not None and stored.name == "Modified" and stored.next_run_time
    job.remove()
    assert scheduler.get_job("self") is None


def test_resume_of_a_finished_job_removes_it(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    job = scheduler.add_job(
        jobfuncs.noop,
        "interval",
        hours=1,
        id="d",
        start_date=in_past(7200),
        end_date=in_past(3600),
    )
    assert job.next_run_time is None  # v3: a job without run times is added paused
    assert scheduler.resume_job("d") is None
    assert scheduler.get_job("d") is None


def test_next_run_time_override_then_trigger(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    soon = datetime.now(timezone.utc) + timedelta(hours=1)
    job = scheduler.add_job(jobfuncs.noop, "interval", days=1, id="o", next_run_time=soon)
    assert job.next_run_time == soon


def test_remove_all_jobs(scheduler: BackgroundScheduler) -> None:
    events = EventLog()
    scheduler.add_listener(events, EVENT_ALL_JOBS_REMOVED | EVENT_JOB_REMOVED)
    scheduler.start()
    for index in range(3):
        scheduler.add_job(jobfuncs.noop, "interval", hours=1, id=f"r{index}")
    scheduler.remove_all_jobs()
    assert scheduler.get_jobs() == []
    event = events.wait_for(EVENT_ALL_JOBS_REMOVED)
    assert event.alias is None
    assert events.queue.empty()  # v3 sends one ALL_JOBS_REMOVED, not one per job


def test_print_jobs(scheduler: BackgroundScheduler) -> None:
    out = io.StringIO()
    scheduler.print_jobs(out=out)
    assert out.getvalue() == "Pending jobs:\n    No pending jobs\n"
    scheduler.start()
    scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="p", name="Printed")
    out = io.StringIO()
    scheduler.print_jobs(out=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Jobstore default:"
    assert lines[1].startswith("    Printed (trigger: ") and "next run at:" in lines[1]


def test_scheduled_job_decorator(scheduler: BackgroundScheduler) -> None:
    @scheduler.scheduled_job(
        "date", run_date=in_past(0.1), id="deco", args=[4, 5], misfire_grace_time=None
    )
    def decorated(x: int, y: int) -> int:
        return jobfuncs.record("decorated", x * y)

    assert decorated(1, 1) == 1  # the function itself is returned
    scheduler.start()
    assert jobfuncs.wait_for("decorated", 2) == [1, 20]


def test_listener_events_carry_retval_and_exception(scheduler: BackgroundScheduler) -> None:
    events = EventLog()
    scheduler.add_listener(events, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_SUBMITTED)
    scheduler.start()
    scheduler.add_job(
        jobfuncs.add,
        "date",
        run_date=in_past(0.1),
        args=[20, 22],
        id="ok",
        misfire_grace_time=None,
    )
    submitted = events.wait_for(EVENT_JOB_SUBMITTED)
    assert isinstance(submitted, JobSubmissionEvent) and submitted.job_id == "ok"
    executed = events.wait_for(EVENT_JOB_EXECUTED)
    assert isinstance(executed, JobExecutionEvent)
    assert (executed.job_id, executed.jobstore, executed.retval) == ("ok", "default", 42)
    assert executed.exception is None and executed.scheduled_run_time is not None

    scheduler.add_job(
        jobfuncs.fail,
        "date",
        run_date=in_past(0.1),
        args=["boom"],
        id="bad",
        misfire_grace_time=None,
    )
    error = events.wait_for(EVENT_JOB_ERROR)
    assert error.job_id == "bad" and error.code == EVENT_JOB_ERROR
    assert isinstance(error.exception, ValueError) and str(error.exception) == "boom"
    assert "raise ValueError(message)" in error.traceback


def test_missed_job_event(scheduler: BackgroundScheduler) -> None:
    events = EventLog()
    scheduler.add_listener(events, EVENT_JOB_MISSED)
    scheduler.start()
    scheduler.add_job(jobfuncs.add, "date", run_date=in_past(30), args=[1, 1], id="late")
    missed = events.wait_for(EVENT_JOB_MISSED)
    assert missed.job_id == "late" and missed.scheduled_run_time is not None
    assert jobfuncs.RECORDS["add"] == []


def test_finished_date_job_is_removed(scheduler: BackgroundScheduler) -> None:
    events = EventLog()
    scheduler.add_listener(events, EVENT_JOB_REMOVED | EVENT_JOB_EXECUTED)
    scheduler.start()
    scheduler.add_job(
        jobfuncs.add,
        "date",
        run_date=in_past(0.1),
        args=[1, 1],
        id="once",
        misfire_grace_time=None,
    )
    first, second = events.queue.get(timeout=10), events.queue.get(timeout=10)
    # as in v3, the job is removed as soon as its last run is submitted
    assert {first.code, second.code} == {EVENT_JOB_EXECUTED, EVENT_JOB_REMOVED}
    assert first.job_id == second.job_id == "once"
    assert scheduler.get_job("once") is None


def test_lifecycle_events_and_remove_listener(scheduler: BackgroundScheduler) -> None:
    events = EventLog()
    ignored = EventLog()
    scheduler.add_listener(events)
    scheduler.add_listener(ignored)
    scheduler.remove_listener(ignored)
    scheduler.start()
    assert events.wait_for(EVENT_SCHEDULER_STARTED)
    scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="e")
    assert events.wait_for(EVENT_JOB_ADDED).job_id == "e"
    scheduler.modify_job("e", name="E")
    assert events.wait_for(EVENT_JOB_MODIFIED).job_id == "e"
    scheduler.pause()
    assert events.wait_for(EVENT_SCHEDULER_PAUSED)
    scheduler.resume()
    assert events.wait_for(EVENT_SCHEDULER_RESUMED)
    scheduler.remove_job("e")
    assert events.wait_for(EVENT_JOB_REMOVED).job_id == "e"
    scheduler.shutdown()
    assert events.wait_for(EVENT_SCHEDULER_SHUTDOWN)
    assert ignored.queue.empty()


def test_pause_and_resume_the_scheduler(scheduler: BackgroundScheduler) -> None:
    scheduler.start(paused=True)
    assert scheduler.state == STATE_PAUSED
    scheduler.add_job(
        jobfuncs.add,
        "date",
        run_date=in_past(0.1),
        args=[1, 2],
        misfire_grace_time=None,
        id="held",
    )
    assert scheduler.get_job("held") is not None  # stored while paused
    assert jobfuncs.RECORDS["add"] == []
    scheduler.resume()
    assert scheduler.state == STATE_RUNNING
    assert jobfuncs.wait_for("add") == [3]
    scheduler.pause()
    assert scheduler.state == STATE_PAUSED
    scheduler.resume()


def test_shutdown_waits_for_running_jobs(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    scheduler.add_job(
        jobfuncs.blocking, "date", run_date=in_past(0.1), args=["slow"], misfire_grace_time=None
    )
    jobfuncs.wait_for("slow:start")
    releaser = threading.Timer(0.2, jobfuncs.GATE.set)
    releaser.start()
    scheduler.shutdown(wait=True)
    assert jobfuncs.RECORDS["slow:end"] == ["slow"]  # the job finished before shutdown returned
    releaser.join()


def test_shutdown_without_wait_returns_while_jobs_run(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    scheduler.add_job(
        jobfuncs.blocking, "date", run_date=in_past(0.1), args=["bg"], misfire_grace_time=None
    )
    jobfuncs.wait_for("bg:start")
    scheduler.shutdown(wait=False)
    assert scheduler.state == STATE_STOPPED
    assert jobfuncs.RECORDS["bg:end"] == []
    jobfuncs.GATE.set()
    jobfuncs.wait_for("bg:end")


def test_restart_after_shutdown_keeps_memory_jobs(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="kept")
    scheduler.shutdown()
    scheduler.start()
    assert [job.id for job in scheduler.get_jobs()] == ["kept"]


def test_several_job_stores(scheduler: BackgroundScheduler) -> None:
    scheduler.configure(
        jobstores={"default": MemoryJobStore(), "other": MemoryJobStore()}, timezone="UTC"
    )
    scheduler.start()
    scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="a")
    scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="b", jobstore="other")
    scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="a", jobstore="other")
    assert sorted(job.id for job in scheduler.get_jobs()) == ["a", "a", "b"]
    assert sorted(job.id for job in scheduler.get_jobs(jobstore="other")) == ["a", "b"]
    assert {job._jobstore_alias for job in scheduler.get_jobs("other")} == {"other"}
    scheduler.remove_job("a", jobstore="other")
    assert [job.id for job in scheduler.get_jobs(jobstore="other")] == ["b"]
    assert scheduler.get_job("b").pending is False  # type: ignore[union-attr]
    scheduler.remove_all_jobs(jobstore="default")
    assert [job.id for job in scheduler.get_jobs()] == ["b"]
    with pytest.raises(KeyError, match="No such job store"):
        scheduler.add_job(jobfuncs.noop, "interval", hours=1, jobstore="missing")


def test_jobs_of_every_store_run(scheduler: BackgroundScheduler) -> None:
    scheduler.add_jobstore("memory", "extra")
    scheduler.start()
    scheduler.add_job(
        jobfuncs.add, "date", run_date=in_past(0.1), args=[1, 1], misfire_grace_time=None
    )
    scheduler.add_job(
        jobfuncs.add,
        "date",
        run_date=in_past(0.1),
        args=[2, 2],
        misfire_grace_time=None,
        jobstore="extra",
    )
    assert sorted(jobfuncs.wait_for("add", 2)) == [2, 4]


def test_add_and_remove_jobstore_while_running(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    scheduler.add_jobstore(MemoryJobStore(), "late")
    scheduler.add_job(
        jobfuncs.add,
        "date",
        run_date=in_past(0.1),
        args=[3, 3],
        misfire_grace_time=None,
        jobstore="late",
    )
    assert jobfuncs.wait_for("add") == [6]
    scheduler.remove_jobstore("late")
    assert list(scheduler._jobstores) == ["default"]
    with pytest.raises(ValueError, match="already has a job store"):
        scheduler.add_jobstore(MemoryJobStore(), "default")


def test_gconfig_with_prefixed_keys() -> None:
    scheduler = BackgroundScheduler(
        {
            "apscheduler.jobstores.default": {"type": "memory"},
            "apscheduler.executors.default": {
                "class": "apscheduler.executors.pool:ThreadPoolExecutor",
                "max_workers": "20",
            },
            "apscheduler.executors.processpool": {"type": "processpool", "max_workers": "5"},
            "apscheduler.job_defaults.coalesce": "false",
            "apscheduler.job_defaults.max_instances": "3",
            "apscheduler.timezone": "UTC",
            "unrelated.key": "ignored",
        }
    )
    executor = scheduler._executors["default"]
    assert isinstance(executor, ThreadPoolExecutor) and executor.max_workers == 20
    assert scheduler._executors["processpool"].max_workers == 5  # type: ignore[attr-defined]
    assert scheduler._job_defaults.coalesce is False
    assert scheduler._job_defaults.max_instances == 3
    assert str(scheduler.timezone) == "UTC"
    job = scheduler.add_job(jobfuncs.noop, "interval", hours=1)
    scheduler.start()
    try:
        stored = scheduler.get_job(job.id)
        assert stored is not None and (stored.coalesce, stored.max_instances) == (False, 3)
    finally:
        scheduler.shutdown()


def test_unknown_plugin_names_are_explained() -> None:
    with pytest.raises(LookupError, match="not supported"):
        BackgroundScheduler(jobstores={"default": {"type": "zookeeper"}})
    with pytest.raises(LookupError, match="known types"):
        BackgroundScheduler(executors={"default": {"type": "nope"}})
    with pytest.raises(ValueError, match='either "type" or "class"'):
        BackgroundScheduler(jobstores={"default": {}})


def test_pytz_timezone_is_accepted() -> None:
    pytz = pytest.importorskip("pytz")
    scheduler = BackgroundScheduler(timezone=pytz.timezone("America/New_York"))
    assert str(scheduler.timezone) == "America/New_York"
    job = scheduler.add_job(jobfuncs.noop, "cron", hour=9, minute=0)
    scheduler.start()
    try:
        stored = scheduler.get_job(job.id)
        assert stored is not None and stored.next_run_time is not None
        assert stored.next_run_time.utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
        assert (stored.next_run_time.hour, stored.next_run_time.minute) == (9, 0)
    finally:
        scheduler.shutdown()


def test_coroutine_jobs_run_on_the_thread_pool_executor(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    scheduler.add_job(
        jobfuncs.async_add, "date", run_date=in_past(0.1), args=[2, 2], misfire_grace_time=None
    )
    assert jobfuncs.wait_for("async_add") == [4]


def test_max_instances_runs_wait_instead_of_overlapping(scheduler: BackgroundScheduler) -> None:
    scheduler.start()
    scheduler.add_job(
        jobfuncs.blocking,
        "interval",
        seconds=0.1,
        args=["mi"],
        id="mi",
        max_instances=1,
        misfire_grace_time=None,
        coalesce=True,
    )
    jobfuncs.wait_for("mi:start")
    # the first run is held: no second run may start while it is running
    with pytest.raises(AssertionError):
        jobfuncs.wait_for("mi:start", 2, timeout=0.5)
    scheduler.pause_job("mi")
    jobfuncs.GATE.set()
    jobfuncs.wait_for("mi:end")


def test_process_pool_executor_returns_the_value() -> None:
    from apscheduler.executors.pool import ProcessPoolExecutor

    events = EventLog()
    scheduler = BackgroundScheduler(executors={"processpool": ProcessPoolExecutor(2)})
    scheduler.add_listener(events, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        scheduler.add_job(
            jobfuncs.process_id,
            "date",
            run_date=in_past(0.1),
            misfire_grace_time=None,
            executor="processpool",
        )
        event = events.wait_for(EVENT_JOB_EXECUTED, timeout=30)
        assert isinstance(event.retval, int) and event.retval != os.getpid()
        with pytest.raises(Exception, match="pickl|reference"):
            scheduler.add_job(lambda: None, "interval", hours=1, executor="processpool")
    finally:
        scheduler.shutdown()


def test_event_listener_mask_all(scheduler: BackgroundScheduler) -> None:
    seen: list[int] = []
    done = threading.Event()

    def listener(event: Any) -> None:
        seen.append(event.code)
        if event.code == EVENT_SCHEDULER_SHUTDOWN:
            done.set()

    scheduler.add_listener(listener, EVENT_ALL)
    scheduler.start()
    scheduler.shutdown()
    assert done.wait(5)
    assert EVENT_SCHEDULER_STARTED in seen


def test_jobs_are_core_schedules(tmp_path: Any) -> None:
    """A v3 job is a core schedule and task with the job's ID: the new API sees it."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    scheduler = BackgroundScheduler(jobstores={"default": {"type": "sqlalchemy", "url": url}})
    scheduler.start()
    scheduler.add_job(jobfuncs.add, "cron", hour=4, args=[1, 2], id="shared", name="Shared")
    scheduler.shutdown()
    with Scheduler(url) as core:
        schedule = core.get_schedule("shared")
        assert (schedule.task_id, schedule.name, schedule.args) == ("shared", "Shared", (1, 2))
        assert core.get_task("shared").func == "tests.core.v3.jobfuncs:add"


def test_shutdown_from_a_job_still_reaches_listeners() -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    events = EventLog()
    scheduler.add_listener(events, EVENT_SCHEDULER_SHUTDOWN | EVENT_JOB_EXECUTED)

    def stop_scheduler() -> None:
        scheduler.shutdown(wait=False)  # must not wait for this very job

    scheduler.add_job(stop_scheduler, "date", run_date=in_past(0.1), misfire_grace_time=None)
    scheduler.start()
    codes = {events.queue.get(timeout=10).code, events.queue.get(timeout=10).code}
    assert codes == {EVENT_SCHEDULER_SHUTDOWN, EVENT_JOB_EXECUTED}
    assert scheduler.state == STATE_STOPPED


def test_async_job_uses_the_scheduler_without_blocking_its_loop(
    scheduler: BackgroundScheduler,
) -> None:
    async def inspect_jobs() -> list[str]:
        scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="from-async-job")
        return [job.id for job in scheduler.get_jobs()]

    events = EventLog()
    scheduler.add_listener(events, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    scheduler.add_job(
        inspect_jobs, "date", run_date=in_past(0.1), misfire_grace_time=None, id="inspector"
    )
    event = events.wait_for(EVENT_JOB_EXECUTED)
    assert "from-async-job" in event.retval
    assert scheduler.get_job("from-async-job") is not None
