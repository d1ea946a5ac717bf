"""Cron: successive next fire times of one crontab expression, speed and agreement.

Computes ``--n`` successive fire times of ``*/5 9-17 * * mon-fri`` from 2024-01-01 00:00
local time in UTC and in Europe/Berlin; only the ``next()`` calls are timed (imports and
trigger construction are not, and a throw-away trigger warms up first). In this
project's environment the same sequence is also computed with croniter, and the result
says whether the two are identical. Each sequence is summarised by a SHA-256 digest of
its UTC ISO timestamps so that the driver can compare sequences across interpreters.
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


def _v4api_stepper(zone: str, start: datetime) -> Callable[[], datetime]:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(EXPRESSION, timezone=zone, start_time=start).next


def _v3_stepper(zone: str, start: datetime) -> Callable[[], datetime]:
    from apscheduler.triggers.cron import CronTrigger

    get_next = CronTrigger.from_crontab(EXPRESSION, timezone=zone).get_next_fire_time
    previous: datetime | None = None

    def step() -> datetime:
        nonlocal previous
        previous = get_next(previous, previous or start)
        return previous

    return step


def _croniter_stepper(zone: str, start: datetime) -> Callable[[], datetime]:
    from croniter import croniter

    get_next = croniter(EXPRESSION, start).get_next
    return lambda: get_next(datetime)


_STEPPERS = {"ours": _v4api_stepper, "v4": _v4api_stepper, "v3": _v3_stepper}


def _sequence(
    make: Callable[[str, datetime], Callable[[], datetime]], zone: str, n: int
) -> tuple[list[datetime], float]:
    """``n`` successive fire times, and the seconds the ``n`` calls took. Imports, trigger
    construction and a warm-up trigger happen before the clock starts."""
    start = datetime(2024, 1, 1, tzinfo=ZoneInfo(zone))
    warm_up = make(zone, start)
    for _ in range(10):
        warm_up()
    step = make(zone, start)
    began = time.perf_counter()
    times = [step() for _ in range(n)]
    return times, time.perf_counter() - began


def _first_difference(a: list[datetime], b: list[datetime]) -> int | None:
    for index, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return index
    return None if len(a) == len(b) else min(len(a), len(b))


def measure(impl: str, n: int) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for key, zone in ZONES.items():
        times, seconds = _sequence(_STEPPERS[impl], zone, n)
        metrics[f"next_us_{key}"] = seconds / n * 1e6
        metrics[f"digest_{key}"] = _digest(times)
        metrics[f"last_{key}"] = times[-1].isoformat()
        if impl == "ours":
            try:
                reference, ref_seconds = _sequence(_croniter_stepper, zone, n)
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
