"""The MongoDB client the store tests run against.

By default: mongomock, an in-process fake of pymongo (no MongoDB server can be installed
on the CI machines). With ``APSCHEDULER_MONGODB_URL`` set (for example
``mongodb://localhost:27017``), the very same tests run against that server, each in a
database of its own that is dropped afterwards. An unreachable server fails the tests
when ``CI=true`` and skips them otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

URL_VARIABLE = "APSCHEDULER_MONGODB_URL"


@pytest.fixture
def mongodb_client() -> Iterator[Any]:
    url = os.environ.get(URL_VARIABLE)
    if not url:
        import mongomock

        yield mongomock.MongoClient()
        return

    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client: Any = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        client.admin.command("ping")
    except PyMongoError as exc:
        client.close()
        message = f"MongoDB server at {URL_VARIABLE}={url} is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def database_name(mongodb_client: Any) -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    name = f"apscheduler_test_{uuid4().hex[:12]}"
    yield name
    mongodb_client.drop_database(name)
