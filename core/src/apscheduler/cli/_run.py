"""``apscheduler run``, ``check`` and ``apply``: validate a configuration file, write its
tasks and schedules to the store, and run the scheduler until Ctrl-C / SIGTERM."""

import logging
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer

from .._events import Event, JobAcquired, JobReleased
from ..config import (
    ApplyReport,
    ResolvedConfig,
    add_python_path,
    apply_config,
    load_config,
    python_path_entries,
    resolve_config,
)
from ..config._errors import SchemaIssues
from ..config._values import as_log_level
from ._common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    CLIError,
    describe_exception,
    handle_errors,
    say,
)

log = logging.getLogger("apscheduler.cli")

ConfigArgument = Annotated[
    Path,
    typer.Argument(help="The TOML configuration file.", show_default=False),
]


class _LineFormatter(logging.Formatter):
    """``2025-06-02 10:00:00 INFO    message``: one line per record, never wrapped; the
    level is coloured on a terminal."""

    COLORS = {"WARNING": "yellow", "ERROR": "red", "CRITICAL": "red"}

    def __init__(self, colour: bool):
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S")
        self.colour = colour

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        if self.colour:
            level = f"{record.levelname:<7}"
            styled = typer.style(level, fg=self.COLORS.get(record.levelname, "blue"))
            text = text.replace(level, styled, 1)
        return text


def configure_logging(level: str) -> None:
    """Log to standard error, one line per record (coloured levels on a terminal).

    Logging that is already configured (a task module did it, or the command runs inside
    another program such as a test runner) is left as it is.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter(colour=sys.stderr.isatty()))
    root.addHandler(handler)
    root.setLevel(level)


def _load(config: Path) -> ResolvedConfig:
    return resolve_config(load_config(config))


class JobLogger:
    """Logs each job of one scheduler as it starts and as it ends, one line each."""

    def __init__(self, scheduler_id: str, logger: logging.Logger = log):
        self.scheduler_id = scheduler_id
        self.logger = logger

    def __call__(self, event: Event) -> None:
        if getattr(event, "scheduler_id", None) != self.scheduler_id:
            return  # a job of another scheduler sharing the broker
        if isinstance(event, JobAcquired):
            self.logger.info("Running job %s (%s)", _short(event.job_id), _origin(event))
        elif isinstance(event, JobReleased):
            self._released(event)

    def _released(self, event: JobReleased) -> None:
        origin = _origin(event)
        job = _short(event.job_id)
        took = ""
        if event.started_at is not None:
            took = f" in {(event.timestamp - event.started_at).total_seconds():.3f} s"
        outcome = event.outcome.name
        if outcome == "success":
            self.logger.info("Job %s (%s) finished%s", job, origin, took)
        elif outcome == "error":
            error = (event.exception_type or "error").removeprefix("builtins.")
            if event.exception_message:
                error = f"{error}: {event.exception_message}"
            self.logger.error("Job %s (%s) FAILED%s: %s", job, origin,
                              took.replace(" in ", " after "), error)
            if event.exception_traceback and self.logger.isEnabledFor(logging.DEBUG):
                self.logger.debug("".join(event.exception_traceback).rstrip())
        elif outcome == "missed_start_deadline":
            self.logger.warning("Job %s (%s) skipped: it missed its start deadline "
                                "(misfire_grace_time)", job, origin)
        else:
            self.logger.warning("Job %s (%s) ended: %s%s", job, origin,
                                outcome.replace("_", " "), took)


def _short(job_id: Any) -> str:
    return str(job_id)[:8]


def _origin(event: Any) -> str:
    if event.schedule_id:
        return f"schedule {event.schedule_id!r}, task {event.task_id!r}"
    return f"task {event.task_id!r}"


async def _serve(resolved: ResolvedConfig) -> int:
    """Apply the configuration and run until a signal; return the exit code."""
    from .. import AsyncScheduler

    interrupted = False
    async with AsyncScheduler(**resolved.scheduler_options()) as scheduler:
        report = await apply_config(scheduler, resolved, logger=log)
        log.info(
            "Configuration %s applied (%s); %s",
            resolved.file.display_name,
            report.summary(),
            resolved.services.description,
        )
        scheduler.subscribe(JobLogger(scheduler.identity), {JobAcquired, JobReleased})
        async with anyio.create_task_group() as group:

            async def watch_signals() -> None:
                nonlocal interrupted
                try:
                    receiver = anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM)
                except NotImplementedError:  # pragma: no cover - Windows: Ctrl-C raises
                    return
                with receiver as signals:
                    count = 0
                    async for signum in signals:
                        count += 1
                        name = signal.Signals(signum).name
                        if count == 1:
                            log.info(
                                "Received %s: stopping; running jobs may finish for up to "
                                "%s s (press Ctrl-C again to stop at once)",
                                name,
                                f"{scheduler.stop_timeout.total_seconds():g}",
                            )
                            scheduler.stop()
                        else:
                            log.warning("Received %s again: cancelling running jobs", name)
                            interrupted = True
                            group.cancel_scope.cancel()

            group.start_soon(watch_signals)
            log.info("Press Ctrl-C to stop")
            await scheduler.run_until_stopped()
            group.cancel_scope.cancel()
    log.info("Shut down %s", "after cancelling running jobs" if interrupted else "cleanly")
    return EXIT_INTERRUPTED if interrupted else 0


@handle_errors
def run(
    config: ConfigArgument,
    log_level: Annotated[
        str | None,
        typer.Option(help="Override [scheduler] log_level (DEBUG shows job tracebacks)."),
    ] = None,
) -> None:
    """Run a scheduler from a configuration file until Ctrl-C or SIGTERM.

    Configures the file's tasks, adds its schedules (an edited schedule replaces the
    stored one, an unchanged one is kept with its state) and logs each job. On Ctrl-C or
    SIGTERM no new jobs start, running jobs may finish for [scheduler] stop_timeout, and
    the process exits with status 0.
    """
    if log_level is not None:
        try:
            log_level = as_log_level(log_level)
        except SchemaIssues as exc:
            raise CLIError(f"--log-level: {exc.issues[0][1]}") from None
    resolved = _load(config)
    add_python_path(python_path_entries(resolved.file), environment=True)
    configure_logging(log_level or resolved.file.config.scheduler.log_level)
    try:
        code = anyio.run(_serve, resolved)
    except KeyboardInterrupt:  # a signal before the handlers were installed
        log.warning("Interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        log.debug("Scheduler failed", exc_info=True)
        raise CLIError(f"the scheduler failed: {describe_exception(exc)}", EXIT_FAILURE) from None
    raise typer.Exit(code)


@handle_errors
def check(config: ConfigArgument) -> None:
    """Validate a configuration file without touching the store (exit status 0 or 2).

    Checks the TOML syntax, every key and value, plugin names, component options, that
    task functions import, trigger options and job arguments. Every problem is printed
    on its own line as FILE:LINE: KEY.PATH: MESSAGE.
    """
    resolved = _load(config)
    say(
        f"OK {resolved.file.display_name}: {len(resolved.tasks)} task(s), "
        f"{len(resolved.schedules)} schedule(s); {resolved.services.description}"
    )
    for skipped in resolved.skipped:
        say(f"note: optional schedule {skipped.id!r} will be skipped: {skipped.reason}")


async def _apply_only(resolved: ResolvedConfig) -> ApplyReport:
    from .. import AsyncScheduler

    async with AsyncScheduler(**resolved.scheduler_options()) as scheduler:
        return await apply_config(scheduler, resolved, logger=log)


@handle_errors
def apply(config: ConfigArgument) -> None:
    """Write a configuration's tasks and schedules to the store, without running them.

    For deployments where other processes (``apscheduler run`` with role ``worker``,
    or an application) do the work. Same rules as ``run``.
    """
    resolved = _load(config)
    configure_logging(resolved.file.config.scheduler.log_level)
    try:
        report = anyio.run(_apply_only, resolved)
    except Exception as exc:
        raise CLIError(f"applying failed: {describe_exception(exc)}", EXIT_FAILURE) from None
    say(f"Applied {resolved.file.display_name}: {report.summary()}")
