"""A restricted unpickler for APScheduler 3 job states.

v3 job stores keep each job as ``pickle.dumps(job.__getstate__())``: a dict holding the
trigger object (a v3 class), datetimes, time zones and the job's arguments. Loading it
with plain :mod:`pickle` would need APScheduler 3 installed and would run whatever code
the data names. :class:`V3Unpickler` instead:

* maps every APScheduler 3 class to a :class:`StandIn` that only records the state the
  pickle gives it (no v3 code runs, and none is needed);
* maps pytz zones to ``zoneinfo`` zones without importing pytz;
* allows a short list of harmless standard types (datetimes, ``Decimal``, ``UUID``...);
* refuses every other global, naming it, unless ``trusted=True`` (then other globals
  load normally: only for data as trusted as your own code).
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo

#: The APScheduler 3 classes that job states refer to
V3_CLASSES = {
    "apscheduler.job": ("Job",),
    "apscheduler.triggers.date": ("DateTrigger",),
    "apscheduler.triggers.interval": ("IntervalTrigger",),
    "apscheduler.triggers.cron": ("CronTrigger",),
    "apscheduler.triggers.calendarinterval": ("CalendarIntervalTrigger",),
    "apscheduler.triggers.combining": ("AndTrigger", "OrTrigger"),
    "apscheduler.triggers.cron.fields": (
        "BaseField",
        "WeekField",
        "DayOfMonthField",
        "DayOfWeekField",
        "MonthField",
    ),
    "apscheduler.triggers.cron.expressions": (
        "AllExpression",
        "RangeExpression",
        "MonthRangeExpression",
        "WeekdayRangeExpression",
        "WeekdayPositionExpression",
        "LastDayOfMonthExpression",
    ),
}

#: Harmless globals a job state may contain (its datetimes and common argument types)
SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("datetime", "datetime"): datetime,
    ("datetime", "date"): date,
    ("datetime", "time"): time,
    ("datetime", "timedelta"): timedelta,
    ("datetime", "timezone"): timezone,
    ("zoneinfo", "ZoneInfo"): ZoneInfo,
    ("decimal", "Decimal"): Decimal,
    ("uuid", "UUID"): UUID,
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "complex"): complex,
    ("builtins", "object"): object,
    ("__builtin__", "set"): set,
    ("__builtin__", "frozenset"): frozenset,
    ("__builtin__", "object"): object,
}


class StandIn:
    """Records the pickled state of an APScheduler 3 object (see the module docstring)."""

    v3_class: ClassVar[str] = ""

    state: Any

    def __new__(cls, *args: Any, **kwargs: Any) -> StandIn:
        instance = super().__new__(cls)
        instance.state = None
        return instance

    def __setstate__(self, state: Any) -> None:
        # plain objects pickle their __dict__; objects with __slots__ and no
        # __getstate__ pickle (None, {slot: value})
        if isinstance(state, tuple) and len(state) == 2 and state[0] is None:
            state = state[1]
        self.state = state

    @property
    def short_name(self) -> str:
        return self.v3_class.rpartition(":")[2]

    def __repr__(self) -> str:
        return f"<v3 {self.v3_class} {self.state!r}>"


def _make_stand_in(module: str, name: str) -> type[StandIn]:
    return type(name, (StandIn,), {"v3_class": f"{module}:{name}", "__module__": __name__})


STAND_INS: dict[str, type[StandIn]] = {
    f"{module}:{name}": _make_stand_in(module, name)
    for module, names in V3_CLASSES.items()
    for name in names
}


def stand_in_for(ref: str) -> type[StandIn] | None:
    """The stand-in class of a v3 class reference (``"apscheduler.triggers.cron:CronTrigger"``)."""
    return STAND_INS.get(ref)


def _pytz_zone(zone: str | None = None, utcoffset: Any = None, *_: Any) -> Any:
    """What ``pytz._p(...)`` rebuilds, as a ``zoneinfo`` zone (or a fixed offset)."""
    if zone:
        return ZoneInfo(zone)
    if isinstance(utcoffset, (int, float)):
        return timezone(timedelta(seconds=utcoffset))
    if isinstance(utcoffset, timedelta):
        return timezone(utcoffset)
    return timezone.utc


def _pytz_utc(*_: Any) -> Any:
    return timezone.utc


def _pytz_fixed_offset(offset: Any, *_: Any) -> Any:
    return timezone(timedelta(minutes=offset))


def _restricted_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as used by pickles of ``ZoneInfo`` (``ZoneInfo._unpickle``) only."""
    if obj is ZoneInfo and name == "_unpickle":
        return ZoneInfo._unpickle  # type: ignore[attr-defined]
    raise pickle.UnpicklingError(f"The job state calls getattr({obj!r}, {name!r}); not allowed")


def _restricted_reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """``copyreg._reconstructor`` (protocol 0/1 pickles) for stand-ins only."""
    if isinstance(cls, type) and issubclass(cls, StandIn) and base is object:
        return cls()
    raise pickle.UnpicklingError(f"Cannot rebuild {cls!r} from the job state")


SPECIAL_GLOBALS: dict[tuple[str, str], Any] = {
    ("pytz", "_p"): _pytz_zone,
    ("pytz", "_UTC"): _pytz_utc,
    ("pytz", "utc"): timezone.utc,
    ("pytz", "UTC"): timezone.utc,
    ("pytz", "FixedOffset"): _pytz_fixed_offset,
    ("pytz.tzinfo", "_p"): _pytz_zone,
    ("builtins", "getattr"): _restricted_getattr,
    ("copyreg", "_reconstructor"): _restricted_reconstructor,
    ("copy_reg", "_reconstructor"): _restricted_reconstructor,
}


class V3Unpickler(pickle.Unpickler):
    """See the module docstring."""

    def __init__(self, file: Any, *, trusted: bool = False) -> None:
        super().__init__(file)
        self.trusted = trusted

    def find_class(self, module: str, name: str) -> Any:
        stand_in = STAND_INS.get(f"{module}:{name}")
        if stand_in is not None:
            return stand_in
        if module.startswith("apscheduler.") or module == "apscheduler":
            raise pickle.UnpicklingError(
                f"The job state refers to {module}.{name}, an APScheduler 3 class this "
                f"migration does not know"
            )
        special = SPECIAL_GLOBALS.get((module, name))
        if special is not None:
            return special
        safe = SAFE_GLOBALS.get((module, name))
        if safe is not None:
            return safe
        if self.trusted:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"The job state contains a {module}.{name} object, which is not loaded without "
            f"trusted=True (unpickling it could run code from the database)"
        )


def load_job_state(data: bytes, *, trusted: bool = False) -> Any:
    """Unpickle one v3 job state with :class:`V3Unpickler`."""
    return V3Unpickler(io.BytesIO(data), trusted=trusted).load()
