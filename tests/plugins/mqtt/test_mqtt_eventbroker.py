"""MQTTEventBroker: options, URLs, and outages that neither crash nor block."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

import anyio
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream
from apscheduler import AsyncScheduler, Event, JobAdded, JobReleased, RunState
from apscheduler._registry import get_registry
from apscheduler.abc import EventBroker
from apscheduler_mqtt import MQTTEventBroker
from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion

from ...services import free_port
from .conftest import ThrowawayMosquitto

pytestmark = [pytest.mark.anyio, pytest.mark.service("mqtt")]
LOGGER = logging.getLogger("tests.mqtt.broker")


def job_added() -> JobAdded:
    return JobAdded(job_id=uuid4(), task_id="task")


def collect(broker: EventBroker) -> MemoryObjectReceiveStream[Event]:
    send, receive = anyio.create_memory_object_stream[Event](1000)
    broker.subscribe(send.send_nowait)
    return receive


async def wait_for_job(receive: MemoryObjectReceiveStream[Event], job_id: UUID) -> None:
    async for event in receive:
        if isinstance(event, JobAdded) and event.job_id == job_id:
            return
    raise AssertionError("stream closed")


async def wait_connected(broker: MQTTEventBroker, connected: bool) -> None:
    with anyio.fail_after(10):
        while broker.connected != connected:
            await broker._connection_changed.wait()


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


def test_from_url_options() -> None:
    broker = MQTTEventBroker.from_url(
        "mqtts://us%40er:p%3Ass@broker.example:8884/plant/7/events?qos=1&client_id=node-1"
    )
    assert (broker.host, broker.port, broker.topic) == ("broker.example", 8884, "plant/7/events")
    assert broker.tls is True
    assert (broker.subscribe_qos, broker.publish_qos) == (1, 1)
    assert broker.client_id == "node-1"
    assert broker.client._username == b"us@er"
    assert broker.client._password == b"p:ss"


def test_default_ports_and_validation() -> None:
    assert MQTTEventBroker().port == 1883
    assert MQTTEventBroker(tls=True).port == 8883
    assert MQTTEventBroker(ssl=ssl.create_default_context()).port == 8883
    assert MQTTEventBroker(transport="websocket").port == 80
    assert MQTTEventBroker(transport="websockets", tls=True).port == 443
    assert MQTTEventBroker().client_id != MQTTEventBroker().client_id
    with pytest.raises(ValueError, match="wildcards"):
        MQTTEventBroker(topic="a/#")
    with pytest.raises(ValueError, match="publish_qos"):
        MQTTEventBroker(publish_qos=3)
    with pytest.raises(ValueError, match="query parameter"):
        MQTTEventBroker.from_url("mqtt://localhost/t?retain=1")


def test_registered_by_url_scheme() -> None:
    registry = get_registry()
    broker = registry.create("event_broker", "mqtt://localhost:1883/x", EventBroker)
    assert isinstance(broker, MQTTEventBroker)
    assert broker.topic == "x"
    assert isinstance(registry.create("event_broker", "mqtts://h/t", EventBroker), MQTTEventBroker)
    assert registry.resolve("event_broker", "mqtt") is MQTTEventBroker

    from apscheduler.eventbrokers.mqtt import MQTTEventBroker as Exported

    assert Exported is MQTTEventBroker


async def test_start_fails_when_unreachable() -> None:
    broker = MQTTEventBroker("127.0.0.1", free_port())
    with pytest.raises(OSError), anyio.fail_after(30):
        async with AsyncExitStack() as stack:
            await broker.start(stack, LOGGER)


async def test_events_published_while_disconnected_are_sent_after_reconnect(
    stack: AsyncExitStack, throwaway_mosquitto: ThrowawayMosquitto
) -> None:
    """While the server is down, publish() returns at once without raising and local
    subscribers still get the events; the notifications are kept and sent in order as
    soon as the connection is back (the oldest dropped beyond max_queued_events)."""
    publisher = MQTTEventBroker(
        "127.0.0.1",
        throwaway_mosquitto.port,
        topic="outbox",
        max_queued_events=3,
        reconnect_delay=2,
        max_reconnect_delay=2,
    )
    await publisher.start(stack, LOGGER)
    local = collect(publisher)

    throwaway_mosquitto.stop()
    await wait_connected(publisher, False)
    events = [job_added() for _ in range(5)]
    with anyio.fail_after(1):
        for event in events:
            await publisher.publish(event)
        assert [await local.receive() for _ in events] == events

    # A plain MQTT subscriber is back on the restarted server before the publisher's
    # reconnection (its backoff is 2 s)
    throwaway_mosquitto.start()
    received: list[bytes] = []
    done = anyio.Event()
    subscribed = anyio.Event()
    async with anyio.from_thread.BlockingPortal() as portal:
        raw = Client(CallbackAPIVersion.VERSION2, client_id=f"raw-{uuid4().hex[:8]}")
        raw.on_connect = lambda client, *args: client.subscribe("outbox")
        raw.on_subscribe = lambda *args: portal.start_task_soon(_set, subscribed)

        def on_message(client: Client, userdata: object, message: object) -> None:
            received.append(message.payload)  # type: ignore[attr-defined]
            if len(received) == 3:
                portal.start_task_soon(_set, done)

        raw.on_message = on_message
        raw.connect("127.0.0.1", throwaway_mosquitto.port)
        raw.loop_start()
        try:
            with anyio.fail_after(1.5):
                await subscribed.wait()
            assert not publisher.connected
            with anyio.fail_after(15):
                await done.wait()
        finally:
            raw.disconnect()
            await anyio.to_thread.run_sync(raw.loop_stop)
    receiver_view = MQTTEventBroker()
    assert [receiver_view.reconstitute_event(payload) for payload in received] == events[2:]


async def _set(event: anyio.Event) -> None:
    event.set()


async def test_broker_recovers_from_server_restart(
    stack: AsyncExitStack,
    throwaway_mosquitto: ThrowawayMosquitto,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Kill the MQTT server under two running brokers: nothing crashes or blocks, and
    once the server is back both reconnect by themselves and events flow both ways."""
    caplog.set_level(logging.INFO, LOGGER.name)
    options = {"topic": "restart", "reconnect_delay": 0.1, "max_reconnect_delay": 0.5}
    publisher = MQTTEventBroker("127.0.0.1", throwaway_mosquitto.port, **options)
    receiver = MQTTEventBroker("127.0.0.1", throwaway_mosquitto.port, **options)
    await publisher.start(stack, LOGGER)
    await receiver.start(stack, LOGGER)
    at_receiver, at_publisher = collect(receiver), collect(publisher)
    before = job_added()
    await publisher.publish(before)
    with anyio.fail_after(5):
        await wait_for_job(at_receiver, before.job_id)

    throwaway_mosquitto.stop()
    await wait_connected(publisher, False)
    await wait_connected(receiver, False)
    with anyio.fail_after(1):
        for _ in range(20):
            await publisher.publish(job_added())
            await receiver.publish(job_added())
    throwaway_mosquitto.start()
    await wait_connected(publisher, True)
    await wait_connected(receiver, True)

    for sender, target in ((publisher, at_receiver), (receiver, at_publisher)):
        # The peer may still be re-subscribing: announce fresh events until one arrives
        with anyio.fail_after(20):
            while True:
                marker = job_added()
                await sender.publish(marker)
                with anyio.move_on_after(0.5):
                    await wait_for_job(target, marker.job_id)
                    break
    messages = [record.getMessage() for record in caplog.records]
    assert any("Lost the connection to the MQTT server" in message for message in messages)
    assert any("Reconnected to the MQTT server" in message for message in messages)


def tick() -> None:
    """A job that does nothing (the test watches its JobReleased events)."""


async def test_scheduler_keeps_working_through_mqtt_restart(
    stack: AsyncExitStack, throwaway_mosquitto: ThrowawayMosquitto
) -> None:
    """A scheduler using the MQTT broker keeps running its jobs while the MQTT server is
    down, and once the server is back its events reach other processes again."""
    options = {"topic": "scheduler", "reconnect_delay": 0.1, "max_reconnect_delay": 0.5}
    observer = MQTTEventBroker("127.0.0.1", throwaway_mosquitto.port, **options)
    await observer.start(stack, LOGGER)
    observed = collect_released(observer)
    broker = MQTTEventBroker("127.0.0.1", throwaway_mosquitto.port, **options)
    scheduler = await stack.enter_async_context(AsyncScheduler(event_broker=broker))
    local = collect_released(broker)
    await scheduler.start_in_background()
    await scheduler.add_schedule(tick, "interval", seconds=0.1)
    with anyio.fail_after(10):
        await observed.receive()

    throwaway_mosquitto.stop()
    await wait_connected(broker, False)
    with anyio.fail_after(10):  # jobs keep running (and releasing) during the outage
        for _ in range(3):
            await local.receive()
    throwaway_mosquitto.start()
    await wait_connected(broker, True)
    await wait_connected(observer, True)
    with anyio.fail_after(20):
        while True:  # drop what was queued or sent before the observer re-subscribed
            event = await observed.receive()
            if event.timestamp > datetime.now(timezone.utc) - timedelta(seconds=0.5):
                break
    assert scheduler.state is RunState.started


def collect_released(broker: EventBroker) -> MemoryObjectReceiveStream[Event]:
    send, receive = anyio.create_memory_object_stream[Event](10_000)
    broker.subscribe(send.send_nowait, {JobReleased})
    return receive
