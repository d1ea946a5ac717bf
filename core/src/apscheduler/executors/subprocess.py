"""The process pool job executor, provided by the ``apscheduler-processpool`` plugin.

This module only re-exports
:class:`apscheduler_processpool.executor.ProcessPoolJobExecutor`, importing it on first
access; if the plugin is not installed, the access raises an ``ImportError`` that gives
the command to install it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._plugin_exports import lazy_plugin_exports

if TYPE_CHECKING:
    from apscheduler_processpool.executor import ProcessPoolJobExecutor

__all__ = ["ProcessPoolJobExecutor"]

__getattr__ = lazy_plugin_exports(
    __name__,
    {"ProcessPoolJobExecutor": "apscheduler_processpool.executor:ProcessPoolJobExecutor"},
    "processpool",
)
