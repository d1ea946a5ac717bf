"""``MemoryJobStore``: APScheduler 3's in-memory job store, backed by the core's
:class:`~apscheduler.datastores.memory.MemoryDataStore`."""

from __future__ import annotations

from ..abc import DataStore
from .base import BaseJobStore

__all__ = ["MemoryJobStore"]


class MemoryJobStore(BaseJobStore):
    """Keeps jobs in this process's memory (lost when the process ends)."""

    def create_data_store(self) -> DataStore:
        from ..datastores.memory import MemoryDataStore

        return MemoryDataStore()
