"""The memory store's cheap copies stay isolated: triggers are cloned (sharing only
immutable values), empty ``kwargs``/``metadata`` share one read-only dict, and events
nobody listens to are not built."""

from __future__ import annotations

import copy
import pickle
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler import ConflictPolicy, Schedule
from apscheduler._structures import EMPTY_DICT, new_uuid4, plain_dict
from apscheduler.datastores.memory import MemoryDataStore
from apscheduler.serializers.json import JSONSerializer
from apscheduler.testing.datastore import DataStoreHarness, started_datastore
from apscheduler.triggers._base import clone_trigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

pytestmark = pytest.mark.anyio

START = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
async def harness() -> AsyncIterator[DataStoreHarness]:
    async with started_datastore(MemoryDataStore()) as harness:
        yield harness


def _schedule(trigger: object, **kwargs: object) -> Schedule:
    return Schedule(
        id="s",
        task_id="task",
        trigger=trigger,  # type: ignore[arg-type]
        job_executor="async",
        next_fire_time=START,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "trigger",
    [
        DateTrigger(START),
        IntervalTrigger(seconds=10, start_time=START),
        CronTrigger(minute="*/5", start_time=START, timezone="UTC"),
    ],
    ids=["date", "interval", "cron"],
)
def test_clone_trigger_is_independent(trigger: object) -> None:
    clone = clone_trigger(trigger)  # type: ignore[arg-type]
    assert type(clone) is type(trigger)
    assert clone.__getstate__() == trigger.__getstate__()  # type: ignore[attr-defined]
    expected = [clone.next() for _ in range(3)]
    # Advancing the clone left the original where it was
    assert [trigger.next() for _ in range(3)] == expected  # type: ignore[attr-defined]


async def test_trigger_mutated_by_caller_after_add(harness: DataStoreHarness) -> None:
    trigger = IntervalTrigger(seconds=10, start_time=START)
    trigger.next()
    await harness.store.add_schedule(_schedule(trigger), ConflictPolicy.exception)
    trigger.next()
    trigger.next()
    [stored] = await harness.store.get_schedules({"s"})
    assert stored.trigger is not trigger
    assert stored.trigger.next() == START + timedelta(seconds=10)


async def test_trigger_of_returned_schedule_mutated(harness: DataStoreHarness) -> None:
    trigger = IntervalTrigger(seconds=10, start_time=START)
    trigger.next()
    await harness.store.add_schedule(_schedule(trigger), ConflictPolicy.exception)
    [returned] = await harness.store.get_schedules({"s"})
    returned.trigger.next()
    returned.trigger.next()
    [again] = await harness.store.get_schedules({"s"})
    assert again.trigger.next() == START + timedelta(seconds=10)


async def test_empty_mappings_are_shared_and_read_only(harness: DataStoreHarness) -> None:
    await harness.store.add_schedule(_schedule(DateTrigger(START)), ConflictPolicy.exception)
    [stored] = await harness.store.get_schedules({"s"})
    assert stored.kwargs == {} and stored.metadata == {}
    assert stored.kwargs is EMPTY_DICT
    with pytest.raises(TypeError):
        stored.kwargs["x"] = 1
    with pytest.raises(TypeError):
        stored.metadata.update(x=1)
    # Assigning a new dict works as before
    stored.kwargs = {"x": 1}
    assert stored.kwargs == {"x": 1}


def test_empty_dict_copies_and_serializes_as_plain_dict() -> None:
    for clone in (
        copy.copy(EMPTY_DICT),
        copy.deepcopy(EMPTY_DICT),
        pickle.loads(pickle.dumps(EMPTY_DICT)),
    ):
        assert type(clone) is dict and clone == {}
        clone["x"] = 1  # an ordinary, independent dict
    assert EMPTY_DICT == {}
    serializer = JSONSerializer()
    assert serializer.serialize(plain_dict(EMPTY_DICT)) == serializer.serialize({})
    schedule = _schedule(DateTrigger(START))
    object.__setattr__(schedule, "kwargs", EMPTY_DICT)
    object.__setattr__(schedule, "metadata", EMPTY_DICT)
    plain = _schedule(DateTrigger(START))
    assert schedule.marshal(serializer) == plain.marshal(serializer)


def test_new_uuid4_is_version_4_and_unique() -> None:
    ids = {new_uuid4() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(value.version == 4 and value.variant == "specified in RFC 4122" for value in ids)
