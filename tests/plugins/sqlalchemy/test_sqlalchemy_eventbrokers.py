"""The PostgreSQL LISTEN/NOTIFY event brokers: the kit, plus what is specific to them
(payload limit, reconnection, construction from engines and URLs)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from itertools import count
from typing import Any
from uuid import uuid4

import anyio
import psycopg
import pytest
import tenacity
from apscheduler import JobOutcome, JobReleased, LeaseLost, RetrySettings, TaskAdded
from apscheduler._registry import get_registry
from apscheduler.abc import EventBroker
from apscheduler.testing import EventBrokerTests
from apscheduler.testing.eventbroker import EventCollector, task_added
from apscheduler_sqlalchemy import _pgnotify as pgnotify
from apscheduler_sqlalchemy._pgnotify import PostgresNotifyBroker
from apscheduler_sqlalchemy.asyncpg_broker import AsyncpgEventBroker
from apscheduler_sqlalchemy.psycopg_broker import PsycopgEventBroker
from sqlalchemy.ext.asyncio import create_async_engine

from .conftest import RUN_ID, pg_conninfo, pg_url

pytestmark = pytest.mark.anyio
_channels = count()
FAST_RETRY = RetrySettings(wait=tenacity.wait_fixed(0.05))


@pytest.fixture
def channel(postgresql_schema: str) -> str:
    """A channel unique to this test (and proof that PostgreSQL is reachable)."""
    return f"aps_{RUN_ID}_{next(_channels)}"


def asyncpg_broker(channel: str, **kwargs: Any) -> AsyncpgEventBroker:
    return AsyncpgEventBroker.from_url(pg_url("asyncpg"), channel=channel, **kwargs)


def psycopg_broker(channel: str, **kwargs: Any) -> PsycopgEventBroker:
    return PsycopgEventBroker(pg_conninfo(), channel=channel, **kwargs)


class TestAsyncpgBroker(EventBrokerTests):
    @pytest.fixture
    def event_broker(self, channel: str) -> AsyncpgEventBroker:
        return asyncpg_broker(channel)

    @pytest.fixture
    def second_event_broker(self, channel: str) -> AsyncpgEventBroker:
        return asyncpg_broker(channel)


class TestPsycopgBroker(EventBrokerTests):
    @pytest.fixture
    def event_broker(self, channel: str) -> PsycopgEventBroker:
        return psycopg_broker(channel)

    @pytest.fixture
    def second_event_broker(self, channel: str) -> PsycopgEventBroker:
        return psycopg_broker(channel)


class TestMixedDrivers(EventBrokerTests):
    """An asyncpg process and a psycopg process share one channel."""

    @pytest.fixture
    def event_broker(self, channel: str) -> AsyncpgEventBroker:
        return asyncpg_broker(channel)

    @pytest.fixture
    def second_event_broker(self, channel: str) -> PsycopgEventBroker:
        return psycopg_broker(channel)


@pytest.fixture(params=["asyncpg", "psycopg"])
async def broker_pair(
    request: pytest.FixtureRequest, channel: str
) -> AsyncIterator[tuple[PostgresNotifyBroker, PostgresNotifyBroker]]:
    """Two started brokers of one driver on one channel, reconnecting quickly."""
    factory = asyncpg_broker if request.param == "asyncpg" else psycopg_broker
    app_name = f"aps-test-{uuid4().hex[:8]}"
    first = factory(
        channel, options={"server_settings": {"application_name": app_name}}
        if request.param == "asyncpg" else {"application_name": app_name},
        retry_settings=FAST_RETRY,
    )
    first.test_application_name = app_name  # type: ignore[attr-defined]
    second = factory(channel)
    async with AsyncExitStack() as stack:
        await first.start(stack, logging.getLogger("test"))
        await second.start(stack, logging.getLogger("test"))
        yield first, second


async def test_oversized_event_is_shrunk_not_raised(
    broker_pair: tuple[PostgresNotifyBroker, PostgresNotifyBroker],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A JobReleased with a huge traceback is published without error after the commit:
    local subscribers get it whole, other processes a shortened copy."""
    sender, receiver = broker_pair
    here, there = EventCollector(), EventCollector()
    sender.subscribe(here, {JobReleased})
    receiver.subscribe(there, {JobReleased})
    traceback = [f'  File "module_{i}.py", line {i}, in function_{i}\n' for i in range(2000)]
    event = JobReleased(
        job_id=uuid4(),
        scheduler_id="node",
        task_id="task",
        outcome=JobOutcome.error,
        exception_type="builtins.ValueError",
        exception_message="x" * 20_000,
        exception_traceback=traceback,
    )
    await sender.publish(event)  # must not raise
    await here.wait_for(lambda events: bool(events), 5)
    assert here.events == [event]
    await there.wait_for(lambda events: bool(events), 5)
    [received] = there.events
    assert received.job_id == event.job_id
    assert received.outcome is JobOutcome.error
    assert received.exception_type == "builtins.ValueError"
    assert received.exception_message.startswith("x" * 100)
    assert len(received.exception_message) < len(event.exception_message)
    assert "too large" in caplog.text


async def test_lease_lost_with_many_ids_is_split(
    broker_pair: tuple[PostgresNotifyBroker, PostgresNotifyBroker],
) -> None:
    """A LeaseLost listing more job IDs than fit in one notification reaches the other
    processes as several events that together list them all."""
    sender, receiver = broker_pair
    there = EventCollector()
    receiver.subscribe(there, {LeaseLost})
    job_ids = tuple(uuid4() for _ in range(600))
    await sender.publish(LeaseLost(scheduler_id="node", job_ids=job_ids))
    await there.wait_for(
        lambda events: sum(len(event.job_ids) for event in events) >= len(job_ids), 5
    )
    assert len(there.events) > 1
    assert [job_id for event in there.events for job_id in event.job_ids] == list(job_ids)


async def test_event_that_cannot_shrink_is_dropped_with_log(
    broker_pair: tuple[PostgresNotifyBroker, PostgresNotifyBroker],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An event too large even when shortened is logged and not sent; publishing does
    not raise and later events still flow."""
    sender, receiver = broker_pair
    there = EventCollector()
    receiver.subscribe(there, {TaskAdded})
    assert pgnotify.MAX_PAYLOAD == 7999
    monkeypatch.setattr(pgnotify, "MAX_PAYLOAD", 50)  # nothing fits
    await sender.publish(TaskAdded(task_id="t" * 50))
    monkeypatch.undo()
    assert "too large for a PostgreSQL notification even when shortened" in caplog.text
    barrier = task_added()
    await sender.publish(barrier)
    await there.wait_for_event(barrier, 5)
    assert there.events == [barrier]


async def test_reconnects_after_backend_is_terminated(
    broker_pair: tuple[PostgresNotifyBroker, PostgresNotifyBroker],
) -> None:
    """Killing the broker's server connections (as a server restart or a network cut
    would) is survived: the broker reconnects, listens again and events flow both ways."""
    broker, other = broker_pair
    app_name = broker.test_application_name  # type: ignore[attr-defined]
    here, there = EventCollector(), EventCollector()
    broker.subscribe(here, {TaskAdded})
    other.subscribe(there, {TaskAdded})
    before = task_added()
    await other.publish(before)
    await here.wait_for_event(before, 5)

    async with await psycopg.AsyncConnection.connect(pg_conninfo(), autocommit=True) as admin:
        cursor = await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s",
            (app_name,),
        )
        assert len(await cursor.fetchall()) >= 1

        # Events published while it reconnects may be lost (polling covers for that);
        # keep publishing until one gets through, then check both directions.
        with anyio.fail_after(15):
            while True:
                probe = task_added()
                await other.publish(probe)
                with anyio.move_on_after(0.5):
                    await here.wait_for_event(probe, 1)
                    break
        cursor = await admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (app_name,)
        )
        assert (await cursor.fetchone())[0] >= 1

    outgoing = task_added()
    await broker.publish(outgoing)
    await there.wait_for_event(outgoing, 10)


async def test_from_async_sqla_engine(channel: str) -> None:
    engines = [create_async_engine(pg_url("asyncpg")), create_async_engine(pg_url("psycopg"))]
    try:
        brokers = [
            AsyncpgEventBroker.from_async_sqla_engine(engines[0], channel=channel),
            PsycopgEventBroker.from_async_sqla_engine(engines[1], channel=channel),
        ]
        with pytest.raises(ValueError, match="asyncpg"):
            AsyncpgEventBroker.from_async_sqla_engine(engines[1])
        with pytest.raises(ValueError, match="psycopg"):
            PsycopgEventBroker.from_async_sqla_engine(engines[0])
        collectors = [EventCollector(), EventCollector()]
        async with AsyncExitStack() as stack:
            for broker, collector in zip(brokers, collectors):
                await broker.start(stack, logging.getLogger("test"))
                broker.subscribe(collector, {TaskAdded})
            event = task_added()
            await brokers[0].publish(event)
            await collectors[1].wait_for_event(event, 5)
    finally:
        for engine in engines:
            await engine.dispose()


def test_registered_by_name_and_url() -> None:
    registry = get_registry()
    assert registry.resolve("event_broker", "asyncpg") is AsyncpgEventBroker
    assert registry.resolve("event_broker", "psycopg") is PsycopgEventBroker
    assert registry.resolve_url("event_broker", "postgresql://h/db").load() is AsyncpgEventBroker
    broker = registry.create(
        "event_broker", "postgresql+psycopg://user:pw@host:5433/db", EventBroker, channel="c1"
    )
    assert isinstance(broker, PsycopgEventBroker)
    assert broker.conninfo == "postgresql://user:pw@host:5433/db"
    assert broker.channel == "c1"


def test_invalid_channel() -> None:
    with pytest.raises(ValueError, match="identifier"):
        AsyncpgEventBroker("postgresql://h/db", channel="bad channel; DROP")
