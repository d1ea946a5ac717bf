"""Module-level types used as values in the serializer tests (they must be importable
by reference) and a strict comparison that also checks the types of everything."""

from __future__ import annotations

import math
from datetime import datetime, time
from decimal import Decimal
from enum import Enum, Flag, IntEnum, auto
from typing import Any


class Color(Enum):
    RED = 1
    GREEN = "green"


class Priority(IntEnum):
    LOW = 1
    HIGH = 2


class Mode(str, Enum):
    FAST = "fast"
    SAFE = "safe"


class Permission(Flag):
    READ = auto()
    WRITE = auto()
    EXECUTE = auto()


class Canary:
    """Records any attempt to create or restore it from stored data."""

    events: list[str] = []

    def __new__(cls, *args: Any, **kwargs: Any) -> Canary:
        Canary.events.append("__new__")
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        Canary.events.append("__init__")

    def __setstate__(self, state: Any) -> None:
        Canary.events.append("__setstate__")


class CustomError(Exception):
    """An exception whose __init__ takes other arguments than it passes on."""

    def __init__(self, code: int):
        super().__init__(f"failed with code {code}")
        self.code = code


def identical(a: Any, b: Any) -> bool:
    """Equality that also requires the same types at every level (``1 != 1.0 != True``),
    the same time zones and folds, and the same Decimal digits."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return identical(list(a.items()), list(b.items()))
    if isinstance(a, (set, frozenset)):
        return len(a) == len(b) and all(any(identical(x, y) for y in b) for x in a)
    if isinstance(a, (datetime, time)):
        return (
            a.replace(tzinfo=None) == b.replace(tzinfo=None)
            and a.fold == b.fold
            and type(a.tzinfo) is type(b.tzinfo)
            and a.tzinfo == b.tzinfo
            and getattr(a.tzinfo, "key", None) == getattr(b.tzinfo, "key", None)
        )
    if isinstance(a, BaseException):
        return identical(a.args, b.args)
    return bool(a == b)


def encode_tree(serializer: Any, tree: Any) -> bytes:
    """Encode a hand-made tree the way ``serializer`` would store it (crafted payloads)."""
    if serializer.name == "json":
        import json

        return json.dumps(tree).encode()
    import cbor2

    return cbor2.dumps(tree)  # type: ignore[no-any-return]
