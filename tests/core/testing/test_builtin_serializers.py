"""The built-in serializers against the serializer conformance kit."""

from __future__ import annotations

import pytest
from apscheduler.abc import Serializer
from apscheduler.testing import SerializerTests


class TestJSONSerializer(SerializerTests):
    @pytest.fixture
    def serializer(self) -> Serializer:
        module = pytest.importorskip("apscheduler.serializers.json")
        return module.JSONSerializer()


class TestPickleSerializer(SerializerTests):
    @pytest.fixture
    def serializer(self) -> Serializer:
        module = pytest.importorskip("apscheduler.serializers.pickle")
        return module.PickleSerializer()


class TestCBORSerializer(SerializerTests):
    @pytest.fixture
    def serializer(self) -> Serializer:
        pytest.importorskip("cbor2")
        module = pytest.importorskip("apscheduler.serializers.cbor")
        return module.CBORSerializer()
