"""The v3 job stores at their v3 paths, mapped onto the core data stores."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.redis import RedisJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from . import jobfuncs


def in_past(seconds: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(seconds=seconds)


def run_once(jobstore: Any) -> Any:
    """Add a job to ``jobstore``, wait for its run, and return the EXECUTED event."""
    executed = threading.Event()
    events: list[Any] = []

    def listener(event: Any) -> None:
        events.append(event)
        executed.set()

    scheduler = BackgroundScheduler(jobstores={"default": jobstore})
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        scheduler.add_job(
            jobfuncs.add,
            "date",
            run_date=in_past(0.1),
            args=[2, 3],
            misfire_grace_time=None,
            id="once",
        )
        assert executed.wait(10)
    finally:
        scheduler.shutdown()
    return events[0]


def test_memory_job_store() -> None:
    assert repr(MemoryJobStore()) == "<MemoryJobStore>"
    assert run_once(MemoryJobStore()).retval == 5


def test_sqlalchemy_job_store_persists_jobs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)})
    scheduler.start()
    scheduler.add_job(
        jobfuncs.add, "interval", hours=1, args=[1, 2], id="kept", name="Kept", kwargs={}
    )
    first = scheduler.get_job("kept")
    scheduler.shutdown()

    again = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)})
    again.start()
    try:
        job = again.get_job("kept")
        assert job is not None and first is not None
        assert (job.name, job.func, job.args, job.next_run_time) == (
            "Kept",
            jobfuncs.add,
            (1, 2),
            first.next_run_time,
        )
    finally:
        again.shutdown()


def test_sqlalchemy_job_store_runs_jobs(tmp_path: Path) -> None:
    event = run_once(SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'run.sqlite'}"))
    assert (event.job_id, event.retval) == ("once", 5)


def test_sqlalchemy_tablename_becomes_a_table_prefix(tmp_path: Path) -> None:
    import sqlalchemy

    url = f"sqlite:///{tmp_path / 'prefixed.sqlite'}"
    default = SQLAlchemyJobStore(url=url)
    custom = SQLAlchemyJobStore(url=url, tablename="my_custom_jobs_table")
    assert (default.table_prefix, custom.table_prefix) == ("", "my_custom_jobs_table_")
    scheduler = BackgroundScheduler(jobstores={"default": default, "custom": custom})
    scheduler.start()
    try:
        scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="a")
        scheduler.add_job(jobfuncs.noop, "interval", hours=1, id="b", jobstore="custom")
        assert [job.id for job in scheduler.get_jobs("custom")] == ["b"]
        assert [job.id for job in scheduler.get_jobs("default")] == ["a"]
    finally:
        scheduler.shutdown()
    tables = sqlalchemy.inspect(sqlalchemy.create_engine(url)).get_table_names()
    assert "my_custom_jobs_table_schedules" in tables and "schedules" in tables


def test_sqlalchemy_job_store_with_engine_and_pickle(tmp_path: Path) -> None:
    import sqlalchemy
    from apscheduler.serializers.pickle import PickleSerializer

    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'engine.sqlite'}")
    store = SQLAlchemyJobStore(engine=engine, pickle_protocol=4)
    assert isinstance(store.data_store.serializer, PickleSerializer)  # type: ignore[attr-defined]
    assert store.data_store.serializer.protocol == 4  # type: ignore[attr-defined]
    assert run_once(store).retval == 5
    with pytest.raises(ValueError, match="engine"):
        SQLAlchemyJobStore()


def test_sqlalchemy_job_store_from_gconfig(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gconfig.sqlite'}"
    scheduler = BackgroundScheduler(
        {"apscheduler.jobstores.default": {"type": "sqlalchemy", "url": url}}
    )
    assert isinstance(scheduler._jobstores["default"], SQLAlchemyJobStore)


def test_json_is_the_default_serializer(tmp_path: Path) -> None:
    """v3 pickled job arguments; v3 job stores here store JSON unless asked for pickle."""
    url = f"sqlite:///{tmp_path / 'json.sqlite'}"
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)})
    scheduler.start()
    try:
        with pytest.raises(Exception, match="json|JSON|serializ"):
            scheduler.add_job(jobfuncs.noop, "interval", hours=1, args=[object()])
        assert scheduler.get_jobs() == []
    finally:
        scheduler.shutdown()


def test_redis_job_store(redis_url: str, redis_prefix: str) -> None:
    store = RedisJobStore(host="127.0.0.1", port=6379, db=0, jobs_key=redis_prefix)
    assert store.url == "redis://127.0.0.1:6379/0"
    assert store.prefix == redis_prefix
    event = run_once(store)
    assert (event.job_id, event.retval) == ("once", 5)


def test_redis_job_store_url_options() -> None:
    store = RedisJobStore(
        db="2", host="example", port=6380, password="p@ss", ssl=True, socket_timeout=5
    )
    assert store.url == "rediss://:p%40ss@example:6380/2"
    assert store.prefix == "apscheduler"
    assert "p@ss" not in repr(store)
    with pytest.raises(ValueError, match="jobs_key"):
        RedisJobStore(jobs_key="")


def test_mongodb_job_store() -> None:
    mongomock = pytest.importorskip("mongomock")
    try:
        from apscheduler.datastores.mongodb import MongoDBDataStore  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the MongoDB data store plugin is not available: {exc}")
    from apscheduler.jobstores.mongodb import MongoDBJobStore

    store = MongoDBJobStore(database="v3test", client=mongomock.MongoClient())
    assert run_once(store).retval == 5


def test_mongodb_job_store_uri() -> None:
    from apscheduler.jobstores.mongodb import MongoDBJobStore

    assert MongoDBJobStore().uri == "mongodb://localhost:27017"
    assert MongoDBJobStore(host="db", port=27018, username="u", password="p").uri == (
        "mongodb://u:p@db:27018"
    )
    assert MongoDBJobStore(host="mongodb+srv://cluster").uri == "mongodb+srv://cluster"
