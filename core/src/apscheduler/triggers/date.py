"""A trigger that fires once, at a given point in time."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from .._converters import as_timezone
from ._base import (
    BaseTrigger,
    datetime_from_state,
    datetime_to_state,
    pick_alias,
    to_datetime,
    without_pytz,
    zone_from_state,
    zone_to_state,
)


class DateTrigger(BaseTrigger):
    """Fires exactly once, at ``run_time``.

    :param run_time: when to fire: an aware or naive ``datetime``, a ``date`` (midnight)
        or an ISO 8601 string. Naive values are taken to be in ``timezone``.
    :param run_date: the APScheduler 3 name of ``run_time`` (give one or the other)
    :param timezone: the zone of naive ``run_time`` values (a ``tzinfo`` or zone name;
        default: the host's local zone). Aware values keep their own zone.
    :raises ValueError: if a naive ``run_time`` does not exist in ``timezone`` (it falls
        in a daylight saving time gap) or a string is not ISO 8601
    """

    __slots__ = ("run_time", "_completed")

    run_time: datetime
    _completed: bool

    def __init__(
        self,
        run_time: datetime | date | str | None = None,
        *,
        run_date: datetime | date | str | None = None,
        timezone: tzinfo | str | None = None,
    ):
        value = pick_alias("run_time", run_time, "run_date", run_date)
        if value is None:
            raise TypeError("DateTrigger needs a run_time")
        if type(value) is datetime and value.tzinfo is not None and value.utcoffset() is not None:
            if timezone is not None:
                as_timezone(timezone)  # still reject an invalid zone
            self.run_time = without_pytz(value)  # aware: no need to look up the local zone
        else:
            self.run_time = to_datetime(value, as_timezone(timezone), "run_time")
        self._completed = False

    @property
    def run_date(self) -> datetime:
        """APScheduler 3 name of :attr:`run_time`."""
        return self.run_time

    def next(self) -> datetime | None:
        if self._completed:
            return None
        self._completed = True
        return self.run_time

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """APScheduler 3 style, stateless: the run time if it has not fired yet.

        Like APScheduler 3, the run time is returned even if it lies before ``now``, so
        that the caller can apply its misfire grace time.
        """
        return self.run_time if previous_fire_time is None else None

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "run_time": datetime_to_state(self.run_time),
            "timezone": zone_to_state(self.run_time.tzinfo),  # type: ignore[arg-type]
            "completed": self._completed,
        }

    def __setstate__(self, state: Any) -> None:
        state = self._check_state(state, ("run_time", "completed"))
        try:
            zone = zone_from_state(state.get("timezone"))
            run_time = datetime_from_state(state["run_time"], zone)
            if run_time is None:
                raise ValueError("run_time is missing")
            self.run_time = run_time
            self._completed = bool(state["completed"])
        except (TypeError, ValueError) as exc:
            raise self._state_error(exc) from exc

    def _repr_fields(self) -> list[tuple[str, Any]]:
        return [("run_time", self.run_time), ("completed", self._completed or None)]
