"""``AsyncpgEventBroker``: events between processes over PostgreSQL LISTEN/NOTIFY, with
asyncpg. One connection both listens and sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from apscheduler import RetrySettings
from apscheduler.abc import Serializer
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ._pgnotify import NOTIFY_SQL_ASYNCPG, PostgresNotifyBroker


class AsyncpgEventBroker(PostgresNotifyBroker):
    """Shares events between processes through PostgreSQL ``LISTEN``/``NOTIFY``.

    :param dsn: a libpq connection URI (``postgresql://user:password@host/db``).
    :param options: keyword arguments for ``asyncpg.connect()``.
    :param channel: the notification channel (a PostgreSQL identifier).
    :param max_idle_time: seconds without traffic after which the connection is checked.
    :param serializer: serializer of the events (JSON by default).
    :param retry_settings: how long ``start()`` keeps trying to connect; after a lost
        connection the broker keeps reconnecting (with the same backoff) until stopped.
    """

    def __init__(
        self,
        dsn: str,
        options: Mapping[str, Any] | None = None,
        *,
        channel: str = "apscheduler",
        max_idle_time: float = 10,
        serializer: Serializer | None = None,
        retry_settings: RetrySettings | None = None,
    ) -> None:
        super().__init__(
            channel=channel,
            max_idle_time=max_idle_time,
            serializer=serializer,
            retry_settings=retry_settings,
        )
        self.dsn = dsn
        self.options = dict(options or {})
        self._conn: asyncpg.Connection | None = None

    @classmethod
    def from_url(cls, url: str | URL, **kwargs: Any) -> AsyncpgEventBroker:
        """Build from ``postgresql://`` or ``postgresql+asyncpg://`` URL."""
        return cls(_libpq_uri(make_url(url)), **kwargs)

    @classmethod
    def from_async_sqla_engine(
        cls, engine: AsyncEngine, options: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> AsyncpgEventBroker:
        """Connect to the database of a SQLAlchemy async engine that uses asyncpg."""
        if engine.dialect.driver != "asyncpg":
            raise ValueError(
                f"The engine must use the asyncpg driver, not {engine.dialect.driver!r}; "
                f"use PsycopgEventBroker for psycopg"
            )
        return cls(_libpq_uri(engine.url), options, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channel={self.channel!r})"

    async def _open(self) -> None:
        conn = await asyncpg.connect(self.dsn, **self.options)
        self._conn = conn
        conn.add_termination_listener(self._on_terminated)
        await conn.add_listener(self.channel, self._on_asyncpg_notification)

    def _on_terminated(self, conn: Any) -> None:
        self._connection_lost("connection closed")

    def _on_asyncpg_notification(self, conn: Any, pid: int, channel: str, payload: Any) -> None:
        self._on_payload(str(payload))

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.remove_termination_listener(self._on_terminated)  # closing on purpose
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=2)
            except Exception:
                conn.terminate()

    async def _send(self, payloads: list[str]) -> None:
        assert self._conn is not None
        await self._conn.execute(NOTIFY_SQL_ASYNCPG, self.channel, payloads)

    async def _keepalive(self) -> None:
        assert self._conn is not None
        await self._conn.execute("SELECT 1")

    async def _receive(self) -> None:
        # asyncpg reads the socket itself and calls the listener on the event loop; a
        # lost connection is reported by the termination listener.
        assert self._lost is not None
        await self._lost.wait()


def _libpq_uri(url: URL) -> str:
    """The libpq URI of a SQLAlchemy URL (driver and SQLAlchemy-only options removed)."""
    return url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
