"""``PsycopgEventBroker``: events between processes over PostgreSQL LISTEN/NOTIFY, with
psycopg 3. One connection listens, a second one sends (a psycopg connection waiting for
notifications cannot run queries)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from apscheduler import RetrySettings
from apscheduler.abc import Serializer
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ._pgnotify import NOTIFY_SQL_PSYCOPG, PostgresNotifyBroker


class PsycopgEventBroker(PostgresNotifyBroker):
    """Shares events between processes through PostgreSQL ``LISTEN``/``NOTIFY``.

    :param conninfo: a libpq connection string or URI.
    :param options: keyword arguments for ``psycopg.AsyncConnection.connect()``
        (``autocommit`` is always on).
    :param channel: the notification channel (a PostgreSQL identifier).
    :param max_idle_time: seconds without traffic after which the connections are checked.
    :param serializer: serializer of the events (JSON by default).
    :param retry_settings: how long ``start()`` keeps trying to connect; after a lost
        connection the broker keeps reconnecting (with the same backoff) until stopped.
    """

    def __init__(
        self,
        conninfo: str,
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
        self.conninfo = conninfo
        self.options = {**(options or {}), "autocommit": True}
        self._listener: psycopg.AsyncConnection[Any] | None = None
        self._publisher: psycopg.AsyncConnection[Any] | None = None

    @classmethod
    def from_url(cls, url: str | URL, **kwargs: Any) -> PsycopgEventBroker:
        """Build from a ``postgresql+psycopg://`` (or plain ``postgresql://``) URL."""
        return cls(_libpq_uri(make_url(url)), **kwargs)

    @classmethod
    def from_async_sqla_engine(
        cls, engine: AsyncEngine, options: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> PsycopgEventBroker:
        """Connect to the database of a SQLAlchemy async engine that uses psycopg."""
        if engine.dialect.driver not in ("psycopg", "psycopg_async"):
            raise ValueError(
                f"The engine must use the psycopg driver, not {engine.dialect.driver!r}; "
                f"use AsyncpgEventBroker for asyncpg"
            )
        return cls(_libpq_uri(engine.url), options, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channel={self.channel!r})"

    async def _open(self) -> None:
        self._listener = await psycopg.AsyncConnection.connect(self.conninfo, **self.options)
        await self._listener.execute(f'LISTEN "{self.channel}"')
        self._publisher = await psycopg.AsyncConnection.connect(self.conninfo, **self.options)

    async def _close(self) -> None:
        for name in ("_listener", "_publisher"):
            conn = getattr(self, name)
            setattr(self, name, None)
            if conn is not None and not conn.closed:
                try:
                    await conn.close()
                except Exception:
                    pass

    async def _send(self, payloads: list[str]) -> None:
        assert self._publisher is not None
        await self._publisher.execute(NOTIFY_SQL_PSYCOPG, (self.channel, payloads))

    async def _keepalive(self) -> None:
        assert self._publisher is not None
        await self._publisher.execute("SELECT 1")

    async def _receive(self) -> None:
        listener = self._listener
        assert listener is not None
        while True:
            async for notify in listener.notifies(timeout=self.max_idle_time):
                self._on_payload(notify.payload)
            await listener.execute("SELECT 1")  # idle: check the connection is alive


def _libpq_uri(url: URL) -> str:
    """The libpq URI of a SQLAlchemy URL (driver and SQLAlchemy-only options removed)."""
    return url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
