"""A minimal third-party trigger: fires every two seconds from its start time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.abc import Trigger


class EveryOtherSecondTrigger(Trigger):
    def __init__(self, start_time: datetime | None = None):
        self.next_time = start_time or datetime.now(timezone.utc)

    def next(self) -> datetime | None:
        value = self.next_time
        self.next_time = value + timedelta(seconds=2)
        return value

    def __getstate__(self) -> Any:
        return {"version": 1, "next_time": self.next_time.isoformat()}

    def __setstate__(self, state: Any) -> None:
        self.next_time = datetime.fromisoformat(state["next_time"])
