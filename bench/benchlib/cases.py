"""What the driver runs: each case is one scenario script with its arguments, and the rows
it contributes to the report (which metric, which unit, which target).

Sizes come in two sets: ``full`` (the published benchmark) and ``smoke`` (tiny, for CI:
it only proves that every scenario still runs for every implementation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

IMPLS = ("ours", "v4", "v3")


@dataclass(frozen=True)
class Target:
    """A target of the issue: how it reads in the table and how to check a value."""

    text: str
    check: Callable[[float], bool]


def at_least(value: float, text: str) -> Target:
    return Target(text, lambda measured: measured >= value)


def at_most(value: float, text: str) -> Target:
    return Target(text, lambda measured: measured <= value)


@dataclass(frozen=True)
class Row:
    """One line of the table: a metric of the case's JSON result."""

    label: str
    metric: str
    unit: str
    higher_is_better: bool = True
    target: Target | None = None
    #: For a text row: computes the cell from (this implementation's metrics, ours').
    derive: Callable[[dict[str, Any], dict[str, Any]], str] | None = None


@dataclass(frozen=True)
class Case:
    """A scenario script with its arguments for each mode, and its rows in the table."""

    key: str
    title: str
    script: str
    full: tuple[str, ...]
    smoke: tuple[str, ...]
    rows: tuple[Row, ...]
    impls: tuple[str, ...] = IMPLS
    #: Repeats for this case regardless of ``--repeats`` (``None``: use ``--repeats``).
    repeats: int | None = None
    timeout: float = 600
    needs_postgres: bool = False
    tags: tuple[str, ...] = field(default=())

    def args(self, smoke: bool) -> tuple[str, ...]:
        return self.smoke if smoke else self.full


def _throughput(store: str, kind: str, target: Target | None, prefill: bool = False) -> Case:
    what = "coroutine job" if kind == "async" else "plain function on the thread pool"
    sql = store != "memory"
    full_n, limit = ("5000", "8") if sql else ("20000", "10")
    extra = ("--prefill",) if prefill else ()
    return Case(
        key=f"throughput-{store}-{kind}" + ("-prefilled" if prefill else ""),
        title=(
            f"Queue drain, {store} store, {what}, all jobs queued before start"
            if prefill
            else f"Throughput, {store} store, {what}"
        ),
        script="throughput.py",
        full=("--store", store, "--kind", kind, "--n", full_n, "--time-limit", limit, *extra),
        smoke=("--store", store, "--kind", kind, "--n", "100", "--time-limit", "2", *extra),
        rows=(Row("rate", "jobs_per_s", "jobs/s", True, target),),
        needs_postgres=store == "postgresql",
        tags=("throughput",),
    )


def _burst(mode: str, n: int, smoke_n: int) -> Case:
    title = (
        f"Burst, {n:,} date schedules due at one instant"
        if mode == "date"
        else f"Burst, {n} one-second interval schedules"
    )
    p99 = at_most(10, "≤ 10 ms")
    full = ("--mode", mode, "--n", str(n), "--duration", "5", "--time-limit", "60")
    smoke = ("--mode", mode, "--n", str(smoke_n), "--duration", "2", "--time-limit", "10")
    return Case(
        key=f"burst-{mode}",
        title=title,
        script="burst.py",
        full=full,
        smoke=smoke,
        rows=(
            Row("lateness p50", "p50_ms", "ms", False),
            Row("lateness p95", "p95_ms", "ms", False),
            Row("lateness p99", "p99_ms", "ms", False, p99),
            Row("lateness max", "max_ms", "ms", False),
        ),
        tags=("burst",),
    )


def _scale(key: str, n: int, smoke_n: int, impls: tuple[str, ...], repeats: int | None) -> Case:
    return Case(
        key=key,
        title=f"Scale, {n:,} far-future date schedules (memory store)"
        + (f" ({', '.join(impls)} only, {repeats} run)" if repeats else ""),
        script="scale.py",
        full=("--n", str(n), "--idle", "10"),
        smoke=("--n", str(smoke_n), "--idle", "1"),
        rows=(
            Row("time per add", "add_us", "µs", False, at_most(10, "≤ 10 µs")),
            Row("memory per schedule", "bytes_per_schedule", "B", False, at_most(600, "≤ 600 B")),
            Row(
                "idle CPU over the idle period",
                "idle_cpu_pct",
                "% of a core",
                False,
                at_most(0.1, "0 (≤ 0.1 %)"),
            ),
        ),
        impls=impls,
        repeats=repeats,
        timeout=1200,
        tags=("scale",),
    )


CRON_TARGET = at_most(5, "≤ 5 µs")


def _same_as_croniter(metrics: dict[str, Any], ours: dict[str, Any]) -> str:
    """Whether this implementation's sequences equal croniter's (computed in our venv)."""
    cells = []
    for zone in ("utc", "berlin"):
        reference = ours.get(f"croniter_digest_{zone}")
        digest = metrics.get(f"digest_{zone}")
        if reference is None or digest is None:
            cells.append("?")
        elif digest == reference:
            cells.append("yes")
        else:
            cells.append("**no**")
    return " / ".join(cells)


CASES: tuple[Case, ...] = (
    _throughput("memory", "async", at_least(50_000, "≥ 50,000")),
    _throughput("memory", "sync", at_least(20_000, "≥ 20,000")),
    _throughput("memory", "async", None, prefill=True),
    _throughput("memory", "sync", None, prefill=True),
    _throughput("sqlite", "async", at_least(5_000, "≥ 5,000")),
    _throughput("sqlite", "sync", at_least(5_000, "≥ 5,000")),
    _throughput("postgresql", "async", None),
    _throughput("postgresql", "sync", None),
    _burst("date", 1000, 100),
    _burst("interval", 200, 50),
    _scale("scale-100k", 100_000, 1000, IMPLS, None),
    _scale("scale-1m", 1_000_000, 2000, ("ours",), 1),
    Case(
        key="cron",
        title="Cron next fire time, `*/5 9-17 * * mon-fri`, 100,000 successive times",
        script="cron.py",
        full=("--n", "100000"),
        smoke=("--n", "1000"),
        rows=(
            Row("next() in UTC", "next_us_utc", "µs", False, CRON_TARGET),
            Row("next() in Europe/Berlin", "next_us_berlin", "µs", False, CRON_TARGET),
            Row(
                "sequence identical to croniter (UTC / Berlin)",
                "digest_utc",
                "",
                derive=_same_as_croniter,
            ),
        ),
        tags=("cron",),
    ),
    Case(
        key="cluster",
        title="Cluster, 2 worker processes, PostgreSQL + asyncpg NOTIFY broker",
        script="cluster.py",
        full=("--n", "10000", "--workers", "2", "--time-limit", "10"),
        smoke=("--n", "50", "--workers", "2", "--time-limit", "5"),
        rows=(
            Row("drain rate", "jobs_per_s", "jobs/s", True, at_least(10_000, "≥ 10,000")),
            Row("add_job rate (8 producers)", "add_per_s", "jobs/s", True),
        ),
        needs_postgres=True,
        tags=("cluster",),
    ),
)


def select(only: list[str] | None) -> list[Case]:
    """The cases named (by key, key prefix or tag) in ``only``; all when empty."""
    if not only:
        return list(CASES)
    chosen = [
        case
        for case in CASES
        if any(case.key == name or case.key.startswith(name) or name in case.tags for name in only)
    ]
    if not chosen:
        known = ", ".join(case.key for case in CASES)
        raise SystemExit(f"No scenario matches {only}; known: {known}")
    return chosen
