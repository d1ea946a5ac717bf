"""Helpers of the command-line tests: an in-process runner, configuration files on a
SQLite store, a subprocess wrapper that waits for output lines, and PostgreSQL."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from textwrap import dedent
from uuid import uuid4

import pytest
from apscheduler.cli import create_app
from typer.testing import CliRunner, Result

FUNCS = "tests.core.config.cfgfuncs"

PG_HOST = os.environ.get("APSCHEDULER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("APSCHEDULER_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("APSCHEDULER_TEST_PG_USER", "postgres")
PG_DB = os.environ.get("APSCHEDULER_TEST_PG_DB", "test")


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the command in this process: ``cli("schedules", "list", "--json")``."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(create_app(), list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a dedented configuration as ``<tmp>/scheduler.toml`` and return its path."""

    def write(text: str, name: str = "scheduler.toml") -> Path:
        path = tmp_path / name
        path.write_text(dedent(text), encoding="utf-8")
        return path

    return write


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


class Process:
    """An ``apscheduler`` subprocess whose merged output is read line by line."""

    def __init__(self, args: list[str], cwd: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "apscheduler.cli", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """Block until an output line matches ``pattern`` (a regex); fail on timeout or
        if the process ends first."""
        regex = re.compile(pattern)
        for line in self.lines:
            match = regex.search(line)
            if match:
                return match
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                pytest.fail(f"no line matched {pattern!r} within {timeout} s:\n" + self.text)
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"the process ended before a line matched {pattern!r}:\n"
                            + self.text)
            self.lines.append(line)
            match = regex.search(line)
            if match:
                return match

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30) -> int:
        """Send ``signum`` and wait for the exit status; collect the remaining output."""
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the process did not exit within {timeout} s:\n" + self.text)
        self._reader.join(timeout=10)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Start ``apscheduler <args>`` in a subprocess (killed at the end if still running)."""
    processes: list[Process] = []

    def start_process(*args: str) -> Process:
        process = Process(list(args), tmp_path)
        processes.append(process)
        return process

    yield start_process
    for process in processes:
        process.kill()


def run_command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``apscheduler <args>`` in a subprocess to completion."""
    return subprocess.run(
        [sys.executable, "-m", "apscheduler.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def unavailable(service: str, reason: object) -> None:
    """Fail under CI, skip elsewhere."""
    message = f"{service} is not reachable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def postgresql_schema() -> Iterator[str]:
    """A fresh schema in the PostgreSQL test database (dropped afterwards)."""
    try:
        import psycopg

        conn = psycopg.connect(
            f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={PG_DB} connect_timeout=3",
            autocommit=True,
        )
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    schema = f"aps_cli_{uuid4().hex[:8]}"
    with conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            yield schema
        finally:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def postgresql_url() -> str:
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}"


skip_on_windows = pytest.mark.skipif(
    sys.platform == "win32", reason="sends POSIX signals to a subprocess"
)
