"""``apscheduler run`` as a real subprocess: jobs are logged, Ctrl-C / SIGTERM stop it
cleanly, restarts keep the stored schedules, and other processes manage its store."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from textwrap import dedent
from uuid import uuid4

import pytest

from .conftest import postgresql_url, run_command, skip_on_windows

pytestmark = skip_on_windows


def write_project(tmp_path: Path, data_store: str) -> tuple[Path, str]:
    """A task module (unique name, importable through ``path``) and a config using it."""
    module = f"clijobs_{uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(
        dedent(
            """\
            def tick(label):
                print(f"TICK {label}", flush=True)

            def boom():
                raise ValueError("boom")

            def noop():
                pass
            """
        )
    )
    config = tmp_path / "scheduler.toml"
    config.write_text(
        dedent(
            f"""\
            path = ["."]
            data_store = {data_store}

            [scheduler]
            poll_interval = "200ms"
            stop_timeout = "5s"

            [schedules.tick]
            func = "{module}:tick"
            args = ["fast"]
            trigger = {{ type = "interval", seconds = 0.3 }}

            [schedules.boom]
            func = "{module}:boom"
            trigger = {{ type = "interval", seconds = 0.5 }}

            [schedules.nightly]
            func = "{module}:noop"
            trigger = {{ type = "cron", hour = 3, minute = 33 }}
            """
        )
    )
    return config, module


def stored_ids(cli, config: Path) -> list[str]:
    result = cli("schedules", "list", "--json", "--config", str(config))
    assert result.exit_code == 0, result.stderr
    return [schedule["id"] for schedule in json.loads(result.stdout)]


def run_manage_restart(cli, start, config: Path) -> None:
    """Run, manage the store from another process while it runs (here: this test
    process), stop with Ctrl-C, restart, stop with SIGTERM."""
    first = start("run", str(config))
    first.wait_for(r"Schedule 'tick' added")
    first.wait_for(r"Running job \w+ \(schedule 'tick'")
    first.wait_for(r"^TICK fast$")
    first.wait_for(r"Job \w+ \(schedule 'tick', .*\) finished in")
    first.wait_for(r"Job \w+ \(schedule 'boom', .*\) FAILED after [\d.]+ s: ValueError: boom")

    result = cli("schedules", "run-now", "nightly", "--json", "--config", str(config))
    assert result.exit_code == 0, result.stderr
    job_id = json.loads(result.stdout)["job_id"]
    first.wait_for(rf"Job {job_id[:8]} \(schedule 'nightly', .*\) finished")

    result = cli("schedules", "pause", "tick", "--note", "testing", "--config", str(config))
    assert result.exit_code == 0, result.stderr
    result = cli("schedules", "show", "tick", "--json", "--config", str(config))
    assert json.loads(result.stdout)["pause_note"] == "testing"
    result = cli("schedules", "list", "--config", str(config))
    assert result.exit_code == 0
    assert "paused" in result.stdout and "nightly" in result.stdout

    assert first.stop(signal.SIGINT) == 0
    assert "Received SIGINT: stopping" in first.text
    assert first.lines[-1].endswith("Shut down cleanly")

    # Restart: the unchanged schedules are kept as they are, including the pause
    second = start("run", str(config))
    second.wait_for(r"Schedule 'tick' is unchanged; keeping it paused")
    second.wait_for(r"applied \(3 unchanged\)")
    second.wait_for(r"Job \w+ \(schedule 'boom', .*\) FAILED")
    assert "TICK fast" not in second.text

    result = cli("schedules", "resume", "tick", "--config", str(config))
    assert result.exit_code == 0, result.stderr
    second.wait_for(r"^TICK fast$")  # the running scheduler saw the change

    assert second.stop(signal.SIGTERM) == 0
    assert "Received SIGTERM: stopping" in second.text
    assert second.lines[-1].endswith("Shut down cleanly")

    assert stored_ids(cli, config) == ["boom", "nightly", "tick"]


def test_run_manage_restart_on_sqlite(cli, start, tmp_path: Path) -> None:
    config, _ = write_project(tmp_path, '"sqlite:///${config_dir}/jobs.db"')
    run_manage_restart(cli, start, config)


@pytest.mark.service("postgresql")
def test_run_manage_restart_on_postgresql(
    cli, start, tmp_path: Path, postgresql_schema: str
) -> None:
    store = f'{{ url = "{postgresql_url()}", schema = "{postgresql_schema}" }}'
    config, _ = write_project(tmp_path, store)
    run_manage_restart(cli, start, config)


def test_bad_config_exits_2_and_creates_no_store(tmp_path: Path) -> None:
    """Through the real interpreter and entry point, not the in-process runner."""
    config, module = write_project(tmp_path, '"sqlite:///${config_dir}/jobs.db"')
    config.write_text(config.read_text().replace(f"{module}:boom", f"{module}:bom"))
    result = run_command("run", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {config}:14: schedules.boom.func: '{module}' has no "
                               f"attribute 'bom' (did you mean 'boom'?)")
    assert not (tmp_path / "jobs.db").exists()


def test_second_signal_cancels_running_jobs(start, tmp_path: Path) -> None:
    module = f"clislow_{uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(
        "import anyio\n\nasync def slow():\n    print('SLOW START', flush=True)\n"
        "    await anyio.sleep(60)\n"
    )
    config = tmp_path / "slow.toml"
    config.write_text(
        f'path = ["."]\n[scheduler]\nstop_timeout = "60s"\n[schedules.slow]\n'
        f'func = "{module}:slow"\ntrigger = {{ type = "date", run_time = "+0s" }}\n'
    )
    process = start("run", str(config))
    process.wait_for(r"^SLOW START$")
    process.proc.send_signal(signal.SIGINT)
    process.wait_for(r"Received SIGINT: stopping; running jobs may finish for up to 60 s")
    assert process.stop(signal.SIGINT) == 130
    assert "Received SIGINT again: cancelling running jobs" in process.text
    assert process.lines[-1].endswith("Shut down after cancelling running jobs")
