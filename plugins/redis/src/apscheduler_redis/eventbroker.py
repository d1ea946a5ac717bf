"""An event broker that shares events between processes through Redis pub/sub.

Delivery is at most once (Redis pub/sub keeps nothing for absent subscribers): events
published while a process is disconnected do not reach it. The scheduler polls its data
store periodically as well, so a lost event only delays work, it never stalls it.

Outages: both the receiving side and the sending side reconnect on their own with
exponential backoff, in background tasks, so the event loop is never blocked and
:meth:`RedisEventBroker.publish` never raises because Redis is away. Notifications that
cannot be sent are kept in a bounded outbox (``max_queued_events``, oldest dropped first,
with a warning) and sent in order once Redis is back.
"""

from __future__ import annotations

import random
from collections import deque
from contextlib import AsyncExitStack
from logging import Logger
from typing import Any

import anyio
from anyio.abc import TaskGroup
from apscheduler.abc import Serializer
from apscheduler.eventbrokers.base import BaseExternalEventBroker
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from ._client import client_from_url, describe_client


class RedisEventBroker(BaseExternalEventBroker):
    """Shares events with the other schedulers and workers through Redis pub/sub.

    :param client_or_url: a ``redis.asyncio.Redis`` client, or a URL
        (``redis://[:password@]host[:port][/db]``, ``rediss://`` for TLS,
        ``unix:///path/to/socket``). A client created from a URL is closed when the broker
        stops; a client passed in is left open.
    :param channel: the pub/sub channel; processes share events only on the same channel
    :param serializer: serializes the events on the wire (JSON by default)
    :param max_queued_events: how many notifications are kept while Redis is unreachable
        (oldest dropped first)
    :param reconnect_delay: first wait before reconnecting, in seconds; doubled after each
        failed attempt up to ``max_reconnect_delay``
    :param max_reconnect_delay: longest wait between two reconnection attempts, in seconds
    :param keepalive_interval: when no message arrived for this many seconds, the
        subscriber pings Redis, so a dead connection is noticed
    :param client_options: extra keyword arguments for ``Redis.from_url`` (URL only)
    """

    def __init__(
        self,
        client_or_url: Redis | str = "redis://localhost:6379",
        *,
        channel: str = "apscheduler",
        serializer: Serializer | None = None,
        max_queued_events: int = 1000,
        reconnect_delay: float = 0.25,
        max_reconnect_delay: float = 10.0,
        keepalive_interval: float = 10.0,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(serializer)
        if not channel:
            raise ValueError("channel must be a non-empty string")
        if max_queued_events < 0:
            raise ValueError("max_queued_events must be >= 0")
        if reconnect_delay <= 0 or max_reconnect_delay < reconnect_delay:
            raise ValueError("need 0 < reconnect_delay <= max_reconnect_delay")
        if isinstance(client_or_url, str):
            self._client = client_from_url(client_or_url, client_options)
            self._owns_client = True
        elif isinstance(client_or_url, Redis):
            if client_options:
                raise TypeError("client_options can only be given with a URL")
            self._client = client_or_url
            self._owns_client = False
        else:
            raise TypeError(
                f"Expected a redis.asyncio.Redis client or a URL, got {type(client_or_url)!r}"
            )
        self.channel = channel
        self.max_queued_events = max_queued_events
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.keepalive_interval = keepalive_interval
        self._outbox: deque[bytes] = deque()
        self._outbox_ready = anyio.Event()
        self._outbox_drained = anyio.Event()
        self._dropped = 0
        self._send_failing = False
        self._tasks: TaskGroup | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisEventBroker:
        """Create a broker from a Redis URL; ``options`` are the constructor's keyword
        arguments (``channel=``, ``serializer=``...)."""
        return cls(url, **options)

    @property
    def client(self) -> Redis:
        """The redis-py client the broker uses."""
        return self._client

    def __repr__(self) -> str:
        where = describe_client(self._client)
        return f"{type(self).__name__}({where!r}, channel={self.channel!r})"

    # Lifecycle

    async def start(self, exit_stack: AsyncExitStack, logger: Logger) -> None:
        """Subscribe to the channel (raising if Redis cannot be reached now), then run
        the receiver and the sender in the background until ``exit_stack`` closes."""
        self._logger = logger
        # Subscribe before entering any task group, so that a failure surfaces as the
        # plain connection error rather than wrapped in an exception group
        if self._owns_client:
            exit_stack.push_async_callback(self._client.aclose)
        pubsub = await self._subscribe()
        exit_stack.push_async_callback(_close_quietly, pubsub)
        await super().start(exit_stack, logger)
        self._tasks = await exit_stack.enter_async_context(anyio.create_task_group())
        exit_stack.push_async_callback(self._stop_background)
        self._tasks.start_soon(self._receive_loop, pubsub)
        self._tasks.start_soon(self._send_loop)

    async def _stop_background(self) -> None:
        # Give queued notifications a short chance to go out, then stop both loops.
        if self._outbox and not self._send_failing:
            with anyio.move_on_after(2):
                await self._outbox_drained.wait()
        if self._tasks is not None:
            self._tasks.cancel_scope.cancel()
            self._tasks = None

    # Receiving

    async def _subscribe(self) -> PubSub:
        """Open a pub/sub connection and wait until the server confirms the subscription,
        so that everything published afterwards reaches this broker."""
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            with anyio.fail_after(10):
                while True:
                    message = await pubsub.get_message(timeout=1)
                    if message is not None and message["type"] == "subscribe":
                        return pubsub
                    if message is not None and message["type"] == "message":
                        self.on_notification(message["data"])
        except BaseException:
            with anyio.CancelScope(shield=True):
                await _close_quietly(pubsub)
            raise

    async def _receive_loop(self, pubsub: PubSub) -> None:
        while True:
            try:
                await self._receive(pubsub)
            except (RedisError, OSError, TimeoutError) as exc:
                self._logger.warning(
                    "Lost the Redis pub/sub connection (%s); reconnecting. Events published "
                    "meanwhile by other processes are not received (polling covers them)",
                    exc or type(exc).__name__,
                )
            except Exception:
                self._logger.exception("Unexpected error in the Redis event receiver")
            finally:
                with anyio.CancelScope(shield=True):
                    await _close_quietly(pubsub)
            pubsub = await self._resubscribe()

    async def _receive(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=self.keepalive_interval
            )
            if message is None:
                await pubsub.ping()
            elif message["type"] == "message":
                self.on_notification(message["data"])

    async def _resubscribe(self) -> PubSub:
        delay = self.reconnect_delay
        attempts = 0
        while True:
            await anyio.sleep(delay * random.uniform(0.8, 1.2))
            attempts += 1
            try:
                pubsub = await self._subscribe()
            except (RedisError, OSError, TimeoutError) as exc:
                self._logger.debug(
                    "Redis pub/sub reconnection attempt %d failed: %s", attempts, exc
                )
                delay = min(delay * 2, self.max_reconnect_delay)
                continue
            self._logger.info(
                "Reconnected to Redis pub/sub on %s after %d attempt(s)",
                describe_client(self._client),
                attempts,
            )
            return pubsub

    # Sending

    async def publish_external(self, notification: bytes) -> None:
        """Queue a notification for the sender task; never blocks and never raises."""
        if self.max_queued_events == 0 and self._send_failing:
            self._note_dropped(1)
            return
        self._outbox.append(notification)
        if self.max_queued_events and len(self._outbox) > self.max_queued_events:
            self._outbox.popleft()
            self._note_dropped(1)
        if self._outbox_drained.is_set():
            self._outbox_drained = anyio.Event()
        self._outbox_ready.set()

    def _note_dropped(self, count: int) -> None:
        if self._dropped == 0:
            self._logger.warning(
                "Redis is unreachable and the event outbox is full (%d); dropping the oldest "
                "events (the schedulers' polling picks up the work they announced)",
                self.max_queued_events,
            )
        self._dropped += count

    async def _send_loop(self) -> None:
        delay = self.reconnect_delay
        while True:
            if not self._outbox:
                self._outbox_drained.set()
                await self._outbox_ready.wait()
                self._outbox_ready = anyio.Event()
                continue
            notification = self._outbox[0]
            try:
                await self._client.publish(self.channel, notification)
            except (RedisError, OSError, TimeoutError) as exc:
                if not self._send_failing:
                    self._send_failing = True
                    self._logger.warning(
                        "Cannot publish events to Redis (%s); keeping up to %d of them and "
                        "retrying with backoff",
                        exc or type(exc).__name__,
                        self.max_queued_events,
                    )
                await anyio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.max_reconnect_delay)
                continue
            except Exception:
                # Not a connection problem (should not happen): drop this one, keep going.
                self._logger.exception("Cannot publish an event to Redis; dropping it")
            if self._outbox and self._outbox[0] is notification:
                self._outbox.popleft()
            if self._send_failing:
                self._send_failing = False
                delay = self.reconnect_delay
                self._logger.info(
                    "Publishing events to Redis again%s",
                    f" ({self._dropped} dropped during the outage)" if self._dropped else "",
                )
                self._dropped = 0


async def _close_quietly(pubsub: PubSub) -> None:
    try:
        await pubsub.aclose()
    except Exception:
        pass
