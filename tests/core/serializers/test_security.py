"""Reading stored data with the JSON or CBOR serializer never calls or instantiates
anything the data names (upstream APScheduler 4 would instantiate any class via
``__new__`` + ``__setstate__``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from apscheduler import DeserializationError, RemoteError
from apscheduler.abc import Serializer
from apscheduler.serializers import PickleSerializer
from apscheduler.serializers._tagging import TAG

from .helpers import Canary, CustomError, encode_tree

CANARY = "tests.core.serializers.helpers:Canary"


@pytest.fixture(autouse=True)
def watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fail the test if os.system is called or a Canary is created or restored."""
    calls: list[Any] = []
    monkeypatch.setattr("os.system", lambda *args: calls.append(args))
    Canary.events.clear()
    yield calls
    assert calls == [], "os.system was called while reading stored data"
    assert Canary.events == [], f"a class named by the data was used: {Canary.events}"


@pytest.mark.parametrize(
    "tree",
    [
        {TAG: "enum", "type": "os:system", "name": "echo pwned"},
        {TAG: "enum", "type": CANARY, "name": "x"},
        {TAG: "enum", "type": "subprocess:Popen", "name": "x"},
        {TAG: "trigger", "name": "os:system", "state": "echo pwned"},
        {TAG: "trigger", "name": CANARY, "state": {}},
        {TAG: "object", "type": CANARY, "state": {}},
        {TAG: "pickle", "value": "gASVAAAAAAAAAAAu"},
        [1, {"nested": {TAG: "enum", "type": "builtins:eval", "name": "1"}}],
    ],
    ids=lambda tree: repr(tree)[:60],
)
def test_crafted_payload_is_refused(safe_serializer: Serializer, tree: Any) -> None:
    with pytest.raises(DeserializationError):
        safe_serializer.deserialize(encode_tree(safe_serializer, tree))


@pytest.mark.parametrize("ref", ["os:system", CANARY, "builtins:eval", "no.such.module:Error"])
def test_exception_naming_a_non_exception_becomes_remote_error(
    safe_serializer: Serializer, ref: str
) -> None:
    tree = {TAG: "exception", "type": ref, "args": ["echo pwned"], "message": "echo pwned"}
    restored = safe_serializer.deserialize(encode_tree(safe_serializer, tree))
    assert type(restored) is RemoteError
    assert str(restored) == "echo pwned"
    assert restored.type_name == ref.replace(":", ".")


def test_exception_init_is_not_run(safe_serializer: Serializer) -> None:
    """Exceptions are rebuilt from their args and attributes; no __init__ runs."""
    original = CustomError(7)
    restored = safe_serializer.deserialize(safe_serializer.serialize(original))
    assert type(restored) is CustomError
    assert restored.args == ("failed with code 7",)
    assert restored.code == 7
    assert str(restored) == "failed with code 7"


def test_user_data_that_looks_like_a_tag_stays_data(safe_serializer: Serializer) -> None:
    value = {TAG: "enum", "type": "os:system", "name": "echo pwned"}
    assert safe_serializer.deserialize(safe_serializer.serialize(value)) == value
    upstream_style = {"_apscheduler_json": ["os:system", "echo pwned"]}
    assert safe_serializer.deserialize(safe_serializer.serialize(upstream_style)) == (
        upstream_style
    )


@pytest.mark.parametrize(
    "tree",
    [
        {TAG: "tuple", "items": "abc"},
        {TAG: "dict", "items": [[1, 2, 3]]},
        {TAG: "datetime", "value": 5},
        {TAG: "datetime", "value": "2024-01-01T00:00:00", "tz": "Mars/Olympus_Mons"},
        {TAG: "timedelta", "value": ["1", 0, 0]},
        {TAG: "bytes", "value": "***"},
        {TAG: "uuid", "value": "not-a-uuid"},
        {TAG: "decimal", "value": []},
        {TAG: "enum", "type": "tests.core.serializers.helpers:Color", "name": "PURPLE"},
        {TAG: "exception", "type": "builtins:ValueError", "args": "x"},
        {TAG: 5},
    ],
    ids=lambda tree: repr(tree)[:60],
)
def test_malformed_tagged_values_raise_deserialization_error(
    safe_serializer: Serializer, tree: Any
) -> None:
    with pytest.raises(DeserializationError):
        safe_serializer.deserialize(encode_tree(safe_serializer, tree))


def test_unknown_cbor_tag_is_refused() -> None:
    cbor2 = pytest.importorskip("cbor2")
    from apscheduler.serializers import CBORSerializer

    with pytest.raises(DeserializationError, match="Unknown CBOR tag 40000"):
        CBORSerializer().deserialize(cbor2.dumps([cbor2.CBORTag(40000, "x")]))


def test_pickle_documents_that_it_trusts_the_storage() -> None:
    doc = PickleSerializer.__doc__ or ""
    assert "arbitrary code" in doc
    assert "trusted" in doc
