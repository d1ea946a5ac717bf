"""RedisEventBroker against the event broker conformance kit, on the real Redis server."""

from __future__ import annotations

import pytest
from apscheduler.abc import EventBroker
from apscheduler.testing import EventBrokerTests
from apscheduler_redis import RedisEventBroker

pytestmark = pytest.mark.service("redis")


class TestRedisEventBrokerConformance(EventBrokerTests):
    @pytest.fixture
    def event_broker(self, redis_url: str, redis_prefix: str) -> EventBroker:
        return RedisEventBroker(redis_url, channel=redis_prefix)

    @pytest.fixture
    def second_event_broker(self, redis_url: str, redis_prefix: str) -> EventBroker:
        return RedisEventBroker.from_url(redis_url, channel=redis_prefix)
