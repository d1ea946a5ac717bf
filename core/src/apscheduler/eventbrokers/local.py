"""The in-process event broker (the default)."""

from __future__ import annotations

from .._converters import check_bare_url
from .._events import Event
from .base import BaseEventBroker


class LocalEventBroker(BaseEventBroker):
    """Delivers events to subscribers in this process only.

    Use an external broker (Redis, MQTT, PostgreSQL NOTIFY) when several processes share a
    persistent data store, so that they wake each other up without waiting for polling.
    """

    @classmethod
    def from_url(cls, url: str) -> LocalEventBroker:
        """Create the broker from ``"local://"`` (the scheme it claims; there is nothing
        else to configure)."""
        check_bare_url(url, "local", cls.__name__)
        return cls()

    async def publish(self, event: Event) -> None:
        self.deliver_local(event)

    def has_subscribers(self, event_type: type[Event]) -> bool:
        if type(self).publish is not LocalEventBroker.publish:
            return True  # a subclass may send events elsewhere too
        route = self._routes.get(event_type)
        if route is None:
            route = self._local_route(event_type)
        return bool(route)

    def __repr__(self) -> str:
        return "LocalEventBroker()"
