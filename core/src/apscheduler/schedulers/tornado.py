"""``TornadoScheduler`` (APScheduler 3): Tornado (5 and later) runs on asyncio, so this
is an :class:`~apscheduler.schedulers.asyncio.AsyncIOScheduler` on the IOLoop's asyncio
event loop."""

from __future__ import annotations

from typing import Any

from .._v3.config import maybe_ref
from .asyncio import AsyncIOScheduler

__all__ = ["TornadoScheduler"]


class TornadoScheduler(AsyncIOScheduler):
    """A scheduler that runs on Tornado's IOLoop (its asyncio event loop).

    Extra options:

    ``io_loop``: the Tornado ``IOLoop`` to use (default: the running event loop)
    """

    def _configure(self, config: dict[str, Any]) -> None:
        io_loop = maybe_ref(config.pop("io_loop", None))
        if io_loop is not None and "event_loop" not in config:
            config["event_loop"] = getattr(io_loop, "asyncio_loop", io_loop)
        super()._configure(config)
