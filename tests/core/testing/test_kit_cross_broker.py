"""The cross-instance event broker tests of the kit, run against an in-process
"external" broker: instances joined to one hub exchange notifications as a server would
(every member receives every notification, including its own, in order)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from logging import Logger, getLogger

import pytest
from apscheduler import Event
from apscheduler.eventbrokers.base import BaseExternalEventBroker
from apscheduler.testing import EventBrokerTests


class Hub:
    def __init__(self) -> None:
        self.members: list[HubBroker] = []


class HubBroker(BaseExternalEventBroker):
    def __init__(self, hub: Hub) -> None:
        super().__init__()
        self.hub = hub

    async def start(self, exit_stack: AsyncExitStack, logger: Logger) -> None:
        await super().start(exit_stack, logger)
        self.hub.members.append(self)
        exit_stack.callback(self.hub.members.remove, self)

    async def publish_external(self, notification: bytes) -> None:
        for member in list(self.hub.members):
            member.on_notification(notification)


# Module-level fixtures on purpose: the kit finds them as well as class-level ones.


@pytest.fixture
def hub() -> Hub:
    return Hub()


@pytest.fixture
def event_broker(hub: Hub) -> HubBroker:
    return HubBroker(hub)


@pytest.fixture
def second_event_broker(hub: Hub) -> HubBroker:
    return HubBroker(hub)


class TestHubBroker(EventBrokerTests):
    pass


class EchoingHubBroker(HubBroker):
    """Forgets to drop its own echoes: its subscribers get its events twice."""

    def reconstitute_event(self, payload: bytes) -> Event | None:
        _, rest = payload.split(b" ", 1)
        return super().reconstitute_event(b"someone-else " + rest)


@pytest.mark.anyio
async def test_kit_catches_echo() -> None:
    hub = Hub()
    async with AsyncExitStack() as stack:
        first, second = EchoingHubBroker(hub), EchoingHubBroker(hub)
        await first.start(stack, getLogger(__name__))
        await second.start(stack, getLogger(__name__))
        with pytest.raises(AssertionError):
            await TestHubBroker().test_publish_reaches_other_instance_once(first, second)
