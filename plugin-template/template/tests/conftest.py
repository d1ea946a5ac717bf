"""Shared test configuration: the async tests (and the conformance kit's) run on asyncio.

Return "trio" as well (with ``params``) to run them on Trio too.
"""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
