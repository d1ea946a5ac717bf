"""Schedulers created or started before ``os.fork()`` (gunicorn ``--preload``,
multiprocessing with the fork start method)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork()")


def run_script(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_scheduler_created_before_fork_gets_its_own_identity_in_the_child() -> None:
    """Two processes sharing an identity would reap each other's running jobs as
    abandoned; a default identity is therefore renewed when a forked copy starts."""
    lines = run_script(
        """
        import os
        import anyio
        from apscheduler import AsyncScheduler

        scheduler = AsyncScheduler()
        parent_identity = scheduler.identity

        async def start() -> None:
            async with scheduler:
                print(os.getpid(), scheduler.identity, flush=True)

        pid = os.fork()
        if pid == 0:
            anyio.run(start)
            os._exit(0)
        os.waitpid(pid, 0)
        anyio.run(start)
        print("parent-before-fork", parent_identity)
        """
    )
    child_pid, child_identity = lines[0].split()
    parent_pid, parent_identity = lines[1].split()
    assert lines[2] == f"parent-before-fork {parent_identity}"
    assert child_identity != parent_identity
    assert f"-{child_pid}-" in child_identity
    assert f"-{parent_pid}-" in parent_identity


def test_explicit_identity_is_kept_across_fork() -> None:
    lines = run_script(
        """
        import os
        import anyio
        from apscheduler import AsyncScheduler

        scheduler = AsyncScheduler(identity="worker-a")

        async def start() -> None:
            async with scheduler:
                print(scheduler.identity, flush=True)

        pid = os.fork()
        if pid == 0:
            anyio.run(start)
            os._exit(0)
        os.waitpid(pid, 0)
        """
    )
    assert lines == ["worker-a"]


def test_sync_scheduler_started_before_fork_fails_clearly_in_the_child() -> None:
    """Its event loop thread does not survive the fork: the child gets an error that says
    what to do instead of a call that never returns."""
    lines = run_script(
        """
        import os
        from apscheduler import Scheduler

        scheduler = Scheduler()
        scheduler.start_in_background()
        pid = os.fork()
        if pid == 0:
            try:
                scheduler.add_job(print, args=["never"])
            except RuntimeError as exc:
                print("child:", exc, flush=True)
            scheduler.shutdown()  # nothing to shut down in the child: returns at once
            print("child: shutdown returned", flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        scheduler.add_job(print, args=["parent still works"])
        scheduler.shutdown()
        """
    )
    assert lines[0].startswith("child: This scheduler was started in the parent process")
    assert "post_fork" in lines[0]
    assert lines[1] == "child: shutdown returned"
    assert lines[-1] == "parent still works"
