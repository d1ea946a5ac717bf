"""Serializer fixtures: every test taking ``serializer`` runs against each built-in one,
created through the plugin registry by its registered name (as data stores do)."""

from __future__ import annotations

import pytest
from apscheduler._registry import get_registry
from apscheduler.abc import Serializer

ALL = ["json", "cbor", "pickle"]
SAFE = ["json", "cbor"]


def create(name: str) -> Serializer:
    serializer = get_registry().create("serializer", name, Serializer)
    assert isinstance(serializer, Serializer)
    return serializer


@pytest.fixture(params=ALL)
def serializer(request: pytest.FixtureRequest) -> Serializer:
    return create(request.param)


@pytest.fixture(params=SAFE)
def safe_serializer(request: pytest.FixtureRequest) -> Serializer:
    """The serializers that never run code named by the stored data."""
    return create(request.param)
