"""The README's first command: the quick-start demo prints within seconds, stops cleanly
and keeps its schedules across restarts. Run on a copy, so the repository stays clean."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest
from apscheduler._registry import get_registry

from .conftest import skip_on_windows

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    for name in ("quickstart.toml", "quickstart_tasks.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path / "quickstart.toml"


def test_quickstart_config_is_valid(cli) -> None:
    result = cli("check", str(EXAMPLES / "quickstart.toml"))
    assert result.exit_code == 0, result.stderr
    assert "4 schedule(s)" in result.stdout or "note: optional schedule 'crunch'" in result.stdout


@skip_on_windows
def test_quickstart_runs_and_persists(cli, start, quickstart: Path) -> None:
    demo = start("run", str(quickstart))
    # Every kind of schedule prints within 10 seconds of the start
    demo.wait_for(r"tick: the interval schedule runs every 3 seconds", timeout=10)
    demo.wait_for(r"report from cron: the cron schedule", timeout=10)
    demo.wait_for(r"hello, operator: the one-off date schedule ran once", timeout=10)
    if "processpool" in get_registry().names("job_executor"):
        demo.wait_for(r"crunch in process \d+", timeout=10)
    assert demo.stop(signal.SIGINT) == 0
    assert demo.lines[-1].endswith("Shut down cleanly")
    assert (quickstart.parent / "quickstart.db").exists()

    again = start("run", str(quickstart))
    again.wait_for(r"Schedule 'tick' is unchanged; keeping it")
    again.wait_for(r"Schedule 'hello-once' added")  # it ran: added again
    again.wait_for(r"tick: the interval schedule")
    assert again.stop(signal.SIGINT) == 0

    listed = json.loads(cli("schedules", "list", "--json", "--config", str(quickstart)).stdout)
    ids = [schedule["id"] for schedule in listed]
    assert ids == sorted(set(ids))  # no duplicates
    assert {"tick", "report", "hello-once"} <= set(ids)
