"""Triggers that combine the fire times of other triggers.

Child triggers are stored in the state by their **registered name** and their own state
(``{"trigger": "cron", "state": {...}}``), never by import path, so restoring a state
can only ever instantiate trigger classes that a plugin registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from .._converters import as_timezone
from .._exceptions import DeserializationError, MaxIterationsReached, SerializationError
from ..abc import Trigger
from ._base import (
    BaseTrigger,
    datetime_from_state,
    datetime_to_state,
    to_utc,
)

__all__ = ["AndTrigger", "BaseCombiningTrigger", "OrTrigger"]


def _collect_triggers(args: tuple[Any, ...], owner: str) -> list[Trigger]:
    """Accept ``Combiner(t1, t2)`` as well as ``Combiner([t1, t2])``."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        items = list(args[0])
    else:
        items = list(args)
    for item in items:
        if not isinstance(item, Trigger):
            raise TypeError(
                f"{owner} takes triggers (or one list of triggers), got {type(item).__name__}"
            )
    if not items:
        raise ValueError(f"{owner} needs at least one trigger")
    return items


def marshal_trigger(trigger: Trigger) -> dict[str, Any]:
    """``{"trigger": <registered name>, "state": <state>}`` for a child trigger.

    :raises SerializationError: if the trigger's class is not registered
    """
    from .._registry import get_registry

    try:
        name = get_registry().name_of("trigger", type(trigger))
    except LookupError:
        raise SerializationError(
            f"Cannot serialize the trigger class {type(trigger).__qualname__} inside a "
            f"combining trigger: it is not registered as a trigger by any plugin"
        ) from None
    return {"trigger": name, "state": trigger.__getstate__()}


def unmarshal_trigger(data: Any) -> Trigger:
    """Rebuild a child trigger from :func:`marshal_trigger` output.

    :raises DeserializationError: if the data is malformed or names no registered trigger
    """
    from .._registry import get_registry

    if not isinstance(data, dict) or not isinstance(data.get("trigger"), str):
        raise DeserializationError(f"Invalid child trigger in a combining trigger: {data!r}")
    name = data["trigger"]
    try:
        cls = get_registry().resolve("trigger", name)
    except LookupError as exc:
        raise DeserializationError(f"Unknown trigger {name!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Trigger)):
        raise DeserializationError(f"The registered trigger {name!r} is not a Trigger class")
    trigger = cls.__new__(cls)
    try:
        trigger.__setstate__(data.get("state"))
    except DeserializationError:
        raise
    except Exception as exc:  # a third-party trigger's own validation error
        raise DeserializationError(f"Invalid state for the trigger {name!r}: {exc!r}") from exc
    return trigger


def _rebuild(cls: type[BaseCombiningTrigger], attributes: dict[str, Any]) -> Any:
    """Unpickling helper (see :meth:`BaseCombiningTrigger.__reduce__`)."""
    trigger = cls.__new__(cls)
    trigger.__dict__.update(attributes)
    return trigger


class BaseCombiningTrigger(BaseTrigger):
    """Common part of :class:`AndTrigger` and :class:`OrTrigger`.

    ``_next_fire_times`` caches each child's upcoming fire time; it is empty until the
    first call of :meth:`next`.
    """

    triggers: list[Trigger]
    _next_fire_times: list[datetime | None]

    def _init_triggers(self, args: tuple[Any, ...]) -> None:
        self.triggers = _collect_triggers(args, type(self).__name__)
        self._next_fire_times = []

    def _fill(self) -> list[datetime | None]:
        if not self._next_fire_times:
            self._next_fire_times = [trigger.next() for trigger in self.triggers]
        return self._next_fire_times

    def _child_get_next(
        self, index: int, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """Call the APScheduler 3 style method of the child at ``index``."""
        trigger = self.triggers[index]
        method = getattr(trigger, "get_next_fire_time", None)
        if method is None:
            raise TypeError(f"{type(trigger).__name__} has no get_next_fire_time() method")
        result: datetime | None = method(previous_fire_time, now)
        return result

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "triggers": [marshal_trigger(trigger) for trigger in self.triggers],
            "next_fire_times": [datetime_to_state(value) for value in self._next_fire_times],
        }

    def __setstate__(self, state: Any) -> None:
        state = self._check_state(state, ("triggers",))
        children = state["triggers"]
        if not isinstance(children, list) or not children:
            raise DeserializationError(
                f"Invalid state for a {type(self).__name__}: 'triggers' must be a non-empty list"
            )
        self.triggers = [unmarshal_trigger(child) for child in children]
        try:
            times = state.get("next_fire_times") or []
            if not isinstance(times, list) or (times and len(times) != len(self.triggers)):
                raise ValueError("'next_fire_times' must have one entry per trigger")
            self._next_fire_times = [
                self._restore_time(index, value) for index, value in enumerate(times)
            ]
        except (TypeError, ValueError) as exc:
            raise self._state_error(exc) from exc

    def _restore_time(self, index: int, value: Any) -> datetime | None:
        restored = datetime_from_state(value, None)
        if restored is None:
            return None
        # Show the time in the child's zone when it has one
        zone = getattr(self.triggers[index], "timezone", None)
        if zone is not None:
            try:
                return restored.astimezone(as_timezone(zone))
            except (TypeError, ValueError):
                pass
        return restored

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle (opt-in, trusted) stores the children as objects, so unregistered
        # child triggers survive it too; JSON-style states go through the registry.
        return _rebuild, (type(self), dict(self.__dict__))

    def _repr_fields(self) -> list[tuple[str, Any]]:
        return []

    def __repr__(self) -> str:
        extra = "".join(f", {key}={value!r}" for key, value in self._repr_fields())
        return f"{type(self).__name__}({self.triggers!r}{extra})"


class AndTrigger(BaseCombiningTrigger):
    """Fires when all the child triggers fire within ``threshold`` of each other.

    Returns the earliest of the children's fire times each time they all agree, then
    advances every child. Children whose next time is too early to ever agree with the
    latest one are advanced until they catch up. Finishes as soon as any child finishes.

    :param triggers: the child triggers, as separate arguments or as one list
    :param threshold: how far apart (seconds or ``timedelta``) the children's fire times
        may be and still count as the same moment
    :param max_iterations: how many rounds of advancing children to try per call before
        giving up with :class:`~apscheduler.MaxIterationsReached`
    """

    threshold: timedelta
    max_iterations: int

    def __init__(
        self,
        *triggers: Trigger | Iterable[Trigger],
        threshold: float | timedelta = 1,
        max_iterations: int = 10000,
    ):
        self._init_triggers(triggers)
        self._set_options(threshold, max_iterations)

    def _set_options(self, threshold: Any, max_iterations: Any) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, timedelta)):
            raise TypeError(
                f"threshold must be a number of seconds or a timedelta, not "
                f"{type(threshold).__name__}"
            )
        if not isinstance(threshold, timedelta):
            threshold = timedelta(seconds=threshold)
        if threshold < timedelta(0):
            raise ValueError("threshold cannot be negative")
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int):
            raise TypeError("max_iterations must be an integer")
        if max_iterations < 1:
            raise ValueError("max_iterations must be at least 1")
        self.threshold = threshold
        self.max_iterations = max_iterations

    def _agree(
        self,
        times: list[datetime | None],
        advance: Callable[[int, datetime], datetime | None],
    ) -> datetime | None:
        """Run the agreement loop; ``advance(index, time)`` returns a child's next time."""
        threshold = self.threshold
        for _ in range(self.max_iterations):
            if any(value is None for value in times):
                return None
            utc_times = [to_utc(value) for value in times]  # type: ignore[arg-type]
            earliest, latest = min(utc_times), max(utc_times)
            if latest - earliest <= threshold:
                result = times[utc_times.index(earliest)]
                for index, value in enumerate(times):
                    times[index] = advance(index, value)  # type: ignore[arg-type]
                return result
            # A child whose time is more than ``threshold`` before the latest one can
            # never agree with it: move it on.
            for index, utc in enumerate(utc_times):
                if latest - utc > threshold:
                    times[index] = advance(index, times[index])  # type: ignore[arg-type]
        raise MaxIterationsReached(
            f"AndTrigger found no common fire time within {self.max_iterations} iterations"
        )

    def next(self) -> datetime | None:
        times = self._fill()
        return self._agree(times, lambda index, _value: self.triggers[index].next())

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """APScheduler 3 style, stateless: the next time all children agree after
        ``previous_fire_time`` (or at or after ``now`` if it is ``None``)."""
        times = [
            self._child_get_next(index, previous_fire_time, now)
            for index in range(len(self.triggers))
        ]
        return self._agree(times, lambda index, value: self._child_get_next(index, value, now))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["threshold"] = self.threshold.total_seconds()
        state["max_iterations"] = self.max_iterations
        return state

    def __setstate__(self, state: Any) -> None:
        super().__setstate__(state)
        try:
            self._set_options(state.get("threshold", 1), state.get("max_iterations", 10000))
        except (TypeError, ValueError) as exc:
            raise self._state_error(exc) from exc

    def _repr_fields(self) -> list[tuple[str, Any]]:
        return [
            ("threshold", self.threshold.total_seconds()),
            ("max_iterations", self.max_iterations),
        ]


class OrTrigger(BaseCombiningTrigger):
    """Fires whenever any of the child triggers fires.

    Returns the earliest of the children's next fire times; children that produce the
    same instant fire only once. Finishes when every child has finished.

    :param triggers: the child triggers, as separate arguments or as one list
    """

    def __init__(self, *triggers: Trigger | Iterable[Trigger]):
        self._init_triggers(triggers)

    def next(self) -> datetime | None:
        times = self._fill()
        pending = [
            (to_utc(value), index) for index, value in enumerate(times) if value is not None
        ]
        if not pending:
            return None
        earliest = min(pending)[0]
        result: datetime | None = None
        for utc, index in pending:
            if utc == earliest:
                if result is None:
                    result = times[index]
                times[index] = self.triggers[index].next()
        return result

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """APScheduler 3 style, stateless: the earliest of the children's next fire
        times after ``previous_fire_time`` (or at or after ``now`` if it is ``None``)."""
        times = [
            self._child_get_next(index, previous_fire_time, now)
            for index in range(len(self.triggers))
        ]
        pending = [value for value in times if value is not None]
        return min(pending, key=to_utc) if pending else None
