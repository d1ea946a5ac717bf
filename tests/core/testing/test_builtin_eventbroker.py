"""The local event broker against the event broker conformance kit."""

from __future__ import annotations

import pytest
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.testing import EventBrokerTests


class TestLocalEventBroker(EventBrokerTests):
    # In-process only: there is no second instance to deliver to, so the cross-broker
    # tests are skipped (no `second_event_broker` fixture).

    @pytest.fixture
    def event_broker(self) -> LocalEventBroker:
        return LocalEventBroker()
