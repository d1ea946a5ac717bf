"""mkdocs hook: render the Sphinx cross-reference roles of docstrings as code.

The API's docstrings use Sphinx roles (``:class:`~apscheduler.abc.DataStore```), which
read well in ``help()`` and IDEs. mkdocstrings leaves them as literal text; this hook
turns each into the referenced name in code style (``~`` keeps the last component, as in
Sphinx).
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(
    r":(?:py:)?(?:class|meth|func|data|attr|exc|mod|obj|const):<code>(~?)([^<]+)</code>"
)


def _render(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    name = target.rsplit(".", 1)[-1] if tilde else target
    return f"<code>{name}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(_render, html)
