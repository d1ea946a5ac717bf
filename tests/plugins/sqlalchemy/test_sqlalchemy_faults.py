"""Fault tests: several scheduler and worker processes on one PostgreSQL database.

3 scheduler processes and 3 worker processes share the store; 500 schedules fire every
second for 30 seconds. During the run a worker is killed with SIGKILL while it runs a
job, and the database becomes unreachable for a few seconds (every connection of the
test's role is terminated and new connections are refused, which is what clients see during
a server restart, without disturbing other users of the server). Then:

* every fire time of every schedule produced exactly one job (an insert trigger on the
  jobs table records each job created: no duplicate, no gap);
* the job of the killed worker is released as ``abandoned`` once its lease ran out;
* every other job ran (the queue drains) and left its result.

Set ``APSCHEDULER_TEST_PG_RESTART_CMD`` (e.g. ``pg_ctlcluster 15 main restart``) to
restart the real server instead of simulating the outage.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import anyio
import psycopg
import pytest
from apscheduler import ConflictPolicy, Job, Schedule, Task
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler_sqlalchemy.datastore import SQLAlchemyDataStore

from .conftest import PG_DB, PG_HOST, PG_PORT, pg_conninfo
from .test_sqlalchemy_datastore import started

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SCHEDULES = 500
RUN_SECONDS = 30
LEASE_SECONDS = 4
ROOT = Path(__file__).resolve().parents[3]


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def fault_role(postgresql_schema: str):
    """A login role owning its own schema, so the test can cut off only its own
    connections."""
    role = f"aps_fault_{uuid4().hex[:8]}"
    with psycopg.connect(pg_conninfo(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"CREATE SCHEMA {role} AUTHORIZATION {role}")
        admin.execute(f"GRANT CONNECT ON DATABASE {PG_DB} TO {role}")
    try:
        yield role
    finally:
        with psycopg.connect(pg_conninfo(), autocommit=True) as admin:
            admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT -1")
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            admin.execute(f"DROP SCHEMA IF EXISTS {role} CASCADE")
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def _outage(role: str, seconds: float) -> None:
    restart = os.environ.get("APSCHEDULER_TEST_PG_RESTART_CMD")
    if restart:
        subprocess.run(restart, shell=True, check=True, timeout=120)
        return
    with psycopg.connect(pg_conninfo(), autocommit=True) as admin:
        # New connections fail with "too many connections" (53300), as from a server that
        # is restarting or saturated; existing ones are cut
        admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT 0")
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
        )
        time.sleep(seconds)  # the outage itself, not synchronisation
        admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT -1")


async def test_many_processes_with_kill_and_outage(fault_role: str, tmp_path: Path) -> None:
    role = schema = fault_role
    url = f"postgresql+asyncpg://{role}@{PG_HOST}:{PG_PORT}/{PG_DB}"
    dsn = f"postgresql://{role}@{PG_HOST}:{PG_PORT}/{PG_DB}"
    prefix = "f_"
    jobs_module = "tests.plugins.sqlalchemy.e2e_jobs"
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=5)
    start_us = int(start.timestamp()) * 1_000_000

    store = SQLAlchemyDataStore(url, schema=schema, table_prefix=prefix)
    async with started(store):
        await store.add_task(
            Task(id="tick", func=f"{jobs_module}:trivial", job_executor="async",
                 max_running_jobs=None)
        )
        await store.add_task(
            Task(id="long", func=f"{jobs_module}:long_job", job_executor="async")
        )
        for i in range(SCHEDULES):
            trigger = IntervalTrigger(seconds=1, start_time=start)
            await store.add_schedule(
                Schedule(
                    id=f"s{i:03}", task_id="tick", trigger=trigger,
                    next_fire_time=trigger.next(), coalesce="all", job_executor="async",
                    job_result_expiration_time=timedelta(minutes=10),
                ),
                ConflictPolicy.exception,
            )

    with psycopg.connect(pg_conninfo(), autocommit=True) as admin:
        admin.execute(f"SET ROLE {role}")  # the nodes' role owns the audit objects
        admin.execute(f"CREATE TABLE {schema}.audit (schedule_id text, fire_time bigint)")
        admin.execute(
            f"CREATE FUNCTION {schema}.audit_job() RETURNS trigger AS $$ BEGIN "
            f"INSERT INTO {schema}.audit VALUES (NEW.schedule_id, NEW.scheduled_fire_time); "
            f"RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        admin.execute(
            f"CREATE TRIGGER audit AFTER INSERT ON {schema}.{prefix}jobs "
            f"FOR EACH ROW EXECUTE FUNCTION {schema}.audit_job()"
        )

    config = {"url": url, "dsn": dsn, "schema": schema, "prefix": prefix,
              "channel": f"{role}_events", "lease": LEASE_SECONDS}
    env = {**os.environ, "APS_FAULT_CONFIG": json.dumps(config), "PYTHONPATH": str(ROOT)}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    logs: dict[str, Path] = {}
    for role_name, count in (("scheduler", 3), ("worker", 3)):
        for n in range(count):
            name = f"{role_name}{n}"
            logs[name] = tmp_path / f"{name}.log"
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "tests.plugins.sqlalchemy.fault_node", role_name, name],
                cwd=ROOT, env=env, stdout=logs[name].open("wb"), stderr=subprocess.STDOUT,
            )
    try:
        # A worker runs a long job, and is killed while it runs it
        pid_file = tmp_path / "long.pid"
        long_job = Job(task_id="long", executor="async", kwargs={"pid_file": str(pid_file)},
                       result_expiration_time=timedelta(minutes=10))
        check_store = SQLAlchemyDataStore(url, schema=schema, table_prefix=prefix)
        async with started(check_store):
            await anyio.sleep(max(0.0, (start - datetime.now(timezone.utc)).total_seconds()) + 3)
            await check_store.add_jobs([long_job])
            await anyio.to_thread.run_sync(
                _wait_for, pid_file.exists, 30, "the long job to start"
            )
            victim = int(pid_file.read_text())
            os.kill(victim, signal.SIGKILL)
            killed = [name for name, proc in processes.items() if proc.pid == victim]
            assert killed, "the long job ran in an unknown process"

            # The database goes away for a while, mid-run
            await anyio.sleep(4)
            await anyio.to_thread.run_sync(_outage, role, 3.0)

            end = start + timedelta(seconds=RUN_SECONDS)
            await anyio.sleep(max(0.0, (end - datetime.now(timezone.utc)).total_seconds()))
            for name, proc in processes.items():
                if name.startswith("scheduler"):
                    proc.send_signal(signal.SIGTERM)
            for name, proc in processes.items():
                if name.startswith("scheduler"):
                    assert proc.wait(timeout=60) == 0, logs[name].read_text()[-3000:]

            # Every queued job runs; the killed worker's job is abandoned after its lease
            def drained() -> bool:
                with psycopg.connect(pg_conninfo()) as conn:
                    return conn.execute(
                        f"SELECT count(*) FROM {schema}.{prefix}jobs"
                    ).fetchone()[0] == 0

            await anyio.to_thread.run_sync(_wait_for, drained, 90, "the job queue to drain")
            result = await check_store.get_job_result(long_job.id)
            assert result is not None, "the killed worker's job has no result"
            assert result.outcome.name == "abandoned"

        with psycopg.connect(pg_conninfo()) as conn:
            duplicates = conn.execute(
                f"SELECT schedule_id, fire_time, count(*) FROM {schema}.audit "
                f"GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 10"
            ).fetchall()
            assert duplicates == [], f"fire times that produced several jobs: {duplicates}"
            per_schedule = conn.execute(
                f"SELECT s.id, s.last_fire_time, count(a.fire_time), min(a.fire_time), "
                f"max(a.fire_time) FROM {schema}.{prefix}schedules s "
                f"LEFT JOIN {schema}.audit a ON a.schedule_id = s.id GROUP BY s.id, "
                f"s.last_fire_time"
            ).fetchall()
            assert len(per_schedule) == SCHEDULES
            for schedule_id, last, count, first_fire, last_fire in per_schedule:
                assert first_fire == start_us, schedule_id
                assert last_fire == last, schedule_id
                assert count == (last - start_us) // 1_000_000 + 1, f"gap in {schedule_id}"
                assert last >= start_us + (RUN_SECONDS - 5) * 1_000_000, "work stopped early"
            total = sum(row[2] for row in per_schedule)
            outcomes = dict(conn.execute(
                f"SELECT outcome, count(*) FROM {schema}.{prefix}job_results GROUP BY 1"
            ).fetchall())
            assert outcomes.get("success", 0) + outcomes.get("abandoned", 0) == total + 1
            assert set(outcomes) <= {"success", "abandoned"}, outcomes
            assert total >= SCHEDULES * (RUN_SECONDS - 5)
    finally:
        for proc in processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in processes.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
