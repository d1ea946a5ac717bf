"""What the asyncpg and psycopg event brokers share: PostgreSQL ``LISTEN``/``NOTIFY``
with an outbox, batching, payload shrinking and reconnection.

* **Wire format**: the core's notification bytes (``origin EventName body``), base64
  encoded because NOTIFY payloads are text. Both brokers use it, so processes using
  either driver can share a channel.
* **Never failing after the commit**: :meth:`publish` delivers locally, then only queues
  the notification; a background sender sends queued notifications in batches (one
  ``SELECT pg_notify(...) FROM unnest(...)`` round trip for many). A notification over
  PostgreSQL's 8,000-byte limit is split when it carries a list of IDs (``LeaseLost``),
  else shrunk (traceback cut, long texts truncated) and, if still too big, dropped with
  an error log: never an exception to the publisher.
* **Reconnecting**: when the connection is lost (server restart, terminated backend,
  network), the broker reconnects with exponential backoff, ``LISTEN``\\s again and
  resends what was queued meanwhile. Notifications sent by others while it was away are
  lost; schedulers fall back to polling the store, so no work is lost.
* **Keep-alive**: a connection idle for ``max_idle_time`` seconds runs ``SELECT 1``, so a
  silently dropped connection is noticed.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import deque
from contextlib import AsyncExitStack
from logging import Logger
from typing import Any

import anyio
import attrs
import tenacity
from anyio.abc import TaskStatus
from apscheduler import Event, JobReleased, RetrySettings
from apscheduler.abc import Serializer
from apscheduler.eventbrokers.base import BaseExternalEventBroker

#: PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
MAX_PAYLOAD = 7999
#: Most notifications sent in one round trip.
BATCH_SIZE = 500
#: Notifications kept while disconnected; beyond that the oldest are dropped.
MAX_OUTBOX = 10_000

_CHANNEL_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_TRUNCATED = "…[truncated]"

NOTIFY_SQL_ASYNCPG = (
    "SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS t(payload, n) "
    "ORDER BY n"
)
NOTIFY_SQL_PSYCOPG = (
    "SELECT pg_notify(%s, payload) FROM unnest(%s::text[]) WITH ORDINALITY AS t(payload, n) "
    "ORDER BY n"
)


def _truncated(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit] + _TRUNCATED


def split_event(event: Event) -> list[Event] | None:
    """Split an event carrying a tuple of several IDs (``LeaseLost``) into two events
    with half of the IDs each; ``None`` if it has no such field."""
    for field in attrs.fields(type(event)):
        value = getattr(event, field.name)
        if isinstance(value, tuple) and len(value) > 1:
            half = len(value) // 2
            first: dict[str, Any] = {field.name: value[:half]}
            second: dict[str, Any] = {field.name: value[half:]}
            return [attrs.evolve(event, **first), attrs.evolve(event, **second)]
    return None


def shrink_event(event: Event, step: int) -> Event | None:
    """Return a smaller version of ``event`` for the given attempt (1, 2, 3), or ``None``
    when there is nothing left to try."""
    changes: dict[str, Any] = {}
    if isinstance(event, JobReleased) and event.exception_traceback:
        changes["exception_traceback"] = event.exception_traceback[-3:] if step == 1 else None
    if step >= 2:
        limit = 1000 if step == 2 else 100
        for field in attrs.fields(type(event)):
            value = getattr(event, field.name)
            if isinstance(value, str) and len(value) > limit:
                changes[field.name] = _truncated(value, limit)
    if step > 3 or (not changes and step > 1):
        return None
    return attrs.evolve(event, **changes) if changes else event


class PostgresNotifyBroker(BaseExternalEventBroker):
    """Base of the PostgreSQL ``LISTEN``/``NOTIFY`` brokers (see the module docstring).

    Subclasses implement :meth:`_open`, :meth:`_close`, :meth:`_send`,
    :meth:`_keepalive` and :meth:`_receive` for their driver.
    """

    def __init__(
        self,
        *,
        channel: str = "apscheduler",
        max_idle_time: float = 10,
        serializer: Serializer | None = None,
        retry_settings: RetrySettings | None = None,
    ) -> None:
        super().__init__(serializer)
        if not _CHANNEL_RE.match(channel):
            raise ValueError(
                f"channel must be a PostgreSQL identifier (letters, digits, underscores, "
                f"at most 63 characters), got {channel!r}"
            )
        if max_idle_time <= 0:
            raise ValueError("max_idle_time must be positive")
        self.channel = channel
        self.max_idle_time = max_idle_time
        self.retry_settings = retry_settings or RetrySettings()
        self._outbox: deque[str] = deque()
        self._outbox_ready: anyio.Event | None = None
        self._dropped = 0
        self._lost: anyio.Event | None = None

    # Publishing

    async def publish(self, event: Event) -> None:
        """Deliver locally, then queue for the other processes. Never raises."""
        self.deliver_local(event)
        if event.local_only:
            return
        for payload in self._encode(event):
            self._enqueue(payload)

    async def publish_external(self, notification: bytes) -> None:
        payload = base64.b64encode(notification).decode("ascii")
        if len(payload) > MAX_PAYLOAD:
            self._logger.error(
                "Dropping a %d-byte notification: over PostgreSQL's NOTIFY limit", len(payload)
            )
            return
        self._enqueue(payload)

    def _encode(self, event: Event) -> list[str]:
        """The payloads that carry ``event``: one, or several for an event whose ID list
        is too long for one notification, or none (logged) if it cannot fit."""
        payload = self._encode_one(event, quiet=True)
        if payload is not None:
            return [payload]
        parts = split_event(event)
        if parts is not None:
            return [payload for part in parts for payload in self._encode(part)]
        payload = self._encode_one(event, quiet=False)
        return [] if payload is None else [payload]

    def _encode_one(self, event: Event, quiet: bool) -> str | None:
        candidate: Event | None = event
        step = 0
        while candidate is not None:
            try:
                notification = self.generate_notification(candidate)
            except Exception as exc:
                self._logger.error(
                    "Cannot send %s to other processes: %s", type(event).__name__, exc
                )
                return None
            payload = base64.b64encode(notification).decode("ascii")
            if len(payload) <= MAX_PAYLOAD:
                if step:
                    self._logger.warning(
                        "%s was too large for a PostgreSQL notification; sent a shortened "
                        "copy (traceback/long texts cut) to other processes",
                        type(event).__name__,
                    )
                return payload
            if quiet:
                return None
            step += 1
            candidate = shrink_event(event, step)
        self._logger.error(
            "%s is too large for a PostgreSQL notification even when shortened; other "
            "processes will not receive it (they still see the stored data)",
            type(event).__name__,
        )
        return None

    def _enqueue(self, payload: str) -> None:
        if len(self._outbox) >= MAX_OUTBOX:
            self._outbox.popleft()
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                self._logger.warning(
                    "Event notification outbox full (disconnected?); dropped %d so far",
                    self._dropped,
                )
        self._outbox.append(payload)
        if self._outbox_ready is not None:
            self._outbox_ready.set()

    # Receiving

    def _on_payload(self, payload: str) -> None:
        """Handle one received NOTIFY payload (called in the event loop thread)."""
        try:
            notification = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            self._logger.error("Received a notification that is not base64: %r", payload[:100])
            return
        self.on_notification(notification)

    # Connection management

    async def start(self, exit_stack: AsyncExitStack, logger: Logger) -> None:
        await super().start(exit_stack, logger)
        task_group = await exit_stack.enter_async_context(anyio.create_task_group())
        exit_stack.callback(task_group.cancel_scope.cancel)
        await task_group.start(self._supervise)

    def _connection_lost(self, reason: object = None) -> None:
        """Signal that the current connection is gone (callable from driver callbacks)."""
        if self._lost is not None and not self._lost.is_set():
            self._logger.warning("Lost the PostgreSQL event broker connection: %s", reason)
            self._lost.set()

    async def _open_with_retry(self, first: bool) -> None:
        def log(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            self._logger.warning(
                "Cannot connect the event broker to PostgreSQL (attempt %d): %s",
                state.attempt_number, exc,
            )

        retrying = tenacity.AsyncRetrying(
            stop=self.retry_settings.stop if first else tenacity.stop_never,
            wait=self.retry_settings.wait,
            retry=tenacity.retry_if_exception_type(Exception),
            after=log,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                try:
                    await self._open()
                except BaseException:
                    with anyio.CancelScope(shield=True):
                        await self._close()
                    raise

    async def _supervise(self, *, task_status: TaskStatus[None]) -> None:
        first = True
        while True:
            self._lost = anyio.Event()
            await self._open_with_retry(first)
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._guard, self._send_loop)
                    tg.start_soon(self._guard, self._receive)
                    if first:
                        self._logger.debug("Listening on PostgreSQL channel %r", self.channel)
                        task_status.started()
                        first = False
                    else:
                        self._logger.info("Event broker reconnected to PostgreSQL")
                    await self._lost.wait()
                    tg.cancel_scope.cancel()
            finally:
                with anyio.CancelScope(shield=True):
                    await self._close()

    async def _guard(self, func: Any) -> None:
        try:
            await func()
        except Exception as exc:
            self._connection_lost(exc)

    async def _send_loop(self) -> None:
        while True:
            if not self._outbox:
                ready = self._outbox_ready = anyio.Event()
                with anyio.move_on_after(self.max_idle_time) as scope:
                    await ready.wait()
                if scope.cancelled_caught:
                    await self._keepalive()
                continue
            batch = [self._outbox[i] for i in range(min(BATCH_SIZE, len(self._outbox)))]
            await self._send(batch)
            for _ in batch:  # only forget what was sent; the rest survives a reconnect
                self._outbox.popleft()

    # Driver hooks

    async def _open(self) -> None:
        """Connect and ``LISTEN``; notifications go to :meth:`_on_payload`."""
        raise NotImplementedError

    async def _close(self) -> None:
        """Close the connection(s), ignoring errors; must be safe to call twice."""
        raise NotImplementedError

    async def _send(self, payloads: list[str]) -> None:
        """Send the payloads on the channel, in order, in one round trip."""
        raise NotImplementedError

    async def _keepalive(self) -> None:
        """Check the publishing connection (``SELECT 1``)."""
        raise NotImplementedError

    async def _receive(self) -> None:
        """Run while the listening connection is alive; return or raise when it is lost."""
        raise NotImplementedError
