"""Base classes for data stores."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from logging import Logger
from typing import Any, TypeVar

import attrs
import tenacity

from .._events import Event
from ..abc import DataStore, EventBroker, Serializer

T = TypeVar("T")


@attrs.define(kw_only=True, frozen=True)
class RetrySettings:
    """How a store retries operations that fail with a transient (connection) error.

    ``stop`` and ``wait`` are tenacity strategies: by default keep trying for 60 seconds,
    waiting exponentially from 0.5 s up to 20 s between attempts.
    """

    stop: Any = attrs.field(factory=lambda: tenacity.stop_after_delay(60))
    wait: Any = attrs.field(factory=lambda: tenacity.wait_exponential(min=0.5, max=20))


class BaseDataStore(DataStore):
    """Keeps the event broker and logger given at start."""

    _event_broker: EventBroker | None = None
    _logger: Logger = logging.getLogger("apscheduler.datastores")

    async def start(
        self, exit_stack: AsyncExitStack, event_broker: EventBroker, logger: Logger
    ) -> None:
        self._event_broker = event_broker
        self._logger = logger

    async def _publish(self, event: Event) -> None:
        if self._event_broker is not None:
            await self._event_broker.publish(event)


class BaseExternalDataStore(BaseDataStore):
    """Base for stores that persist outside the process.

    * ``serializer`` turns arguments, triggers and results into bytes; JSON by default,
      because unpickling data from a shared database runs arbitrary code.
    * ``retry_settings`` control retries of transient failures; subclasses list what
      counts as transient in :attr:`_temporary_failure_exceptions`.
    """

    _temporary_failure_exceptions: tuple[type[BaseException], ...] = (ConnectionError,)

    def __init__(
        self,
        *,
        serializer: Serializer | str | None = None,
        retry_settings: RetrySettings | None = None,
    ) -> None:
        from .._registry import get_registry
        from ..abc import Serializer as SerializerABC

        self.serializer: Serializer = get_registry().create(
            "serializer", serializer if serializer is not None else "json", SerializerABC
        )
        self.retry_settings = retry_settings or RetrySettings()

    def _retry(self) -> tenacity.AsyncRetrying:
        """Return a tenacity retrier for one store operation."""

        def log_attempt(state: tenacity.RetryCallState) -> None:
            outcome = state.outcome
            exc = outcome.exception() if outcome is not None else None
            self._logger.warning(
                "Temporary data store error (attempt %d): %s; retrying",
                state.attempt_number,
                exc,
            )

        return tenacity.AsyncRetrying(
            stop=self.retry_settings.stop,
            wait=self.retry_settings.wait,
            retry=tenacity.retry_if_exception_type(self._temporary_failure_exceptions),
            after=log_attempt,
            reraise=True,
        )

    async def _with_retry(self, func: Callable[[], Any]) -> Any:
        """Run ``await func()`` with retries on transient failures."""
        async for attempt in self._retry():
            with attempt:
                return await func()
