"""Turns the runs' JSON records into the markdown report: medians, ratios, targets."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cases import IMPLS, Case, Row

#: Column headings of the implementations.
DEFAULT_LABELS = {"ours": "this project", "v4": "APScheduler 4.0.0a6", "v3": "APScheduler 3.11.3"}


@dataclass
class Outcome:
    """All runs of one case for one implementation, reduced to medians."""

    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    runs: int = 0
    version: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def aggregate(records: Sequence[Mapping[str, Any]]) -> Outcome:
    """Median of each numeric metric over the successful runs; booleans are OR-ed, other
    values come from the first run. Without a successful run, the first failure."""
    good = [record for record in records if record.get("status") == "ok"]
    if not good:
        if not records:
            return Outcome("skipped")
        first = records[0]
        return Outcome(str(first.get("status", "error")), note=str(first.get("note", "")))
    metrics: dict[str, Any] = {}
    for name in good[0]["metrics"]:
        values = [record["metrics"].get(name) for record in good]
        if all(isinstance(value, bool) for value in values):
            metrics[name] = any(values)
        elif all(isinstance(value, (int, float)) for value in values):
            metrics[name] = statistics.median(values)
        else:
            metrics[name] = values[0]
    return Outcome(
        "ok",
        metrics,
        note="; ".join(sorted({str(r["note"]) for r in good if r.get("note")})),
        runs=len(good),
        version=str(good[0].get("version", "")),
    )


def number(value: float) -> str:
    """A measurement with as many digits as are meaningful in a noisy benchmark."""
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _cell(outcome: Outcome | None, row: Row, ours: Outcome | None) -> str:
    if outcome is None:
        return "—"
    if not outcome.ok:
        return outcome.status
    if row.derive is not None:
        return row.derive(outcome.metrics, ours.metrics if ours and ours.ok else {})
    value = outcome.metrics.get(row.metric)
    return number(value) if isinstance(value, (int, float)) else "—"


def _value(outcome: Outcome | None, row: Row) -> float | None:
    if outcome is None or not outcome.ok or row.derive is not None:
        return None
    value = outcome.metrics.get(row.metric)
    return float(value) if isinstance(value, (int, float)) else None


def _ratio(row: Row, outcomes: Mapping[str, Outcome]) -> str:
    ours = _value(outcomes.get("ours"), row)
    upstream = [v for v in (_value(outcomes.get(i), row) for i in ("v4", "v3")) if v is not None]
    if ours is None or not upstream:
        return "—"
    best = max(upstream) if row.higher_is_better else min(upstream)
    if best == 0:
        return "—"
    return f"{ours / best:.2f}×"


def _met(row: Row, outcomes: Mapping[str, Outcome]) -> str:
    ours = _value(outcomes.get("ours"), row)
    if row.target is None or ours is None:
        return ""
    return "✅ met" if row.target.check(ours) else "❌ **missed**"


def _capped(metrics: Mapping[str, Any]) -> str:
    """Explain a run that hit its time limit: too slow to add, or to run, the jobs."""
    requested, added = metrics.get("requested"), metrics.get("added")
    completed = metrics.get("completed")
    parts = []
    if requested is not None and added is not None and added < requested:
        parts.append(f"added {number(added)} of {number(requested)} jobs")
    if added is not None and completed is not None and completed < added:
        parts.append(f"{number(completed)} of {number(added)} ran")
    detail = " and ".join(parts) if parts else "did not finish"
    return f"{detail} within the time limit (rate = jobs run / time)"


def _case_notes(case: Case, outcomes: Mapping[str, Outcome], labels: Mapping[str, str]) -> str:
    notes = []
    for impl in case.impls:
        outcome = outcomes.get(impl)
        if outcome is None:
            continue
        name = "ours" if impl == "ours" else impl
        if not outcome.ok:
            if outcome.note:
                notes.append(f"{name}: {outcome.status}: {outcome.note}")
            continue
        metrics = outcome.metrics
        if metrics.get("capped"):
            notes.append(f"{name}: {_capped(metrics)}")
        if metrics.get("missed"):
            notes.append(f"{name}: {number(metrics['missed'])} runs missed (misfire grace 1 s)")
        runs, expected = metrics.get("runs"), metrics.get("expected")
        if case.script == "burst.py" and runs is not None and expected and runs < expected:
            notes.append(f"{name}: {number(runs)} of {number(expected)} runs observed")
        if case.script == "cron.py" and impl == "ours" and "croniter_us_utc" in metrics:
            notes.append(
                f"croniter (same interpreter): {number(metrics['croniter_us_utc'])} µs UTC, "
                f"{number(metrics['croniter_us_berlin'])} µs Berlin"
            )
    return "; ".join(notes)


def table(
    cases: Sequence[Case],
    results: Mapping[tuple[str, str], Outcome],
    labels: Mapping[str, str] = DEFAULT_LABELS,
) -> str:
    """The markdown table: one line per row of each case, implementations side by side."""
    header = (
        f"| Scenario | Metric | Target | {' | '.join(labels[i] for i in IMPLS)} "
        f"| ours / best APScheduler | Target met | Notes |"
    )
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for case in cases:
        outcomes = {i: results[(case.key, i)] for i in IMPLS if (case.key, i) in results}
        notes = _case_notes(case, outcomes, labels)
        for index, row in enumerate(case.rows):
            unit = f" ({row.unit})" if row.unit else ""
            direction = "" if row.derive else (" ↑" if row.higher_is_better else " ↓")
            cells = [_cell(outcomes.get(i), row, outcomes.get("ours")) for i in IMPLS]
            lines.append(
                "| "
                + " | ".join(
                    [
                        case.title if index == 0 else "",
                        f"{row.label}{unit}{direction}",
                        row.target.text if row.target else "",
                        *cells,
                        "" if row.derive else _ratio(row, outcomes),
                        _met(row, outcomes),
                        notes if index == 0 else "",
                    ]
                )
                + " |"
            )
    return "\n".join(lines)


def document(
    cases: Sequence[Case],
    results: Mapping[tuple[str, str], Outcome],
    *,
    machine: Mapping[str, str],
    libraries: Mapping[str, Mapping[str, str]],
    command: str,
    repeats: str,
    started: str,
    duration_s: float,
    smoke: bool,
    labels: Mapping[str, str] = DEFAULT_LABELS,
) -> str:
    """The whole report: heading, how it was run, the machine, the table."""
    lines = [
        "# Benchmark results"
        + (" (smoke mode: tiny sizes, numbers are meaningless)" if smoke else ""),
        "",
        (
            f"Run {started} UTC, {duration_s / 60:.1f} min; each figure is the median of "
            f"{repeats}; runs alternate between implementations (ours, 4.0.0a6, 3.11.3, "
            f"ours...)."
        ),
        "",
        f"Reproduce: `{command}`",
        "",
        "Code and machine:",
        "",
    ]
    lines += [f"- {name}: {value}" for name, value in machine.items()]
    lines += ["", "Environments:", ""]
    for impl in IMPLS:
        libs = libraries.get(impl)
        if libs:
            listed = ", ".join(f"{name} {ver}" for name, ver in libs.items())
            lines.append(f"- {labels[impl]}: {listed}")
        else:
            lines.append(f"- {labels[impl]}: unavailable")
    lines += [
        "",
        (
            '↑ higher is better, ↓ lower is better. "ours / best APScheduler" divides our '
            "figure by the better of 4.0.0a6 and 3.11.3 (above 1× is better for ↑ rows, "
            "below 1× for ↓ rows)."
        ),
        "",
        table(cases, results, labels),
        "",
    ]
    return "\n".join(lines)
