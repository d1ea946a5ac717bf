"""Invalid configurations: one clear line per problem, exit status 2, store untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import FUNCS, error_lines

GOOD = f"""
data_store = "sqlite:///${{config_dir}}/jobs.db"

[tasks.greet]
func = "{FUNCS}:greet"

[schedules.report]
task = "greet"
args = ["world"]
trigger = {{ type = "cron", hour = 9 }}
"""

BAD_CASES = {
    "unknown key": (
        GOOD.replace("trigger =", "triger ="),
        ":10: schedules.report.triger: unknown key (did you mean 'trigger'?)",
    ),
    "wrong type": (
        GOOD + '\n[scheduler]\nmax_concurrent_jobs = "10"\n',
        ":13: scheduler.max_concurrent_jobs: expected an integer, got a string ('10')",
    ),
    "unknown trigger name": (
        GOOD.replace('type = "cron"', 'type = "crom"'),
        ":10: schedules.report.trigger.type: Unknown trigger 'crom'. Did you mean 'cron'?",
    ),
    "bad cron field": (
        GOOD.replace("hour = 9", "hour = 25"),
        ":10: schedules.report.trigger.hour: '25' is out of range 0-23",
    ),
    "missing module": (
        GOOD.replace(f"{FUNCS}:greet", "no_such_module:greet"),
        (
            ":5: tasks.greet.func: cannot import module 'no_such_module': no module named "
            "'no_such_module'"
        ),
    ),
    "wrong type of trigger option": (
        GOOD.replace("hour = 9", "hour = 9, start_time = 5"),
        (
            ":10: schedules.report.trigger.start_time: start_time must be a datetime, a date "
            "or an ISO 8601 string, not int"
        ),
    ),
    "missing argument": (
        GOOD.replace('args = ["world"]', "args = []"),
        ":7: schedules.report: the arguments do not fit",
    ),
}


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_config_exits_2_with_one_line(
    cli, write_config, tmp_path: Path, command: str, case: str
) -> None:
    text, expected = BAD_CASES[case]
    config = write_config(text)

    result = cli(command, str(config))

    assert result.exit_code == 2
    lines = error_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {config}:")
    assert expected in lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "jobs.db").exists()


def test_all_problems_are_listed(cli, write_config) -> None:
    config = write_config(
        GOOD.replace("hour = 9", "hour = 25").replace(f"{FUNCS}:greet", "nowhere:greet")
    )
    result = cli("check", str(config))
    assert result.exit_code == 2
    assert len(error_lines(result)) == 2


def test_good_config_checks_ok(cli, write_config, tmp_path: Path) -> None:
    config = write_config(GOOD)
    result = cli("check", str(config))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"OK {config}: 1 task(s), 1 schedule(s); data store sqlite:///")
    assert not (tmp_path / "jobs.db").exists()


def test_bad_edit_leaves_the_store_unchanged(cli, write_config) -> None:
    config = write_config(GOOD)
    assert cli("apply", str(config)).exit_code == 0
    before = json.loads(cli("schedules", "list", "--json", "--config", str(config)).stdout)

    write_config(GOOD.replace('args = ["world"]', 'args = ["moon"]').replace("hour = 9",
                                                                          "hour = 99"))
    assert cli("apply", str(config)).exit_code == 2
    assert cli("run", str(config)).exit_code == 2

    after = json.loads(cli("schedules", "list", "--json", "--config", str(config)).stdout)
    assert after == before
    assert after[0]["args"] == ["world"]


def test_management_commands_report_config_errors(cli, write_config) -> None:
    config = write_config('data_store = "sqlit:///x.db"\n')
    result = cli("schedules", "list", "--config", str(config))
    assert result.exit_code == 2
    assert "data_store: Unknown data store url scheme 'sqlit'. Did you mean 'sqlite'?" in (
        result.stderr
    )


def test_missing_config_option(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APSCHEDULER_CONFIG", raising=False)
    result = cli("schedules", "list")
    assert result.exit_code == 2
    assert error_lines(result) == [
        "error: no configuration given: pass --config FILE or set APSCHEDULER_CONFIG"
    ]
