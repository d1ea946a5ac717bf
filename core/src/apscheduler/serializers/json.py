"""The JSON serializer: the default for persistent data stores and external brokers.

Safe by design: reading stored data never runs code or instantiates a class named by
the data, except registered trigger classes (looked up by their registered name),
``Enum`` members and exceptions (see :mod:`apscheduler.serializers._tagging`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._exceptions import DeserializationError, SerializationError
from ..abc import Serializer
from ._common import Unsupported, from_unsupported
from ._tagging import TAG, TaggedTreeConverter, json_tree

PLAIN_DATA_HINT = (
    "pass plain data (str, numbers, lists, dicts, datetimes...) or use serializer='pickle' "
    "(which trusts the database)"
)

_TUPLE_PREFIX = json.dumps({TAG: "tuple", "items": 0}, separators=(",", ":"))[:-2]
_EMPTY_TUPLE = f"{_TUPLE_PREFIX}[]}}".encode()
_RESERVED_LOAD_OPTIONS = frozenset({"object_hook", "object_pairs_hook"})


class JSONSerializer(Serializer):
    """Serializes to UTF-8 JSON, keeping the exact Python types of the values.

    Supported: ``str``, ``int``, ``float``, ``bool``, ``None``, ``list``, ``dict``
    (any hashable supported keys), ``tuple``, ``set``, ``frozenset``, ``bytes``,
    ``bytearray``, ``datetime`` (naive or aware, keeping its ``ZoneInfo`` zone or fixed
    offset), ``date``, ``time``, ``timedelta``, ``UUID``, ``Decimal``, ``Enum`` members
    of module-level enums, exceptions, and triggers registered by a plugin (stored by
    registered name and state). Anything else raises
    :class:`~apscheduler.SerializationError` naming its type and where it was.

    :param dump_options: extra keyword arguments for :class:`json.JSONEncoder`
        (``indent``, ``sort_keys``...)
    :param load_options: extra keyword arguments for :class:`json.JSONDecoder`
        (``object_hook`` is reserved)
    """

    name = "json"
    __slots__ = ("dump_options", "load_options", "_encode", "_decode", "_tree")

    def __init__(
        self,
        *,
        dump_options: Mapping[str, Any] | None = None,
        load_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.dump_options = dict(dump_options or {})
        self.load_options = dict(load_options or {})
        reserved = _RESERVED_LOAD_OPTIONS & self.load_options.keys()
        if reserved:
            raise ValueError(
                f"load_options cannot set {', '.join(sorted(reserved))}: the serializer "
                f"uses it to restore tagged values"
            )
        if "default" in self.dump_options:
            raise ValueError("dump_options cannot set 'default': unsupported types are errors")
        self._tree: TaggedTreeConverter = json_tree
        encoder = json.JSONEncoder(
            **{"ensure_ascii": False, "separators": (",", ":"), **self.dump_options}
        )
        decoder = json.JSONDecoder(object_hook=json_tree.object_hook, **self.load_options)
        self._encode = encoder.encode
        self._decode = decoder.decode

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def serialize(self, obj: Any) -> bytes:
        try:
            return self._serialize(obj)
        except Unsupported as exc:
            raise from_unsupported(type(self).__name__, exc, PLAIN_DATA_HINT) from None
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(
                f"{type(self).__name__} cannot serialize the value: {type(exc).__name__}: {exc}"
            ) from exc

    def _serialize(self, obj: Any) -> bytes:
        tree = self._tree
        if type(obj) is tuple and not obj:
            return _EMPTY_TUPLE  # no positional arguments: the most common value of all
        try:
            if type(obj) is tuple:
                # the common case: a job's positional arguments
                for item in obj:
                    if not tree.is_plain(item):
                        break
                else:
                    return f"{_TUPLE_PREFIX}{self._encode(obj)}}}".encode()
            elif tree.is_plain(obj):
                return self._encode(obj).encode()
        except RecursionError:
            pass  # the full conversion reports it
        return self._encode(tree.unstructure(obj)).encode()

    def deserialize(self, serialized: bytes) -> Any:
        if serialized == _EMPTY_TUPLE:
            return ()
        try:
            if isinstance(serialized, (bytes, bytearray, memoryview)):
                text = bytes(serialized).decode("utf-8")
            elif isinstance(serialized, str):
                text = serialized
            else:
                raise TypeError(f"expected bytes, got {type(serialized).__name__}")
            return self._decode(text)
        except DeserializationError:
            raise
        except Exception as exc:
            raise DeserializationError(
                f"{type(self).__name__} cannot read the stored data: {type(exc).__name__}: {exc}"
            ) from exc
