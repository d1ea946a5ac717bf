"""RedisDataStore against the data store conformance kit, on the real Redis server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest
from apscheduler.abc import DataStore
from apscheduler.testing import DataStoreTests
from apscheduler_redis import RedisDataStore

pytestmark = pytest.mark.service("redis")


class TestRedisDataStoreConformance(DataStoreTests):
    supports_concurrent_stores = True
    serializes_data = True

    @pytest.fixture
    async def datastore(self, redis_url: str, redis_prefix: str) -> AsyncIterator[DataStore]:
        yield RedisDataStore(redis_url, prefix=redis_prefix)

    @pytest.fixture
    async def second_datastore(
        self, redis_url: str, redis_prefix: str
    ) -> AsyncIterator[DataStore]:
        yield RedisDataStore.from_url(redis_url, prefix=redis_prefix)

    async def corrupt_schedule(self, store: DataStore, schedule_id: str) -> None:
        assert isinstance(store, RedisDataStore)
        await store.client.hset(f"{store.prefix}:sched_trigger", schedule_id, b"\x00garbage")

    async def corrupt_job(self, store: DataStore, job_id: UUID) -> None:
        assert isinstance(store, RedisDataStore)
        await store.client.hset(f"{store.prefix}:job", str(job_id), b"{not json")
