"""The seeds' import paths re-export the plugin's classes, or say what to install."""

from __future__ import annotations

import importlib
import sys

import pytest


@pytest.mark.parametrize(
    "module, name, extra",
    [
        ("apscheduler.eventbrokers.redis", "RedisEventBroker", "redis"),
        ("apscheduler.datastores.redis", "RedisDataStore", "redis"),
        ("apscheduler.eventbrokers.mqtt", "MQTTEventBroker", "mqtt"),
        ("apscheduler.datastores.mongodb", "MongoDBDataStore", "mongodb"),
        ("apscheduler.executors.subprocess", "ProcessPoolJobExecutor", "processpool"),
        ("apscheduler.executors.pool", "ProcessPoolJobExecutor", "processpool"),
    ],
)
def test_reexport_or_install_hint(
    module: str, name: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = getattr(importlib.import_module(module), name)
    assert exported.__name__ == name
    assert exported.__module__.startswith(f"apscheduler_{extra}.")

    # Without the plugin (or its dependency), the import names the extra to install
    monkeypatch.setitem(sys.modules, exported.__module__, None)
    with pytest.raises(ImportError, match=rf'pip install "apscheduler\[{extra}\]"'):
        exec(f"from {module} import {name}", {})


def test_unknown_name_is_an_attribute_error() -> None:
    module = importlib.import_module("apscheduler.datastores.redis")
    with pytest.raises(AttributeError, match="RedisDataStores"):
        module.RedisDataStores  # noqa: B018
