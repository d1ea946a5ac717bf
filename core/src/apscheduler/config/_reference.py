"""Generate the key reference of ``docs/operator/config.md`` from the schema.

The page holds the output between two marker lines; a test fails when they differ.
Regenerate with::

    uv run python -m apscheduler.config._reference docs/operator/config.md
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import attrs

from ._schema import SECTIONS, ComponentConfig, documented_fields

BEGIN = "<!-- BEGIN GENERATED REFERENCE (uv run python -m apscheduler.config._reference) -->"
END = "<!-- END GENERATED REFERENCE -->"


def _format_default(field: attrs.Attribute) -> str:
    default = field.default
    if default is attrs.NOTHING:
        return "required"
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()  # type: ignore[union-attr]
    if default is None:
        return "—"
    if isinstance(default, ComponentConfig):
        return f'`"{default.type}"`'
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, timedelta):
        seconds = default.total_seconds()
        return f"`{seconds:g}` (s)" if seconds else "`0`"
    if isinstance(default, str):
        return f'`"{default}"`'
    if isinstance(default, (list, dict)) and not default:
        return "`[]`" if isinstance(default, list) else "`{}`"
    if attrs.has(type(default)):
        return "(table)"
    return f"`{default}`"


def render_reference() -> str:
    """The markdown tables of every section, in schema order."""
    parts: list[str] = []
    for heading, cls in SECTIONS:
        parts.append(f"### `{heading}`" if heading.startswith("[") else
                     f"### {heading[0].upper()}{heading[1:]}")
        parts.append("")
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        parts.append(doc.replace("``", "`"))
        parts.append("")
        parts.append("| key | type | default | meaning |")
        parts.append("|---|---|---|---|")
        for field in documented_fields(cls):
            toml = field.metadata["toml"]
            doc_text = field.metadata["doc"].replace("|", "\\|")
            parts.append(f"| `{field.name}` | {toml} | {_format_default(field)} | {doc_text} |")
        if any(f.metadata.get("internal") for f in attrs.fields(cls)):
            parts.append(
                "| *any other key* | any | — | An option passed to the class that `type` (or the "
                "URL) names. |"
            )
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def replace_block(text: str, block: str) -> str:
    """Put ``block`` between the markers of ``text``."""
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END)
    return text[:start] + "\n\n" + block + "\n" + text[end:]


def generated_block(text: str) -> str:
    """The block currently between the markers of ``text``."""
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END)
    return text[start:end].strip("\n") + "\n"


def main(argv: list[str]) -> int:
    if not argv:
        sys.stdout.write(render_reference())
        return 0
    path = Path(argv[0])
    path.write_text(replace_block(path.read_text(encoding="utf-8"), render_reference()),
                    encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
