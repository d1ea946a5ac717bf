"""Fixture plumbing shared by the kit classes."""

from __future__ import annotations

from typing import Any

import pytest

try:
    from pytest import FixtureLookupError
except ImportError:  # pragma: no cover - pytest < 8.1
    from _pytest.fixtures import FixtureLookupError


def optional_fixture(request: pytest.FixtureRequest, name: str) -> Any:
    """Return the value of fixture ``name``, or ``None`` if nothing defines it.

    The kit looks optional fixtures up by name instead of defining defaults, so that an
    implementer may define them in the subclass, the module or a ``conftest.py`` alike
    (a default on the kit class would shadow module and conftest fixtures).
    """
    try:
        return request.getfixturevalue(name)
    except FixtureLookupError as exc:
        if exc.argname != name:
            raise  # the fixture exists but one of its own dependencies is missing
        return None
