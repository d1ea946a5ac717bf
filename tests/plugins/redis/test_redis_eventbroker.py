"""RedisEventBroker: events cross processes, and outages neither crash nor block."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from uuid import UUID, uuid4

import anyio
import pytest
import redis.asyncio
from anyio.streams.memory import MemoryObjectReceiveStream
from apscheduler import Event, JobAdded, TaskAdded
from apscheduler._registry import get_registry
from apscheduler.abc import EventBroker
from apscheduler_redis import RedisEventBroker
from redis.exceptions import ConnectionError as RedisConnectionError

from .conftest import ThrowawayRedis

pytestmark = [pytest.mark.anyio, pytest.mark.service("redis")]
LOGGER = logging.getLogger("tests.redis.broker")


def job_added() -> JobAdded:
    return JobAdded(job_id=uuid4(), task_id="task")


def collect(broker: EventBroker) -> MemoryObjectReceiveStream[Event]:
    send, receive = anyio.create_memory_object_stream[Event](1000)
    broker.subscribe(send.send_nowait)
    return receive


async def wait_for_job(receive: MemoryObjectReceiveStream[Event], job_id: UUID) -> Event:
    async for event in receive:
        if isinstance(event, JobAdded) and event.job_id == job_id:
            return event
    raise AssertionError("stream closed")


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


async def test_channels_are_independent(
    stack: AsyncExitStack, redis_url: str, redis_prefix: str
) -> None:
    publisher = RedisEventBroker(redis_url, channel=f"{redis_prefix}-a")
    other = RedisEventBroker(redis_url, channel=f"{redis_prefix}-b")
    same = RedisEventBroker(redis_url, channel=f"{redis_prefix}-a")
    for broker in (publisher, other, same):
        await broker.start(stack, LOGGER)
    at_other, at_same = collect(other), collect(same)
    event = TaskAdded(task_id="t")
    await publisher.publish(event)
    with anyio.fail_after(5):
        assert await at_same.receive() == event
    assert at_other.statistics().current_buffer_used == 0


async def test_registered_by_url_scheme(redis_url: str) -> None:
    registry = get_registry()
    broker = registry.create("event_broker", redis_url, EventBroker, channel="x")
    assert isinstance(broker, RedisEventBroker)
    assert broker.channel == "x"
    tls = registry.create("event_broker", "rediss://localhost:6380", EventBroker)
    assert isinstance(tls, RedisEventBroker)
    assert registry.resolve("event_broker", "redis") is RedisEventBroker
    await broker.client.aclose()
    await tls.client.aclose()


async def test_seed_import_path(redis_url: str) -> None:
    from apscheduler.eventbrokers.redis import RedisEventBroker as Exported

    assert Exported is RedisEventBroker
    broker = Exported.from_url("redis://localhost:6379")
    assert "localhost:6379" in repr(broker)
    await broker.client.aclose()


async def test_given_client_is_not_closed(redis_url: str, redis_prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        async with AsyncExitStack() as stack:
            await RedisEventBroker(client, channel=redis_prefix).start(stack, LOGGER)
        assert await client.ping()
    finally:
        await client.aclose()


async def test_start_fails_when_unreachable() -> None:
    """A broker that cannot reach Redis at start says so at once (later outages are
    survived instead)."""
    from ...services import free_port

    broker = RedisEventBroker(f"redis://127.0.0.1:{free_port()}")
    with pytest.raises((RedisConnectionError, OSError)), anyio.fail_after(30):
        async with AsyncExitStack() as stack:
            await broker.start(stack, LOGGER)


async def test_publish_keeps_events_while_redis_is_down(
    stack: AsyncExitStack, redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While publishing fails, publish() returns at once without raising, local
    subscribers still get the events, and the queued notifications go out in order once
    Redis takes them again; the oldest are dropped beyond max_queued_events."""
    broker = RedisEventBroker(
        redis_url,
        channel=redis_prefix,
        max_queued_events=3,
        reconnect_delay=0.01,
        max_reconnect_delay=0.05,
    )
    await broker.start(stack, LOGGER)
    local = collect(broker)
    real_publish = broker.client.publish
    sent: list[bytes] = []
    failures = anyio.Event()
    redis_back = False

    async def flaky_publish(channel: str, message: bytes) -> int:
        if not redis_back:
            failures.set()
            raise RedisConnectionError("simulated outage")
        sent.append(message)
        return await real_publish(channel, message)

    monkeypatch.setattr(broker.client, "publish", flaky_publish)
    events = [job_added() for _ in range(5)]
    with anyio.fail_after(1):
        for event in events:
            await broker.publish(event)
        assert [await local.receive() for _ in events] == events
        await failures.wait()

    redis_back = True
    with anyio.fail_after(5):
        await broker._outbox_drained.wait()
    decoded = [broker.reconstitute_event(b"x" + message[32:]) for message in sent]
    assert decoded == events[2:], "the two oldest were dropped, the rest sent in order"


async def test_broker_recovers_from_server_restart(
    stack: AsyncExitStack, throwaway_redis: ThrowawayRedis, caplog: pytest.LogCaptureFixture
) -> None:
    """Kill the Redis server under two running brokers: publishing neither raises nor
    blocks during the outage, and once the server is back both reconnect on their own and
    events flow again."""
    caplog.set_level(logging.INFO, LOGGER.name)
    options = {"channel": "restart", "reconnect_delay": 0.05, "max_reconnect_delay": 0.5}
    publisher = RedisEventBroker(throwaway_redis.url, **options)
    receiver = RedisEventBroker(throwaway_redis.url, **options)
    await publisher.start(stack, LOGGER)
    await receiver.start(stack, LOGGER)
    at_receiver = collect(receiver)
    before = job_added()
    await publisher.publish(before)
    with anyio.fail_after(5):
        await wait_for_job(at_receiver, before.job_id)

    throwaway_redis.stop()
    with anyio.fail_after(1):
        for _ in range(20):
            await publisher.publish(job_added())
            await receiver.publish(job_added())
    throwaway_redis.start()

    # Keep announcing fresh events until one arrives: reconnection takes a few backoffs
    with anyio.fail_after(30):
        while True:
            marker = job_added()
            await publisher.publish(marker)
            with anyio.move_on_after(0.5):
                await wait_for_job(at_receiver, marker.job_id)
                break
    # ...and the other direction works as well
    at_publisher = collect(publisher)
    with anyio.fail_after(30):
        while True:
            marker = job_added()
            await receiver.publish(marker)
            with anyio.move_on_after(0.5):
                await wait_for_job(at_publisher, marker.job_id)
                break
    messages = [record.getMessage() for record in caplog.records]
    assert any("Lost the Redis pub/sub connection" in message for message in messages)
    assert any("Reconnected to Redis pub/sub" in message for message in messages)
