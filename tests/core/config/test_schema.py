"""The schema step: TOML syntax, keys, value types and formats, with key paths and lines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apscheduler.config import ConfigError, format_path, load_config

from .conftest import error_lines


def only_error(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    lines = error_lines(excinfo)
    assert len(lines) == 1, lines
    return lines[0]


def test_minimal_file_gets_defaults(parse) -> None:
    config = parse("").config
    assert config.data_store.type == "memory"
    assert config.event_broker.type == "local"
    assert config.scheduler.max_concurrent_jobs == 100
    assert config.scheduler.lease_duration == timedelta(seconds=30)
    assert config.schedules == []


def test_unknown_key_suggests_the_closest(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse(
            """
            [scheduler]
            max_concurent_jobs = 5
            """
        )
    line = only_error(excinfo)
    assert line.endswith(
        "scheduler.toml:3: scheduler.max_concurent_jobs: unknown key (did you mean "
        "'max_concurrent_jobs'?); allowed keys: identity, role, timezone, max_concurrent_jobs, "
        "lease_duration, cleanup_interval, poll_interval, stop_timeout, schedule_batch_size, "
        "log_level"
    )


def test_unknown_top_level_key(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse('data_stor = "memory"\n')
    assert "1: data_stor: unknown key (did you mean 'data_store'?)" in only_error(excinfo)


def test_wrong_type_is_not_coerced(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse(
            """
            [scheduler]
            max_concurrent_jobs = "3"
            """
        )
    assert only_error(excinfo).endswith(
        ":3: scheduler.max_concurrent_jobs: expected an integer, got a string ('3')"
    )


def test_every_problem_is_reported_in_file_order(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse(
            """
            bogus = 1

            [scheduler]
            role = "wroker"
            poll_interval = "soon"

            [tasks.a]
            max_running_jobs = 0
            """
        )
    lines = error_lines(excinfo)
    assert [line.split(": ")[0].rsplit(":", 1)[1] for line in lines] == ["2", "5", "6", "8", "9"]
    assert "scheduler.role: unknown role 'wroker' (did you mean 'worker'?)" in lines[1]
    assert "scheduler.poll_interval: expected a number of seconds or a duration" in lines[2]
    assert lines[3].endswith("tasks.a.func: missing required key")
    assert "tasks.a.max_running_jobs: must be at least 1 (or 'unlimited'), got 0" in lines[4]


def test_toml_syntax_error_has_its_line(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse(
            """
            [scheduler]
            identity = "unterminated
            """
        )
    line = only_error(excinfo)
    assert "scheduler.toml:3: invalid TOML:" in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90", timedelta(seconds=90)),
        ("2.5", timedelta(seconds=2.5)),
        ('"90s"', timedelta(seconds=90)),
        ('"1h30m"', timedelta(hours=1, minutes=30)),
        ('"2d"', timedelta(days=2)),
        ('"500ms"', timedelta(milliseconds=500)),
        ('"1w"', timedelta(weeks=1)),
    ],
)
def test_durations(parse, text: str, expected: timedelta) -> None:
    config = parse(f"[scheduler]\nlease_duration = {text}\n").config
    assert config.scheduler.lease_duration == expected


@pytest.mark.parametrize("text", ['"1 hour"', "-1", "true", '""', '"5"'])
def test_bad_durations(parse, text: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse(f"[scheduler]\nlease_duration = {text}\n")
    assert "scheduler.lease_duration:" in only_error(excinfo)


def test_schedules_as_tables_take_their_id_from_the_name(parse) -> None:
    config = parse(
        """
        [schedules.report]
        func = "m:f"
        trigger = { type = "cron", hour = 9 }

        [schedules."nightly.backup"]
        func = "m:g"
        trigger = "interval"
        """
    ).config
    assert [s.id for s in config.schedules] == ["report", "nightly.backup"]
    assert config.schedules.paths == [("schedules", "report"), ("schedules", "nightly.backup")]
    assert config.schedules[0].trigger.type == "cron"
    assert config.schedules[0].trigger.options == {"hour": 9}
    assert config.schedules[1].trigger.options == {}


def test_schedules_as_array_need_unique_ids(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse(
            """
            [[schedules]]
            id = "a"
            func = "m:f"
            trigger = "interval"

            [[schedules]]
            func = "m:f"
            trigger = "interval"

            [[schedules]]
            id = "a"
            func = "m:f"
            trigger = "interval"
            """
        )
    lines = error_lines(excinfo)
    assert len(lines) == 2
    assert lines[0].endswith(":7: schedules[1].id: missing required key (every [[schedules]] "
                             "entry needs an id)")
    assert lines[1].endswith(":12: schedules[2].id: duplicate schedule ID 'a'")


def test_table_schedule_id_must_match(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse(
            """
            [schedules.a]
            id = "b"
            func = "m:f"
            trigger = "interval"
            """
        )
    assert "schedules.a.id: does not match the table name 'a'" in only_error(excinfo)


def test_trigger_table_needs_a_type(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse(
            """
            [schedules.a]
            func = "m:f"
            trigger = { hour = 9 }
            """
        )
    assert only_error(excinfo).endswith(
        ":4: schedules.a.trigger: missing required key 'type' (the trigger name, e.g. \"cron\")"
    )


def test_func_reference_format(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse('[tasks.a]\nfunc = "package.module.function"\n')
    assert only_error(excinfo).endswith(
        "tasks.a.func: expected 'package.module:function', got 'package.module.function' "
        "(did you mean 'package.module:function'?)"
    )


def test_component_forms(parse) -> None:
    config = parse(
        """
        data_store = { url = "sqlite:///x.db", table_prefix = "aps_" }
        event_broker = "redis://localhost:6379"
        """
    ).config
    assert config.data_store.url == "sqlite:///x.db"
    assert config.data_store.options == {"table_prefix": "aps_"}
    assert config.event_broker.url == "redis://localhost:6379"
    assert config.event_broker.type is None


def test_component_table_needs_type_or_url(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse('data_store = { table_prefix = "x" }\n')
    assert "data_store: needs a 'type' (registered name) or a 'url' key" in only_error(excinfo)


def test_unlimited_and_coalesce_spellings(parse) -> None:
    config = parse(
        """
        [task_defaults]
        max_running_jobs = "unlimited"
        misfire_grace_time = "unlimited"

        [schedules.a]
        func = "m:f"
        trigger = "interval"
        coalesce = false
        """
    ).config
    assert config.task_defaults.max_running_jobs == "unlimited"
    assert config.schedules[0].coalesce is False


def test_metadata_must_be_json_compatible(parse) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse(
            """
            [tasks.a]
            func = "m:f"
            metadata = { owner = "ops", since = 2024-01-01 }
            """
        )
    assert "tasks.a.metadata.since: metadata must be JSON-compatible; a date" in only_error(
        excinfo
    )


def test_missing_file() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config("/nonexistent/scheduler.toml")
    assert only_error(excinfo) == "/nonexistent/scheduler.toml: no such file"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("schedules", "report", "trigger", "hour"), "schedules.report.trigger.hour"),
        (("schedules", 0, "args", 1), "schedules[0].args[1]"),
        (("tasks", "my.task", "func"), 'tasks."my.task".func'),
        ((), "(top level)"),
    ],
)
def test_format_path(path: tuple, text: str) -> None:
    assert format_path(path) == text
