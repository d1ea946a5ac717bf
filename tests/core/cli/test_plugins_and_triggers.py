"""``plugins``, ``triggers list|preview`` and subcommands added by plugins."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest
import typer
from apscheduler import __version__
from apscheduler._registry import get_registry
from apscheduler.cli._common import CLIError
from apscheduler.cli._plugins import parse_extra_options
from apscheduler.hookspecs import hookimpl

from .conftest import error_lines


def test_plugins_json_lists_builtins_and_installed_plugins(cli) -> None:
    result = cli("plugins", "--json")
    assert result.exit_code == 0
    plugins = {plugin["name"]: plugin for plugin in json.loads(result.stdout)}

    builtins = plugins["builtins"]
    assert builtins["distribution"] == "apscheduler"
    assert builtins["version"] == __version__
    assert [t["name"] for t in builtins["registers"]["trigger"]] == [
        "date", "interval", "calendarinterval", "cron", "and", "or"
    ]
    assert builtins["registers"]["data_store"][0]["name"] == "memory"
    assert builtins["registers"]["data_store"][0]["url_schemes"] == ["memory"]
    assert {e["name"] for e in builtins["registers"]["job_executor"]} == {"async", "threadpool"}

    sample = plugins["sample"]
    assert sample["distribution"] == "apscheduler-sample-plugin"
    assert sample["version"] == "0.1.0"
    assert sample["registers"] == {
        "trigger": [
            {
                "name": "every-other-second",
                "target": "apscheduler_sample_plugin.trigger:EveryOtherSecondTrigger",
                "url_schemes": [],
                "description": "",
            }
        ]
    }


def test_plugins_table(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    text = cli("plugins").stdout
    for expected in ("builtins", f"apscheduler {__version__}", "trigger", "cron",
                     "sample", "apscheduler-sample-plugin 0.1.0", "every-other-second"):
        assert expected in text
    verbose = cli("plugins", "--verbose").stdout
    assert "memory = apscheduler.datastores.memory:MemoryDataStore (memory://)" in verbose


def test_triggers_list(cli) -> None:
    triggers = json.loads(cli("triggers", "list", "--json").stdout)
    names = [t["name"] for t in triggers]
    assert names == sorted(names)
    assert {"cron", "interval", "every-other-second"} <= set(names)


def test_preview_cron(cli) -> None:
    result = cli("triggers", "preview", "cron", "--hour", "9", "--timezone", "Asia/Tokyo",
                 "-n", "5", "--json")
    assert result.exit_code == 0, result.stderr
    times = json.loads(result.stdout)
    assert len(times) == 5
    for entry in times:
        local = datetime.fromisoformat(entry["local"])
        utc = datetime.fromisoformat(entry["utc"])
        assert (local.hour, local.minute, local.utcoffset().total_seconds()) == (9, 0, 32400)
        assert utc == local and utc.hour == 0
    days = [datetime.fromisoformat(entry["local"]).date() for entry in times]
    assert all((b - a).days == 1 for a, b in zip(days, days[1:]))


def test_preview_table(cli) -> None:
    result = cli("triggers", "preview", "cron", "--hour", "9", "-n", "5")
    assert result.exit_code == 0
    assert "Local (" in result.stdout and "UTC" in result.stdout
    assert result.stdout.count("09:00:00") >= 5


def test_preview_options_forms(cli) -> None:
    result = cli("triggers", "preview", "interval", "--minutes=90", "--start-time",
                 "2030-01-01T00:00:00+00:00", "-n", "3", "--json")
    assert [entry["utc"] for entry in json.loads(result.stdout)] == [
        "2030-01-01T00:00:00+00:00",
        "2030-01-01T01:30:00+00:00",
        "2030-01-01T03:00:00+00:00",
    ]


def test_preview_finite_trigger(cli) -> None:
    result = cli("triggers", "preview", "date", "--run-time", "2030-01-01T00:00:00Z", "-n", "3")
    assert result.exit_code == 0
    assert "The trigger has no fire times after these 1." in result.stdout


def test_preview_plugin_trigger(cli) -> None:
    result = cli("triggers", "preview", "every-other-second", "-n", "3", "--json")
    utc = [datetime.fromisoformat(entry["utc"]) for entry in json.loads(result.stdout)]
    assert [(b - a).total_seconds() for a, b in zip(utc, utc[1:])] == [2, 2]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["cron", "--hour", "25"], "error: --hour: '25' is out of range 0-23"),
        (["crom"], "error: Unknown trigger 'crom'. Did you mean 'cron'?"),
        (
            ["cron", "--huor", "9"],
            "error: --huor: unknown option for the 'cron' trigger (did you mean 'hour'?)",
        ),
        (["cron", "9"], "error: unexpected argument '9'; write trigger options as --name value"),
        (["interval"], "error: The interval must be positive"),
    ],
)
def test_preview_errors(cli, args: list[str], expected: str) -> None:
    result = cli("triggers", "preview", *args)
    assert result.exit_code == 2
    lines = error_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith(expected)


def test_parse_extra_options() -> None:
    assert parse_extra_options(
        ["--hour", "9", "--day-of-week=mon-fri", "--seconds", "2.5", "--flag",
         "--triggers", '[{"type": "cron"}]', "--name", "true"]
    ) == {
        "hour": 9,
        "day_of_week": "mon-fri",
        "seconds": 2.5,
        "flag": True,
        "triggers": [{"type": "cron"}],
        "name": True,
    }
    with pytest.raises(CLIError):
        parse_extra_options(["9"])


class CommandPlugin:
    """A plugin registered in code that adds a subcommand."""

    @hookimpl
    def register_commands(self, cli: typer.Typer) -> None:
        @cli.command("hello")
        def hello(name: str = "world") -> None:
            """Say hello (added by a plugin)."""
            typer.echo(f"hello {name} from a plugin")


class BrokenCommandPlugin:
    @hookimpl
    def register_commands(self, cli: typer.Typer) -> None:
        raise RuntimeError("boom")


@pytest.fixture
def registered() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        get_registry().unregister_plugin(name)


def test_plugin_adds_a_subcommand(cli, registered: list[str]) -> None:
    registered.append(get_registry().register_plugin(CommandPlugin(), "cli-test-plugin"))
    result = cli("hello", "--name", "operator")
    assert result.exit_code == 0
    assert result.stdout == "hello operator from a plugin\n"
    assert "hello" in cli("--help").stdout
    plugins = {p["name"]: p for p in json.loads(cli("plugins", "--json").stdout)}
    assert plugins["cli-test-plugin"]["distribution"] is None


def test_broken_plugin_hook_does_not_break_the_command(
    cli, registered: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    registered.append(get_registry().register_plugin(BrokenCommandPlugin(), "broken-cli-plugin"))
    result = cli("triggers", "list", "--json")  # the app is built outside the runner
    assert result.exit_code == 0
    assert "warning: a plugin's register_commands hook failed: RuntimeError: boom" in (
        capsys.readouterr().err
    )


def test_version(cli) -> None:
    assert cli("--version").stdout == f"apscheduler {__version__}\n"
