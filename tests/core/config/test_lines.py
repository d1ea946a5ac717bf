"""Locating key paths in the TOML text, for error messages."""

from __future__ import annotations

from textwrap import dedent

from apscheduler.config._lines import KeyLines

TEXT = dedent(
    """\
    path = ["."]  # comment
    data_store = { type = "sqlalchemy", url = "sqlite:///x.db" }

    [scheduler]
    poll_interval = "2s"
    notes = '''
    identity = "inside a multi-line string"
    '''
    identity = "real"

    [tasks."my.task"]
    func = "m:f"
    metadata.owner = "ops"

    [schedules.report]
    trigger = { type = "cron", hour = 25 }
    args = [
      1,
      2,
    ]
    kwargs = { name = "x" }

    [schedules.report.trigger2]
    hour = 3

    [[jobs]]
    id = "first"

    [[jobs]]
    id = "second"
    [jobs.sub]
    key = 1
    """
)


def test_keys_headers_and_inline_tables() -> None:
    lines = KeyLines(TEXT)
    assert lines.find(("path",)) == 1
    assert lines.find(("data_store", "url")) == 2
    assert lines.find(("scheduler",)) == 4
    assert lines.find(("scheduler", "poll_interval")) == 5
    assert lines.find(("scheduler", "identity")) == 9  # not the line inside the string
    assert lines.find(("tasks", "my.task", "func")) == 12
    assert lines.find(("tasks", "my.task", "metadata", "owner")) == 13
    assert lines.find(("schedules", "report", "trigger", "hour")) == 16
    assert lines.find(("schedules", "report", "kwargs", "name")) == 21
    assert lines.find(("schedules", "report", "trigger2", "hour")) == 24


def test_arrays_of_tables_are_indexed() -> None:
    lines = KeyLines(TEXT)
    assert lines.find(("jobs", 0, "id")) == 27
    assert lines.find(("jobs", 1, "id")) == 30
    assert lines.find(("jobs", 1, "sub", "key")) == 32


def test_falls_back_to_the_enclosing_key() -> None:
    lines = KeyLines(TEXT)
    assert lines.find(("schedules", "report", "args", 1)) == 17
    assert lines.find(("schedules", "report", "missing")) == 15
    assert lines.find(("nowhere",)) is None
