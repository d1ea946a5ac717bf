"""``apscheduler schedules ...`` and ``apscheduler jobs ...``: inspect and control what a
store holds, from any machine that can reach it, while schedulers run on it.

Changes made here reach a running scheduler at once through a shared event broker, or
otherwise at its next poll (``[scheduler] poll_interval``).
"""

from datetime import timezone
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._clock import get_clock
from ._common import (
    CONFIG_ENV,
    config_option_help,
    handle_errors,
    open_scheduler,
    print_json,
    say,
    stdout,
)
from ._format import (
    describe_trigger,
    format_relative,
    format_short_time,
    format_time,
    job_state,
    job_to_dict,
    schedule_state,
    schedule_to_dict,
    zone_label,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help=config_option_help(), envvar=CONFIG_ENV,
                 show_envvar=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ScheduleId = Annotated[str, typer.Argument(help="The schedule ID.", show_default=False)]

schedules_app = typer.Typer(
    help="List, inspect, pause, resume, remove and trigger schedules.",
    no_args_is_help=True,
)
jobs_app = typer.Typer(help="Inspect the job queue.", no_args_is_help=True)


@schedules_app.command("list")
@handle_errors
def list_schedules(config: ConfigOption = None, json: JsonOption = False) -> None:
    """List every schedule: ID, task, trigger, next run time and state."""
    with open_scheduler(config) as scheduler:
        schedules = scheduler.get_schedules()
        zone = scheduler.timezone
    if json:
        print_json([schedule_to_dict(schedule) for schedule in schedules])
        return
    now = get_clock().now()
    table = Table("ID", "Task", "Trigger", f"Next run ({zone_label(zone)})", "State")
    for column in table.columns[:2]:
        column.overflow = "fold"
    for schedule in schedules:
        next_run = format_short_time(schedule.next_fire_time, zone, now)
        if schedule.next_fire_time is not None and not schedule.paused:
            next_run += f" ({format_relative(schedule.next_fire_time, now)})"
        table.add_row(
            schedule.id,
            schedule.task_id,
            describe_trigger(schedule.trigger),
            next_run,
            schedule_state(schedule),
        )
    console = stdout()
    if schedules:
        console.print(table)
    else:
        say("No schedules.")


@schedules_app.command("show")
@handle_errors
def show_schedule(
    schedule_id: ScheduleId,
    config: ConfigOption = None,
    json: JsonOption = False,
    count: Annotated[int, typer.Option("-n", "--count", help="Upcoming fire times to show.",
                                       min=0)] = 5,
) -> None:
    """Show everything about one schedule, with its next fire times."""
    with open_scheduler(config) as scheduler:
        schedule = scheduler.get_schedule(schedule_id)
        zone = scheduler.timezone
    upcoming = []
    if schedule.next_fire_time is not None and count:
        upcoming = [schedule.next_fire_time, *schedule.trigger.preview(count - 1)]
    if json:
        document = schedule_to_dict(schedule)
        document["upcoming"] = [value.isoformat() for value in upcoming]
        print_json(document)
        return
    details = schedule_to_dict(schedule)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("ID", schedule.id),
        ("Name", schedule.name or "-"),
        ("Task", schedule.task_id),
        ("Trigger", repr(schedule.trigger)),
        ("State", schedule_state(schedule)
         + (f" ({schedule.pause_note})" if schedule.pause_note else "")),
        ("Next run", format_time(schedule.next_fire_time, zone)),
        ("Last run", format_time(schedule.last_fire_time, zone)),
        ("Arguments", f"args={details['args']} kwargs={details['kwargs']}"),
        ("Coalesce", schedule.coalesce.name),
        ("Misfire grace time", "unlimited" if schedule.misfire_grace_time is None
         else f"{schedule.misfire_grace_time.total_seconds():g} s"),
        ("Max jitter", "-" if not schedule.max_jitter
         else f"{schedule.max_jitter.total_seconds():g} s"),
        ("Executor", schedule.job_executor),
        ("Metadata", str(details["metadata"])),
    ]
    if schedule.acquired_by:
        lease = f"{schedule.acquired_by} until {format_time(schedule.acquired_until, zone)}"
        rows.append(("Leased by", lease))
    for label, value in rows:
        table.add_row(label, value)
    console = stdout()
    console.print(table)
    if upcoming:
        say("Upcoming:")
        for value in upcoming:
            say(f"  {format_time(value, zone)}  ({format_time(value, timezone.utc)} UTC)")


@schedules_app.command("pause")
@handle_errors
def pause_schedule(
    schedule_id: ScheduleId,
    config: ConfigOption = None,
    note: Annotated[str | None, typer.Option(help="Why it is paused (shown by show).")] = None,
) -> None:
    """Pause a schedule: it stops producing jobs until resumed (restarts keep it paused)."""
    with open_scheduler(config) as scheduler:
        scheduler.pause_schedule(schedule_id, note=note)
    say(f"Paused schedule {schedule_id!r}.")


@schedules_app.command("resume")
@handle_errors
def resume_schedule(
    schedule_id: ScheduleId,
    config: ConfigOption = None,
    resume_from: Annotated[
        str | None,
        typer.Option("--from", help="'now' or an ISO 8601 date-time: skip the fire times "
                                    "before it (default: missed ones follow the coalesce "
                                    "policy)."),
    ] = None,
) -> None:
    """Resume a paused schedule."""
    with open_scheduler(config) as scheduler:
        scheduler.unpause_schedule(schedule_id, resume_from=resume_from)
        schedule = scheduler.get_schedule(schedule_id)
        zone = scheduler.timezone
    stdout().print(
        f"Resumed schedule {schedule_id!r}; next run: "
        f"{format_time(schedule.next_fire_time, zone)}."
    )


@schedules_app.command("remove")
@handle_errors
def remove_schedule(schedule_id: ScheduleId, config: ConfigOption = None) -> None:
    """Remove a schedule (its queued jobs stay queued).

    A schedule that is in a configuration file comes back the next time that file is
    applied; delete it from the file as well.
    """
    with open_scheduler(config) as scheduler:
        scheduler.get_schedule(schedule_id)  # ScheduleLookupError if there is none
        scheduler.remove_schedule(schedule_id)
    say(f"Removed schedule {schedule_id!r}.")


@schedules_app.command("run-now")
@handle_errors
def run_schedule_now(
    schedule_id: ScheduleId, config: ConfigOption = None, json: JsonOption = False
) -> None:
    """Queue one job of a schedule right now (its regular fire times are unchanged).

    A running worker picks the job up at once through a shared event broker, otherwise
    within its poll interval.
    """
    with open_scheduler(config) as scheduler:
        job_id = scheduler.run_schedule_now(schedule_id)
    if json:
        print_json({"schedule_id": schedule_id, "job_id": str(job_id)})
        return
    say(f"Queued job {job_id} of schedule {schedule_id!r}.")


@jobs_app.command("list")
@handle_errors
def list_jobs(config: ConfigOption = None, json: JsonOption = False) -> None:
    """List queued and running jobs, oldest first."""
    with open_scheduler(config) as scheduler:
        jobs = scheduler.get_jobs()
        zone = scheduler.timezone
    if json:
        print_json([job_to_dict(job) for job in jobs])
        return
    now = get_clock().now()
    table = Table("ID", "Task", "Schedule", f"Scheduled ({zone_label(zone)})", "State")
    table.columns[0].no_wrap = True  # keep job IDs whole, for copying
    table.columns[4].no_wrap = True
    for column in table.columns[1:4]:
        column.overflow = "fold"
    for job in jobs:
        state = job_state(job, now)
        if state == "running" and job.acquired_by:
            state = f"running on {job.acquired_by}"
        scheduled = (
            format_short_time(job.scheduled_fire_time, zone, now)
            if job.scheduled_fire_time
            else "now"
        )
        table.add_row(str(job.id), job.task_id, job.schedule_id or "-", scheduled, state)
    console = stdout()
    if jobs:
        console.print(table)
    else:
        say("No queued or running jobs.")

