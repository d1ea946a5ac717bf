"""Every supported value comes back from every serializer as the same Python value, with
the same types (a tuple stays a tuple, an aware datetime keeps its zone)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from apscheduler import DeserializationError
from apscheduler.abc import Serializer
from apscheduler.serializers import CBORSerializer, JSONSerializer
from apscheduler.serializers._tagging import TAG, json_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ALL, SAFE, create
from .helpers import Color, Mode, Permission, Priority, identical

HELSINKI = ZoneInfo("Europe/Helsinki")
NEW_YORK = ZoneInfo("America/New_York")

VALUES = {
    "none": None,
    "true": True,
    "int": 42,
    "big int": 2**100,
    "negative int": -7,
    "float": 1.5,
    "negative zero": -0.0,
    "infinity": float("inf"),
    "str": "hello",
    "unicode": "päivää ☃ 日本",
    "empty tuple": (),
    "empty dict": {},
    "empty list": [],
    "args": (1, "two", 3.0, None),
    "kwargs": {"user_id": 42, "name": "report", "flags": [1, 2], "opts": {"a": True}},
    "list": [1, [2, [3]], {"a": "b"}],
    "nested tuples": ((1, 2), [(3,)], {"t": (4, (5,))}),
    "int keys": {1: "one", 2: "two"},
    "mixed keys": {1: "a", "1": "b", False: "c", None: "d", (1, 2): "e", 2.5: "f"},
    "frozenset key": {frozenset({1, 2}): "x"},
    "reserved key": {TAG: "tuple", "items": [1, 2]},
    "reserved key nested": [{"x": {TAG: "trigger", "name": "cron", "state": {}}}],
    "aware datetime (zone)": datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=HELSINKI),
    "aware datetime (utc)": datetime(2024, 5, 17, 9, 30, tzinfo=timezone.utc),
    "aware datetime (offset)": datetime(2024, 5, 17, 9, 30, tzinfo=timezone(timedelta(hours=-3))),
    "naive datetime": datetime(2024, 5, 17, 9, 30),
    "ambiguous datetime, fold 1": datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK, fold=1),
    "imaginary datetime": datetime(2024, 3, 10, 2, 30, tzinfo=NEW_YORK),
    "date": date(2024, 2, 29),
    "time": time(23, 59, 59, 999999),
    "time with offset": time(8, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    "time with zone": time(8, 0, tzinfo=HELSINKI),
    "timedelta": timedelta(days=-3, seconds=7, microseconds=11),
    "huge timedelta": timedelta(days=999999999, seconds=86399, microseconds=999999),
    "uuid": UUID("12345678-1234-5678-1234-567812345678"),
    "bytes": b"\x00\xffbinary",
    "bytearray": bytearray(b"\x01\x02"),
    "decimal": Decimal("1.10"),
    "decimal exponent": Decimal("-1.5E+30"),
    "set": {1, 2, 3},
    "mixed set": {1, "a", (2, 3)},
    "frozenset": frozenset({"a", "b"}),
    "enum": Color.RED,
    "enum with str value": Color.GREEN,
    "int enum": Priority.HIGH,
    "str mixin enum": Mode.SAFE,
    "flag": Permission.READ,
    "combined flags": Permission.READ | Permission.WRITE,
    "everything nested": {
        "when": [datetime(2030, 1, 1, tzinfo=HELSINKI), date(2030, 1, 2)],
        "ids": (UUID(int=1), UUID(int=2)),
        "meta": {Color.RED: {b"k": Decimal("0.1")}},
    },
}


@pytest.mark.parametrize("value", list(VALUES.values()), ids=list(VALUES))
def test_round_trip(serializer: Serializer, value: object) -> None:
    data = serializer.serialize(value)
    assert isinstance(data, bytes)
    assert identical(serializer.deserialize(data), value)


def test_nan_round_trip(serializer: Serializer) -> None:
    restored = serializer.deserialize(serializer.serialize([float("nan"), Decimal("NaN")]))
    assert identical(restored, [float("nan"), Decimal("NaN")])


def test_tuples_and_lists_stay_distinct(serializer: Serializer) -> None:
    value = ([1, (2, [3])], (4,), [])
    restored = serializer.deserialize(serializer.serialize(value))
    assert type(restored) is tuple
    assert type(restored[0]) is list
    assert type(restored[0][1]) is tuple
    assert type(restored[0][1][1]) is list
    assert type(restored[1]) is tuple
    assert type(restored[2]) is list


def test_aware_datetime_keeps_its_zone(serializer: Serializer) -> None:
    value = datetime(2024, 7, 1, 12, 0, tzinfo=HELSINKI)
    restored = serializer.deserialize(serializer.serialize(value))
    assert restored.tzinfo is HELSINKI  # ZoneInfo instances are cached per key
    assert restored.utcoffset() == timedelta(hours=3)
    assert restored == value


def test_fold_distinguishes_repeated_wall_time(serializer: Serializer) -> None:
    first = datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK, fold=0)
    second = first.replace(fold=1)
    restored = serializer.deserialize(serializer.serialize([first, second]))
    assert [d.fold for d in restored] == [0, 1]
    assert restored[1].timestamp() - restored[0].timestamp() == 3600


def test_pytz_datetime_comes_back_in_the_same_zone_as_zoneinfo() -> None:
    pytz = pytest.importorskip("pytz")
    eastern = pytz.timezone("America/New_York")
    # the second 01:30 of the night when DST ends
    value = eastern.localize(datetime(2024, 11, 3, 1, 30), is_dst=False)
    for serializer in (JSONSerializer(), CBORSerializer()):
        restored = serializer.deserialize(serializer.serialize(value))
        assert restored.tzinfo is NEW_YORK
        assert restored.fold == 1
        # (PEP 495: datetimes in a fold never compare equal across zone types)
        assert restored.timestamp() == value.timestamp()
        assert restored.utcoffset() == value.utcoffset() == timedelta(hours=-5)


def test_json_output_is_compact_utf8() -> None:
    data = JSONSerializer().serialize({"greeting": "päivää", "n": [1, 2]})
    assert data == '{"greeting":"päivää","n":[1,2]}'.encode()


def test_json_output_is_plain_json_readable_by_other_tools() -> None:
    value = {"when": datetime(2024, 1, 1, tzinfo=HELSINKI), "args": (1, 2)}
    document = json.loads(JSONSerializer().serialize(value))
    assert document == {
        "when": {TAG: "datetime", "value": "2024-01-01T00:00:00+02:00", "tz": "Europe/Helsinki"},
        "args": {TAG: "tuple", "items": [1, 2]},
    }


@pytest.mark.parametrize(
    "value",
    [(), {}, (1, "a"), {"a": [1, {"b": None}]}, [1.5, True], "text", 3],
    ids=repr,
)
def test_json_fast_path_matches_full_conversion(value: object) -> None:
    """Plain values skip the tree walk; the bytes must be what the walk would give."""
    expected = json.dumps(json_tree.unstructure(value), ensure_ascii=False, separators=(",", ":"))
    assert JSONSerializer().serialize(value) == expected.encode()


def test_json_dump_and_load_options_are_passed_through() -> None:
    serializer = JSONSerializer(
        dump_options={"indent": 2, "sort_keys": True},
        load_options={"parse_float": Decimal},
    )
    data = serializer.serialize({"b": 1.5, "a": (1,)})
    assert data.startswith(b'{\n  "a"')
    assert serializer.deserialize(data) == {"a": (1,), "b": Decimal("1.5")}


@pytest.mark.parametrize("option", ["object_hook", "object_pairs_hook"])
def test_json_load_options_cannot_replace_the_tag_hook(option: str) -> None:
    with pytest.raises(ValueError, match=option):
        JSONSerializer(load_options={option: dict})


def test_cbor_options_cannot_replace_the_hooks() -> None:
    with pytest.raises(ValueError, match="default"):
        CBORSerializer(dump_options={"default": print})
    with pytest.raises(ValueError, match="tag_hook"):
        CBORSerializer(load_options={"tag_hook": print})


def test_cbor_keeps_bytes_native() -> None:
    cbor2 = pytest.importorskip("cbor2")
    data = CBORSerializer().serialize({"blob": b"\x00\x01"})
    assert cbor2.loads(data) == {"blob": b"\x00\x01"}


@pytest.mark.parametrize("name", ALL)
def test_deserialize_accepts_any_bytes_like(name: str) -> None:
    serializer = create(name)
    data = serializer.serialize({"a": (1, 2)})
    assert serializer.deserialize(bytearray(data)) == {"a": (1, 2)}
    assert serializer.deserialize(memoryview(data)) == {"a": (1, 2)}


def test_registry_creates_serializers_with_options() -> None:
    from apscheduler._registry import get_registry

    serializer = get_registry().create(
        "serializer", {"type": "json", "dump_options": {"sort_keys": True}}, Serializer
    )
    assert isinstance(serializer, JSONSerializer)
    assert serializer.serialize({"b": 1, "a": 2}) == b'{"a":2,"b":1}'


# Property test: arbitrary nesting of every supported type

_zones = st.sampled_from(
    ["UTC", "Europe/Helsinki", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
).map(ZoneInfo)
_offsets = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
).map(timezone)
_tzinfos = st.one_of(st.none(), _zones, _offsets, st.just(timezone.utc))
_datetimes = st.builds(
    lambda dt, fold: dt.replace(fold=fold),
    st.datetimes(timezones=_tzinfos),
    st.integers(0, 1),
)
_times = st.builds(
    lambda t, fold: t.replace(fold=fold), st.times(timezones=_tzinfos), st.integers(0, 1)
)
_enums = st.sampled_from(
    [*Color, *Priority, *Mode, *Permission, Permission.READ | Permission.EXECUTE]
)
_hashable_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.just(TAG),
    st.binary(max_size=16),
    _datetimes,
    st.dates(),
    _times,
    st.timedeltas(),
    st.uuids(),
    st.decimals(allow_nan=False),
    _enums,
)
_hashables = st.recursive(
    _hashable_scalars,
    lambda inner: st.one_of(st.tuples(inner, inner), st.frozensets(inner, max_size=3)),
    max_leaves=4,
)
_values = st.recursive(
    st.one_of(_hashable_scalars, st.binary(max_size=8).map(bytearray), st.decimals()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=8), st.just(TAG)), inner, max_size=4),
        st.dictionaries(_hashables, inner, max_size=3),
        st.sets(_hashables, max_size=3),
        st.frozensets(_hashables, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_values)
@pytest.mark.parametrize("name", ALL)
def test_property_round_trip(name: str, value: object) -> None:
    serializer = create(name)
    assert identical(serializer.deserialize(serializer.serialize(value)), value)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=64))
@pytest.mark.parametrize("name", SAFE)
def test_property_garbage_raises_deserialization_error(name: str, data: bytes) -> None:
    serializer = create(name)
    try:
        serializer.deserialize(data)
    except DeserializationError:
        pass
