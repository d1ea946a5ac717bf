"""MemoryDataStore against the data store conformance kit."""

from __future__ import annotations

import pytest
from apscheduler.datastores.memory import MemoryDataStore
from apscheduler.testing import DataStoreTests


class TestMemoryDataStore(DataStoreTests):
    # One backend per instance: concurrency is tested with schedulers sharing the instance
    supports_concurrent_stores = False
    serializes_data = False

    @pytest.fixture
    def datastore(self) -> MemoryDataStore:
        return MemoryDataStore()
