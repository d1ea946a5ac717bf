"""The APScheduler 3 job store base class and the exceptions at their v3 import paths."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod

from .._exceptions import ConflictingIdError
from .._exceptions import JobLookupError as _CoreJobLookupError
from ..abc import DataStore

__all__ = ["BaseJobStore", "ConflictingIdError", "JobLookupError", "TransientJobError"]


class JobLookupError(_CoreJobLookupError, KeyError):
    """Raised when the job with the given ID was not found (APScheduler 3).

    It is also a :class:`apscheduler.JobLookupError` and, as in APScheduler 3, a
    ``KeyError``, so every existing ``except`` clause keeps catching it.
    """

    def __init__(self, job_id: str):
        super().__init__(job_id)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class TransientJobError(ValueError):
    """Kept for import compatibility with APScheduler 3 (never raised)."""


class BaseJobStore(metaclass=ABCMeta):
    """An APScheduler 3 job store: a description of the core data store to use.

    Subclasses build a :class:`~apscheduler.abc.DataStore` in :meth:`create_data_store`;
    the scheduler calls it once, when it starts, and reuses the store across restarts.
    Custom APScheduler 3 job stores (subclasses implementing ``get_due_jobs()``...) are
    not supported: implement a core data store instead and pass it in ``jobstores``.
    """

    _data_store: DataStore | None = None

    @abstractmethod
    def create_data_store(self) -> DataStore:
        """Return a new core data store for this job store."""

    @property
    def data_store(self) -> DataStore:
        """The core data store behind this job store (created on first access)."""
        if self._data_store is None:
            self._data_store = self.create_data_store()
        return self._data_store

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
