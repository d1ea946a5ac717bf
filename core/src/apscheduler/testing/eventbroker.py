"""Conformance tests for :class:`apscheduler.abc.EventBroker` implementations.

Subclass :class:`EventBrokerTests` and provide an ``event_broker`` fixture returning a
new, **not started** broker. External brokers also provide ``second_event_broker``: another
not started instance on the **same** backend (server, channel/topic), standing in for a
second process; the tests that need it are skipped without it.

The kit starts brokers itself. ``start`` must not return before the broker can receive
(subscriptions on the server confirmed): the cross-broker tests publish right away.

No test guesses timings. Absence of a delivery is proven with a barrier: a later event
that travels the same way (delivery to one subscription, or through the server) is
awaited, and since a subscription receives events in publication order, anything that
was going to arrive before it has arrived.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import timezone
from itertools import count
from logging import getLogger
from typing import Any, ClassVar
from uuid import uuid4

import anyio
import pytest

from .._enums import JobOutcome
from .._events import (
    DataStoreEvent,
    Event,
    JobReleased,
    ScheduleRemoved,
    SchedulerStarted,
    TaskAdded,
    TaskRemoved,
)
from ..abc import EventBroker
from ._fixtures import optional_fixture

_LOGGER = getLogger("apscheduler.testing")
_counter = count()


def task_added() -> TaskAdded:
    """A uniquely identifiable event."""
    return TaskAdded(task_id=f"task-{next(_counter)}")


class EventCollector:
    """A callback that records the events it receives, for callbacks run on the event
    loop (``is_async=True``)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = anyio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float) -> None:
        with anyio.fail_after(timeout):
            while not predicate(self.events):
                await self._changed.wait()
                self._changed = anyio.Event()

    async def wait_for_event(self, event: Event, timeout: float) -> None:
        """Wait until an event equal to ``event`` was received."""
        await self.wait_for(lambda events: event in events, timeout)


class ThreadEventCollector:
    """A callback that records the events it receives, for synchronous callbacks run in
    worker threads (``is_async=False``)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.threads: set[int] = set()
        self._condition = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self._condition:
            self.events.append(event)
            self.threads.add(threading.get_ident())
            self._condition.notify_all()

    async def wait_for_event(self, event: Event, timeout: float) -> None:
        def wait() -> bool:
            with self._condition:
                return self._condition.wait_for(lambda: event in self.events, timeout)

        if not await anyio.to_thread.run_sync(wait):
            raise TimeoutError(f"{event!r} was not delivered within {timeout} s")


class EventBrokerTests:
    """Conformance tests of an event broker. See the module docstring and
    ``docs/plugins/conformance-kit.md``.

    Fixtures to provide (in the subclass, the module or a ``conftest.py``):

    * ``event_broker`` (required): a new, not started broker.
    * ``second_event_broker`` (optional): another not started instance on the same
      backend; enables the cross-broker tests.

    Class attribute: ``delivery_timeout`` (seconds) bounds every wait for a delivery.
    """

    delivery_timeout: ClassVar[float] = 5.0

    pytestmark = pytest.mark.anyio

    @pytest.fixture
    async def started_event_broker(
        self, event_broker: EventBroker, anyio_backend: Any
    ) -> AsyncIterator[EventBroker]:
        async with AsyncExitStack() as stack:
            await event_broker.start(stack, _LOGGER)
            yield event_broker

    @pytest.fixture
    def _kit_second_event_broker(self, request: pytest.FixtureRequest) -> EventBroker | None:
        return optional_fixture(request, "second_event_broker")

    @pytest.fixture
    async def started_second_event_broker(
        self, started_event_broker: EventBroker, _kit_second_event_broker: EventBroker | None
    ) -> AsyncIterator[EventBroker]:
        second_event_broker = _kit_second_event_broker
        if second_event_broker is None:
            pytest.skip("needs a `second_event_broker` fixture (another instance on the backend)")
        async with AsyncExitStack() as stack:
            await second_event_broker.start(stack, _LOGGER)
            yield second_event_broker

    async def _barrier(self, broker: EventBroker, collector: EventCollector) -> Event:
        """Publish an event that ``collector`` (subscribed to everything or to
        ``TaskAdded``) receives, and wait for it."""
        barrier = task_added()
        await broker.publish_local(barrier)
        await collector.wait_for_event(barrier, self.delivery_timeout)
        return barrier

    #
    # Local delivery
    #

    async def test_subscribe_by_class(self, started_event_broker: EventBroker) -> None:
        collector = EventCollector()
        started_event_broker.subscribe(collector, {TaskAdded})
        wanted = task_added()
        await started_event_broker.publish(TaskRemoved(task_id="x"))
        await started_event_broker.publish(wanted)
        barrier = await self._barrier(started_event_broker, collector)
        assert collector.events == [wanted, barrier]

    async def test_subscribe_by_name(self, started_event_broker: EventBroker) -> None:
        collector = EventCollector()
        started_event_broker.subscribe(collector, {"TaskAdded"})
        wanted = task_added()
        await started_event_broker.publish(TaskRemoved(task_id="x"))
        await started_event_broker.publish(wanted)
        barrier = await self._barrier(started_event_broker, collector)
        assert collector.events == [wanted, barrier]

    async def test_subscribe_by_base_class(self, started_event_broker: EventBroker) -> None:
        collector = EventCollector()
        started_event_broker.subscribe(collector, {DataStoreEvent})
        removed = ScheduleRemoved(schedule_id="s", task_id="t", finished=True)
        await started_event_broker.publish(SchedulerStarted())
        await started_event_broker.publish(removed)
        barrier = await self._barrier(started_event_broker, collector)
        assert collector.events == [removed, barrier]

    async def test_subscribe_to_everything(self, started_event_broker: EventBroker) -> None:
        collector = EventCollector()
        started_event_broker.subscribe(collector)
        events = [SchedulerStarted(), TaskRemoved(task_id="x"), task_added()]
        for event in events:
            await started_event_broker.publish(event)
        barrier = await self._barrier(started_event_broker, collector)
        assert collector.events == [*events, barrier]

    async def test_subscribe_unknown_name(self, started_event_broker: EventBroker) -> None:
        with pytest.raises(ValueError, match="JobExecutedd"):
            started_event_broker.subscribe(lambda event: None, {"JobExecutedd"})

    async def test_events_delivered_in_order(self, started_event_broker: EventBroker) -> None:
        collector = EventCollector()
        started_event_broker.subscribe(collector, {TaskAdded})
        events = [task_added() for _ in range(50)]
        for event in events:
            await started_event_broker.publish(event)
        await collector.wait_for_event(events[-1], self.delivery_timeout)
        assert collector.events == events

    async def test_one_shot(self, started_event_broker: EventBroker) -> None:
        once, always = EventCollector(), EventCollector()
        started_event_broker.subscribe(once, {TaskAdded}, one_shot=True)
        started_event_broker.subscribe(always, {TaskAdded})
        first, second = task_added(), task_added()
        await started_event_broker.publish(first)
        await started_event_broker.publish(second)
        await always.wait_for_event(second, self.delivery_timeout)
        await once.wait_for_event(first, self.delivery_timeout)
        await anyio.wait_all_tasks_blocked()
        assert once.events == [first]

    async def test_unsubscribe(self, started_event_broker: EventBroker) -> None:
        gone, staying = EventCollector(), EventCollector()
        subscription = started_event_broker.subscribe(gone, {TaskAdded})
        started_event_broker.subscribe(staying, {TaskAdded})
        subscription.unsubscribe()
        subscription.unsubscribe()  # idempotent
        event = task_added()
        await started_event_broker.publish(event)
        await staying.wait_for_event(event, self.delivery_timeout)
        await anyio.wait_all_tasks_blocked()
        assert gone.events == []

    async def test_subscription_context_manager(self, started_event_broker: EventBroker) -> None:
        collector, barrier_collector = EventCollector(), EventCollector()
        started_event_broker.subscribe(barrier_collector, {TaskAdded})
        with started_event_broker.subscribe(collector, {TaskAdded}):
            inside = task_added()
            await started_event_broker.publish(inside)
            await collector.wait_for_event(inside, self.delivery_timeout)
        outside = task_added()
        await started_event_broker.publish(outside)
        await barrier_collector.wait_for_event(outside, self.delivery_timeout)
        await anyio.wait_all_tasks_blocked()
        assert collector.events == [inside]

    async def test_async_callback_is_awaited(self, started_event_broker: EventBroker) -> None:
        done = EventCollector()

        async def callback(event: Event) -> None:
            await anyio.sleep(0)
            done(event)

        started_event_broker.subscribe(callback, {TaskAdded})
        event = task_added()
        await started_event_broker.publish(event)
        await done.wait_for_event(event, self.delivery_timeout)

    async def test_sync_callback_runs_in_worker_thread(
        self, started_event_broker: EventBroker
    ) -> None:
        collector = ThreadEventCollector()
        started_event_broker.subscribe(collector, {TaskAdded}, is_async=False)
        event = task_added()
        await started_event_broker.publish(event)
        await collector.wait_for_event(event, self.delivery_timeout)
        assert collector.events == [event]
        assert threading.get_ident() not in collector.threads

    async def test_failing_callback_keeps_its_subscription(
        self, started_event_broker: EventBroker
    ) -> None:
        received = EventCollector()

        def callback(event: Event) -> None:
            received(event)
            if len(received.events) == 1:
                raise RuntimeError("listener bug")

        started_event_broker.subscribe(callback, {TaskAdded})
        first, second = task_added(), task_added()
        await started_event_broker.publish(first)
        await started_event_broker.publish(second)
        await received.wait_for_event(second, self.delivery_timeout)
        assert received.events == [first, second]

    async def test_slow_async_listener_does_not_delay_others(
        self, started_event_broker: EventBroker
    ) -> None:
        release = anyio.Event()
        slow_done = EventCollector()
        fast = EventCollector()

        async def slow(event: Event) -> None:
            await release.wait()
            slow_done(event)

        started_event_broker.subscribe(slow, {TaskAdded})
        started_event_broker.subscribe(fast, {TaskAdded})
        first, second = task_added(), task_added()
        try:
            with anyio.fail_after(self.delivery_timeout):  # publish must not wait either
                await started_event_broker.publish(first)
                await started_event_broker.publish(second)
            await fast.wait_for_event(second, self.delivery_timeout)
            assert slow_done.events == []
        finally:
            release.set()
        await slow_done.wait_for_event(second, self.delivery_timeout)
        assert slow_done.events == [first, second]

    async def test_slow_sync_listener_does_not_delay_others(
        self, started_event_broker: EventBroker
    ) -> None:
        release = threading.Event()
        slow_done = ThreadEventCollector()
        fast = ThreadEventCollector()

        def slow(event: Event) -> None:
            release.wait(self.delivery_timeout * 2)
            slow_done(event)

        started_event_broker.subscribe(slow, {TaskAdded}, is_async=False)
        started_event_broker.subscribe(fast, {TaskAdded}, is_async=False)
        event = task_added()
        try:
            with anyio.fail_after(self.delivery_timeout):  # publish must not wait either
                await started_event_broker.publish(event)
            await fast.wait_for_event(event, self.delivery_timeout)
            assert slow_done.events == []
        finally:
            release.set()
        await slow_done.wait_for_event(event, self.delivery_timeout)

    async def test_publish_local(self, started_event_broker: EventBroker) -> None:
        collector = EventCollector()
        started_event_broker.subscribe(collector, {TaskAdded})
        event = task_added()
        await started_event_broker.publish_local(event)
        await collector.wait_for_event(event, self.delivery_timeout)

    #
    # Between two instances (second_event_broker)
    #

    async def test_publish_reaches_other_instance_once(
        self, started_event_broker: EventBroker, started_second_event_broker: EventBroker
    ) -> None:
        """An event published on one instance reaches the other's subscribers, and the
        publisher's own subscribers get it exactly once (no echo from the server)."""
        here, there = EventCollector(), EventCollector()
        started_event_broker.subscribe(here, {TaskAdded})
        started_second_event_broker.subscribe(there, {TaskAdded})
        first = task_added()
        await started_event_broker.publish(first)
        await there.wait_for_event(first, self.delivery_timeout)
        # A reply through the server arrives after any echo of the first event would have
        second = task_added()
        await started_second_event_broker.publish(second)
        await here.wait_for_event(second, self.delivery_timeout)
        await there.wait_for_event(second, self.delivery_timeout)
        assert here.events == [first, second]
        assert there.events == [first, second]

    async def test_event_fields_survive_transport(
        self, started_event_broker: EventBroker, started_second_event_broker: EventBroker
    ) -> None:
        there = EventCollector()
        started_second_event_broker.subscribe(there, {JobReleased})
        event = JobReleased(
            job_id=uuid4(),
            scheduler_id="node-1",
            task_id="pkg.mod:func",
            schedule_id="nightly",
            scheduled_start="2030-01-01T03:00:00+00:00",
            started_at="2030-01-01T03:00:01.250000+00:00",
            outcome=JobOutcome.error,
            exception_type="builtins.ValueError",
            exception_message="bad value: ünïcode ✓",
            exception_traceback=["Traceback (most recent call last):", "ValueError"],
        )
        await started_event_broker.publish(event)
        await there.wait_for(lambda events: bool(events), self.delivery_timeout)
        [received] = there.events
        assert received == event
        assert received.timestamp.tzinfo is not None
        assert received.timestamp.astimezone(timezone.utc) == event.timestamp

    async def test_publish_local_stays_local(
        self, started_event_broker: EventBroker, started_second_event_broker: EventBroker
    ) -> None:
        here, there = EventCollector(), EventCollector()
        started_event_broker.subscribe(here, {TaskAdded})
        started_second_event_broker.subscribe(there, {TaskAdded})
        local, shared = task_added(), task_added()
        await started_event_broker.publish_local(local)
        await started_event_broker.publish(shared)
        await there.wait_for_event(shared, self.delivery_timeout)
        assert there.events == [shared]
        await here.wait_for_event(shared, self.delivery_timeout)
        assert here.events == [local, shared]

    async def test_local_only_events_are_not_sent(
        self, started_event_broker: EventBroker, started_second_event_broker: EventBroker
    ) -> None:
        """Events marked ``local_only`` (``SchedulerStarted``...) never leave the process."""
        here, there = EventCollector(), EventCollector()
        started_event_broker.subscribe(here)
        started_second_event_broker.subscribe(there)
        started = SchedulerStarted()
        shared = task_added()
        await started_event_broker.publish(started)
        await started_event_broker.publish(shared)
        await there.wait_for_event(shared, self.delivery_timeout)
        assert there.events == [shared]
        await here.wait_for_event(shared, self.delivery_timeout)
        assert here.events == [started, shared]
