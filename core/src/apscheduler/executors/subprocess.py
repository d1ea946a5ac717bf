"""The process pool job executor, provided by the ``apscheduler-processpool`` plugin.

This module only re-exports
:class:`apscheduler_processpool.executor.ProcessPoolJobExecutor`, importing it on first
access; if the plugin is not installed, the access raises an ``ImportError`` that gives
the command to install it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler_processpool.executor import ProcessPoolJobExecutor

__all__ = ["ProcessPoolJobExecutor"]

_INSTALL_HINT = 'pip install "apscheduler[processpool]"'


def __getattr__(name: str) -> Any:
    if name != "ProcessPoolJobExecutor":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = import_module("apscheduler_processpool.executor")
    except ImportError as exc:
        raise ImportError(
            f"ProcessPoolJobExecutor needs the apscheduler-processpool plugin ({exc}). "
            f"Install it with: {_INSTALL_HINT}"
        ) from exc
    return module.ProcessPoolJobExecutor
