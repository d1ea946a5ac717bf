"""Creating redis-py asyncio clients from URLs, with settings suited to a long-running
scheduler (bounded connect timeouts, TCP keep-alive)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

#: Options applied to clients created from a URL unless the caller overrides them.
DEFAULT_CLIENT_OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": 5,
    "socket_keepalive": True,
}


def client_from_url(url: str, options: dict[str, Any] | None = None) -> Redis:
    """Return an asyncio client for ``url`` (``redis://``, ``rediss://``, ``unix://``)."""
    return Redis.from_url(url, **{**DEFAULT_CLIENT_OPTIONS, **(options or {})})


def describe_client(client: Redis) -> str:
    """Return ``host:port/db`` (or the socket path) of a client, without credentials."""
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
