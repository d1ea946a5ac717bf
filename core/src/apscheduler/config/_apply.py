"""Applying a resolved configuration to a scheduler's data store.

The file is the source of truth for the tasks and schedules it names:

* every task is configured with all of its settings (so removing a key from the file
  resets that setting to its default);
* a schedule whose definition is unchanged since it was last applied (same digest in
  its metadata) is **kept as it is**: its trigger state, next fire time and pause state
  (set with ``apscheduler schedules pause``) survive restarts;
* a new or edited schedule is added with ``conflict_policy="replace"``; so is one whose
  trigger has finished, so a relative one-off (``run_time = "+5s"``) runs after each
  start;
* a schedule whose only fire time has already passed, or that has none left, is skipped
  with a warning rather than run late;
* schedules in the store that the file does not name are left alone (they may belong to
  an application or another configuration sharing the store).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import attrs

from .._clock import get_clock
from ._resolve import DIGEST_KEY, ResolvedConfig

if TYPE_CHECKING:
    from .._schedulers.async_ import AsyncScheduler


@attrs.define
class ApplyReport:
    """What :func:`apply_config` did, by schedule ID."""

    added: list[str] = attrs.field(factory=list)
    updated: list[str] = attrs.field(factory=list)
    unchanged: list[str] = attrs.field(factory=list)
    skipped: list[tuple[str, str]] = attrs.field(factory=list)

    def summary(self) -> str:
        parts = [
            f"{len(getattr(self, name))} {name}"
            for name in ("added", "updated", "unchanged", "skipped")
            if getattr(self, name)
        ]
        return ", ".join(parts) or "no schedules"


async def apply_config(
    scheduler: AsyncScheduler,
    resolved: ResolvedConfig,
    *,
    logger: logging.Logger | None = None,
) -> ApplyReport:
    """Configure the file's tasks and add or update its schedules (see module docs).

    The scheduler's services must be running (``async with scheduler:``); its loops
    need not be.
    """
    log = logger or logging.getLogger("apscheduler.config")
    report = ApplyReport()
    for skipped in resolved.skipped:
        log.warning("Skipping optional schedule %r: %s", skipped.id, skipped.reason)
        report.skipped.append((skipped.id, skipped.reason))

    for task in resolved.tasks:
        await scheduler.configure_task(
            task.id,
            func=task.func,
            job_executor=task.job_executor,
            max_running_jobs=task.max_running_jobs,
            misfire_grace_time=task.misfire_grace_time,
            metadata=task.metadata,
        )

    ids = {schedule.id for schedule in resolved.schedules}
    stored = {s.id: s for s in await scheduler.data_store.get_schedules(ids)} if ids else {}
    # Relative times ("+5s") were anchored when the file was resolved; a one-off is only
    # "in the past" if it was already before that moment
    now = min(resolved.now, get_clock().now())
    for schedule in resolved.schedules:
        current = stored.get(schedule.id)
        if (
            current is not None
            and current.metadata.get(DIGEST_KEY) == schedule.digest
            and current.next_fire_time is not None
        ):
            report.unchanged.append(schedule.id)
            log.info(
                "Schedule %r is unchanged; keeping it%s (next run: %s)",
                schedule.id,
                " paused" if current.paused else "",
                current.next_fire_time.astimezone(scheduler.timezone).isoformat(sep=" ",
                                                                                timespec="seconds"),
            )
            continue

        upcoming = schedule.trigger.preview(2)
        if not upcoming:
            reason = "its trigger has no fire times left"
        elif len(upcoming) == 1 and upcoming[0] < now:
            reason = (
                f"its only fire time ({upcoming[0].isoformat(sep=' ', timespec='seconds')}) "
                f"has passed"
            )
        else:
            reason = ""
        if reason:
            log.warning("Skipping schedule %r: %s", schedule.id, reason)
            report.skipped.append((schedule.id, reason))
            continue

        await scheduler.add_schedule(
            schedule.task.id,
            schedule.trigger,
            id=schedule.id,
            args=schedule.args,
            kwargs=schedule.kwargs,
            name=schedule.name,
            paused=schedule.paused,
            coalesce=schedule.coalesce,
            job_executor=schedule.job_executor,
            misfire_grace_time=schedule.misfire_grace_time,
            max_running_jobs=schedule.max_running_jobs,
            metadata=schedule.metadata,
            max_jitter=schedule.max_jitter,
            job_result_expiration_time=schedule.job_result_expiration_time,
            conflict_policy="replace",
        )
        if current is None:
            report.added.append(schedule.id)
            action = "added"
        elif current.metadata.get(DIGEST_KEY) == schedule.digest:
            report.added.append(schedule.id)
            action = "added again (its trigger had finished)"
        else:
            report.updated.append(schedule.id)
            action = "updated (its definition changed)"
        log.info(
            "Schedule %r %s (%s trigger, first run: %s)",
            schedule.id,
            action,
            schedule.trigger_name,
            upcoming[0].astimezone(scheduler.timezone).isoformat(sep=" ", timespec="seconds"),
        )
    return report
