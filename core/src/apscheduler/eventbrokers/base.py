"""Base classes for event brokers.

:class:`BaseEventBroker` implements local delivery: each subscription owns a queue and a
delivery task (or a worker thread for synchronous callbacks), so one slow listener never
delays another, and events reach each listener in publication order.

:class:`BaseExternalEventBroker` adds what a broker that crosses process boundaries needs:
an event wire format built on a serializer, and echo suppression so that a process does
not receive its own events twice (they are delivered locally at once and dropped when
they come back from the server).
"""

from __future__ import annotations

import inspect
import logging
import math
import threading
from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from functools import partial
from logging import Logger
from queue import SimpleQueue
from typing import Any
from uuid import uuid4

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._events import EVENT_TYPES, Event, resolve_event_types
from .._exceptions import DeserializationError, SerializationError
from ..abc import EventBroker, Serializer, Subscription

_STOP = object()


@attrs.define(eq=False)
class LocalSubscription(Subscription):
    """A callback registered with a broker, with its own delivery queue."""

    callback: Callable[[Event], Any]
    event_types: frozenset[type[Event]] | None
    one_shot: bool
    is_async: bool
    broker: BaseEventBroker
    token: object = attrs.field(factory=object)
    #: Plain (non-coroutine) callbacks that run on the event loop are called inline at
    #: publication: queueing them through a task would cost a loop iteration each.
    inline: bool = False
    _send: MemoryObjectSendStream[Event] | None = None
    _thread_queue: SimpleQueue[Any] | None = None
    _active: bool = True

    def matches(self, event: Event) -> bool:
        return self._active and (self.event_types is None or type(event) in self.event_types)

    def unsubscribe(self) -> None:
        if self._active:
            self._active = False
            self.broker._remove_subscription(self)


class BaseEventBroker(EventBroker):
    """Local delivery shared by every broker."""

    def __init__(self) -> None:
        self._subscriptions: dict[object, LocalSubscription] = {}
        # event class -> matching subscriptions, rebuilt lazily when subscriptions change
        self._routes: dict[type[Event], tuple[LocalSubscription, ...]] = {}
        self._task_group: TaskGroup | None = None
        self._logger: Logger = logging.getLogger("apscheduler.eventbrokers")
        self._pending: list[LocalSubscription] = []

    async def start(self, exit_stack: AsyncExitStack, logger: Logger) -> None:
        self._logger = logger
        self._task_group = await exit_stack.enter_async_context(anyio.create_task_group())
        exit_stack.callback(self._close_all)
        for subscription in self._pending:
            self._start_delivery(subscription)
        self._pending.clear()

    def _close_all(self) -> None:
        for subscription in list(self._subscriptions.values()):
            self._stop_delivery(subscription)
        self._task_group = None

    def subscribe(
        self,
        callback: Callable[[Event], Any],
        event_types: Iterable[type[Event] | str] | type[Event] | str | None = None,
        *,
        is_async: bool = True,
        one_shot: bool = False,
    ) -> LocalSubscription:
        subscription = LocalSubscription(
            callback, resolve_event_types(event_types), one_shot, is_async, self
        )
        subscription.inline = is_async and not _is_coroutine_callable(callback)
        self._subscriptions[subscription.token] = subscription
        self._routes.clear()
        if self._task_group is not None:
            self._start_delivery(subscription)
        else:
            self._pending.append(subscription)
        return subscription

    def _remove_subscription(self, subscription: LocalSubscription) -> None:
        self._subscriptions.pop(subscription.token, None)
        self._routes.clear()
        if subscription in self._pending:
            self._pending.remove(subscription)
        self._stop_delivery(subscription)

    def _start_delivery(self, subscription: LocalSubscription) -> None:
        assert self._task_group is not None
        if subscription.inline:
            return
        if subscription.is_async:
            send, receive = anyio.create_memory_object_stream[Event](math.inf)
            subscription._send = send
            self._task_group.start_soon(self._deliver_async, subscription, receive)
        else:
            queue: SimpleQueue[Any] = SimpleQueue()
            subscription._thread_queue = queue
            thread = threading.Thread(
                target=self._deliver_in_thread,
                args=(subscription, queue),
                name=f"apscheduler-listener-{getattr(subscription.callback, '__name__', '?')}",
                daemon=True,
            )
            thread.start()

    def _stop_delivery(self, subscription: LocalSubscription) -> None:
        if subscription._send is not None:
            subscription._send.close()
            subscription._send = None
        if subscription._thread_queue is not None:
            subscription._thread_queue.put(_STOP)
            subscription._thread_queue = None

    async def _deliver_async(
        self, subscription: LocalSubscription, receive: MemoryObjectReceiveStream[Event]
    ) -> None:
        async with receive:
            async for event in receive:
                try:
                    result = subscription.callback(event)
                    if hasattr(result, "__await__"):
                        await result
                except Exception:
                    self._logger.exception(
                        "Error delivering %s event to %r", type(event).__name__,
                        subscription.callback,
                    )

    def _deliver_in_thread(self, subscription: LocalSubscription, queue: SimpleQueue[Any]) -> None:
        while True:
            event = queue.get()
            if event is _STOP:
                return
            try:
                subscription.callback(event)
            except Exception:
                self._logger.exception(
                    "Error delivering %s event to %r", type(event).__name__, subscription.callback
                )

    async def publish_local(self, event: Event) -> None:
        self.deliver_local(event)

    def _local_route(self, event_type: type[Event]) -> tuple[LocalSubscription, ...]:
        route = self._routes.get(event_type)
        if route is None:
            route = self._routes[event_type] = tuple(
                sub
                for sub in self._subscriptions.values()
                if sub.event_types is None or event_type in sub.event_types
            )
        return route

    def deliver_local(self, event: Event) -> None:
        """Queue ``event`` for every matching subscription (never blocks)."""
        route = self._routes.get(type(event))
        if route is None:
            route = self._local_route(type(event))
        for subscription in route:
            if not subscription._active:
                continue
            if subscription.one_shot:
                subscription._active = False
                self._subscriptions.pop(subscription.token, None)
                self._routes.clear()
            if subscription.inline:
                self._call_inline(subscription, event)
            elif subscription._send is not None:
                subscription._send.send_nowait(event)
            elif subscription._thread_queue is not None:
                subscription._thread_queue.put(event)
            else:  # not started yet: deliver synchronously rather than lose it
                try:
                    subscription.callback(event)
                except Exception:
                    self._logger.exception("Error delivering %s event", type(event).__name__)
            if subscription.one_shot:
                self._stop_delivery(subscription)

    def _call_inline(self, subscription: LocalSubscription, event: Event) -> None:
        try:
            result = subscription.callback(event)
        except Exception:
            self._logger.exception(
                "Error delivering %s event to %r", type(event).__name__, subscription.callback
            )
            return
        if result is not None and inspect.isawaitable(result):
            if self._task_group is not None:
                self._task_group.start_soon(self._await_result, result, event)
            elif hasattr(result, "close"):
                result.close()

    async def _await_result(self, awaitable: Any, event: Event) -> None:
        try:
            await awaitable
        except Exception:
            self._logger.exception("Error delivering %s event", type(event).__name__)


def _is_coroutine_callable(func: Any) -> bool:
    while isinstance(func, partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004
    return (
        call is not None and not inspect.isfunction(func) and inspect.iscoroutinefunction(call)
    )


class BaseExternalEventBroker(BaseEventBroker):
    """Base for brokers that carry events between processes.

    Wire format: ``b"<origin> <EventClassName> " + serializer.serialize(event.marshal())``.
    ``origin`` identifies the publishing broker instance; messages that come back with
    our own origin are dropped because they were already delivered locally.
    """

    def __init__(self, serializer: Serializer | None = None) -> None:
        super().__init__()
        if serializer is None:
            from ..serializers.json import JSONSerializer

            serializer = JSONSerializer()
        self.serializer = serializer
        self.origin = uuid4().hex

    def generate_notification(self, event: Event) -> bytes:
        try:
            payload = self.serializer.serialize(event.marshal())
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(f"Cannot serialize {type(event).__name__}: {exc}") from exc
        return f"{self.origin} {type(event).__name__} ".encode() + payload

    def reconstitute_event(self, payload: bytes) -> Event | None:
        """Rebuild an event from the wire; ``None`` for our own echoes and bad payloads
        (which are logged)."""
        try:
            origin, event_type, body = payload.split(b" ", 2)
        except ValueError:
            self._logger.error("Received malformed event notification: %r", payload[:200])
            return None
        if origin.decode(errors="replace") == self.origin:
            return None
        cls = EVENT_TYPES.get(event_type.decode(errors="replace"))
        if cls is None:
            self._logger.error("Received notification for unknown event type %r", event_type)
            return None
        try:
            return cls.unmarshal(self.serializer.deserialize(body))
        except (DeserializationError, TypeError, ValueError) as exc:
            self._logger.error("Cannot deserialize %s event: %s", cls.__name__, exc)
            return None

    async def publish(self, event: Event) -> None:
        """Deliver locally at once, then send to the other processes (unless local-only)."""
        self.deliver_local(event)
        if not event.local_only:
            await self.publish_external(self.generate_notification(event))

    async def publish_external(self, notification: bytes) -> None:
        """Send a notification to the other processes. Implementations must not raise on
        a lost connection: they retry, or log the loss (polling covers for it)."""
        raise NotImplementedError

    def on_notification(self, payload: bytes) -> None:
        """Call from the receive loop with each raw message."""
        event = self.reconstitute_event(payload)
        if event is not None:
            self.deliver_local(event)
