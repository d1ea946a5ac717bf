"""A value a serializer cannot keep is refused with a message that names its type, where
it is inside the arguments, the serializer, and what to do instead."""

from __future__ import annotations

import socket
import sys
import threading
from datetime import datetime, timedelta, tzinfo
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from apscheduler import DeserializationError, SerializationError
from apscheduler.abc import Serializer
from apscheduler.serializers import JSONSerializer, PickleSerializer, serialize_arguments
from apscheduler_sample_plugin.trigger import EveryOtherSecondTrigger

from .conftest import ALL, create


class _NamelessZone(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=1)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)


class _Text(str):
    pass


def test_socket_in_kwargs_names_type_path_serializer_and_fix(
    safe_serializer: Serializer,
) -> None:
    with socket.socket() as conn:
        with pytest.raises(SerializationError) as exc_info:
            serialize_arguments(safe_serializer, (1,), {"user": "x", "conn": conn})
    name = type(safe_serializer).__name__
    assert str(exc_info.value) == (
        f"{name} cannot serialize object of type 'socket' at kwargs['conn']; pass plain data "
        f"(str, numbers, lists, dicts, datetimes...) or use serializer='pickle' (which trusts "
        f"the database)"
    )
    assert exc_info.value.type_name == "socket"  # type: ignore[attr-defined]
    assert exc_info.value.path == "['conn']"  # type: ignore[attr-defined]


def test_lambda_in_args(safe_serializer: Serializer) -> None:
    with pytest.raises(SerializationError, match=r"type 'function' at args\[1\]"):
        serialize_arguments(safe_serializer, (1, lambda: None), {})


@pytest.mark.parametrize(
    "value, message",
    [
        ({"a": [1, {"b": threading.Lock()}]}, r"type 'lock' at value\['a'\]\[1\]\['b'\]"),
        ((1, (2, object())), r"type 'object' at value\[1\]\[1\]"),
        ({object(): 1}, r"type 'object' at value<key #0>"),
        ({1: {2: [object()]}}, r"type 'object' at value\[1\]\[2\]\[0\]"),
        ([{frozenset({1}), Path("/tmp")}], r"type '(Posix|Windows)Path' at value\[0\]<member"),
        (ValueError(object()), r"type 'object' at value\.args\[0\]"),
        (_Text("x"), r"type '_Text' \(a subclass of str would come back as a plain str"),
        (datetime(2024, 1, 1, tzinfo=_NamelessZone()), r"has no IANA name; use zoneinfo"),
    ],
    ids=["nested", "tuple", "dict key", "int keys", "set member", "exc args", "str", "tz"],
)
def test_message_points_at_the_culprit(
    safe_serializer: Serializer, value: Any, message: str
) -> None:
    with pytest.raises(SerializationError, match=message):
        safe_serializer.serialize(value)


def test_enum_defined_in_a_function_is_refused(safe_serializer: Serializer) -> None:
    class Local(Enum):
        A = 1

    with pytest.raises(SerializationError, match="define it at module level"):
        safe_serializer.serialize([Local.A])


def test_path_goes_through_trigger_state(
    safe_serializer: Serializer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EveryOtherSecondTrigger, "__getstate__", lambda self: {"x": object()})
    with pytest.raises(SerializationError, match=r"at value\[0\]\.__getstate__\(\)\['x'\]"):
        safe_serializer.serialize((EveryOtherSecondTrigger(),))


def test_value_that_contains_itself(safe_serializer: Serializer) -> None:
    value: list[Any] = [1]
    value.append(value)
    with pytest.raises(SerializationError, match="nested too deeply or contains itself"):
        safe_serializer.serialize(value)


def test_pickle_error_names_type_and_path() -> None:
    with pytest.raises(SerializationError) as exc_info:
        serialize_arguments(PickleSerializer(), (), {"callback": [1, lambda: None]})
    message = str(exc_info.value)
    assert message.startswith(
        "PickleSerializer cannot serialize object of type 'function' at kwargs['callback'][1]"
    )
    assert "lambda" in message  # pickle's own explanation is kept


def test_third_party_serializer_errors_are_labelled() -> None:
    class Refusing(Serializer):
        name = "refusing"

        def serialize(self, obj: Any) -> bytes:
            if obj:
                raise SerializationError("no thanks")
            return b""

        def deserialize(self, serialized: bytes) -> Any:
            return None

    with pytest.raises(SerializationError, match="^kwargs: no thanks$"):
        serialize_arguments(Refusing(), (), {"a": 1})


def test_serialize_arguments_returns_the_bytes(serializer: Serializer) -> None:
    args, kwargs = serialize_arguments(serializer, (1, 2), {"a": (3,)})
    assert serializer.deserialize(args) == (1, 2)
    assert serializer.deserialize(kwargs) == {"a": (3,)}


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("data", [b"", b"\xff\xfe garbage", b"{", None], ids=repr)
def test_bad_stored_data_raises_deserialization_error(name: str, data: Any) -> None:
    serializer = create(name)
    with pytest.raises(DeserializationError, match=type(serializer).__name__):
        serializer.deserialize(data)


def test_json_refuses_non_standard_options() -> None:
    serializer = JSONSerializer(dump_options={"allow_nan": False})
    with pytest.raises(SerializationError, match="JSONSerializer cannot serialize"):
        serializer.serialize({"x": float("nan")})
    with pytest.raises(ValueError, match="default"):
        JSONSerializer(dump_options={"default": str})


def test_cbor_without_cbor2_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from apscheduler.serializers.cbor import CBORSerializer

    monkeypatch.setitem(sys.modules, "cbor2", None)
    with pytest.raises(ImportError, match=r'pip install "apscheduler\[cbor\]"'):
        CBORSerializer()


def test_pickle_protocol_is_checked() -> None:
    assert PickleSerializer().protocol == 5
    with pytest.raises(ValueError, match="protocol"):
        PickleSerializer(protocol=99)


@pytest.mark.parametrize("data", [b"\x01\xff", b"\xa1aa\x01junk", b"\xf7", b"\xff"], ids=repr)
def test_cbor_refuses_trailing_data_and_sentinels(data: bytes) -> None:
    """cbor2 itself ignores trailing bytes and decodes some bytes to sentinels."""
    pytest.importorskip("cbor2")
    from apscheduler.serializers.cbor import CBORSerializer

    with pytest.raises(DeserializationError, match="CBORSerializer"):
        CBORSerializer().deserialize(data)
