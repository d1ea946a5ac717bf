"""The tagging layer shared by the JSON and CBOR serializers.

Values are turned into trees of JSON types (str, int, float, bool, None, list, dict with
str keys). Anything else that round-trips is written as a *tagged* dict whose reserved
key :data:`TAG` names what it is::

    (1, 2)                      -> {"__apscheduler__": "tuple", "items": [1, 2]}
    datetime(..., ZoneInfo(k))  -> {"__apscheduler__": "datetime", "value": iso, "tz": k}
    CronTrigger(...)            -> {"__apscheduler__": "trigger", "name": "cron",
                                    "state": {...}}

A user dict that happens to contain the reserved key, or has keys that are not strings,
is written as ``{"__apscheduler__": "dict", "items": [[key, value], ...]}``, so reading
never mistakes user data for a tag.

Reading is bottom-up: the JSON and CBOR decoders call :meth:`TaggedTreeConverter.
object_hook` for each dict as soon as it is parsed (its children are already restored),
so plain data costs one key lookup per dict.

Safety: reading never instantiates a class named by the data except

* trigger classes, looked up by their **registered name** in the plugin registry;
* members of an ``Enum`` subclass (looked up by name, or by value for flags);
* ``BaseException`` subclasses, created with ``__new__`` (no ``__init__`` runs); a type
  that does not resolve to an exception class becomes :class:`~apscheduler.RemoteError`.

The dispatch on types (writing) and on tags (reading) is a :class:`cattrs.Converter`
with a hook per type.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import Enum, Flag
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import cattrs

from .._exceptions import DeserializationError
from ..abc import Trigger
from ._common import Unsupported

#: The reserved key that marks a tagged dict.
TAG = "__apscheduler__"

_DT = TypeVar("_DT", datetime, time)
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})
_SUBCLASSABLE = (
    str, int, float, list, tuple, dict, set, frozenset, bytes, bytearray,
    datetime, date, time, timedelta, UUID, Decimal,
)  # fmt: skip


def class_ref(cls: type) -> str:
    """Return ``"module:qualname"`` of a class (no check that it can be imported)."""
    return f"{cls.__module__}:{cls.__qualname__}"


def _zone_key(tz: tzinfo) -> str | None:
    """Return the IANA name of a named zone (``ZoneInfo`` or pytz), else ``None``."""
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        return key
    zone = getattr(tz, "zone", None)  # pytz
    if isinstance(zone, str):
        return zone
    return None


def _resolve_class(ref: str) -> Any:
    """Import the object that ``ref`` names; ``None`` if it cannot be found."""
    module_name, _, qualname = ref.partition(":")
    if not module_name or not qualname or "<" in qualname:
        return None
    try:
        obj: Any = import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception:
        return None
    return obj


class TaggedTreeConverter:
    """Converts values to tagged trees of JSON types and back.

    :param native_bytes: keep ``bytes`` as they are (CBOR) instead of tagging them as
        base64 text (JSON)
    """

    def __init__(self, *, native_bytes: bool = False) -> None:
        self.native_bytes = native_bytes
        self.plain_scalars = _JSON_SCALARS | {bytes} if native_bytes else _JSON_SCALARS
        converter = cattrs.Converter()
        self._converter = converter
        self._unstructure_hook: Callable[[Any], Any] = converter.unstructure

        unstructure_hooks: dict[type, Callable[[Any], Any]] = {
            object: self._unstructure_other,
            # cattrs has its own hooks for these; replace them so nothing is lossy
            str: self._unstructure_scalar,
            bytes: self._unstructure_bytes,
            Path: self._unstructure_other,
            int: self._unstructure_scalar,
            float: self._unstructure_scalar,
            bool: self._unstructure_scalar,
            type(None): self._unstructure_scalar,
            list: self._unstructure_list,
            tuple: self._unstructure_tuple,
            dict: self._unstructure_dict,
            set: self._unstructure_set,
            frozenset: self._unstructure_set,
            bytearray: self._unstructure_bytearray,
            datetime: self._unstructure_datetime,
            date: self._unstructure_date,
            time: self._unstructure_time,
            timedelta: self._unstructure_timedelta,
            UUID: self._unstructure_uuid,
            Decimal: self._unstructure_decimal,
            Enum: self._unstructure_enum,
            BaseException: self._unstructure_exception,
            Trigger: self._unstructure_trigger,
        }
        for cls, hook in unstructure_hooks.items():
            converter.register_unstructure_hook(cls, hook)

        #: tag -> the type whose structure hook restores it
        self.tag_types: dict[str, type] = {
            "tuple": tuple,
            "dict": dict,
            "set": set,
            "frozenset": frozenset,
            "bytes": bytes,
            "bytearray": bytearray,
            "datetime": datetime,
            "date": date,
            "time": time,
            "timedelta": timedelta,
            "uuid": UUID,
            "decimal": Decimal,
            "enum": Enum,
            "exception": BaseException,
            "trigger": Trigger,
        }
        structure_hooks: dict[type, Callable[[dict[str, Any], type], Any]] = {
            tuple: lambda node, _: tuple(_items(node)),
            dict: self._structure_dict,
            set: lambda node, _: set(_items(node)),
            frozenset: lambda node, _: frozenset(_items(node)),
            bytes: self._structure_bytes,
            bytearray: lambda node, _: bytearray(self._structure_bytes(node, bytes)),
            datetime: self._structure_datetime,
            date: lambda node, _: date.fromisoformat(_str(node, "value")),
            time: self._structure_time,
            timedelta: self._structure_timedelta,
            UUID: lambda node, _: UUID(_str(node, "value")),
            Decimal: lambda node, _: Decimal(_str(node, "value")),
            Enum: self._structure_enum,
            BaseException: self._structure_exception,
            Trigger: self._structure_trigger,
        }
        for cls, structure_hook in structure_hooks.items():
            converter.register_structure_hook(cls, structure_hook)
        self._structure_hooks = {
            tag: converter.get_structure_hook(cls) for tag, cls in self.tag_types.items()
        }

    # Writing

    def unstructure(self, value: Any) -> Any:
        """Return the tagged tree of ``value``; raise :class:`Unsupported` (with its path)
        for a value that cannot be written."""
        try:
            return self._unstructure_hook(value)
        except RecursionError:
            raise Unsupported(value, "it is nested too deeply or contains itself") from None

    def is_plain(self, value: Any) -> bool:
        """Tell whether ``value`` is already a tree of plain types that needs no tagging
        (the fast path: checking is cheaper than converting)."""
        value_type = type(value)
        if value_type in self.plain_scalars:
            return True
        if value_type is list:
            is_plain = self.is_plain
            for item in value:
                if not is_plain(item):
                    return False
            return True
        if value_type is dict:
            if TAG in value:
                return False
            is_plain = self.is_plain
            for key, item in value.items():
                if type(key) is not str or not is_plain(item):
                    return False
            return True
        return False

    def _unstructure_scalar(self, value: Any) -> Any:
        if type(value) in _JSON_SCALARS:
            return value
        return self._unstructure_other(value)

    def _unstructure_other(self, value: Any) -> Any:
        # Subclasses of the builtin types land here when no more specific hook matched:
        # an IntEnum is an enum, but a str or dict subclass would not come back as itself
        if isinstance(value, Enum):
            return self._unstructure_enum(value)
        if isinstance(value, BaseException):
            return self._unstructure_exception(value)
        if isinstance(value, Trigger):
            return self._unstructure_trigger(value)
        for builtin in _SUBCLASSABLE:
            if isinstance(value, builtin):
                raise Unsupported(
                    value,
                    f"a subclass of {builtin.__name__} would come back as a plain "
                    f"{builtin.__name__}; convert it first",
                )
        raise Unsupported(value)

    def _unstructure_list(self, value: list[Any]) -> Any:
        if type(value) is not list:
            return self._unstructure_other(value)
        return self._unstructure_items(value)

    def _unstructure_items(self, value: Any) -> list[Any]:
        hook = self._unstructure_hook
        result = []
        for index, item in enumerate(value):
            try:
                result.append(hook(item))
            except Unsupported as exc:
                exc.path.insert(0, f"[{index}]")
                raise
        return result

    def _unstructure_tuple(self, value: tuple[Any, ...]) -> Any:
        if type(value) is not tuple:
            return self._unstructure_other(value)
        return {TAG: "tuple", "items": self._unstructure_items(value)}

    def _unstructure_dict(self, value: dict[Any, Any]) -> Any:
        if type(value) is not dict:
            return self._unstructure_other(value)
        hook = self._unstructure_hook
        if TAG not in value and all(type(key) is str for key in value):
            result = {}
            for key, item in value.items():
                try:
                    result[key] = hook(item)
                except Unsupported as exc:
                    exc.path.insert(0, f"[{key!r}]")
                    raise
            return result

        items = []
        for index, (key, item) in enumerate(value.items()):
            try:
                structured_key = hook(key)
            except Unsupported as exc:
                exc.path.insert(0, f"<key #{index}>")
                raise
            try:
                items.append([structured_key, hook(item)])
            except Unsupported as exc:
                exc.path.insert(0, f"[{key!r}]")
                raise
        return {TAG: "dict", "items": items}

    def _unstructure_set(self, value: set[Any] | frozenset[Any]) -> Any:
        if type(value) is not set and type(value) is not frozenset:
            return self._unstructure_other(value)
        try:
            ordered = sorted(value)  # stable output for equal sets, when the items allow
        except Exception:  # unorderable mixes, Decimal NaN...
            ordered = list(value)
        hook = self._unstructure_hook
        items = []
        for index, item in enumerate(ordered):
            try:
                items.append(hook(item))
            except Unsupported as exc:
                exc.path.insert(0, f"<member #{index}>")
                raise
        return {TAG: type(value).__name__, "items": items}

    def _unstructure_bytes(self, value: bytes) -> Any:
        if type(value) is not bytes:
            return self._unstructure_other(value)
        if self.native_bytes:
            return value
        return {TAG: "bytes", "value": base64.b64encode(value).decode("ascii")}

    def _unstructure_bytearray(self, value: bytearray) -> Any:
        if type(value) is not bytearray:
            return self._unstructure_other(value)
        data = bytes(value)
        return {
            TAG: "bytearray",
            "value": data if self.native_bytes else base64.b64encode(data).decode("ascii"),
        }

    def _unstructure_datetime(self, value: datetime) -> Any:
        if type(value) is not datetime:
            return self._unstructure_other(value)
        node: dict[str, Any] = {TAG: "datetime"}
        _add_zone(node, value)
        return node

    def _unstructure_date(self, value: date) -> Any:
        if type(value) is not date:
            return self._unstructure_other(value)
        return {TAG: "date", "value": value.isoformat()}

    def _unstructure_time(self, value: time) -> Any:
        if type(value) is not time:
            return self._unstructure_other(value)
        node: dict[str, Any] = {TAG: "time"}
        _add_zone(node, value)
        return node

    def _unstructure_timedelta(self, value: timedelta) -> Any:
        if type(value) is not timedelta:
            return self._unstructure_other(value)
        return {TAG: "timedelta", "value": [value.days, value.seconds, value.microseconds]}

    def _unstructure_uuid(self, value: UUID) -> Any:
        if type(value) is not UUID:
            return self._unstructure_other(value)
        return {TAG: "uuid", "value": str(value)}

    def _unstructure_decimal(self, value: Decimal) -> Any:
        if type(value) is not Decimal:
            return self._unstructure_other(value)
        return {TAG: "decimal", "value": str(value)}

    def _unstructure_enum(self, value: Enum) -> Any:
        cls = type(value)
        if "<locals>" in cls.__qualname__:
            raise Unsupported(
                value,
                "its enum class is defined inside a function and cannot be found by "
                "reference; define it at module level",
            )
        node: dict[str, Any] = {TAG: "enum", "type": class_ref(cls)}
        if isinstance(value, Flag):
            node["value"] = value.value  # combined flags have no single name
        else:
            node["name"] = value.name
        return node

    def _unstructure_exception(self, value: BaseException) -> Any:
        try:
            message = str(value)
        except Exception:
            message = repr(value)
        node: dict[str, Any] = {
            TAG: "exception",
            "type": class_ref(type(value)),
            "message": message,
        }
        try:
            node["args"] = self._unstructure_items(value.args)
        except Unsupported as exc:
            exc.path.insert(0, ".args")
            raise
        attributes = getattr(value, "__dict__", None)
        if attributes and all(type(key) is str for key in attributes):
            # best effort: attributes set in __init__ (RemoteError.type_name, errno...)
            try:
                node["attributes"] = self._unstructure_dict(dict(attributes))
            except Unsupported:
                pass
        return node

    def _unstructure_trigger(self, value: Trigger) -> Any:
        from .._registry import get_registry

        try:
            name = get_registry().name_of("trigger", type(value))
        except LookupError as exc:
            raise Unsupported(value, str(exc)) from None
        try:
            state = self._unstructure_hook(value.__getstate__())
        except Unsupported as exc:
            exc.path.insert(0, ".__getstate__()")
            raise
        return {TAG: "trigger", "name": name, "state": state}

    # Reading

    def object_hook(self, node: dict[str, Any]) -> Any:
        """Restore a tagged dict (its children are already restored); return any other
        dict unchanged."""
        if TAG not in node:
            return node
        tag = node[TAG]
        hook = self._structure_hooks.get(tag) if isinstance(tag, str) else None
        if hook is None:
            raise DeserializationError(f"Unknown tag {tag!r} in stored data")
        try:
            return hook(node, self.tag_types[tag])
        except DeserializationError:
            raise
        except Exception as exc:
            raise DeserializationError(
                f"Invalid stored {tag!r} value: {type(exc).__name__}: {exc}"
            ) from exc

    def _structure_dict(self, node: dict[str, Any], _: type) -> dict[Any, Any]:
        result = {}
        for pair in _items(node):
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("dict items must be [key, value] pairs")
            result[pair[0]] = pair[1]
        return result

    def _structure_bytes(self, node: dict[str, Any], _: type) -> bytes:
        value = node["value"]
        if self.native_bytes and type(value) is bytes:
            return value
        if type(value) is not str:
            raise TypeError("bytes must be stored as base64 text")
        return base64.b64decode(value.encode("ascii"), validate=True)

    def _structure_datetime(self, node: dict[str, Any], _: type) -> datetime:
        return _restore_zone(node, datetime.fromisoformat(_str(node, "value")))

    def _structure_time(self, node: dict[str, Any], _: type) -> time:
        return _restore_zone(node, time.fromisoformat(_str(node, "value")))

    def _structure_timedelta(self, node: dict[str, Any], _: type) -> timedelta:
        parts = node["value"]
        if type(parts) is not list or len(parts) != 3 or any(type(p) is not int for p in parts):
            raise TypeError("a timedelta must be stored as [days, seconds, microseconds]")
        return timedelta(days=parts[0], seconds=parts[1], microseconds=parts[2])

    def _structure_enum(self, node: dict[str, Any], _: type) -> Enum:
        ref = _str(node, "type")
        cls = _resolve_class(ref)
        if not (isinstance(cls, type) and issubclass(cls, Enum)):
            raise DeserializationError(f"{ref!r} does not name an Enum class")
        if "name" in node:
            return cls[_str(node, "name")]
        if issubclass(cls, Flag) and type(node.get("value")) is int:
            return cls(node["value"])  # a value lookup on the Flag, not a constructor
        raise DeserializationError(f"Invalid stored member of {ref!r}")

    def _structure_exception(self, node: dict[str, Any], _: type) -> BaseException:
        from .._structures import RemoteError

        ref = _str(node, "type")
        message = node.get("message")
        message = message if type(message) is str else ""
        args = node.get("args", [])
        if type(args) is not list:
            raise TypeError("exception args must be a list")
        cls = _resolve_class(ref)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            try:
                exc = cls.__new__(cls, *args)  # no __init__: nothing but the type is trusted
                exc.args = tuple(args)
                attributes = node.get("attributes")
                if type(attributes) is dict:
                    exc.__dict__.update(attributes)
                str(exc)  # a __str__ that needs attributes __init__ would have set
            except Exception:
                pass
            else:
                return exc
        return RemoteError(message, ref.replace(":", "."))

    def _structure_trigger(self, node: dict[str, Any], _: type) -> Trigger:
        from .._exceptions import UnknownPluginError
        from .._registry import get_registry

        name = _str(node, "name")
        try:
            cls = get_registry().resolve("trigger", name)
        except UnknownPluginError as exc:
            raise DeserializationError(f"Cannot restore a trigger: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Trigger)):
            raise DeserializationError(
                f"The trigger registered as {name!r} is not a Trigger subclass"
            )
        trigger = cls.__new__(cls)
        trigger.__setstate__(node.get("state"))
        return trigger


def _items(node: dict[str, Any]) -> list[Any]:
    items = node["items"]
    if type(items) is not list:
        raise TypeError("items must be a list")
    return items


def _str(node: dict[str, Any], key: str) -> str:
    value = node[key]
    if type(value) is not str:
        raise TypeError(f"{key!r} must be a string")
    return value


def _add_zone(node: dict[str, Any], value: datetime | time) -> None:
    """Fill ``node`` with the ISO text of ``value`` and what restores its exact tzinfo.

    ``value`` holds the ISO text (with the UTC offset, for readers other than us). A named
    zone adds ``tz`` (its IANA key); a fixed offset that ISO text cannot carry exactly
    (sub-second) or a custom name adds ``offset`` (microseconds) / ``tzname``; ``fold``
    is stored when it is 1.
    """
    tz = value.tzinfo
    fold = value.fold
    if tz is None or type(tz) is timezone:
        node["value"] = value.isoformat()
        if tz is not None:
            offset = tz.utcoffset(None)
            if offset.microseconds:
                node["offset"] = offset // timedelta(microseconds=1)
            name = tz.tzname(None)
            if name != timezone(offset).tzname(None):
                node["tzname"] = name
    else:
        key = _zone_key(tz)
        if key is None:
            raise Unsupported(
                value, f"its time zone {tz!r} has no IANA name; use zoneinfo.ZoneInfo"
            )
        node["value"] = (
            value.isoformat()
            if isinstance(value, datetime)
            else (value.replace(tzinfo=None).isoformat())
        )
        node["tz"] = key
        if isinstance(value, datetime) and not isinstance(tz, ZoneInfo):
            # pytz keeps fold at 0 and tells the two repeated wall times apart by offset
            restored = value.replace(tzinfo=ZoneInfo(key), fold=0)
            fold = int(restored.utcoffset() != value.utcoffset())
    if fold:
        node["fold"] = 1


def _restore_zone(node: dict[str, Any], value: _DT) -> _DT:
    key = node.get("tz")
    if key is not None:
        if type(key) is not str:
            raise TypeError("the time zone must be a string")
        value = value.replace(tzinfo=ZoneInfo(key))
    elif "offset" in node or "tzname" in node:
        offset = node.get("offset")
        delta = timedelta(microseconds=offset) if type(offset) is int else value.utcoffset()
        if delta is None:
            raise ValueError("a fixed offset needs an offset")
        name = node.get("tzname")
        tz = timezone(delta, name) if type(name) is str else timezone(delta)
        value = value.replace(tzinfo=tz)
    if node.get("fold"):
        value = value.replace(fold=1)
    return value


#: Shared instances (the type dispatch caches are per converter).
json_tree = TaggedTreeConverter(native_bytes=False)
binary_tree = TaggedTreeConverter(native_bytes=True)
