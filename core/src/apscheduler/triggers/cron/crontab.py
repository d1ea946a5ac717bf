"""Splitting crontab lines (5, 6 or 7 fields, or an ``@`` macro) into field expressions."""

from __future__ import annotations

#: The ``@`` macros and the 5-field lines they stand for.
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_LAYOUTS = {
    5: ("minute", "hour", "day", "month", "day_of_week"),
    6: ("second", "minute", "hour", "day", "month", "day_of_week"),
    7: ("second", "minute", "hour", "day", "month", "day_of_week", "year"),
}


def split_crontab(expr: str) -> dict[str, str]:
    """Map a crontab line to cron field expressions.

    Accepted forms (fields separated by whitespace):

    * 5 fields: ``minute hour day month day_of_week`` (second 0, any year)
    * 6 fields: ``second minute hour day month day_of_week``
    * 7 fields: ``second minute hour day month day_of_week year``
    * a macro: ``@yearly``, ``@annually``, ``@monthly``, ``@weekly``, ``@daily``,
      ``@midnight`` or ``@hourly``

    :raises ValueError: for any other number of fields or an unknown macro
    :raises TypeError: if ``expr`` is not a string
    """
    if not isinstance(expr, str):
        raise TypeError(f"A crontab expression must be a string, not {type(expr).__name__}")
    text = expr.strip()
    if text.startswith("@"):
        macro = text.lower()
        if macro not in MACROS:
            shown = repr(text if len(text) <= 40 else text[:40] + "...")
            raise ValueError(f"Unknown crontab macro {shown}; use one of: {', '.join(MACROS)}")
        text = MACROS[macro]
    values = text.split()
    layout = _LAYOUTS.get(len(values))
    if layout is None:
        shown = repr(expr if len(expr) <= 80 else expr[:80] + "...")
        raise ValueError(
            f"Wrong number of fields in crontab expression {shown}: expected 5 "
            f"(minute hour day month day_of_week), 6 (with a leading second) or 7 (with "
            f"a leading second and a trailing year), got {len(values)}"
        )
    fields = dict(zip(layout, values))
    fields.setdefault("second", "0")
    fields.setdefault("year", "*")
    return fields
