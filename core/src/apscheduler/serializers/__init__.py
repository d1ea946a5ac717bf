"""Serializers turn job arguments, triggers and results into bytes for persistent data
stores and external event brokers.

* :class:`~apscheduler.serializers.json.JSONSerializer` (``"json"``): the default; safe
  to read from any database, keeps the exact Python types of the supported values.
* :class:`~apscheduler.serializers.cbor.CBORSerializer` (``"cbor"``): the same types in
  compact binary form (``pip install "apscheduler[cbor]"``).
* :class:`~apscheduler.serializers.pickle.PickleSerializer` (``"pickle"``): any picklable
  object, for databases you trust as much as your code.

The classes are imported lazily, so ``import apscheduler.serializers`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._common import serialize_arguments

if TYPE_CHECKING:
    from .cbor import CBORSerializer
    from .json import JSONSerializer
    from .pickle import PickleSerializer

_LAZY = {
    "CBORSerializer": "apscheduler.serializers.cbor",
    "JSONSerializer": "apscheduler.serializers.json",
    "PickleSerializer": "apscheduler.serializers.pickle",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'apscheduler.serializers' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["CBORSerializer", "JSONSerializer", "PickleSerializer", "serialize_arguments"]
