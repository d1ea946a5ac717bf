"""``schedules ...`` and ``jobs list`` against a SQLite store filled by ``apply``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import FUNCS, error_lines

CONFIG = f"""
data_store = "sqlite:///${{config_dir}}/jobs.db"

[scheduler]
timezone = "UTC"

[tasks.greet]
func = "{FUNCS}:greet"

[schedules.morning]
task = "greet"
args = ["morning"]
trigger = {{ type = "cron", hour = 9, minute = 30 }}

[schedules.often]
func = "{FUNCS}:noop"
trigger = {{ type = "interval", minutes = 10 }}
"""


@pytest.fixture
def config(cli, write_config) -> Path:
    path = write_config(CONFIG)
    result = cli("apply", str(path))
    assert result.exit_code == 0, result.stderr
    assert "Applied" in result.stdout and "2 added" in result.stdout
    return path


def schedules_json(cli, config: Path) -> list[dict]:
    result = cli("schedules", "list", "--json", "--config", str(config))
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_list_as_json(cli, config: Path) -> None:
    schedules = schedules_json(cli, config)
    assert [s["id"] for s in schedules] == ["morning", "often"]
    morning = schedules[0]
    assert morning["task_id"] == "greet"
    assert morning["trigger"]["type"] == "cron"
    assert morning["state"] == "active"
    assert morning["args"] == ["morning"]
    assert morning["next_fire_time"].endswith("09:30:00+00:00")
    assert schedules[1]["task_id"] == f"{FUNCS}:noop"


def test_list_as_table(cli, config: Path) -> None:
    result = cli("schedules", "list", "--config", str(config))
    assert result.exit_code == 0
    text = result.stdout
    for expected in ("ID", "Task", "Trigger", "Next run (UTC)", "State", "morning", "greet",
                     "cron", "09:30:00", "often", "interval", "active"):
        assert expected in text


def test_show(cli, config: Path) -> None:
    result = cli("schedules", "show", "morning", "--config", str(config), "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["id"] == "morning"
    assert len(document["upcoming"]) == 5
    assert all(value.endswith("09:30:00+00:00") for value in document["upcoming"])

    table = cli("schedules", "show", "morning", "--config", str(config)).stdout
    assert "CronTrigger(hour='9', minute='30'" in table
    assert "Upcoming:" in table


def test_pause_and_resume(cli, config: Path) -> None:
    result = cli("schedules", "pause", "morning", "--note", "holidays", "--config", str(config))
    assert result.exit_code == 0
    assert result.stdout == "Paused schedule 'morning'.\n"
    morning = schedules_json(cli, config)[0]
    assert morning["paused"] is True
    assert morning["pause_note"] == "holidays"
    assert morning["state"] == "paused"
    assert "paused" in cli("schedules", "list", "--config", str(config)).stdout

    result = cli("schedules", "resume", "morning", "--from", "now", "--config", str(config))
    assert result.exit_code == 0
    assert result.stdout.startswith("Resumed schedule 'morning'; next run: ")
    morning = schedules_json(cli, config)[0]
    assert morning["paused"] is False
    assert morning["pause_note"] is None


def test_run_now_queues_a_job(cli, config: Path) -> None:
    result = cli("schedules", "run-now", "morning", "--json", "--config", str(config))
    assert result.exit_code == 0
    job_id = json.loads(result.stdout)["job_id"]

    jobs = json.loads(cli("jobs", "list", "--json", "--config", str(config)).stdout)
    assert [(job["id"], job["schedule_id"], job["state"]) for job in jobs] == [
        (job_id, "morning", "queued")
    ]
    assert jobs[0]["args"] == ["morning"]
    table = cli("jobs", "list", "--config", str(config)).stdout
    assert job_id in table and "queued" in table


def test_remove(cli, config: Path) -> None:
    result = cli("schedules", "remove", "often", "--config", str(config))
    assert result.exit_code == 0
    assert [s["id"] for s in schedules_json(cli, config)] == ["morning"]


@pytest.mark.parametrize(
    "command",
    [["show"], ["pause"], ["resume"], ["remove"], ["run-now"]],
)
def test_unknown_schedule_id(cli, config: Path, command: list[str]) -> None:
    result = cli("schedules", *command, "nope", "--config", str(config))
    assert result.exit_code == 2
    assert error_lines(result) == ["error: No schedule by the id of 'nope' was found"]


def test_empty_listings(cli, write_config) -> None:
    config = write_config('data_store = "sqlite:///${config_dir}/empty.db"\n')
    assert cli("schedules", "list", "--config", str(config)).stdout == "No schedules.\n"
    assert cli("jobs", "list", "--config", str(config)).stdout == "No queued or running jobs.\n"
    assert json.loads(cli("jobs", "list", "--json", "--config", str(config)).stdout) == []


def test_config_from_the_environment(cli, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APSCHEDULER_CONFIG", str(config))
    result = cli("schedules", "list", "--json")
    assert [s["id"] for s in json.loads(result.stdout)] == ["morning", "often"]


def test_memory_store_warning(cli, write_config) -> None:
    config = write_config("")
    result = cli("schedules", "list", "--config", str(config))
    assert result.exit_code == 0
    assert "warning: the configuration uses the memory data store" in result.stderr


def test_unreachable_store_exits_1(cli, write_config, tmp_path: Path) -> None:
    config = write_config(f'data_store = "sqlite:///{tmp_path.as_posix()}/missing/dir/x.db"\n')
    result = cli("schedules", "list", "--config", str(config))
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot open the data store sqlite:///")
    assert "OperationalError" in lines[0]
