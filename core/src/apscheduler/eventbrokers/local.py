"""The in-process event broker (the default)."""

from __future__ import annotations

from .._events import Event
from .base import BaseEventBroker


class LocalEventBroker(BaseEventBroker):
    """Delivers events to subscribers in this process only.

    Use an external broker (Redis, MQTT, PostgreSQL NOTIFY) when several processes share a
    persistent data store, so that they wake each other up without waiting for polling.
    """

    async def publish(self, event: Event) -> None:
        self.deliver_local(event)

    def __repr__(self) -> str:
        return "LocalEventBroker()"
