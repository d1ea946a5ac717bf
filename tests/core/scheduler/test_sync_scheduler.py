"""The synchronous Scheduler: same API, blocking calls, with or without ``with``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from apscheduler import JobOutcome, JobReleased, RunState, Scheduler

from . import jobfuncs

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_run_job_and_results() -> None:
    with Scheduler() as scheduler:
        scheduler.start_in_background()
        assert scheduler.run_job(jobfuncs.add, args=(2, 2)) == 4
        with pytest.raises(ValueError, match="nope"):
            scheduler.run_job(jobfuncs.fail, args=("nope",))
    assert scheduler.state is RunState.stopped


def test_listener_runs_in_thread_and_sees_job_events() -> None:
    released = threading.Event()
    outcomes: list[JobOutcome] = []

    def listener(event: JobReleased) -> None:
        outcomes.append(event.outcome)
        released.set()

    with Scheduler() as scheduler:
        scheduler.subscribe(listener, {JobReleased})
        scheduler.add_schedule(
            jobfuncs.add,
            "date",
            run_date="2000-01-01T00:00:00+00:00",
            args=(1, 1),
            misfire_grace_time=None,
        )
        scheduler.start_in_background()
        assert released.wait(10)
    assert outcomes == [JobOutcome.success]


def test_run_until_stopped_blocks_until_stop() -> None:
    released = threading.Event()
    with Scheduler() as scheduler:

        def stop_when_done(event: JobReleased) -> None:
            released.set()
            scheduler.stop()

        scheduler.subscribe(stop_when_done, JobReleased)
        scheduler.add_schedule(jobfuncs.record, "interval", seconds=1, args=["tick"], id="tick")
        scheduler.run_until_stopped()
        assert released.is_set()
        assert scheduler.state is RunState.stopped


def test_shutdown_with_wait() -> None:
    scheduler = Scheduler()
    scheduler.start_in_background()
    assert scheduler.state is RunState.started
    scheduler.shutdown(wait=True)
    assert scheduler.state is RunState.stopped


def test_wsgi_style_without_context_manager_exits_cleanly(tmp_path: Path) -> None:
    """Seed 000: Scheduler().start_in_background() without ``with``; the interpreter exits
    cleanly, letting the running job finish."""
    script = tmp_path / "wsgi_app.py"
    script.write_text(
        textwrap.dedent(
            """
            import threading
            from apscheduler import Scheduler, JobAcquired

            started = threading.Event()
            def periodic_task():
                started.set()
                import time
                time.sleep(0.2)
                print("periodic task finished", flush=True)

            scheduler = Scheduler()
            scheduler.subscribe(lambda e: None, {JobAcquired})
            scheduler.add_schedule(periodic_task, 'interval', minutes=30, id='periodic_cleanup')
            scheduler.start_in_background()
            assert started.wait(10)
            print("main done", flush=True)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "main done" in result.stdout
    assert "periodic task finished" in result.stdout


def test_error_in_with_block_propagates_unwrapped() -> None:
    """A mistake in the user's code inside ``with Scheduler()`` surfaces as itself, not
    as an ExceptionGroup from the scheduler's internal task group."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'jitter'") as exc_info:
        with Scheduler() as scheduler:
            scheduler.add_schedule(jobfuncs.record, "interval", seconds=10, jitter=5)
    assert type(exc_info.value) is TypeError
    assert "add_schedule(..., max_jitter=5)" in str(exc_info.value)  # what to do instead
    assert scheduler.state is RunState.stopped
