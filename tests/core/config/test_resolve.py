"""The resolve step: plugin names, options, functions, triggers and arguments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apscheduler._registry import PluginRegistry, get_registry, reset_registry
from apscheduler.config import ConfigError, resolve_config, resolve_services
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from .conftest import FUNCS, error_lines


def resolve_error(parse, text: str) -> list[str]:
    with pytest.raises(ConfigError) as excinfo:
        resolve_config(parse(text))
    return error_lines(excinfo)


def one_error(parse, text: str) -> str:
    lines = resolve_error(parse, text)
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def builtins_only() -> Iterator[PluginRegistry]:
    """A registry with only the built-in plugin, as on a machine without any extras."""
    previous = get_registry()
    registry = PluginRegistry(load_entry_points=False)
    reset_registry(registry)
    try:
        yield registry
    finally:
        reset_registry(previous)


def test_bad_cron_field_names_the_option(parse) -> None:
    line = one_error(
        parse,
        f"""
        [schedules.report]
        func = "{FUNCS}:noop"
        trigger = {{ type = "cron", hour = 25 }}
        """,
    )
    assert line.endswith("scheduler.toml:4: schedules.report.trigger.hour: '25' is out of "
                         "range 0-23")


def test_bad_cron_field_in_a_trigger_subtable(parse) -> None:
    line = one_error(
        parse,
        f"""
        [schedules.report]
        func = "{FUNCS}:noop"

        [schedules.report.trigger]
        type = "cron"
        day_of_week = "mon-fry"
        """,
    )
    assert ":7: schedules.report.trigger.day_of_week: " in line
    assert "'fry'" in line or "mon-fry" in line


def test_unknown_trigger_name_suggests_the_closest(parse) -> None:
    line = one_error(
        parse,
        f"""
        [schedules.a]
        func = "{FUNCS}:noop"
        trigger = "crom"
        """,
    )
    assert line.endswith(
        ":4: schedules.a.trigger: Unknown trigger 'crom'. Did you mean 'cron'? Known trigger "
        "names: " + ", ".join(get_registry().names("trigger")) + "."
    )


def test_unknown_trigger_name_in_a_table_points_at_type(parse) -> None:
    line = one_error(
        parse,
        f"""
        [schedules.a]
        func = "{FUNCS}:noop"
        trigger = {{ type = "intervall", seconds = 5 }}
        """,
    )
    assert "schedules.a.trigger.type: Unknown trigger 'intervall'. Did you mean 'interval'?" in (
        line
    )


def test_unknown_trigger_option(parse) -> None:
    line = one_error(
        parse,
        f"""
        [schedules.a]
        func = "{FUNCS}:noop"
        trigger = {{ type = "interval", secnds = 5 }}
        """,
    )
    assert (
        "schedules.a.trigger.secnds: unknown option for the 'interval' trigger (did you "
        "mean 'seconds'?); its options: weeks, days, hours"
    ) in line


def test_wrong_type_of_trigger_option(parse) -> None:
    line = one_error(
        parse,
        f"""
        [schedules.a]
        func = "{FUNCS}:noop"
        trigger = {{ type = "interval", seconds = "5" }}
        """,
    )
    assert line.endswith("schedules.a.trigger.seconds: seconds must be a number, not str")


def test_missing_module(parse) -> None:
    line = one_error(
        parse,
        """
        [tasks.a]
        func = "no_such_package.jobs:run"
        """,
    )
    assert line.endswith(
        ":3: tasks.a.func: cannot import module 'no_such_package.jobs': no module named "
        "'no_such_package' (is its directory listed in 'path'?)"
    )


def test_missing_function_suggests_the_closest(parse) -> None:
    line = one_error(parse, f'[tasks.a]\nfunc = "{FUNCS}:gret"\n')
    assert line.endswith(f"tasks.a.func: '{FUNCS}' has no attribute 'gret' (did you mean "
                         f"'greet'?)")


def test_not_callable(parse) -> None:
    line = one_error(parse, f'[tasks.a]\nfunc = "{FUNCS}:NOT_CALLABLE"\n')
    assert line.endswith(f"tasks.a.func: '{FUNCS}:NOT_CALLABLE' is not callable (it is int)")


def test_unknown_data_store_suggests_the_closest(parse) -> None:
    line = one_error(parse, 'data_store = "memroy"\n')
    assert "1: data_store: Unknown data store 'memroy'. Did you mean 'memory'?" in line


def test_unknown_data_store_option(parse) -> None:
    line = one_error(parse, 'data_store = { type = "memory", size = 3 }\n')
    assert "data_store.size: unknown option for the 'memory' data store" in line


def test_unknown_url_scheme(parse) -> None:
    line = one_error(parse, 'event_broker = "rabbit://localhost"\n')
    assert "event_broker: Unknown event broker url scheme 'rabbit'." in line


def test_missing_plugin_gives_the_install_line(parse, builtins_only) -> None:
    line = one_error(
        parse,
        f"""
        [tasks.a]
        func = "{FUNCS}:noop"
        job_executor = "processpool"
        """,
    )
    assert (
        "tasks.a.job_executor: Unknown job executor 'processpool'. It is provided by a "
        'plugin that is not installed: pip install "apscheduler[processpool]"'
    ) in line


def test_optional_schedule_is_skipped_when_its_plugin_is_missing(parse, builtins_only) -> None:
    resolved = resolve_config(
        parse(
            f"""
            [schedules.crunch]
            func = "{FUNCS}:greet"
            job_executor = "processpool"
            trigger = {{ type = "interval", seconds = 5 }}
            args = ["x"]
            optional = true

            [schedules.tick]
            func = "{FUNCS}:noop"
            trigger = {{ type = "interval", seconds = 1 }}
            """
        )
    )
    assert [s.id for s in resolved.schedules] == ["tick"]
    assert [s.id for s in resolved.skipped] == ["crunch"]
    assert [t.id for t in resolved.tasks] == [f"{FUNCS}:noop"]  # not greet's task
    assert 'pip install "apscheduler[processpool]"' in resolved.skipped[0].reason


def test_optional_does_not_hide_other_errors(parse, builtins_only) -> None:
    line = one_error(
        parse,
        f"""
        [schedules.crunch]
        func = "{FUNCS}:noop"
        job_executor = "processpool"
        trigger = {{ type = "interval", seconds = -1 }}
        optional = true
        """,
    )
    assert "schedules.crunch.trigger" in line


def test_executor_defined_in_the_file(parse) -> None:
    resolved = resolve_config(
        parse(
            f"""
            [executors.small]
            type = "threadpool"
            max_workers = 2

            [tasks.a]
            func = "{FUNCS}:noop"
            job_executor = "small"
            """
        )
    )
    assert resolved.job_executors["small"].max_workers == 2  # type: ignore[attr-defined]
    assert resolved.tasks[0].job_executor == "small"


def test_executor_option_errors(parse) -> None:
    lines = resolve_error(
        parse,
        """
        [executors.small]
        type = "threadpool"
        max_wrkers = 2

        [executors.tiny]
        type = "threadpool"
        max_workers = 0

        [executors.big]
        type = "thredpool"
        """,
    )
    assert len(lines) == 3
    assert (
        "executors.small.max_wrkers: unknown option for the 'threadpool' job executor "
        "(did you mean 'max_workers'?)"
    ) in lines[0]
    assert (
        "executors.tiny.max_workers: cannot create the job executor: max_workers must "
        "be at least 1"
    ) in lines[1]
    assert (
        "executors.big.type: Unknown job executor 'thredpool'. Did you mean "
        "'threadpool'?"
    ) in lines[2]


def test_arguments_must_fit_the_signature(parse) -> None:
    line = one_error(
        parse,
        f"""
        [schedules.a]
        func = "{FUNCS}:greet"
        trigger = {{ type = "interval", seconds = 5 }}
        kwargs = {{ name = "x", nme = "y" }}
        """,
    )
    assert "schedules.a.kwargs: the arguments do not fit " in line
    assert "got an unexpected keyword argument 'nme'" in line


def test_task_reference_must_exist(parse) -> None:
    line = one_error(
        parse,
        f"""
        [tasks.greet]
        func = "{FUNCS}:greet"

        [schedules.a]
        task = "gret"
        trigger = {{ type = "interval", seconds = 5 }}
        args = ["x"]
        """,
    )
    assert (
        "schedules.a.task: unknown task 'gret' (did you mean 'greet'?); tasks defined in "
        "this file: greet"
    ) in line


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("", "needs 'task' (the ID of a [tasks] entry) or 'func'"),
        (f'task = "t"\nfunc = "{FUNCS}:noop"', "give either 'task' or 'func', not both"),
    ],
)
def test_task_or_func(parse, keys: str, message: str) -> None:
    text = (
        f'[tasks.t]\nfunc = "{FUNCS}:noop"\n[schedules.a]\n'
        f'trigger = {{ type = "interval", seconds = 5 }}\n{keys}\n'
    )
    assert message in one_error(parse, text)


def test_relative_run_time(parse) -> None:
    now = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
    resolved = resolve_config(
        parse(
            f"""
            [schedules.once]
            func = "{FUNCS}:noop"
            trigger = {{ type = "date", run_time = "+1m30s" }}
            """
        ),
        now=now,
    )
    trigger = resolved.schedules[0].trigger
    assert isinstance(trigger, DateTrigger)
    assert trigger.run_time == now + timedelta(seconds=90)


def test_scheduler_timezone_applies_to_triggers(parse) -> None:
    resolved = resolve_config(
        parse(
            f"""
            [scheduler]
            timezone = "Europe/Helsinki"

            [schedules.a]
            func = "{FUNCS}:noop"
            trigger = {{ type = "cron", hour = 9 }}
            """
        )
    )
    fire_time = resolved.schedules[0].trigger.preview(1)[0]
    assert fire_time.hour == 9
    assert str(fire_time.tzinfo) == "Europe/Helsinki"


def test_crontab_and_combining_triggers(parse) -> None:
    resolved = resolve_config(
        parse(
            f"""
            [schedules.a]
            func = "{FUNCS}:noop"
            trigger = {{ type = "cron", crontab = "*/15 9-17 * * mon-fri" }}

            [schedules.b]
            func = "{FUNCS}:noop"
            trigger = {{ type = "or", triggers = [
                {{ type = "cron", hour = 9 }},
                {{ type = "interval", hours = 2 }},
            ] }}
            """
        )
    )
    first, second = (schedule.trigger for schedule in resolved.schedules)
    assert isinstance(first, CronTrigger)
    assert first.fields["minute"] == "*/15"
    assert isinstance(second, OrTrigger)
    assert len(second.triggers) == 2


def test_error_inside_a_combined_trigger(parse) -> None:
    line = one_error(
        parse,
        f"""
        [schedules.b]
        func = "{FUNCS}:noop"
        trigger = {{ type = "and", triggers = [
            {{ type = "cron", minute = 61 }},
            {{ type = "interval", seconds = 5 }},
        ] }}
        """,
    )
    assert "schedules.b.trigger.triggers[0].minute: '61' is out of range 0-59" in line


def test_task_settings_file_then_decorator_then_defaults(parse) -> None:
    resolved = resolve_config(
        parse(
            f"""
            [task_defaults]
            misfire_grace_time = "1m"
            metadata = {{ env = "prod" }}

            [tasks.plain]
            func = "{FUNCS}:noop"

            [tasks.decorated]
            func = "{FUNCS}:decorated"

            [tasks.overridden]
            func = "{FUNCS}:decorated"
            max_running_jobs = "unlimited"
            job_executor = "threadpool"
            misfire_grace_time = "unlimited"
            """
        )
    )
    tasks = {task.id: task for task in resolved.tasks}
    assert tasks["plain"].job_executor == "threadpool"
    assert tasks["plain"].max_running_jobs == 1
    assert tasks["plain"].misfire_grace_time == timedelta(minutes=1)
    assert tasks["plain"].metadata == {"env": "prod"}
    assert tasks["decorated"].job_executor == "async"
    assert tasks["decorated"].max_running_jobs == 3
    assert tasks["decorated"].metadata == {"env": "prod", "team": "ops"}
    assert tasks["overridden"].job_executor == "threadpool"
    assert tasks["overridden"].max_running_jobs is None
    assert tasks["overridden"].misfire_grace_time is None


def test_func_schedule_uses_the_function_reference_as_task_id(parse) -> None:
    resolved = resolve_config(
        parse(
            f"""
            [schedules.a]
            func = "{FUNCS}:async_noop"
            trigger = {{ type = "interval", seconds = 5 }}
            """
        )
    )
    assert resolved.schedules[0].task.id == f"{FUNCS}:async_noop"
    assert resolved.schedules[0].task.job_executor == "async"


def test_digest_changes_only_with_the_definition(parse) -> None:
    def digest(text: str) -> str:
        return resolve_config(parse(text)).schedules[0].digest

    base = (
        f'[schedules.a]\nfunc = "{FUNCS}:noop"\n'
        'trigger = { type = "interval", seconds = 5 }\n'
    )
    assert digest(base) == digest(base)
    assert digest(base) != digest(base.replace("5", "6"))
    assert digest(base) != digest(base + "paused = true\n")
    assert digest(base) != digest('[task_defaults]\nmax_running_jobs = 2\n' + base)


def test_placeholders(parse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("APS_TEST_PREFIX", "aps_")
    services = resolve_services(
        parse(
            'data_store = { url = "sqlite:///${config_dir}/jobs.db", '
            'table_prefix = "${env:APS_TEST_PREFIX}" }\n'
        )
    )
    assert f"sqlite:///{tmp_path.as_posix()}/jobs.db" in services.description
    assert services.data_store.table_prefix == "aps_"  # type: ignore[attr-defined]
    assert not (tmp_path / "jobs.db").exists()  # created, not started


def test_unset_environment_variable(parse) -> None:
    line = one_error(parse, 'data_store = "sqlite:///${env:APS_TEST_SURELY_UNSET}/x.db"\n')
    assert line.endswith("data_store: environment variable APS_TEST_SURELY_UNSET is not set")


def test_path_entries_are_relative_to_the_file(parse, tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "cfg_path_probe_mod.py").write_text("def run():\n    pass\n")
    resolved = resolve_config(
        parse(
            """
            path = ["jobs"]

            [tasks.probe]
            func = "cfg_path_probe_mod:run"
            """
        )
    )
    assert resolved.tasks[0].func_ref == "cfg_path_probe_mod:run"
    assert one_error(parse, 'path = ["missing"]\n').endswith(
        f"path[0]: directory {str(tmp_path / 'missing')!r} does not exist"
    )


def test_scheduler_options(parse) -> None:
    resolved = resolve_config(
        parse(
            """
            [scheduler]
            identity = "node-1"
            role = "worker"
            cleanup_interval = 0
            poll_interval = "500ms"
            """
        )
    )
    options = resolved.scheduler_options()
    assert options["identity"] == "node-1"
    assert options["role"] == "worker"
    assert options["cleanup_interval"] is None
    assert options["poll_interval"] == timedelta(milliseconds=500)


def test_bad_timezone(parse) -> None:
    assert one_error(parse, '[scheduler]\ntimezone = "Mars/Olympus"\n').endswith(
        ":2: scheduler.timezone: Unknown time zone 'Mars/Olympus'"
    )
