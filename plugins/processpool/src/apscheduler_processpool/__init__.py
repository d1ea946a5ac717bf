"""apscheduler processpool plugin: :class:`ProcessPoolJobExecutor` runs jobs in worker
processes, isolated from the scheduler and from each other.

The classes are imported on first access, so discovering the plugin stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .executor import ProcessPoolJobExecutor, RemoteTraceback, WorkerCrashedError

__all__ = ["ProcessPoolJobExecutor", "RemoteTraceback", "WorkerCrashedError"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(".executor", __name__), name)
