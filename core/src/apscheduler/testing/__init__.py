"""The conformance kit: test classes that prove a component keeps the core's contracts.

Subclass a kit class in your own test module and provide the fixture it asks for::

    from apscheduler.testing import DataStoreTests

    class TestMyStore(DataStoreTests):
        @pytest.fixture
        def datastore(self):
            return MyStore(...)

Kit classes: :class:`DataStoreTests`, :class:`EventBrokerTests`,
:class:`JobExecutorTests`, :class:`TriggerTests`, :class:`SerializerTests`. See
``docs/plugins/conformance-kit.md`` for each class's fixture contract and flags.

This package is imported by the kit's pytest plugin in every pytest run where apscheduler
is installed, so it imports the kit classes (and pytest itself) only when asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._kit_trigger import KIT_TRIGGER_NAME, FixedTimesTrigger
    from .datastore import DataStoreHarness, DataStoreTests, RecordingEventBroker
    from .eventbroker import EventBrokerTests
    from .executor import JobExecutorTests
    from .serializer import SerializerTests
    from .trigger import TriggerTests

_EXPORTS = {
    "DataStoreTests": ".datastore",
    "DataStoreHarness": ".datastore",
    "RecordingEventBroker": ".datastore",
    "EventBrokerTests": ".eventbroker",
    "JobExecutorTests": ".executor",
    "SerializerTests": ".serializer",
    "TriggerTests": ".trigger",
    "FixedTimesTrigger": "._kit_trigger",
    "KIT_TRIGGER_NAME": "._kit_trigger",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'apscheduler.testing' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "KIT_TRIGGER_NAME",
    "DataStoreHarness",
    "DataStoreTests",
    "EventBrokerTests",
    "FixedTimesTrigger",
    "JobExecutorTests",
    "RecordingEventBroker",
    "SerializerTests",
    "TriggerTests",
]
