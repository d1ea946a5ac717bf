"""The data store conformance kit, run against MongoDBDataStore."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from apscheduler.abc import DataStore
from apscheduler.testing import DataStoreTests
from apscheduler_mongodb import MongoDBDataStore


class TestMongoDBDataStore(DataStoreTests):
    supports_concurrent_stores = True
    serializes_data = True

    @pytest.fixture
    def datastore(self, mongodb_client: Any, database_name: str) -> DataStore:
        return MongoDBDataStore(mongodb_client, database=database_name)

    @pytest.fixture
    def second_datastore(self, mongodb_client: Any, database_name: str) -> DataStore:
        return MongoDBDataStore(mongodb_client, database=database_name)

    async def corrupt_schedule(self, store: DataStore, schedule_id: str) -> None:
        assert isinstance(store, MongoDBDataStore)
        store.client[store.database].schedules.update_one(
            {"_id": schedule_id}, {"$set": {"trigger": '{"broken": '}}
        )

    async def corrupt_job(self, store: DataStore, job_id: UUID) -> None:
        assert isinstance(store, MongoDBDataStore)
        store.client[store.database].jobs.update_one(
            {"_id": str(job_id)}, {"$set": {"args": "[1, "}}
        )
