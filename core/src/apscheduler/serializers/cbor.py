"""The CBOR serializer: the same types and safety as JSON, in a compact binary form.

Needs the ``cbor2`` package (``pip install "apscheduler[cbor]"``); it is imported when
the serializer is created, not when this module is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any

from .._exceptions import DeserializationError, SerializationError
from ..abc import Serializer
from ._common import Unsupported, from_unsupported
from ._tagging import TAG, TaggedTreeConverter, binary_tree
from .json import PLAIN_DATA_HINT

_RESERVED_DUMP_OPTIONS = frozenset({"default"})
_RESERVED_LOAD_OPTIONS = frozenset({"object_hook", "tag_hook"})


def _import_cbor2() -> Any:
    try:
        import cbor2
    except ImportError as exc:
        raise ImportError(
            'The CBOR serializer needs the cbor2 package: pip install "apscheduler[cbor]"'
        ) from exc
    return cbor2


def _object_hook(first: Any, second: Any) -> Any:
    # cbor2 < 6 calls object_hook(decoder, dict); cbor2 >= 6 calls it with (dict, immutable)
    node: Any = first if isinstance(first, Mapping) else second
    return binary_tree.object_hook(node)


def _tag_hook(first: Any, second: Any) -> Any:
    # cbor2 < 6: tag_hook(decoder, tag); cbor2 >= 6: tag_hook(tag, immutable)
    tag = first if type(first).__name__ == "CBORTag" else second
    number = getattr(tag, "tag", tag)
    raise DeserializationError(f"Unknown CBOR tag {number!r} in stored data")


class CBORSerializer(Serializer):
    """Serializes to CBOR (RFC 8949), keeping the exact Python types of the values.

    Supports exactly the types of :class:`~apscheduler.serializers.json.JSONSerializer`
    (the two share one tagging layer); ``bytes`` are stored natively.

    :param dump_options: extra keyword arguments for :func:`cbor2.dumps`
    :param load_options: extra keyword arguments for :func:`cbor2.loads`
    """

    name = "cbor"
    __slots__ = ("dump_options", "load_options", "_cbor2", "_tree", "_empty_tuple")

    def __init__(
        self,
        *,
        dump_options: Mapping[str, Any] | None = None,
        load_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._cbor2 = _import_cbor2()
        self.dump_options = dict(dump_options or {})
        self.load_options = dict(load_options or {})
        for options, reserved_names, label in (
            (self.dump_options, _RESERVED_DUMP_OPTIONS, "dump_options"),
            (self.load_options, _RESERVED_LOAD_OPTIONS, "load_options"),
        ):
            reserved = reserved_names & options.keys()
            if reserved:
                raise ValueError(
                    f"{label} cannot set {', '.join(sorted(reserved))}: the serializer uses "
                    f"it for its own types"
                )
        self._tree: TaggedTreeConverter = binary_tree
        self._empty_tuple = self._cbor2.dumps({TAG: "tuple", "items": []}, **self.dump_options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def serialize(self, obj: Any) -> bytes:
        if type(obj) is tuple and not obj:
            return self._empty_tuple
        try:
            tree = self._tree
            try:
                plain = tree.is_plain(obj)
            except RecursionError:
                plain = False
            if not plain:
                obj = tree.unstructure(obj)
            return self._cbor2.dumps(obj, **self.dump_options)
        except Unsupported as exc:
            raise from_unsupported(type(self).__name__, exc, PLAIN_DATA_HINT) from None
        except Exception as exc:
            raise SerializationError(
                f"{type(self).__name__} cannot serialize the value: {type(exc).__name__}: {exc}"
            ) from exc

    def deserialize(self, serialized: bytes) -> Any:
        if serialized == self._empty_tuple:
            return ()
        try:
            data = bytes(serialized)
            stream = BytesIO(data)
            decoder = self._cbor2.CBORDecoder(
                stream, object_hook=_object_hook, tag_hook=_tag_hook, **self.load_options
            )
            value = decoder.decode()
            if stream.tell() != len(data):
                raise DeserializationError(
                    f"{type(self).__name__} cannot read the stored data: "
                    f"{len(data) - stream.tell()} bytes of trailing garbage"
                )
            if (
                value is self._cbor2.undefined
                or type(value).__name__.lower().replace("_", "") == "breakmarkertype"
            ):
                raise DeserializationError(
                    f"{type(self).__name__} cannot read the stored data: {value!r} is not a value"
                )
            return value
        except DeserializationError:
            raise
        except Exception as exc:
            cause: BaseException | None = exc
            while cause is not None:  # cbor2 wraps the errors raised by the hooks
                if isinstance(cause, DeserializationError):
                    raise cause from cause.__cause__
                cause = cause.__cause__
            raise DeserializationError(
                f"{type(self).__name__} cannot read the stored data: {type(exc).__name__}: {exc}"
            ) from exc
