"""The store's collections, and the thin layer that lets one code path run on pymongo
and on mongomock.

The store only uses pymongo's synchronous collection API, which mongomock imitates. Two
differences are bridged here:

* mongomock is not thread-safe, and the store calls it from worker threads: each call on
  a mongomock collection holds a lock shared by every store using that client. The lock
  is per call (like a real server, which applies each operation atomically but lets
  operations of different clients interleave), so the store's concurrency logic is still
  exercised. Cursors are read into lists under the lock.
* mongomock's ``bulk_write`` does not accept the operation objects of recent pymongo
  versions: :meth:`Backend.bulk_update` sends one ``bulk_write`` to a real server and
  plays the same updates one by one on mongomock.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000

_locks: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def is_mongomock(client: Any) -> bool:
    return type(client).__module__.split(".", 1)[0] == "mongomock"


def _lock_for(client: Any) -> threading.RLock:
    with _locks_guard:
        lock = _locks.get(client)
        if lock is None:
            lock = _locks[client] = threading.RLock()
        return lock


class _LockedCollection:
    """A mongomock collection whose every call holds the client's lock."""

    def __init__(self, collection: Any, lock: threading.RLock):
        self._collection = collection
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                result = attr(*args, **kwargs)
                if hasattr(result, "__next__") and not isinstance(result, dict):
                    result = list(result)  # a cursor: read it while holding the lock
                return result

        return call


#: (filter, update, upsert)
UpdateSpec = tuple[dict[str, Any], dict[str, Any], bool]


class Backend:
    """The store's collections in one database."""

    def __init__(self, client: Any, database: Any, prefix: str = ""):
        self.emulated = is_mongomock(client)
        lock = _lock_for(client) if self.emulated else None

        def collection(name: str) -> Any:
            coll = database[f"{prefix}{name}"]
            return _LockedCollection(coll, lock) if lock is not None else coll

        self.database = database
        self.prefix = prefix
        self.tasks = collection("tasks")
        self.schedules = collection("schedules")
        self.jobs = collection("jobs")
        self.job_results = collection("job_results")
        self.metadata = collection("metadata")

    @property
    def collection_names(self) -> list[str]:
        return [
            f"{self.prefix}{name}"
            for name in ("tasks", "schedules", "jobs", "job_results", "metadata")
        ]

    def bulk_update(self, collection: Any, updates: Sequence[UpdateSpec]) -> tuple[int, int]:
        """Apply independent single-document updates (unordered) in one round trip;
        return (matched, upserted). A duplicate key error of a racing upsert is ignored:
        the document it would have created exists."""
        if not updates:
            return 0, 0
        if self.emulated:
            matched = upserted = 0
            for filter_, update, upsert in updates:
                result = collection.update_one(filter_, update, upsert=upsert)
                matched += result.matched_count
                upserted += result.upserted_id is not None
            return matched, upserted

        operations = [UpdateOne(f, u, upsert=up) for f, u, up in updates]
        try:
            result = collection.bulk_write(operations, ordered=False)
        except BulkWriteError as exc:
            details = exc.details
            if any(error.get("code") != DUPLICATE_KEY for error in details["writeErrors"]):
                raise
            return details["nMatched"], details["nUpserted"]
        return result.matched_count, result.upserted_count
