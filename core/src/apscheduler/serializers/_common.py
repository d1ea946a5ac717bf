"""Error reporting shared by the serializers.

A serializer that cannot handle a value says which type it met, where inside the value
it was (``args[0]``, ``kwargs['conn']['socket']``) and what to do instead. The path is
relative to the serialized value (``value[0]``) unless the caller names the root, as
:func:`serialize_arguments` does for a job's ``args`` and ``kwargs``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .._exceptions import SerializationError
from ..abc import Serializer

DEFAULT_ROOT = "value"


class Unsupported(Exception):
    """Raised inside a serializer's tree walk; turned into a :class:`SerializationError`
    by :func:`serialization_error` once the walk has unwound and recorded the path."""

    def __init__(self, obj: Any, reason: str | None = None):
        super().__init__(describe_type(obj))
        self.obj = obj
        self.reason = reason
        #: Path segments from the root to ``obj``, filled in while the walk unwinds.
        self.path: list[str] = []


def describe_type(obj: Any) -> str:
    """The qualified name of the type of ``obj``, without the ``<locals>`` noise."""
    return type(obj).__qualname__.rpartition("<locals>.")[2]


def serialization_error(
    serializer: str,
    type_name: str,
    path: str,
    *,
    reason: str | None = None,
    hint: str | None = None,
    root: str = DEFAULT_ROOT,
) -> SerializationError:
    """Build the error message and attach its parts to the exception.

    The parts (``serializer``, ``type_name``, ``path``, ``reason``, ``hint``) stay on the
    exception as attributes so that :func:`relabel` can name a different root.
    """
    location = f" at {root}{path}" if path or root != DEFAULT_ROOT else ""
    message = f"{serializer} cannot serialize object of type {type_name!r}{location}"
    if reason:
        message += f" ({reason})"
    if hint:
        message += f"; {hint}"
    exc = SerializationError(message)
    exc.serializer = serializer  # type: ignore[attr-defined]
    exc.type_name = type_name  # type: ignore[attr-defined]
    exc.path = path  # type: ignore[attr-defined]
    exc.reason = reason  # type: ignore[attr-defined]
    exc.hint = hint  # type: ignore[attr-defined]
    exc.root = root  # type: ignore[attr-defined]
    return exc


def from_unsupported(serializer: str, exc: Unsupported, hint: str | None) -> SerializationError:
    return serialization_error(
        serializer,
        describe_type(exc.obj),
        "".join(exc.path),
        reason=exc.reason,
        hint=hint,
    )


def relabel(exc: SerializationError, root: str) -> SerializationError:
    """Return ``exc`` with its path starting at ``root`` (``"args"``) instead of ``value``.

    Errors from third-party serializers, which carry no path, get ``root`` as a prefix.
    """
    parts: Any = exc
    if hasattr(parts, "type_name") and hasattr(parts, "path"):
        new = serialization_error(
            parts.serializer,
            parts.type_name,
            parts.path,
            reason=parts.reason,
            hint=parts.hint,
            root=root,
        )
    else:
        new = SerializationError(f"{root}: {exc}")
    new.__cause__ = exc.__cause__
    return new


def serialize_arguments(
    serializer: Serializer, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[bytes, bytes]:
    """Serialize a job's arguments, naming ``args[i]`` / ``kwargs['key']`` in errors.

    The scheduler calls this in ``add_schedule`` / ``add_job`` so that an argument the
    data store cannot keep is rejected right there, with a message pointing at it.
    """
    try:
        serialized_args = serializer.serialize(tuple(args))
    except SerializationError as exc:
        raise relabel(exc, "args") from exc.__cause__
    try:
        serialized_kwargs = serializer.serialize(dict(kwargs))
    except SerializationError as exc:
        raise relabel(exc, "kwargs") from exc.__cause__
    return serialized_args, serialized_kwargs


def children(value: Any) -> Iterator[tuple[str, Any]]:
    """Yield ``(path segment, child)`` for the items of the builtin containers."""
    value_type = type(value)
    if value_type is list or value_type is tuple:
        for index, item in enumerate(value):
            yield f"[{index}]", item
    elif value_type is dict:
        for index, (key, item) in enumerate(value.items()):
            yield f"<key #{index}>", key
            yield f"[{key!r}]", item
    elif value_type is set or value_type is frozenset:
        for index, item in enumerate(value):
            yield f"<member #{index}>", item


def locate(value: Any, fails: Callable[[Any], bool]) -> tuple[Any, str]:
    """Find the innermost part of ``value`` for which ``fails`` is true.

    Used on the error path of serializers that cannot report where they failed (pickle):
    descends into builtin containers while a child still fails. Returns the culprit and
    its path.
    """
    path = ""
    current = value
    while True:
        for segment, child in children(current):
            if fails(child):
                path += segment
                current = child
                break
        else:
            return current, path
