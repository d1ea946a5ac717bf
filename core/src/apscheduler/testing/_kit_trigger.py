"""A small trigger owned by the conformance kit.

The data store tests need schedules whose fire times are known exactly and whose state
is trivial to compare. :class:`FixedTimesTrigger` fires at a fixed list of times; it is
registered under :data:`KIT_TRIGGER_NAME` so that stores with serializers store it by
name, exactly as they store a third-party trigger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._converters import as_aware_datetime
from ..abc import Trigger
from ..hookspecs import Register, hookimpl

#: The registered trigger name of :class:`FixedTimesTrigger`.
KIT_TRIGGER_NAME = "conformance-fixed"
_PLUGIN_NAME = "apscheduler-testing"


class FixedTimesTrigger(Trigger):
    """Fires at the given aware datetimes, in order, then never again.

    :param times: strictly increasing aware datetimes (or ISO 8601 strings)
    """

    __slots__ = ("times", "index")

    def __init__(self, *times: datetime | str) -> None:
        self.times = [as_aware_datetime(value, "UTC") for value in times]
        if any(later <= earlier for earlier, later in zip(self.times, self.times[1:])):
            raise ValueError("FixedTimesTrigger needs strictly increasing times")
        self.index = 0

    def next(self) -> datetime | None:
        if self.index >= len(self.times):
            return None
        value = self.times[self.index]
        self.index += 1
        return value

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "times": [value.isoformat() for value in self.times],
            "index": self.index,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("version") != 1:
            raise ValueError(f"Unsupported FixedTimesTrigger state version: {state!r}")
        self.times = [datetime.fromisoformat(value) for value in state["times"]]
        self.index = state["index"]

    def __repr__(self) -> str:
        return f"FixedTimesTrigger({len(self.times)} times, index={self.index})"


class _KitPlugin:
    """Registers the kit's trigger through the public hook, like any plugin."""

    @hookimpl
    def register_triggers(self, register: Register) -> None:
        register(KIT_TRIGGER_NAME, FixedTimesTrigger, description="Conformance kit trigger")


def ensure_kit_trigger_registered() -> None:
    """Register :class:`FixedTimesTrigger` in the process-wide registry (idempotent; also
    after a test replaced the registry)."""
    from .._registry import get_registry

    registry = get_registry()
    if KIT_TRIGGER_NAME not in registry.names("trigger"):
        registry.register_plugin(_KitPlugin(), name=_PLUGIN_NAME)
