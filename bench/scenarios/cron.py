"""Cron: successive next fire times of one crontab expression, speed and agreement.

Computes ``--n`` successive fire times of ``*/5 9-17 * * mon-fri`` from 2024-01-01 00:00
local time in UTC and in Europe/Berlin. In this project's environment the same sequence
is also computed with croniter, and the result says whether the two are identical. Each
sequence is summarised by a SHA-256 digest of its UTC ISO timestamps so that the driver
can compare sequences across interpreters.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from bench_common import parser, run_scenario

EXPRESSION = "*/5 9-17 * * mon-fri"
ZONES = {"utc": "UTC", "berlin": "Europe/Berlin"}


def _digest(times: list[datetime]) -> str:
    text = "\n".join(t.astimezone(timezone.utc).isoformat() for t in times)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _timed(produce: Callable[..., list[datetime]], *args: Any) -> tuple[list[datetime], float]:
    start = time.perf_counter()
    times = produce(*args)
    return times, time.perf_counter() - start


def _v4api_sequence(zone: str, start: datetime, n: int) -> list[datetime]:
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(EXPRESSION, timezone=zone, start_time=start)
    next_time = trigger.next
    return [next_time() for _ in range(n)]


def _v3_sequence(zone: str, start: datetime, n: int) -> list[datetime]:
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(EXPRESSION, timezone=zone)
    get_next = trigger.get_next_fire_time
    times = []
    previous = get_next(None, start)
    for _ in range(n):
        times.append(previous)
        previous = get_next(previous, previous)
    return times


def _croniter_sequence(start: datetime, n: int) -> list[datetime]:
    from croniter import croniter

    iterator = croniter(EXPRESSION, start)
    get_next = iterator.get_next
    return [get_next(datetime) for _ in range(n)]


def _first_difference(a: list[datetime], b: list[datetime]) -> int | None:
    for index, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return index
    return None if len(a) == len(b) else min(len(a), len(b))


def measure(impl: str, n: int) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for key, zone in ZONES.items():
        start = datetime(2024, 1, 1, tzinfo=ZoneInfo(zone))
        if impl == "v3":
            times, seconds = _timed(_v3_sequence, zone, start, n)
        else:
            times, seconds = _timed(_v4api_sequence, zone, start, n)
        metrics[f"next_us_{key}"] = seconds / n * 1e6
        metrics[f"digest_{key}"] = _digest(times)
        metrics[f"last_{key}"] = times[-1].isoformat()
        if impl == "ours":
            try:
                reference, ref_seconds = _timed(_croniter_sequence, start, n)
            except ImportError:
                continue
            metrics[f"croniter_us_{key}"] = ref_seconds / n * 1e6
            metrics[f"croniter_digest_{key}"] = _digest(reference)
            metrics[f"croniter_first_difference_{key}"] = _first_difference(times, reference)
    return metrics


def main() -> None:
    args_parser = parser(__doc__.splitlines()[0])
    args_parser.add_argument("--n", type=int, default=100_000, help="fire times per zone")
    args = args_parser.parse_args()
    params = {"expression": EXPRESSION, "n": args.n, "zones": list(ZONES.values())}
    run_scenario("cron", args.impl, params, lambda: measure(args.impl, args.n))


if __name__ == "__main__":
    main()
